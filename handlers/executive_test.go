package handlers

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/auth/authtest"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/connectors/receiver"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/executive"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// Secrets planted in the executive test connectors; none may appear in
// responses, pages or stored rows.
const (
	executiveSecretPath  = "execS3cretPath"
	executiveSecretQuery = "execS3cretQuery"
	executiveSecretToken = "execS3cretToken"
)

// executiveServer is the real router with the executive service wired to
// a local receiver ("webhook", "slack"), a server that echoes the planted
// secrets in a 500 response ("leaky") and a disabled connector ("off").
// withNotReady adds "failing-webhook", enabled but with its URL variable
// empty, so it is not ready.
type executiveServer struct {
	*testServer
	receiver *receiver.Server
}

func newExecutiveServer(t *testing.T, withNotReady ...bool) *executiveServer {
	t.Helper()
	s := &executiveServer{testServer: newTestServer(t)}
	rcv, err := receiver.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start receiver: %v", err)
	}
	t.Cleanup(func() { _ = rcv.Close() })
	s.receiver = rcv

	leaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = fmt.Fprintf(w, "rejected token %s for %s", executiveSecretToken, r.URL.String())
	}))
	t.Cleanup(leaky.Close)

	disabled := false
	cfg := connectors.FileConfig{Connectors: map[string]connectors.ConnectorConfig{
		"webhook": {URLEnv: "WEBHOOK_URL", AuthorizationEnv: "TOKEN"},
		"slack":   {URLEnv: "SLACK_URL"},
		"leaky":   {Kind: connectors.KindWebhook, URLEnv: "LEAKY_URL", AuthorizationEnv: "TOKEN"},
		"off":     {Kind: connectors.KindWebhook, URLEnv: "WEBHOOK_URL", Enabled: &disabled},
	}}
	env := map[string]string{
		"WEBHOOK_URL": rcv.URL + "/webhook/" + executiveSecretPath + "?token=" + executiveSecretQuery,
		"SLACK_URL":   rcv.URL + "/slack/services/T0/B0/" + executiveSecretPath,
		"LEAKY_URL":   leaky.URL + "/hooks/" + executiveSecretPath + "?key=" + executiveSecretQuery,
		"TOKEN":       "Bearer " + executiveSecretToken,
	}
	if len(withNotReady) > 0 && withNotReady[0] {
		cfg.Connectors["failing-webhook"] = connectors.ConnectorConfig{Kind: connectors.KindWebhook, URLEnv: "FAILING_URL"}
		env["FAILING_URL"] = ""
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	registry, err := connectors.NewRegistry(cfg, func(name string) (string, bool) { value, ok := env[name]; return value, ok },
		connectors.WithBackoff(time.Millisecond, 2*time.Millisecond), connectors.WithLogger(logger))
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	clock := func() time.Time { return testNow }
	s.handler.Executive = &executive.Service{
		DB: s.db, Now: clock, Destinations: registry, PublicURL: s.handler.PublicURL, Logger: logger,
		Delivery: &delivery.Service{DB: s.db, Sender: registry, Now: clock, Logger: logger},
	}
	return s
}

// seedRecovery stores one failed execution, one breached and one resolved
// recovery, relative to testNow.
func (s *executiveServer) seedRecovery() {
	s.t.Helper()
	at := func(d time.Duration) time.Time { return models.UTC(testNow.Add(-d)) }
	rows := []any{
		&models.AuditRetryExecution{ID: "ex-1", Provider: "jira", ExecutionStatus: "failed", ExecutedAt: at(time.Hour), IngestedAt: testNow, Raw: "{}"},
		&models.AuditRetryExecution{ID: "ex-2", Provider: "slack", ExecutionStatus: "delivered", ExecutedAt: at(2 * time.Hour), IngestedAt: testNow, Raw: "{}"},
		&models.RecoveryPlaybook{ID: "pb-1", GeneratedAt: at(48 * time.Hour), IngestedAt: testNow, Raw: "{}"},
		&models.RecoveryPlaybookProvider{PlaybookID: "pb-1", Provider: "servicenow", Category: "auth_error", FailureCount: 2, GeneratedAt: at(48 * time.Hour)},
		&models.RecoveryPlaybookProvider{PlaybookID: "pb-1", Provider: "slack", Category: "rate_limited", FailureCount: 1, GeneratedAt: at(48 * time.Hour)},
		&models.RecoveryClosure{ID: "cl-1", PlaybookID: "pb-1", Provider: "slack", ClosureState: "resolved", ClosedAt: at(24 * time.Hour), IngestedAt: testNow, Raw: "{}"},
	}
	for _, row := range rows {
		if err := s.db.Create(row).Error; err != nil {
			s.t.Fatalf("store %T: %v", row, err)
		}
	}
}

// schedule posts a schedule run and returns its decoded result.
func (s *executiveServer) schedule() executive.RunResult {
	s.t.Helper()
	rec := s.postJSON(executiveReportPath+"/schedule-run", `{"schedule": {"interval_minutes": 60, "enabled": true}, "recovery_slo_minutes": 240}`)
	if rec.Code != http.StatusCreated {
		s.t.Fatalf("schedule-run: got status %d, want 201; body %s", rec.Code, rec.Body.String())
	}
	var result executive.RunResult
	if err := json.Unmarshal(rec.Body.Bytes(), &result); err != nil {
		s.t.Fatalf("decode schedule-run: %v", err)
	}
	return result
}

// executiveErrorField decodes the field of a JSON error response.
func executiveErrorField(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error APIError `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("decode error body %q: %v", rec.Body.String(), err)
	}
	return body.Error.Field
}

func sameRowCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for table, n := range a {
		if b[table] != n {
			return false
		}
	}
	return true
}

func TestExecutiveReportGetWritesNothing(t *testing.T) {
	s := newExecutiveServer(t)
	s.seedRecovery()
	before := dbtest.CountRows(t, s.db)

	rec := s.getJSON(executiveReportPath + "?recovery_slo_minutes=60&period_days=3")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET report: got status %d, want 200; body %s", rec.Code, rec.Body.String())
	}
	if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
		t.Errorf("row counts: got %v after GET, want %v", after, before)
	}

	var report map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &report); err != nil {
		t.Fatalf("decode report: %v", err)
	}
	for _, key := range []string{"executive_summary", "key_risks", "provider_summary", "closure_trends", "recommended_actions", "period", "generated_at", "evidence"} {
		if _, ok := report[key]; !ok {
			t.Errorf("report key %q: missing, want present", key)
		}
	}
	summary := report["executive_summary"].(map[string]any)
	if got := summary["status"]; got != "critical" {
		t.Errorf("status: got %v, want critical", got)
	}
	if got := summary["slo_breach_count"]; got != float64(1) {
		t.Errorf("slo_breach_count: got %v, want 1", got)
	}
	if got := len(report["closure_trends"].([]any)); got != 3 {
		t.Errorf("closure_trends days: got %d, want 3 (period_days=3)", got)
	}
}

func TestExecutiveReportGetRejectsBadQuery(t *testing.T) {
	s := newExecutiveServer(t)
	cases := []struct {
		query     string
		wantField string
	}{
		{"recovery_slo_minutes=0", "recovery_slo_minutes"},
		{"recovery_slo_minutes=525601", "recovery_slo_minutes"},
		{"recovery_slo_minutes=4.5", "recovery_slo_minutes"},
		{"period_days=0", "period_days"},
		{"period_days=367", "period_days"},
		{"period_days=week", "period_days"},
		{"recovery_slo=240", "recovery_slo"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			before := dbtest.CountRows(t, s.db)
			rec := s.getJSON(executiveReportPath + "?" + tc.query)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status: got %d, want 400; body %s", rec.Code, rec.Body.String())
			}
			if got := executiveErrorField(t, rec); got != tc.wantField {
				t.Errorf("field: got %q, want %q", got, tc.wantField)
			}
			if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
				t.Errorf("row counts changed: got %v, want %v", after, before)
			}
		})
	}
}

func TestExecutiveScheduleRunPersistsReportAndWindow(t *testing.T) {
	s := newExecutiveServer(t)
	s.seedRecovery()

	result := s.schedule()
	run := result.ScheduleRun
	// testNow is 12:00 UTC, so the hourly window is 12:00 to 13:00.
	if want := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC); !run.WindowStart.Equal(want) {
		t.Errorf("window_start: got %s, want %s", run.WindowStart, want)
	}
	if want := time.Date(2026, 5, 1, 13, 0, 0, 0, time.UTC); !run.WindowEnd.Equal(want) {
		t.Errorf("window_end: got %s, want %s", run.WindowEnd, want)
	}
	if run.Schedule.Cadence != "hourly" || !run.Schedule.Enabled {
		t.Errorf("schedule: got %+v, want hourly and enabled", run.Schedule)
	}
	if result.Report.ReportID == "" || run.ReportID != result.Report.ReportID {
		t.Errorf("report id: got run %q report %q, want the same non-empty id", run.ReportID, result.Report.ReportID)
	}
	counts := dbtest.CountRows(t, s.db)
	if counts["executive_reports"] != 1 || counts["executive_schedule_runs"] != 1 {
		t.Errorf("stored: got %d reports and %d runs, want 1 and 1", counts["executive_reports"], counts["executive_schedule_runs"])
	}

	rec := s.getJSON(executiveReportPath + "/schedule-runs?limit=10")
	if rec.Code != http.StatusOK {
		t.Fatalf("list runs: got status %d, want 200", rec.Code)
	}
	var list executive.RunList
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatalf("decode runs: %v", err)
	}
	if list.Total != 1 || len(list.Items) != 1 || list.Items[0].RunID != run.RunID || list.Items[0].Status != "critical" {
		t.Errorf("runs: got %+v, want the one critical run %s", list, run.RunID)
	}
	for _, query := range []string{"limit=0", "limit=501", "offset=-1", "page=2"} {
		if rec := s.getJSON(executiveReportPath + "/schedule-runs?" + query); rec.Code != http.StatusBadRequest {
			t.Errorf("list runs ?%s: got status %d, want 400", query, rec.Code)
		}
	}
}

func TestExecutiveScheduleRunRejectsBadInput(t *testing.T) {
	s := newExecutiveServer(t)
	cases := []struct {
		name       string
		body       string
		wantStatus int
		wantField  string
	}{
		{"slo zero", `{"recovery_slo_minutes": 0}`, 400, "recovery_slo_minutes"},
		{"slo as text", `{"recovery_slo_minutes": "240"}`, 400, "recovery_slo_minutes"},
		{"slo too large", `{"recovery_slo_minutes": 525601}`, 400, "recovery_slo_minutes"},
		{"period zero", `{"period_days": 0}`, 400, "period_days"},
		{"period fraction", `{"period_days": 1.5}`, 400, "period_days"},
		{"interval too small", `{"schedule": {"interval_minutes": 4}}`, 400, "schedule.interval_minutes"},
		{"interval too large", `{"schedule": {"interval_minutes": 10081}}`, 400, "schedule.interval_minutes"},
		{"interval as text", `{"schedule": {"interval_minutes": "60"}}`, 400, "schedule.interval_minutes"},
		{"enabled as text", `{"schedule": {"enabled": "false"}}`, 400, "schedule.enabled"},
		{"enabled as number", `{"schedule": {"enabled": 0}}`, 400, "schedule.enabled"},
		{"cadence too long", `{"schedule": {"cadence": "` + strings.Repeat("x", 41) + `"}}`, 400, "schedule.cadence"},
		{"cadence empty", `{"schedule": {"cadence": ""}}`, 400, "schedule.cadence"},
		{"cadence disagrees", `{"schedule": {"cadence": "daily", "interval_minutes": 60}}`, 422, "schedule.cadence"},
		{"cadence configured secret", `{"schedule": {"cadence": "` + executiveSecretPath + `"}}`, 400, "schedule.cadence"},
		{"cadence bidi override", `{"schedule": {"cadence": "daily\u202e"}}`, 400, "schedule.cadence"},
		{"unknown field", `{"schedule": {"every": 5}}`, 400, "schedule.every"},
		{"schedule not an object", `{"schedule": 5}`, 400, "schedule"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := dbtest.CountRows(t, s.db)
			rec := s.postJSON(executiveReportPath+"/schedule-run", tc.body)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status: got %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body.String())
			}
			if got := executiveErrorField(t, rec); got != tc.wantField {
				t.Errorf("field: got %q, want %q", got, tc.wantField)
			}
			if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
				t.Errorf("row counts changed: got %v, want %v", after, before)
			}
		})
	}
}

func TestExecutiveDeliverEndpoint(t *testing.T) {
	s := newExecutiveServer(t)
	s.seedRecovery()

	rec := s.postJSON(executiveReportPath+"/schedule-runs/latest/deliver", `{"provider": "webhook"}`)
	if rec.Code != http.StatusNotFound {
		t.Errorf("latest without runs: got status %d, want 404; body %s", rec.Code, rec.Body.String())
	}
	run := s.schedule()
	rec = s.postJSON(executiveReportPath+"/schedule-runs/xrun_unknown/deliver", `{"provider": "webhook"}`)
	if rec.Code != http.StatusNotFound {
		t.Errorf("unknown run: got status %d, want 404", rec.Code)
	}
	// An empty run id in the path names no run, not the newest one.
	rec = s.postJSON(executiveReportPath+"/schedule-runs//deliver", `{"provider": "webhook"}`)
	if rec.Code != http.StatusNotFound || len(s.receiver.Requests()) != 0 {
		t.Errorf("empty run id: got status %d and %d requests, want 404 and none (%s)", rec.Code, len(s.receiver.Requests()), rec.Body.String())
	}

	// Every element of a provider list names a destination.
	for _, body := range []string{`{"provider": ["webhook", null]}`, `{"provider": ["webhook", " "]}`} {
		rec = s.postJSON(executiveReportPath+"/schedule-runs/latest/deliver", body)
		if rec.Code != http.StatusBadRequest || errorOf(t, rec.Body.String()).Field != "provider[1]" {
			t.Errorf("%s: got status %d %s, want 400 naming provider[1]", body, rec.Code, rec.Body.String())
		}
	}

	// A run_id in the body must name the path's run.
	before := dbtest.CountRows(t, s.db)
	rec = s.postJSON(executiveReportPath+"/schedule-runs/latest/deliver", `{"provider": "webhook", "run_id": "xrun_other"}`)
	if rec.Code != http.StatusUnprocessableEntity || errorOf(t, rec.Body.String()).Field != "run_id" {
		t.Errorf("run_id differing from the path: got status %d %s, want 422 naming run_id", rec.Code, rec.Body.String())
	}
	if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) || len(s.receiver.Requests()) != 0 {
		t.Errorf("run_id differing from the path: rows %v (want %v) and %d requests (want 0)", after, before, len(s.receiver.Requests()))
	}

	rec = s.postJSON(executiveReportPath+"/schedule-runs/latest/deliver", `{"provider": ["Webhook", "slack"], "retries": 0, "timeout_seconds": 2.5, "run_id": "latest"}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("deliver: got status %d, want 200; body %s", rec.Code, rec.Body.String())
	}
	var result executive.DeliverResult
	if err := json.Unmarshal(rec.Body.Bytes(), &result); err != nil {
		t.Fatalf("decode deliver: %v", err)
	}
	if !result.Success || len(result.Delivery) != 2 {
		t.Fatalf("deliver: got success %v with %d deliveries, want true with 2", result.Success, len(result.Delivery))
	}
	if result.RunID != run.ScheduleRun.RunID || result.ReportID != run.Report.ReportID {
		t.Errorf("deliver: got run %s report %s, want %s and %s", result.RunID, result.ReportID, run.ScheduleRun.RunID, run.Report.ReportID)
	}
	wantLink := "http://127.0.0.1:8080/executive/reports/" + run.Report.ReportID
	if result.Link != wantLink {
		t.Errorf("link: got %q, want %q", result.Link, wantLink)
	}
	if got := len(s.receiver.Requests()); got != 2 {
		t.Errorf("received requests: got %d, want 2", got)
	}
	deliveries, err := models.DeliveriesOf(t.Context(), s.db, models.SubjectExecutiveReport, run.ScheduleRun.RunID)
	if err != nil {
		t.Fatalf("DeliveriesOf: %v", err)
	}
	if len(deliveries) != 2 || deliveries[0].SubjectKey != run.Report.ReportID || deliveries[0].State != models.DeliveryCompleted {
		t.Errorf("stored deliveries: got %+v, want 2 completed with the report id as key", deliveries)
	}

	// A comma-separated string names several destinations too.
	rec = s.postJSON(executiveReportPath+"/schedule-runs/"+run.ScheduleRun.RunID+"/deliver", `{"provider": "slack, leaky", "retries": 0}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("deliver to slack and leaky: got status %d, want 200", rec.Code)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &result); err != nil {
		t.Fatalf("decode deliver: %v", err)
	}
	if result.Success || len(result.Delivery) != 2 || result.Delivery[1].ErrorClass != string(connectors.ClassServerError) {
		t.Errorf("deliver with a failing destination: got %+v, want success false and leaky server_error", result)
	}
}

func TestExecutiveDeliverRejectsBadInput(t *testing.T) {
	s := newExecutiveServer(t)
	s.seedRecovery()
	s.schedule()
	path := executiveReportPath + "/schedule-runs/latest/deliver"
	cases := []struct {
		name       string
		body       string
		wantStatus int
		wantField  string
	}{
		{"provider missing", `{}`, 400, "provider"},
		{"provider empty", `{"provider": ""}`, 400, "provider"},
		{"provider number", `{"provider": 5}`, 400, "provider"},
		{"provider unknown", `{"provider": "slak"}`, 422, "provider"},
		{"provider disabled", `{"provider": "off"}`, 422, "provider"},
		{"retries negative", `{"provider": "webhook", "retries": -1}`, 400, "retries"},
		{"retries above 5", `{"provider": "webhook", "retries": 6}`, 400, "retries"},
		{"retries fraction", `{"provider": "webhook", "retries": 1.5}`, 400, "retries"},
		{"retries text", `{"provider": "webhook", "retries": "2"}`, 400, "retries"},
		{"timeout too small", `{"provider": "webhook", "timeout_seconds": 0.05}`, 400, "timeout_seconds"},
		{"timeout too large", `{"provider": "webhook", "timeout_seconds": 61}`, 400, "timeout_seconds"},
		{"timeout text", `{"provider": "webhook", "timeout_seconds": "10"}`, 400, "timeout_seconds"},
		{"unknown field", `{"provider": "webhook", "force": true}`, 400, "force"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := dbtest.CountRows(t, s.db)
			rec := s.postJSON(path, tc.body)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status: got %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body.String())
			}
			if got := executiveErrorField(t, rec); got != tc.wantField {
				t.Errorf("field: got %q, want %q", got, tc.wantField)
			}
			if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
				t.Errorf("row counts changed: got %v, want %v", after, before)
			}
		})
	}

	rec := s.postJSON(path, `{"provider": "slak"}`)
	if body := rec.Body.String(); !strings.Contains(body, "webhook") || !strings.Contains(body, "configured_providers") {
		t.Errorf("unknown destination body: got %s, want it to list the configured destinations", body)
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("received requests: got %d, want 0 after rejected requests", got)
	}
}

func TestExecutiveDeliveryRedactsSecrets(t *testing.T) {
	s := newExecutiveServer(t)
	s.seedRecovery()
	run := s.schedule()

	rec := s.postJSON(executiveReportPath+"/schedule-runs/latest/deliver", `{"provider": "webhook,slack,leaky", "retries": 1}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("deliver: got status %d, want 200; body %s", rec.Code, rec.Body.String())
	}
	htmx := s.postForm("/console/executive-report/deliver", "provider=leaky&retries=0&run_id=latest", "HX-Request", "true")
	pages := []string{
		rec.Body.String(),
		htmx.Body.String(),
		s.do(http.MethodGet, "/executive/runs", "", "").Body.String(),
		s.do(http.MethodGet, "/executive/reports/"+run.Report.ReportID, "", "").Body.String(),
		s.getJSON(executiveReportPath + "/schedule-runs").Body.String(),
	}
	var rows strings.Builder
	tables, err := s.db.Migrator().GetTables()
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	for _, table := range tables {
		var found []map[string]any
		if err := s.db.Table(table).Find(&found).Error; err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		fmt.Fprintf(&rows, "%s: %v\n", table, found)
	}
	everything := strings.Join(pages, "\n") + rows.String()
	for _, secret := range []string{executiveSecretPath, executiveSecretQuery, executiveSecretToken} {
		if strings.Contains(everything, secret) {
			t.Errorf("secret %q: found in a response, page or stored row, want it nowhere", secret)
		}
	}
	if !strings.Contains(rows.String(), "server_error") {
		t.Errorf("stored rows: want the leaky destination's server_error, got none")
	}
}

func TestExecutiveReportPage(t *testing.T) {
	s := newExecutiveServer(t)
	s.seedRecovery()
	run := s.schedule()

	rec := s.do(http.MethodGet, "/executive/reports/"+run.Report.ReportID, "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("report page: got status %d, want 200", rec.Code)
	}
	doc := document(t, rec)
	if got := byTestID(doc, "report-status").AttrOr("data-status", ""); got != "critical" {
		t.Errorf("status: got %q, want critical", got)
	}
	if got := strings.TrimSpace(byTestID(doc, "business-impact").Text()); got == "" {
		t.Errorf("business impact: got empty, want a sentence")
	}
	var risks []string
	byTestID(doc, "key-risk").Each(func(_ int, risk *goquery.Selection) {
		risks = append(risks, risk.AttrOr("data-category", ""))
	})
	wantRisks := []string{executive.RiskFailedExecutions, executive.RiskRecoverySLOBreach}
	if strings.Join(risks, ",") != strings.Join(wantRisks, ",") {
		t.Errorf("key risks: got %v, want %v", risks, wantRisks)
	}
	var providers []string
	byTestID(doc, "provider-row").Each(func(_ int, row *goquery.Selection) {
		providers = append(providers, row.AttrOr("data-provider", "")+"="+row.AttrOr("data-status", ""))
	})
	wantProviders := []string{"jira=critical", "servicenow=critical", "slack=healthy"}
	if strings.Join(providers, ",") != strings.Join(wantProviders, ",") {
		t.Errorf("provider rows: got %v, want %v", providers, wantProviders)
	}
	chart := byTestID(doc, "closure-trend-chart")
	if chart.Length() != 1 {
		t.Fatalf("closure trend chart: got %d, want 1", chart.Length())
	}
	if got := chart.Find("title").First().Text(); got == "" {
		t.Errorf("chart title: got empty, want a title")
	}
	if got := chart.Find("desc").Text(); !strings.Contains(got, "1 recovery closures") {
		t.Errorf("chart description: got %q, want it to count the 1 closure", got)
	}
	if got := byTestID(doc, "trend-day").Length(); got != executive.DefaultPeriodDays {
		t.Errorf("chart days: got %d, want %d", got, executive.DefaultPeriodDays)
	}
	if got := doc.Find(`[data-testid="trend-day"][data-date="2026-04-30"]`).AttrOr("data-closed", ""); got != "1" {
		t.Errorf("closures on 2026-04-30: got %q, want 1", got)
	}
	if got := byTestID(doc, "report-actions").Find("li").Length(); got != 2 {
		t.Errorf("recommended actions: got %d, want 2", got)
	}
	if got := byTestID(doc, "report-id").Text(); got != run.Report.ReportID {
		t.Errorf("report id: got %q, want %q", got, run.Report.ReportID)
	}

	if rec := s.do(http.MethodGet, "/executive/reports/xrpt_missing", "", ""); rec.Code != http.StatusNotFound {
		t.Errorf("unknown report page: got status %d, want 404", rec.Code)
	}

	before := dbtest.CountRows(t, s.db)
	preview := s.do(http.MethodGet, "/executive/report", "", "")
	if preview.Code != http.StatusOK {
		t.Fatalf("preview page: got status %d, want 200", preview.Code)
	}
	if byTestID(document(t, preview), "report-preview").Length() != 1 {
		t.Errorf("preview page: want the not-saved notice")
	}
	if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
		t.Errorf("preview wrote rows: got %v, want %v", after, before)
	}

	// A period of one day is named in the singular.
	oneDay := s.do(http.MethodGet, "/executive/report?period_days=1", "", "")
	if body := oneDay.Body.String(); !strings.Contains(body, "(1 day)") || strings.Contains(body, "(1 days)") {
		t.Errorf("one-day period: got status %d, want the period named as (1 day)", oneDay.Code)
	}
}

func TestExecutiveConsoleControls(t *testing.T) {
	s := newExecutiveServer(t)
	s.seedRecovery()

	doc := document(t, s.do(http.MethodGet, "/console", "", ""))
	for _, id := range []string{"executive-preview", "executive-preview-link", "executive-schedule-form", "executive-deliver-form", "executive-destination"} {
		if byTestID(doc, id).Length() != 1 {
			t.Errorf("console control %s: missing", id)
		}
	}
	var destinations []string
	byTestID(doc, "executive-destination-option").Each(func(_ int, option *goquery.Selection) {
		if option.AttrOr("name", "") != "provider" || option.AttrOr("type", "") != "checkbox" {
			t.Errorf("destination %q: got name %q and type %q, want a provider checkbox",
				option.AttrOr("value", ""), option.AttrOr("name", ""), option.AttrOr("type", ""))
		}
		destinations = append(destinations, option.AttrOr("value", ""))
	})
	if got := strings.Join(destinations, ","); got != "leaky,slack,webhook" {
		t.Errorf("destination checkboxes: got %q, want the enabled leaky,slack,webhook", got)
	}
	if got := byTestID(doc, "executive-destination-option").Filter("[checked]").Length(); got != 0 {
		t.Errorf("preselected destinations: got %d, want none", got)
	}
	if got := visibleText(byTestID(doc, "executive-destination-hint")); got != "Choose one or more." {
		t.Errorf("destination hint: got %q, want %q", got, "Choose one or more.")
	}
	none := s.postForm("/console/executive-report/deliver", "run_id=latest&retries=0", "HX-Request", "true")
	if none.Code != http.StatusBadRequest {
		t.Errorf("deliver without a destination: got status %d, want 400", none.Code)
	}
	if got := byTestID(document(t, none), "error-fragment").AttrOr("data-field", ""); got != "provider" {
		t.Errorf("deliver without a destination: error field %q, want provider; body %s", got, none.Body.String())
	}

	preview := s.do(http.MethodGet, "/console/executive-report", "", "", "HX-Request", "true")
	if got := byTestID(document(t, preview), "executive-preview-result").AttrOr("data-status", ""); got != "critical" {
		t.Errorf("preview fragment status: got %q, want critical", got)
	}

	fragment := s.postForm("/console/executive-report/schedule", "interval_minutes=15&enabled=true&recovery_slo_minutes=240&period_days=7", "HX-Request", "true")
	if fragment.Code != http.StatusOK {
		t.Fatalf("schedule fragment: got status %d, want 200; body %s", fragment.Code, fragment.Body.String())
	}
	link := byTestID(document(t, fragment), "executive-report-link").AttrOr("href", "")
	if !strings.HasPrefix(link, "/executive/reports/xrpt_") {
		t.Errorf("schedule fragment link: got %q, want /executive/reports/xrpt_…", link)
	}

	plain := s.postForm("/console/executive-report/schedule", "interval_minutes=60&cadence=board+review&enabled=false")
	if plain.Code != http.StatusSeeOther || !strings.HasPrefix(plain.Header().Get("Location"), "/executive/reports/xrpt_") {
		t.Errorf("plain schedule post: got %d to %q, want 303 to the report", plain.Code, plain.Header().Get("Location"))
	}

	bad := s.postForm("/console/executive-report/schedule", "enabled=yes", "HX-Request", "true")
	if bad.Code != http.StatusBadRequest || !strings.Contains(bad.Body.String(), "schedule.enabled") {
		t.Errorf("bad enabled: got %d %s, want 400 naming schedule.enabled", bad.Code, bad.Body.String())
	}

	delivered := s.postForm("/console/executive-report/deliver", url.Values{"provider": {"webhook", "slack"}, "run_id": {"latest"}, "retries": {"0"}, "timeout_seconds": {"5"}}.Encode(), "HX-Request", "true")
	if got := byTestID(document(t, delivered), "executive-delivery").Length(); got != 2 {
		t.Errorf("deliver fragment: got %d deliveries, want 2; body %s", got, delivered.Body.String())
	}
	plainDeliver := s.postForm("/console/executive-report/deliver", "provider=webhook")
	if plainDeliver.Code != http.StatusSeeOther || !strings.HasPrefix(plainDeliver.Header().Get("Location"), "/executive/runs") {
		t.Errorf("plain deliver post: got %d to %q, want 303 to the runs page", plainDeliver.Code, plainDeliver.Header().Get("Location"))
	}

	runs := document(t, s.do(http.MethodGet, "/executive/runs", "", ""))
	if got := byTestID(runs, "executive-run").Length(); got != 2 {
		t.Errorf("runs page rows: got %d, want 2", got)
	}
	if got := byTestID(runs, "run-report-link").First().AttrOr("href", ""); !strings.HasPrefix(got, "/executive/reports/xrpt_") {
		t.Errorf("runs page link: got %q, want a report link", got)
	}
	// The newest run received three successful deliveries: two through htmx, one plain.
	newest := byTestID(runs, "run-deliveries").First()
	if got := newest.AttrOr("data-sent", ""); got != "3" {
		t.Errorf("newest run sent deliveries: got %q, want 3", got)
	}
	if got := newest.AttrOr("data-failed", ""); got != "0" {
		t.Errorf("newest run failed deliveries: got %q, want 0", got)
	}
}

func TestExecutiveReportPageTimeZone(t *testing.T) {
	s := newExecutiveServer(t)
	zone, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("time zone data unavailable: %v", err)
	}
	s.handler.TimeZone = zone
	run := s.schedule()

	doc := document(t, s.do(http.MethodGet, "/executive/reports/"+run.Report.ReportID, "", ""))
	// testNow is 12:00 UTC on 1 May, which is 14:00 CEST in Berlin.
	if got := byTestID(doc, "report-meta").Text(); !strings.Contains(got, "2026-05-01 14:00 CEST") {
		t.Errorf("generation time: got %q, want it shown as 2026-05-01 14:00 CEST", got)
	}
	if got := byTestID(doc, "report-period").Text(); !strings.Contains(got, "CEST") {
		t.Errorf("period: got %q, want times in CEST", got)
	}
}

func TestExecutivePermissions(t *testing.T) {
	s := newExecutiveServer(t)
	_, token := authtest.CreateUser(t, s.db, "exec-reader", auth.RoleExecutive)
	s.headers["Authorization"] = "Bearer " + token

	if rec := s.do(http.MethodGet, "/executive/report", "", ""); rec.Code != http.StatusOK {
		t.Errorf("executive reads the report page: got status %d, want 200", rec.Code)
	}
	if rec := s.postJSON(executiveReportPath+"/schedule-run", `{}`); rec.Code != http.StatusForbidden {
		t.Errorf("executive schedules a run: got status %d, want 403", rec.Code)
	}
	if got := dbtest.CountRows(t, s.db)["executive_schedule_runs"]; got != 0 {
		t.Errorf("schedule runs after a forbidden request: got %d, want 0", got)
	}

	// The console offers an executive the report, and the forms it may not
	// submit only disabled, with the reason.
	console := document(t, s.do(http.MethodGet, "/console", "", ""))
	if got := byTestID(console, "executive-preview-link").Length(); got != 1 {
		t.Errorf("executive console preview links: got %d, want 1", got)
	}
	for _, button := range []string{"executive-schedule", "executive-deliver"} {
		if !formControlDisabled(byTestID(console, button)) {
			t.Errorf("executive console %s button: enabled, want disabled", button)
		}
	}
	wantNote := "Your role (executive) may not schedule executive reports; a release manager or an administrator can."
	if got := byTestID(console, "executive-schedule-blocked").Text(); got != wantNote {
		t.Errorf("executive console schedule note: got %q, want %q", got, wantNote)
	}

	_, viewerToken := authtest.CreateUser(t, s.db, "plain-viewer", auth.RoleViewer)
	s.headers["Authorization"] = "Bearer " + viewerToken
	console = document(t, s.do(http.MethodGet, "/console", "", ""))
	if byTestID(console, "executive-no-access").Length() != 1 || byTestID(console, "executive-preview-link").Length() != 0 {
		t.Errorf("viewer console: want the no-access note instead of the report link")
	}
	if rec := s.do(http.MethodGet, "/executive/report", "", ""); rec.Code != http.StatusForbidden {
		t.Errorf("viewer reads the report page: got status %d, want 403", rec.Code)
	}
}

func TestExecutiveFormsRejectBadInput(t *testing.T) {
	s := newExecutiveServer(t)
	s.seedRecovery()
	s.schedule()
	cases := []struct {
		path      string
		body      string
		wantField string
	}{
		{"/console/executive-report/schedule", "interval_minutes=daily", "schedule.interval_minutes"},
		{"/console/executive-report/schedule", "interval_minutes=4", "schedule.interval_minutes"},
		{"/console/executive-report/schedule", "enabled=on", "schedule.enabled"},
		{"/console/executive-report/schedule", "recovery_slo_minutes=0", "recovery_slo_minutes"},
		{"/console/executive-report/schedule", "period_days=400", "period_days"},
		{"/console/executive-report/deliver", "provider=webhook&retries=9", "retries"},
		{"/console/executive-report/deliver", "provider=webhook&timeout_seconds=fast", "timeout_seconds"},
		{"/console/executive-report/deliver", "provider=webhook&timeout_seconds=NaN", "timeout_seconds"},
		{"/console/executive-report/deliver", "retries=1", "provider"},
	}
	for _, tc := range cases {
		t.Run(tc.body, func(t *testing.T) {
			before := dbtest.CountRows(t, s.db)
			rec := s.postForm(tc.path, tc.body, "HX-Request", "true")
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status: got %d, want 400; body %s", rec.Code, rec.Body.String())
			}
			if got := byTestID(document(t, rec), "error-fragment").AttrOr("data-field", ""); got != tc.wantField {
				t.Errorf("field: got %q, want %q", got, tc.wantField)
			}
			if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
				t.Errorf("row counts changed: got %v, want %v", after, before)
			}
		})
	}

	rec := s.postForm("/console/executive-report/deliver", "provider=nowhere", "HX-Request", "true")
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "webhook") {
		t.Errorf("unknown destination from the form: got %d %s, want 422 listing the configured destinations", rec.Code, rec.Body.String())
	}
}

func TestExecutiveDeliverRejectsNotReadyDestination(t *testing.T) {
	s := newExecutiveServer(t, true)
	s.schedule()
	path := executiveReportPath + "/schedule-runs/latest/deliver"

	for _, body := range []string{`{"provider":"failing-webhook,slack"}`, `{"provider":["slack","failing-webhook"]}`, `{"provider":"all"}`} {
		before := dbtest.CountRows(t, s.db)
		rec := s.postJSON(path, body)

		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("%s: status %d, want 422; body %s", body, rec.Code, rec.Body.String())
		}
		apiErr := errorOf(t, rec.Body.String())
		if apiErr.Field != "provider" {
			t.Errorf("%s: field %q, want provider", body, apiErr.Field)
		}
		for _, want := range []string{`"failing-webhook"`, "FAILING_URL", "not ready", "Nothing was sent"} {
			if !strings.Contains(apiErr.Message, want) {
				t.Errorf("%s: message %q does not contain %s", body, apiErr.Message, want)
			}
		}
		if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
			t.Errorf("%s: row counts changed: got %v, want %v", body, after, before)
		}
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("receiver got %d requests, want none", got)
	}

	// The console form shows the 422 on its destination field.
	rec := s.postForm("/console/executive-report/deliver", "provider=slack&provider=failing-webhook&run_id=latest", "HX-Request", "true")
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("form: status %d, want 422; body %s", rec.Code, rec.Body.String())
	}
	if got := byTestID(document(t, rec), "error-fragment").AttrOr("data-field", ""); got != "provider" {
		t.Errorf("form error field: got %q, want provider", got)
	}
}

func TestExecutiveDeliverRejectsAllBesideNames(t *testing.T) {
	s := newExecutiveServer(t)
	s.schedule()
	path := executiveReportPath + "/schedule-runs/latest/deliver"

	for _, body := range []string{`{"provider":["all","slack"]}`, `{"provider":"all,slack"}`, `{"provider":"slack,ALL"}`} {
		before := dbtest.CountRows(t, s.db)
		rec := s.postJSON(path, body)

		if rec.Code != http.StatusBadRequest {
			t.Fatalf("%s: status %d, want 400; body %s", body, rec.Code, rec.Body.String())
		}
		apiErr := errorOf(t, rec.Body.String())
		if apiErr.Field != "provider" {
			t.Errorf("%s: field %q, want provider", body, apiErr.Field)
		}
		if !strings.Contains(apiErr.Message, `send "all" alone`) {
			t.Errorf("%s: message %q does not say to send \"all\" alone", body, apiErr.Message)
		}
		if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
			t.Errorf("%s: row counts changed: got %v, want %v", body, after, before)
		}
	}

	rec := s.postForm("/console/executive-report/deliver", "provider=all&provider=slack&run_id=latest", "HX-Request", "true")
	if rec.Code != http.StatusBadRequest {
		t.Errorf("form: status %d, want 400; body %s", rec.Code, rec.Body.String())
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("receiver got %d requests, want none", got)
	}
}

// The console's schedule form leaves the interval empty by default, so a
// named cadence sets it, and a label that implies no interval is rejected
// under the interval field instead of getting the daily default.
func TestExecutiveScheduleFormIntervalFromCadence(t *testing.T) {
	s := newExecutiveServer(t)
	form := "enabled=true&recovery_slo_minutes=240&period_days=7&interval_minutes="

	weekly := s.postForm("/console/executive-report/schedule", form+"&cadence=weekly", "HX-Request", "true")
	if weekly.Code != http.StatusOK {
		t.Fatalf("weekly with an empty interval: got %d, want 200; body %s", weekly.Code, weekly.Body.String())
	}
	list := s.getJSON(executiveReportPath + "/schedule-runs")
	var runs struct {
		Items []struct {
			Schedule struct {
				IntervalMinutes int    `json:"interval_minutes"`
				Cadence         string `json:"cadence"`
			} `json:"schedule"`
		} `json:"items"`
	}
	if err := json.Unmarshal(list.Body.Bytes(), &runs); err != nil || len(runs.Items) != 1 {
		t.Fatalf("schedule runs: got %s (%v), want one run", list.Body.String(), err)
	}
	if got := runs.Items[0].Schedule; got.IntervalMinutes != 10080 || got.Cadence != "weekly" {
		t.Errorf("schedule: got %d minutes, cadence %q; want 10080 and weekly", got.IntervalMinutes, got.Cadence)
	}

	before := dbtest.CountRows(t, s.db)
	monthly := s.postForm("/console/executive-report/schedule", form+"&cadence=monthly", "HX-Request", "true")
	if monthly.Code != http.StatusUnprocessableEntity {
		t.Errorf("monthly without an interval: got %d, want 422", monthly.Code)
	}
	if got := byTestID(document(t, monthly), "error-fragment").AttrOr("data-field", ""); got != "schedule.interval_minutes" {
		t.Errorf("rejected field: got %q, want schedule.interval_minutes", got)
	}
	after := dbtest.CountRows(t, s.db)
	for table, n := range after {
		if n != before[table] {
			t.Errorf("table %s: %d rows before the rejected form, %d after", table, before[table], n)
		}
	}
}

// The deliver form offers a destination that cannot receive a report now
// disabled, with the reason shown beside it and named in aria-describedby.
func TestExecutiveDeliverFormDisablesUnreadyDestination(t *testing.T) {
	s := newExecutiveServer(t, true)
	doc := document(t, s.do(http.MethodGet, "/console", "", ""))
	found := false
	byTestID(doc, "executive-destination-option").Each(func(_ int, option *goquery.Selection) {
		_, disabled := option.Attr("disabled")
		name := option.AttrOr("value", "")
		if name == "failing-webhook" {
			found = true
			if !disabled {
				t.Error("failing-webhook, whose URL variable is empty: enabled, want disabled")
			}
			if reason := describedText(t, doc, option); !strings.Contains(reason, "FAILING_URL") {
				t.Errorf("failing-webhook description: got %q, want the reason naming FAILING_URL", reason)
			}
		} else if disabled {
			t.Errorf("%s: disabled, want enabled", name)
		}
	})
	if !found {
		t.Error("failing-webhook: missing from the deliver form")
	}
}

// A runs page past the last run states that it is past the end and links to
// the last and the first page. With no run, a page past the first links
// only to the first page.
func TestExecutiveRunsPagePastTheEnd(t *testing.T) {
	s := newExecutiveServer(t)

	empty := document(t, s.do(http.MethodGet, "/executive/runs?limit=2&offset=4", "", ""))
	if got := byTestID(empty, "no-runs").Length(); got != 1 {
		t.Errorf("no-runs message: got %d, want 1", got)
	}
	assertNoElements(t, empty, "runs-past-end", "runs-prev", "runs-next", "runs-last")
	assertPageLink(t, empty, "runs-first", "/executive/runs", map[string]string{"limit": "2", "offset": "0"})

	s.seedRecovery()
	for range 3 {
		s.schedule()
	}

	for _, tc := range []struct{ offset, firstRun string }{{"100", "101"}, {"3", "4"}} {
		t.Run("offset "+tc.offset, func(t *testing.T) {
			doc := document(t, s.do(http.MethodGet, "/executive/runs?limit=2&offset="+tc.offset, "", ""))
			want := "This page is past the end: there are 3 runs, and this page starts at run " + tc.firstRun + "."
			if got := strings.TrimSpace(byTestID(doc, "runs-past-end").Text()); got != want {
				t.Errorf("message: got %q, want %q", got, want)
			}
			assertNoElements(t, doc, "executive-run", "no-runs", "runs-prev", "runs-next")
			assertPastEndLinks(t, doc, "runs", "/executive/runs", "2", map[string]string{"limit": "2"})
		})
	}

	last := document(t, s.do(http.MethodGet, "/executive/runs?limit=2&offset=2", "", ""))
	if got := byTestID(last, "executive-run").Length(); got != 1 {
		t.Errorf("last page rows: got %d, want 1", got)
	}
	assertNoElements(t, last, "runs-past-end", "runs-last", "runs-first")

	rec := s.getJSON(executiveReportPath + "/schedule-runs?limit=2&offset=100")
	var list executive.RunList
	if rec.Code != http.StatusOK {
		t.Fatalf("JSON past the end: got status %d, want 200: %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatalf("decode the run list: %v", err)
	}
	if len(list.Items) != 0 || list.Total != 3 || list.Offset != 100 || list.Limit != 2 {
		t.Errorf("JSON past the end: got %d items, total %d, offset %d, limit %d; want 0, 3, 100, 2",
			len(list.Items), list.Total, list.Offset, list.Limit)
	}
}

// The schedule form's message names the choices its Schedule select shows,
// while a JSON client keeps the values it sends.
func TestScheduleFormNamesSelectChoices(t *testing.T) {
	s := newExecutiveServer(t)
	s.seedRecovery()

	rec := s.postForm("/console/executive-report/schedule", "enabled=maybe", "HX-Request", "true")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status: got %d, want 400; body %s", rec.Code, rec.Body.String())
	}
	if got, want := strings.TrimSpace(byTestID(document(t, rec), "error-fragment").Text()), `‘Schedule’ must be enabled or disabled; got "maybe"`; !strings.Contains(got, want) {
		t.Errorf("form message: got %q, want it to contain %q", got, want)
	}

	jsonRec := s.postForm("/console/executive-report/schedule", "enabled=maybe", "Accept", "application/json")
	if apiErr := apiErrorOf(t, jsonRec.Body.Bytes()); apiErr.Message != `schedule.enabled must be true or false; got "maybe"` {
		t.Errorf("JSON message: got %q, want the values true and false named", apiErr.Message)
	}
}
