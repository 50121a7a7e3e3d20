package handlers

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/audit"
	"github.com/releaseops/evidence-console/audit/audittest"
	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/models"
)

// auditServer is the real router with the audit service wired and the
// audittest fixture stored.
type auditServer struct {
	*testServer
}

func newAuditServer(t *testing.T) *auditServer {
	t.Helper()
	s := &auditServer{testServer: newTestServer(t)}
	s.handler.Audit = &audit.Service{DB: s.db, Now: func() time.Time { return testNow }, Logger: s.handler.Logger}
	audittest.Seed(t, s.db)
	return s
}

// apiErrorOf decodes the error model of a response.
func apiErrorOf(t *testing.T, body []byte) APIError {
	t.Helper()
	var wrapper struct {
		Error APIError `json:"error"`
	}
	if err := json.Unmarshal(body, &wrapper); err != nil {
		t.Fatalf("decode error body %s: %v", body, err)
	}
	return wrapper.Error
}

func TestDashboardEndpointCounts(t *testing.T) {
	s := newAuditServer(t)
	rec := s.getJSON(runtimePrefix + "/dashboard")
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200: %s", rec.Code, rec.Body.String())
	}
	var d audit.Dashboard
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
		t.Fatalf("decode: %v", err)
	}
	checks := []struct {
		name      string
		got, want int64
	}{
		{"evaluation_count", d.Health.EvaluationCount, 3},
		{"alerts.plan_count", d.Alerts.PlanCount, 2},
		{"alerts.deliveries.sent_count", d.Alerts.Deliveries.SentCount, 2},
		{"executive.deliveries.failed_count", d.Executive.Deliveries.FailedCount, 3},
		{"executive_retries.live_worker_run_count", d.ExecutiveRetries.LiveWorkerRunCount, 1},
		{"executive_retries.executions_by_outcome.skipped", d.ExecutiveRetries.ExecutionsByOutcome["skipped"], 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
	if d.AlertLevel != audit.LevelCritical {
		t.Errorf("alert_level: got %s, want critical", d.AlertLevel)
	}
}

func TestConsoleShowsDashboardCards(t *testing.T) {
	s := newAuditServer(t)
	rec := s.getJSON("/console")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /console: got status %d, want 200", rec.Code)
	}
	doc := document(t, rec)
	if got, _ := byTestID(doc, "dashboard-level").Attr("data-level"); got != audit.LevelCritical {
		t.Errorf("dashboard level: got %q, want critical", got)
	}
	cards := []struct{ key, value, kind string }{
		{"health_evaluations", "3", "health_snapshot"},
		{"alert_failed", "3", "delivery"},
		{"schedule_runs", "3", "schedule_run"},
		{"dry_worker_runs", "2", "retry_worker_run"},
		{"executions_delivered", "1", "retry_execution"},
	}
	for _, card := range cards {
		selection := byTestID(doc, "dashboard-count-"+card.key)
		if got := strings.TrimSpace(selection.Find(`[data-testid="value"]`).Text()); got != card.value {
			t.Errorf("card %s: got %q, want %q", card.key, got, card.value)
		}
		href, _ := selection.Attr("href")
		parsed, err := url.Parse(href)
		if err != nil || parsed.Path != "/history" || parsed.Query().Get("metadata_kind") != card.kind {
			t.Errorf("card %s link: got %q, want /history filtered to %s", card.key, href, card.kind)
		}
	}

	// The outstanding acknowledgements are listed in the console itself,
	// and a card whose link opens more records carries a note.
	outstanding := byTestID(doc, "dashboard-count-outstanding_acknowledgements")
	if got := strings.TrimSpace(outstanding.Find(`[data-testid="value"]`).Text()); got != "2" {
		t.Errorf("card outstanding_acknowledgements: got %q, want 2", got)
	}
	if href, _ := outstanding.Attr("href"); href != "/console#outstanding-acknowledgements" {
		t.Errorf("card outstanding_acknowledgements link: got %q, want /console#outstanding-acknowledgements", href)
	}
	note := byTestID(doc, "dashboard-count-alert_open_failed").Find(`[data-testid="note"]`).Text()
	if !strings.Contains(note, "repaired ones too") {
		t.Errorf("card alert_open_failed note: got %q, want it to say the link opens repaired failures too", note)
	}
}

func TestDashboardCardsAddUpDeliveries(t *testing.T) {
	s := newAuditServer(t)
	var d audit.Dashboard
	if err := json.Unmarshal(s.getJSON(runtimePrefix+"/dashboard").Body.Bytes(), &d); err != nil {
		t.Fatalf("decode dashboard: %v", err)
	}
	doc := document(t, s.getJSON("/console"))
	cardValue := func(key string) string {
		return strings.TrimSpace(byTestID(doc, "dashboard-count-"+key).Find(`[data-testid="value"]`).Text())
	}

	// The fixture has one executive delivery in flight, e3, and none of alerts.
	for _, group := range []struct {
		prefix     string
		deliveries audit.DeliveryCounts
		inFlight   int64
	}{
		{"alert", d.Alerts.Deliveries, 0},
		{"executive", d.Executive.Deliveries, 1},
	} {
		if group.deliveries.InFlightCount != group.inFlight {
			t.Errorf("%s in_flight_count: got %d, want %d", group.prefix, group.deliveries.InFlightCount, group.inFlight)
		}
		if got := cardValue(group.prefix + "_in_flight"); got != strconv.FormatInt(group.inFlight, 10) {
			t.Errorf("card %s_in_flight: got %q, want %d", group.prefix, got, group.inFlight)
		}
		sum := group.deliveries.SentCount + group.deliveries.FailedCount + group.deliveries.InFlightCount
		if sum != group.deliveries.DeliveryCount {
			t.Errorf("%s deliveries: sent, failed and in flight add up to %d, want delivery_count %d", group.prefix, sum, group.deliveries.DeliveryCount)
		}
		href, _ := byTestID(doc, "dashboard-count-"+group.prefix+"_in_flight").Attr("href")
		if parsed, err := url.Parse(href); err != nil || parsed.Query().Get("metadata_kind") != "delivery" {
			t.Errorf("card %s_in_flight link: got %q, want /history filtered to deliveries", group.prefix, href)
		}
	}

	coverage := strings.Join(strings.Fields(byTestID(doc, "dashboard-coverage").Text()), " ")
	if strings.Contains(coverage, "every stored record") {
		t.Errorf("coverage: got %q, want no claim to count every stored record", coverage)
	}
	if !strings.Contains(coverage, "Health alert delivery retries (plans, worker runs and executions) and ingested evidence are not counted here.") {
		t.Errorf("coverage: got %q, want it to name the records it does not count", coverage)
	}
}

func TestHistoryEndpointFilters(t *testing.T) {
	s := newAuditServer(t)
	tests := []struct {
		query string
		total int64
	}{
		{"", audittest.Total},
		{"?metadata_kind=delivery", 11},
		{"?provider=slack", 14},
		{"?acknowledgement_state=dismissed", 1},
		{"?connector_delivery_source=executive_report", 19},
		{"?delivery_success=true", 5},
		{"?delivery_success=false", 8},
		{"?delivery_success=", audittest.Total},
		{"?alert_level=critical", 2},
		{"?provider=slack&connector_delivery_source=executive_report&delivery_success=false", 3},
		{"?metadata_kind=delivery&provider=email", 2},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			rec := s.getJSON(runtimePrefix + tc.query)
			if rec.Code != http.StatusOK {
				t.Fatalf("status: got %d, want 200: %s", rec.Code, rec.Body.String())
			}
			var page audit.HistoryPage
			if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if page.Total != tc.total {
				t.Errorf("total: got %d, want %d", page.Total, tc.total)
			}
			if page.Limit != audit.DefaultHistoryLimit || page.Offset != 0 {
				t.Errorf("paging: got limit %d offset %d, want %d and 0", page.Limit, page.Offset, audit.DefaultHistoryLimit)
			}
		})
	}
}

func TestHistoryEndpointPagingEdges(t *testing.T) {
	s := newAuditServer(t)
	tests := []struct {
		query string
		items int
		first string
	}{
		{"?limit=1", 1, "e6"},
		{"?limit=1&offset=34", 1, "h1"},
		{"?limit=500", audittest.Total, "e6"},
		{"?offset=35", 0, ""},
		{"?offset=1000", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			rec := s.getJSON(runtimePrefix + tc.query)
			if rec.Code != http.StatusOK {
				t.Fatalf("status: got %d, want 200: %s", rec.Code, rec.Body.String())
			}
			var page audit.HistoryPage
			if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if len(page.Items) != tc.items || page.Total != audittest.Total {
				t.Errorf("page: got %d items of %d, want %d of %d", len(page.Items), page.Total, tc.items, audittest.Total)
			}
			if tc.first != "" && len(page.Items) > 0 && page.Items[0].ID != tc.first {
				t.Errorf("first item: got %s, want %s", page.Items[0].ID, tc.first)
			}
			if !strings.Contains(rec.Body.String(), `"items":[`) {
				t.Errorf("items: got %s, want a JSON array", rec.Body.String())
			}
		})
	}
}

func TestHistoryEndpointRejectsInvalid(t *testing.T) {
	s := newAuditServer(t)
	tests := []struct {
		query, field, mention string
	}{
		{"?limit=0", "limit", "from 1 to 500"},
		{"?limit=501", "limit", "from 1 to 500"},
		{"?limit=ten", "limit", "from 1 to 500"},
		{"?offset=-1", "offset", "offset"},
		{"?offset=1.5", "offset", "offset"},
		{"?delivery_success=yes", "delivery_success", "true or false"},
		{"?delivery_success=1", "delivery_success", "true or false"},
		{"?metadata_kind=plans", "metadata_kind", "health_snapshot, alert_plan, delivery, acknowledgement, executive_report, schedule_run, retry_plan, retry_worker_run, retry_execution"},
		{"?acknowledgement_state=pending", "acknowledgement_state", "acknowledged"},
		{"?connector_delivery_source=slack", "connector_delivery_source", "health_alert, executive_report"},
		{"?alert_level=red", "alert_level", "healthy, warning, critical"},
		{"?health_id=h1", "health_id", "not a query parameter"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			rec := s.getJSON(runtimePrefix + tc.query)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status: got %d, want 400: %s", rec.Code, rec.Body.String())
			}
			apiErr := apiErrorOf(t, rec.Body.Bytes())
			if apiErr.Field != tc.field {
				t.Errorf("field: got %q, want %q", apiErr.Field, tc.field)
			}
			if !strings.Contains(apiErr.Message, tc.mention) {
				t.Errorf("message: got %q, want it to mention %q", apiErr.Message, tc.mention)
			}
		})
	}
}

func TestHistoryPageKeepsFiltersInLinks(t *testing.T) {
	s := newAuditServer(t)
	rec := s.getJSON("/history?provider=slack&limit=5&offset=5")
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200: %s", rec.Code, rec.Body.String())
	}
	doc := document(t, rec)
	if got := byTestID(doc, "history-row").Length(); got != 5 {
		t.Errorf("rows: got %d, want 5", got)
	}
	if got, _ := byTestID(doc, "filter-provider").Attr("value"); got != "slack" {
		t.Errorf("provider field: got %q, want slack", got)
	}
	if method, _ := byTestID(doc, "history-filters").Attr("method"); method != "get" {
		t.Errorf("form method: got %q, want get", method)
	}
	for _, link := range []struct{ id, offset string }{{"history-previous", "0"}, {"history-next", "10"}} {
		href, ok := byTestID(doc, link.id).Attr("href")
		if !ok {
			t.Errorf("%s: missing", link.id)
			continue
		}
		parsed, _ := url.Parse(href)
		query := parsed.Query()
		if query.Get("provider") != "slack" || query.Get("limit") != "5" || query.Get("offset") != link.offset {
			t.Errorf("%s: got %q, want provider slack, limit 5, offset %s", link.id, href, link.offset)
		}
	}

	last := document(t, s.getJSON("/history?provider=slack&limit=5&offset=10"))
	if byTestID(last, "history-next").Length() != 0 {
		t.Errorf("last page: got a next link, want none")
	}
	empty := document(t, s.getJSON("/history?metadata_kind=acknowledgement&acknowledgement_state=resolved"))
	if byTestID(empty, "history-empty").Length() != 1 {
		t.Errorf("empty result: got no empty-state message, want one")
	}
	if rec := s.getJSON("/history?limit=0"); rec.Code != http.StatusBadRequest {
		t.Errorf("invalid limit on the page: got status %d, want 400", rec.Code)
	}

	// A browser gets the page back with the filters as typed and the
	// message next to them.
	rejected := s.do(http.MethodGet, "/history?provider=slack&limit=0", "", "", "Accept", "text/html")
	if rejected.Code != http.StatusBadRequest {
		t.Fatalf("invalid limit in a browser: got status %d, want 400", rejected.Code)
	}
	page := document(t, rejected)
	message := strings.Join(strings.Fields(byTestID(page, "history-error").Text()), " ")
	if want := "The filters were not applied: ‘Per page’ must be a whole number from 1 to 500"; !strings.HasPrefix(message, want) {
		t.Errorf("error on the page: got %q, want it to start with %q", message, want)
	}
	if strings.Contains(message, "limit") || strings.Contains(message, "Check") {
		t.Errorf("error on the page: got %q, want the label once and no parameter name", message)
	}
	if rec := s.do(http.MethodGet, "/history?limit=0", "", "", "Accept", "application/json"); !strings.HasPrefix(apiErrorOf(t, rec.Body.Bytes()).Message, "limit must be") {
		t.Errorf("JSON message: got %q, want it to name the parameter limit", rec.Body.String())
	}
	if byTestID(page, "history-empty").Length() != 0 {
		t.Error("rejected filters: the page says no records match, want only the error")
	}
	limit := byTestID(page, "filter-limit")
	if got, _ := limit.Attr("value"); got != "0" {
		t.Errorf("per page value: got %q, want the typed 0", got)
	}
	if got, _ := limit.Attr("aria-invalid"); got != "true" {
		t.Errorf("per page aria-invalid: got %q, want true", got)
	}
	if _, focused := limit.Attr("autofocus"); !focused {
		t.Error("per page autofocus: missing, want the rejected field to take the focus")
	}
	if got, _ := byTestID(page, "filter-provider").Attr("value"); got != "slack" {
		t.Errorf("destination filter: got %q, want slack kept", got)
	}
	if byTestID(page, "history-filters").Length() != 1 {
		t.Error("filter form: missing, want it shown for correction")
	}
}

func TestAuditChainEndpoints(t *testing.T) {
	s := newAuditServer(t)
	rec := s.getJSON(runtimePrefix + "/audit/retry_execution/x2")
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200: %s", rec.Code, rec.Body.String())
	}
	var chain audit.Chain
	if err := json.Unmarshal(rec.Body.Bytes(), &chain); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(chain.Links) != 8 || len(chain.Missing) != 0 {
		t.Errorf("chain: got %d links and missing %q, want 8 and none", len(chain.Links), chain.Missing)
	}
	keys := map[string]string{}
	for _, link := range chain.Links {
		keys[link.Kind+"/"+link.ID] = link.IdempotencyKey
	}
	for record, want := range map[string]string{
		"retry_execution/x2": "idem-dec2", "delivery/e2": "idem-e2", "delivery/e5": "idem-e5", "retry_plan/rp1": "",
	} {
		if keys[record] != want {
			t.Errorf("idempotency key of %s: got %q, want %q", record, keys[record], want)
		}
	}

	page := document(t, s.getJSON("/audit/retry_execution/x2"))
	if got := byTestID(page, "audit-link").Length(); got != 8 {
		t.Errorf("page links: got %d, want 8", got)
	}
	executionKey := page.Find(`[data-testid="audit-link"][data-kind="retry_execution"] [data-testid="audit-idempotency-key"]`)
	if got := strings.Join(strings.Fields(executionKey.Text()), " "); got != "idempotency key idem-dec2" {
		t.Errorf("page execution idempotency key: got %q, want \"idempotency key idem-dec2\"", got)
	}
	if got := byTestID(page, "audit-idempotency-key").Length(); got != 3 {
		t.Errorf("page idempotency keys: got %d, want 3 (x2, e2 and e5)", got)
	}
	hrefs := map[string]bool{}
	byTestID(page, "audit-link-href").Each(func(_ int, link *goquery.Selection) {
		href, _ := link.Attr("href")
		hrefs[href] = true
	})
	for _, want := range []string{"/audit/delivery/e2", "/audit/delivery/e5"} {
		if !hrefs[want] {
			t.Errorf("page: missing link %s in %v", want, hrefs)
		}
	}
	for _, kind := range []string{"retry_worker_run", "retry_plan", "executive_report"} {
		link := page.Find(`[data-testid="audit-link"][data-kind="` + kind + `"] [data-testid="audit-link-href"]`)
		if link.Length() != 1 {
			t.Errorf("page: got %d links to the %s, want 1 to its page", link.Length(), kind)
		}
	}

	notFound := []string{
		runtimePrefix + "/audit/retry_execution/missing",
		runtimePrefix + "/audit/health_snapshot/h1",
		"/audit/alert_plan/missing",
		"/audit/unknown/x1",
	}
	for _, path := range notFound {
		if rec := s.getJSON(path); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: got status %d, want 404", path, rec.Code)
		}
	}
}

func TestExportEndpoint(t *testing.T) {
	s := newAuditServer(t)
	from := audittest.Start.Add(-time.Hour).Format(time.RFC3339)
	to := audittest.Start.Add(24 * time.Hour).Format(time.RFC3339)
	rec := s.getJSON(runtimePrefix + "/audit/export?from=" + from + "&to=" + to + "&kinds=deliveries,retry_executions")
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200: %s", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("Content-Type"); got != "application/zip" {
		t.Errorf("Content-Type: got %q, want application/zip", got)
	}
	if got := rec.Header().Get("Content-Disposition"); !strings.HasPrefix(got, "attachment;") {
		t.Errorf("Content-Disposition: got %q, want an attachment", got)
	}
	data := rec.Body.Bytes()
	reader, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("open zip: %v", err)
	}
	files := map[string][]byte{}
	for _, file := range reader.File {
		rc, _ := file.Open()
		files[file.Name], _ = io.ReadAll(rc)
		_ = rc.Close()
	}
	var manifest audit.Manifest
	if err := json.Unmarshal(files[audit.ManifestName], &manifest); err != nil {
		t.Fatalf("decode manifest: %v", err)
	}
	wantRows := map[string]int64{"deliveries.jsonl": 11, "retry_executions.jsonl": 4}
	if len(manifest.Files) != len(wantRows) {
		t.Errorf("manifest files: got %d, want %d", len(manifest.Files), len(wantRows))
	}
	for _, file := range manifest.Files {
		sum := sha256.Sum256(files[file.Name])
		if got := hex.EncodeToString(sum[:]); got != file.SHA256 {
			t.Errorf("%s sha256: got %s, want %s", file.Name, got, file.SHA256)
		}
		if file.Rows != wantRows[file.Name] {
			t.Errorf("%s rows: got %d, want %d", file.Name, file.Rows, wantRows[file.Name])
		}
	}
}

func TestExportEndpointRejectsInvalid(t *testing.T) {
	s := newAuditServer(t)
	path := runtimePrefix + "/audit/export"
	tests := []struct {
		query, field string
	}{
		{"", "from"},
		{"?to=2026-05-02T00:00:00Z", "from"},
		{"?from=2026-05-01T00:00:00Z", "to"},
		{"?from=2026-05-01&to=2026-05-02T00:00:00Z", "from"},
		{"?from=2026-05-01T00:00:00Z&to=yesterday", "to"},
		{"?from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z", "to"},
		{"?from=2026-05-01T00:00:00Z&to=2026-05-01T00:00:00Z", "to"},
		{"?from=2024-01-01T00:00:00Z&to=2026-05-01T00:00:00Z", "to"},
		{"?from=2026-05-01T00:00:00Z&to=2026-05-02T00:00:00Z&kinds=deliveries,passwords", "kinds"},
		{"?from=2026-05-01T00:00:00Z&to=2026-05-02T00:00:00Z&kinds=deliveries,,alert_plans", "kinds"},
		{"?from=2026-05-01T00:00:00Z&to=2026-05-02T00:00:00Z&format=tar", "format"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			rec := s.getJSON(path + tc.query)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status: got %d, want 400: %s", rec.Code, rec.Body.String())
			}
			if got := apiErrorOf(t, rec.Body.Bytes()).Field; got != tc.field {
				t.Errorf("field: got %q, want %q", got, tc.field)
			}
		})
	}
}

func TestExportNeedsExportPermission(t *testing.T) {
	s := newAuditServer(t)
	query := runtimePrefix + "/audit/export?from=2026-05-01T00:00:00Z&to=2026-05-02T00:00:00Z"
	tests := []struct {
		role auth.Role
		want int
	}{
		{auth.RoleViewer, http.StatusForbidden},
		{auth.RoleReleaseManager, http.StatusForbidden},
		{auth.RoleAuditor, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(string(tc.role), func(t *testing.T) {
			s.actAs("export-"+string(tc.role), tc.role)
			if rec := s.getJSON(query); rec.Code != tc.want {
				t.Errorf("status: got %d, want %d", rec.Code, tc.want)
			}
		})
	}
	s.anonymous()
	if rec := s.getJSON(query); rec.Code != http.StatusUnauthorized {
		t.Errorf("anonymous: got status %d, want 401", rec.Code)
	}
}

func TestAuditChainHidesReportFiguresFromViewers(t *testing.T) {
	s := newAuditServer(t)
	detail := func() string {
		rec := s.getJSON(runtimePrefix + "/audit/retry_execution/x2")
		if rec.Code != http.StatusOK {
			t.Fatalf("status: got %d, want 200: %s", rec.Code, rec.Body.String())
		}
		var chain audit.Chain
		if err := json.Unmarshal(rec.Body.Bytes(), &chain); err != nil {
			t.Fatalf("decode: %v", err)
		}
		for _, link := range chain.Links {
			if link.Kind == models.HistoryExecutiveReport {
				return link.Detail
			}
		}
		t.Fatalf("chain: got links %+v, want an executive report", chain.Links)
		return ""
	}

	if got := detail(); !strings.Contains(got, "key risks") {
		t.Errorf("admin's report detail: got %q, want the report's figures", got)
	}
	s.actAs("chain-viewer", auth.RoleViewer)
	if got := detail(); got != executiveDetailHidden {
		t.Errorf("viewer's report detail: got %q, want %q", got, executiveDetailHidden)
	}
	doc := document(t, s.getJSON("/audit/retry_execution/x2"))
	page := doc.Text()
	if strings.Contains(page, "key risks") || !strings.Contains(page, executiveDetailHidden) {
		t.Errorf("viewer's chain page: want the figures hidden and the reason shown")
	}
	if got := doc.Find(`[data-testid="audit-link"][data-kind="executive_report"] a`).Length(); got != 0 {
		t.Errorf("viewer's chain page: got %d links to the report, want none, because the report page is a 403", got)
	}
}

func TestDashboardSaysWhenNoHealthIsBuilt(t *testing.T) {
	s := newTestServer(t)
	s.handler.Audit = &audit.Service{DB: s.db, Now: func() time.Time { return testNow }, Logger: s.handler.Logger}

	empty := document(t, s.getJSON("/console"))
	if got := byTestID(empty, "dashboard-no-health").Length(); got != 1 {
		t.Errorf("note without a health evaluation: got %d, want 1", got)
	}
	// The overall level is marked as leaving health out, so it does not read
	// as a verdict on the health panel below.
	if got := byTestID(empty, "dashboard-level-scope").Length(); got != 1 {
		t.Errorf("level scope without a health evaluation: got %d, want 1", got)
	}
	if got := visibleText(byTestID(empty, "dashboard-level-scope")); got != "(recovery retry health not built yet)" {
		t.Errorf("level scope text: got %q, want %q", got, "(recovery retry health not built yet)")
	}
	// The health panel below shows an unsaved preview with its own level,
	// which can be worse, so the note states that and names the button that
	// builds a snapshot.
	note := visibleText(byTestID(empty, "dashboard-no-health"))
	if !strings.Contains(note, "unsaved preview") {
		t.Errorf("note without a health evaluation: %q, want it to say the health panel shows an unsaved preview", note)
	}
	build := visibleText(byTestID(empty, "build-health"))
	if build == "" || !strings.Contains(note, "Press “"+build+"”") {
		t.Errorf("note without a health evaluation: %q, want it to name the %q button", note, build)
	}

	audittest.Seed(t, s.db)
	seeded := document(t, s.getJSON("/console"))
	if got := byTestID(seeded, "dashboard-no-health").Length(); got != 0 {
		t.Errorf("note with health evaluations stored: got %d, want 0", got)
	}
	if got := byTestID(seeded, "dashboard-level-scope").Length(); got != 0 {
		t.Errorf("level scope with health evaluations stored: got %d, want 0", got)
	}
}

// The console pages the outstanding acknowledgements, so the card opens
// them all and needs no note about a list limit.
func TestOutstandingCardWithoutNote(t *testing.T) {
	for _, count := range []int64{0, alerting.DefaultOutstandingLimit, alerting.DefaultOutstandingLimit + 1, 1000} {
		if note := outstandingCard(count).Note; note != "" {
			t.Errorf("card with %d outstanding: note %q, want none", count, note)
		}
	}
}

// An empty kinds parameter counts as absent and exports every kind.
func TestExportEmptyKindsExportsAll(t *testing.T) {
	s := newAuditServer(t)
	from := audittest.Start.Add(-time.Hour).Format(time.RFC3339)
	to := audittest.Start.Add(24 * time.Hour).Format(time.RFC3339)
	manifestFiles := func(query string) []string {
		t.Helper()
		rec := s.getJSON(runtimePrefix + "/audit/export?from=" + from + "&to=" + to + query)
		if rec.Code != http.StatusOK {
			t.Fatalf("%q: status %d, want 200: %s", query, rec.Code, rec.Body.String())
		}
		data := rec.Body.Bytes()
		reader, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%q: open zip: %v", query, err)
		}
		var names []string
		for _, file := range reader.File {
			names = append(names, file.Name)
		}
		return names
	}

	all := manifestFiles("")
	if len(all) != len(audit.ExportKinds())+1 {
		t.Fatalf("without kinds: got files %v, want one per kind and the manifest", all)
	}
	for _, query := range []string{"&kinds=", "&kinds=%20"} {
		if got := manifestFiles(query); !slices.Equal(got, all) {
			t.Errorf("%q: got files %v, want every kind as without kinds: %v", query, got, all)
		}
	}
}
