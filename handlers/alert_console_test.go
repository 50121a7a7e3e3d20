package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/auth/authtest"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/evidence"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func TestConsoleAlertSectionForm(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())

	rec := s.do(http.MethodGet, "/console", "", "", "Accept", "text/html")

	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200", rec.Code)
	}
	doc := document(t, rec)
	form := byTestID(doc, "send-alert-form")
	if form.Length() != 1 {
		t.Fatalf("send forms: got %d, want 1", form.Length())
	}
	if got, _ := form.Attr("hx-post"); got != "/console/retry-health-alerts" {
		t.Errorf("hx-post: got %q, want /console/retry-health-alerts", got)
	}
	if got, _ := form.Attr("action"); got != "/console/retry-health-alerts" {
		t.Errorf("action: got %q, want the same route for a plain post", got)
	}
	if _, ok := form.Attr("hx-disabled-elt"); !ok {
		t.Error("send form has no hx-disabled-elt")
	}
	if form.Find("#send-progress").Length() != 1 {
		t.Error("send form has no progress indicator")
	}
	var options []string
	byTestID(doc, "send-provider").Find("option").Each(func(_ int, o *goquery.Selection) {
		value, _ := o.Attr("value")
		options = append(options, value)
	})
	if strings.Join(options, ",") != "all,alpha,beta" {
		t.Errorf("destination options: got %v, want all, alpha, beta", options)
	}
	if byTestID(doc, "send-force").Length() != 1 {
		t.Error("send form has no force checkbox")
	}
	if form.Find("details input[name=suppression_window_minutes]").Length() != 1 {
		t.Error("advanced thresholds are not inside a details element")
	}
	if got := strings.TrimSpace(byTestID(doc, "alert-count-plan_count").Find("dd").Text()); got != "0" {
		t.Errorf("plan count card: got %q, want 0", got)
	}
	if byTestID(doc, "no-outstanding").Length() != 1 {
		t.Error("empty outstanding table is not announced")
	}
}

func TestConsoleSendPlainPostRedirects(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())

	rec := s.postForm("/console/retry-health-alerts", "provider=alpha&retries=0")

	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status: got %d, want 303: %s", rec.Code, rec.Body.String())
	}
	location := rec.Header().Get("Location")
	if !strings.HasPrefix(location, "/console?plan_id=alp_") {
		t.Fatalf("location: got %q, want the console with the plan id", location)
	}
	// Browsers drop the fragment before requesting the page.
	location, _, _ = strings.Cut(location, "#")
	doc := document(t, s.do(http.MethodGet, location, "", "", "Accept", "text/html"))
	rows := byTestID(doc, "alert-destination")
	if rows.Length() != 1 {
		t.Fatalf("result rows: got %d, want 1", rows.Length())
	}
	if got, _ := rows.Attr("data-outcome"); got != "sent" {
		t.Errorf("alpha outcome: got %q, want sent", got)
	}
	outstanding := byTestID(doc, "outstanding-row")
	if outstanding.Length() != 1 {
		t.Fatalf("outstanding rows: got %d, want 1", outstanding.Length())
	}
	if outstanding.Find(`[data-testid="acknowledge-form"]`).Length() != 1 {
		t.Error("outstanding row has no acknowledgement form")
	}
}

func TestConsoleSendHTMXShowsEveryOutcome(t *testing.T) {
	s := newAlertServer(t, map[string]destination{
		"alpha": {kind: connectors.KindWebhook, url: "{receiver}/webhook/alpha"},
		"down":  {kind: connectors.KindWebhook, url: "{receiver}/fail/410/down"},
	})
	s.postForm("/console/retry-health-alerts", "provider=alpha&retries=0")
	s.clock.Advance(time.Minute)

	rec := s.postForm("/console/retry-health-alerts", "provider=all&retries=0&timeout_seconds=2", "HX-Request", "true")

	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200: %s", rec.Code, rec.Body.String())
	}
	doc := document(t, rec)
	if strings.Contains(rec.Body.String(), "<html") || byTestID(doc, "retry-health-alerts").Length() != 1 {
		t.Error("htmx response is not the alert section fragment")
	}
	outcomes := map[string]string{}
	classes := map[string]string{}
	byTestID(doc, "alert-destination").Each(func(_ int, row *goquery.Selection) {
		provider, _ := row.Attr("data-provider")
		outcomes[provider], _ = row.Attr("data-outcome")
		classes[provider], _ = row.Attr("data-class")
	})
	if outcomes["alpha"] != "suppressed" {
		t.Errorf("alpha: got %q, want suppressed", outcomes["alpha"])
	}
	if outcomes["down"] != "failed" || classes["down"] != "gone" {
		t.Errorf("down: got %q with class %q, want failed with gone", outcomes["down"], classes["down"])
	}
	alpha := byTestID(doc, "alert-destination").FilterFunction(func(_ int, row *goquery.Selection) bool {
		provider, _ := row.Attr("data-provider")
		return provider == "alpha"
	})
	if text := alpha.Text(); !strings.Contains(text, "sent successfully inside the suppression window") || !strings.Contains(text, "last delivered 2026-05-01 12:00 UTC") {
		t.Errorf("suppressed row: got %q, want the reason and when it was last delivered", text)
	}
}

func TestConsoleSendFormRejectsBadInput(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	before := dbtest.CountRows(t, s.db)

	cases := []struct{ body, field string }{
		{"force=maybe", "force"},
		{"timeout_seconds=abc", "timeout_seconds"},
		{"timeout_seconds=0", "timeout_seconds"},
		{"max_alerts=0", "max_alerts"},
		{"retries=9", "retries"},
		{"suppression_window_minutes=", "suppression_window_minutes"},
		{"expected_interval_minutes=0", "expected_interval_minutes"},
		{"provider=", "provider"},
	}
	for _, tc := range cases {
		rec := s.postForm("/console/retry-health-alerts", tc.body, "HX-Request", "true")
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tc.body, rec.Code)
			continue
		}
		if got, _ := byTestID(document(t, rec), "error-fragment").Attr("data-field"); got != tc.field {
			t.Errorf("%s: field %q, want %q", tc.body, got, tc.field)
		}
	}
	rec := s.postForm("/console/retry-health-alerts", "provider=nope", "HX-Request", "true")
	if rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("unknown provider: status %d, want 422", rec.Code)
	}
	assertNothingStored(t, before, dbtest.CountRows(t, s.db))
}

func TestConsoleAcknowledgeClosesOutstanding(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"retries": 0}`)
	action := "/console/retry-health-alerts/" + result.Health.HealthID + "/acknowledgements"

	rec := s.postForm(action, "provider=alpha&acknowledgement_state=escalated&return_to=%2Fconsole")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console" {
		t.Fatalf("escalate: status %d location %q, want 303 to /console", rec.Code, rec.Header().Get("Location"))
	}
	doc := document(t, s.do(http.MethodGet, "/console", "", "", "Accept", "text/html"))
	states := outstandingStates(doc)
	if states["alpha"] != "escalated" || states["beta"] != "pending" {
		t.Errorf("after escalating alpha: got %v, want alpha escalated and beta pending", states)
	}

	rec = s.postForm(action, "provider=alpha&acknowledgement_state=resolved&return_to=%2Fconsole%23retry-health-alerts", "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("resolve: status %d, want 200", rec.Code)
	}
	states = outstandingStates(document(t, rec))
	if _, listed := states["alpha"]; listed || states["beta"] != "pending" {
		t.Errorf("after resolving alpha: got %v, want only beta", states)
	}

	rec = s.postForm(action, "provider=alpha&return_to=https%3A%2F%2Fevil.example%2F")
	if got := rec.Header().Get("Location"); got != "/alerts/"+result.Health.HealthID+"/acknowledge/alpha" {
		t.Errorf("foreign return_to: redirected to %q, want the acknowledgement page", got)
	}
}

func TestConsoleAcknowledgeFormNamesUnique(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, first := s.deliver(`{"provider": "alpha", "retries": 0}`)
	// A fresh retry plan changes the findings, so the next alert to alpha
	// starts a second occurrence that needs its own acknowledgement.
	s.clock.Advance(time.Minute)
	ingest := s.postJSON(evidencePath, `{"records": [{"metadata_kind": "`+evidence.KindEscalationRetryPlan+
		`", "retry_plan_id": "fresh", "retryable_count": 1, "created_at": "`+s.clock.Now().Format(time.RFC3339)+`"}]}`)
	if ingest.Code != http.StatusOK {
		t.Fatalf("ingest: status %d, want 200: %s", ingest.Code, ingest.Body.String())
	}
	_, second := s.deliver(`{"provider": "alpha", "retries": 0}`)
	if second.Health.OccurrenceID == first.Health.OccurrenceID {
		t.Fatalf("second alert kept occurrence %q, want a new one", first.Health.OccurrenceID)
	}

	doc := document(t, s.do(http.MethodGet, "/console", "", "", "Accept", "text/html"))

	forms := byTestID(doc, "outstanding-row").Find(`[data-testid="acknowledge-form"]`)
	if forms.Length() != 2 {
		t.Fatalf("acknowledgement forms: got %d, want 2 for the two alerts to alpha", forms.Length())
	}
	formNames := map[string]bool{}
	buttonNames := map[string]bool{}
	forms.Each(func(i int, form *goquery.Selection) {
		healthID := form.Closest(`[data-testid="outstanding-row"]`).AttrOr("data-health-id", "")
		name := form.AttrOr("aria-label", "")
		if formNames[name] {
			t.Errorf("form #%d name: got %q, which another form has", i, name)
		}
		formNames[name] = true
		if !strings.Contains(name, healthID) {
			t.Errorf("form #%d name: got %q, want it to name the alert %s", i, name, healthID)
		}
		button := form.Find(`[data-testid="ack-submit"]`).AttrOr("aria-label", "")
		if buttonNames[button] {
			t.Errorf("form #%d button name: got %q, which another button has", i, button)
		}
		buttonNames[button] = true
	})
}

func TestAcknowledgementPage(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"retries": 0}`)
	healthID := result.Health.HealthID
	path := "/alerts/" + healthID + "/acknowledge/alpha"

	doc := document(t, s.do(http.MethodGet, path, "", "", "Accept", "text/html"))
	if got, _ := byTestID(doc, "ack-current-state").Attr("data-state"); got != "pending" {
		t.Errorf("state before acting: got %q, want pending", got)
	}
	form := byTestID(doc, "acknowledge-form")
	if got, _ := form.Attr("action"); got != "/console/retry-health-alerts/"+healthID+"/acknowledgements" {
		t.Errorf("form action: got %q", got)
	}
	if got, want := form.AttrOr("aria-label", ""), "Acknowledge the alert "+healthID+" for alpha"; got != want {
		t.Errorf("form name: got %q, want %q", got, want)
	}
	if got, _ := form.Find("input[name=return_to]").Attr("value"); got != path {
		t.Errorf("return_to: got %q, want %q", got, path)
	}
	if byTestID(doc, "ack-finding").Length() != len(result.Health.Findings) {
		t.Errorf("findings: got %d, want %d", byTestID(doc, "ack-finding").Length(), len(result.Health.Findings))
	}

	script := "<script>alert(1)</script>"
	s.postForm(form.AttrOr("action", ""), url.Values{
		"provider": {"alpha"}, "acknowledgement_state": {"dismissed"}, "notes": {script}, "external_ref": {"javascript:alert(1)"},
	}.Encode())
	rec := s.postForm(form.AttrOr("action", ""), url.Values{
		"provider": {"alpha"}, "acknowledgement_state": {"acknowledged"}, "external_ref": {"https://tickets.example/CHG-7"}, "return_to": {path},
	}.Encode(), "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("htmx acknowledge: status %d, want 200", rec.Code)
	}
	panel := document(t, rec)
	if byTestID(panel, "acknowledgement-panel").Length() != 1 {
		t.Fatalf("htmx response is not the acknowledgement panel: %.200s", rec.Body.String())
	}

	rec = s.do(http.MethodGet, path, "", "", "Accept", "text/html")
	doc = document(t, rec)
	if got, _ := byTestID(doc, "ack-current-state").Attr("data-outstanding"); got != "false" {
		t.Errorf("outstanding after acknowledging: got %q, want false", got)
	}
	actions := byTestID(doc, "ack-action")
	if actions.Length() != 2 {
		t.Fatalf("actions: got %d, want 2", actions.Length())
	}
	if strings.Contains(rec.Body.String(), script) {
		t.Error("notes are rendered unescaped")
	}
	if got := strings.TrimSpace(actions.Eq(1).Find(`[data-testid="ack-action-notes"]`).Text()); got != script {
		t.Errorf("notes text: got %q, want %q shown as text", got, script)
	}
	if actions.Eq(1).Find(`[data-testid="external-ref-link"]`).Length() != 0 {
		t.Error("a javascript: external_ref became a link")
	}
	if got, _ := actions.Eq(0).Find(`[data-testid="external-ref-link"]`).Attr("href"); got != "https://tickets.example/CHG-7" {
		t.Errorf("https external_ref link: got %q", got)
	}
}

func TestAcknowledgementPageErrors(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"provider": "alpha", "retries": 0}`)

	if rec := s.do(http.MethodGet, "/alerts/hlth_missing/acknowledge/alpha", "", "", "Accept", "text/html"); rec.Code != http.StatusNotFound {
		t.Errorf("unknown alert: status %d, want 404", rec.Code)
	}
	rec := s.do(http.MethodGet, "/alerts/"+result.Health.HealthID+"/acknowledge/beta", "", "", "Accept", "text/html")
	if rec.Code != http.StatusNotFound {
		t.Errorf("destination not alerted: status %d, want 404", rec.Code)
	}
	page := byTestID(document(t, rec), "error-page")
	if page.Length() != 1 {
		t.Error("error is not shown as a page")
	}
	if !strings.Contains(page.Text(), "beta") {
		t.Errorf("error page: got %q, want it to name the destination beta", page.Text())
	}
}

func TestConsoleHistoryFiltersInURL(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	for range 3 {
		s.deliver(`{"retries": 0, "force": true}`)
		s.clock.Advance(time.Minute)
	}

	doc := document(t, s.do(http.MethodGet, "/console?provider=alpha&limit=2&offset=1", "", "", "Accept", "text/html"))

	if got := byTestID(doc, "history-row").Length(); got != 2 {
		t.Errorf("history rows: got %d, want 2", got)
	}
	next, _ := byTestID(doc, "history-next").Attr("href")
	prev, _ := byTestID(doc, "history-prev").Attr("href")
	if !strings.Contains(next, "provider=alpha") || !strings.Contains(next, "offset=3") || !strings.Contains(next, "limit=2") {
		t.Errorf("next link: got %q, want the filters kept and offset 3", next)
	}
	if !strings.Contains(prev, "offset=0") {
		t.Errorf("previous link: got %q, want offset 0", prev)
	}
	if got, _ := doc.Find(`[data-testid="history-filters"] input[name=provider]`).Attr("value"); got != "alpha" {
		t.Errorf("provider filter: got %q, want alpha kept", got)
	}
	if rec := s.do(http.MethodGet, "/console?suppressed=maybe", "", "", "Accept", "text/html"); rec.Code != http.StatusBadRequest {
		t.Errorf("invalid filter: status %d, want 400", rec.Code)
	}
}

func TestConnectorsPageAndJSON(t *testing.T) {
	s := newAlertServer(t, map[string]destination{
		"alpha": {kind: connectors.KindWebhook, url: "{receiver}/webhook/secretpath0123"},
		"down":  {kind: connectors.KindWebhook, url: "{receiver}/fail/503/secretpath0123"},
	})
	s.deliver(`{"retries": 0}`)

	rec := s.do(http.MethodGet, "/connectors", "", "", "Accept", "text/html")
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200", rec.Code)
	}
	doc := document(t, rec)
	rows := byTestID(doc, "connector-row")
	if rows.Length() != 2 {
		t.Fatalf("connector rows: got %d, want 2", rows.Length())
	}
	host := strings.TrimPrefix(s.receiver.URL, "http://")
	if got := strings.TrimSpace(rows.Eq(0).Find(`[data-testid="connector-host"]`).Text()); got != host {
		t.Errorf("host: got %q, want %q", got, host)
	}
	if got := rows.Eq(1).Find(`[data-testid="connector-last-result"]`).Text(); !strings.Contains(got, "server_error") {
		t.Errorf("down's last result: got %q, want server_error", got)
	}
	if byTestID(doc, "nav-Connectors").Length() != 1 {
		t.Error("navigation has no Connectors item")
	}

	api := s.getJSON(auditDelivery + "/connectors")
	if api.Code != http.StatusOK || !strings.Contains(api.Body.String(), `"host":"`+host+`"`) {
		t.Errorf("connectors JSON: status %d body %s", api.Code, api.Body.String())
	}
	for name, text := range map[string]string{"page": rec.Body.String(), "JSON": api.Body.String()} {
		if strings.Contains(text, "secretpath0123") {
			t.Errorf("connectors %s shows the URL path", name)
		}
	}
}

func outstandingStates(doc *goquery.Document) map[string]string {
	states := map[string]string{}
	byTestID(doc, "outstanding-row").Each(func(_ int, row *goquery.Selection) {
		provider, _ := row.Attr("data-provider")
		states[provider], _ = row.Attr("data-state")
	})
	return states
}

func TestSendProgressSaysHowLong(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())

	doc := document(t, s.do(http.MethodGet, "/console", "", "", "Accept", "text/html"))

	// Two quick retries of 10 seconds each after the first attempt, with
	// at most 2 seconds of pause before each retry.
	if got := doc.Find("#send-progress").Text(); !strings.Contains(got, "up to 34s") {
		t.Errorf("send progress: got %q, want it to say up to 34s", got)
	}
}

func TestConsoleAcknowledgementSaysWhatItRecorded(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"provider": "alpha", "retries": 0}`)
	path := "/console/retry-health-alerts/" + result.Health.HealthID + "/acknowledgements"

	first := s.postForm(path, "provider=alpha&acknowledgement_state=escalated&return_to=/console", "HX-Request", "true")
	again := s.postForm(path, "provider=alpha&acknowledgement_state=escalated&return_to=/console", "HX-Request", "true")

	if first.Code != http.StatusOK || again.Code != http.StatusOK {
		t.Fatalf("status: got %d and %d, want 200 and 200", first.Code, again.Code)
	}
	alert := "the " + result.Health.AlertLevel + " alert " + result.Health.HealthID
	if got, want := byTestID(document(t, first), "ack-recorded").Text(), "Recorded escalated for alpha on "+alert+" (action 1)."; got != want {
		t.Errorf("first note: got %q, want %q, naming the state, destination, alert and action", got, want)
	}
	if got, want := byTestID(document(t, again), "ack-recorded").Text(), "on "+alert+" again (action 2); the state was already escalated"; !strings.Contains(got, want) {
		t.Errorf("repeat note: got %q, want it to contain %q", got, want)
	}
}

// The send form offers a destination that cannot receive an alert now
// disabled, with the reason, and "all" disabled with it.
func TestSendFormDisablesUnreadyDestination(t *testing.T) {
	s := newAlertServer(t, map[string]destination{
		"webhook": {kind: connectors.KindWebhook, url: "{receiver}/webhook/ok"},
		"broken":  {kind: connectors.KindWebhook, url: ""},
	})
	rec := s.do(http.MethodGet, "/console", "", "", "Accept", "text/html")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /console: status %d", rec.Code)
	}
	doc := document(t, rec)
	selectField := byTestID(doc, "send-provider")
	options := selectField.Find("option")

	if _, required := selectField.Attr("required"); !required {
		t.Error("destination select with all blocked: not required, want the user to choose")
	}
	if first := options.First(); first.AttrOr("value", "x") != "" || !first.Is("[selected]") {
		t.Errorf("first option: got value %q, want the selected empty placeholder", first.AttrOr("value", "x"))
	}

	disabled := disabledOptions(options)
	want := map[string]bool{"all": true, "broken": true, "webhook": false}
	for name, off := range want {
		got, ok := disabled[name]
		if !ok {
			t.Errorf("option %q: missing from the form", name)
			continue
		}
		if got != off {
			t.Errorf("option %q: disabled %v, want %v", name, got, off)
		}
	}

	if text := options.Text(); !strings.Contains(text, "broken (not ready)") {
		t.Errorf("options %q: want the unready destination labelled not ready", text)
	}
	// An option shows only its name, so the select's description names the
	// unready destinations with their reasons.
	reasons := describedText(t, doc, selectField)
	if !strings.Contains(reasons, "broken: ") || !strings.Contains(reasons, "URL_BROKEN") {
		t.Errorf("select description: got %q, want the unready destination with the reason naming its URL variable", reasons)
	}
	if !strings.Contains(reasons, "Sending to all is not available") {
		t.Errorf("select description: got %q, want it to say why all is not available", reasons)
	}
}

// "all" leaves disabled destinations out, so a disabled destination is
// offered disabled while "all" stays available.
func TestSendFormKeepsAllWithDisabledDestination(t *testing.T) {
	s := newAlertServer(t, map[string]destination{
		"webhook": {kind: connectors.KindWebhook, url: "{receiver}/webhook/ok"},
		"paused":  {kind: connectors.KindWebhook, url: "{receiver}/webhook/paused", disabled: true},
	})
	rec := s.do(http.MethodGet, "/console", "", "", "Accept", "text/html")
	disabled := disabledOptions(byTestID(document(t, rec), "send-provider").Find("option"))
	if disabled["all"] {
		t.Error(`option "all": disabled, want enabled`)
	}
	if !disabled["paused"] {
		t.Error(`option "paused": enabled, want disabled`)
	}
}

// disabledOptions maps the value of each option to whether it is disabled.
func disabledOptions(options *goquery.Selection) map[string]bool {
	disabled := map[string]bool{}
	options.Each(func(_ int, option *goquery.Selection) {
		_, off := option.Attr("disabled")
		disabled[option.AttrOr("value", "")] = off
	})
	return disabled
}

// A console alert history page past the last item states that it is past
// the end and links to the last and the first page, keeping the filters.
// With no matching item, a page past the first links only to the first.
func TestConsoleHistoryPagePastTheEnd(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	for range 3 {
		s.deliver(`{"retries": 0, "force": true}`)
		s.clock.Advance(time.Minute)
	}

	// Each send adds a plan that includes alpha and a delivery to alpha, so
	// provider=alpha matches 6 items and the last page of 4 starts at 4.
	var page alerting.HistoryPage
	rec := s.getJSON(alertsPath + "?provider=alpha&limit=4&offset=100")
	if rec.Code != http.StatusOK {
		t.Fatalf("JSON past the end: got status %d, want 200: %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		t.Fatalf("decode the alert history: %v", err)
	}
	if len(page.Items) != 0 || page.Total != 6 || page.Offset != 100 || page.Limit != 4 {
		t.Errorf("JSON past the end: got %d items, total %d, offset %d, limit %d; want 0, 6, 100, 4",
			len(page.Items), page.Total, page.Offset, page.Limit)
	}

	for _, tc := range []struct{ offset, firstItem string }{{"100", "101"}, {"6", "7"}} {
		t.Run("offset "+tc.offset, func(t *testing.T) {
			doc := document(t, s.do(http.MethodGet, "/console?provider=alpha&limit=4&offset="+tc.offset, "", "", "Accept", "text/html"))
			want := "This page is past the end: there are 6 matching history items, and this page starts at item " + tc.firstItem + "."
			if got := byTestID(doc, "history-showing").Text(); got != want {
				t.Errorf("message: got %q, want %q", got, want)
			}
			assertNoElements(t, doc, "history-row", "history-prev", "history-next")
			assertPastEndLinks(t, doc, "history", "/console", "4", map[string]string{"provider": "alpha", "limit": "4"})
		})
	}

	last := document(t, s.do(http.MethodGet, "/console?provider=alpha&limit=4&offset=4", "", "", "Accept", "text/html"))
	if got := byTestID(last, "history-row").Length(); got != 2 {
		t.Errorf("last page rows: got %d, want 2", got)
	}
	assertNoElements(t, last, "history-last", "history-first")

	empty := document(t, s.do(http.MethodGet, "/console?acknowledgement_state=resolved&limit=4&offset=8", "", "", "Accept", "text/html"))
	if got := byTestID(empty, "history-showing").Text(); got != "No matching history items (0 in total)." {
		t.Errorf("no-match message: got %q", got)
	}
	assertNoElements(t, empty, "history-prev", "history-next", "history-last")
	assertPageLink(t, empty, "history-first", "/console", map[string]string{"acknowledgement_state": "resolved", "limit": "4", "offset": "0"})
}

// The acknowledgement form rejects an empty state, as the JSON endpoint
// does, and stores nothing. A post without the field records acknowledged,
// as a JSON body without it does.
func TestAcknowledgementFormRejectsEmptyState(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"provider": "alpha", "retries": 0}`)
	path := "/console/retry-health-alerts/" + result.Health.HealthID + "/acknowledgements"

	for _, state := range []string{"", "%20"} {
		rec := s.postForm(path, "provider=alpha&acknowledgement_state="+state+"&return_to=/console", "HX-Request", "true")
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("state %q: status %d, want 400 (body %.300s)", state, rec.Code, rec.Body.String())
		}
		fragment := document(t, rec)
		if got := fragment.Find("[data-field]").AttrOr("data-field", ""); got != "acknowledgement_state" {
			t.Errorf("state %q: error field %q, want acknowledgement_state", state, got)
		}
		if got := fragment.Text(); !strings.Contains(got, "‘State’ is empty; choose one of acknowledged,") {
			t.Errorf("state %q: message %q, want it to name ‘State’ and the choices", state, got)
		}
	}
	jsonRec := s.postForm(path, "provider=alpha&acknowledgement_state=", "Accept", "application/json")
	if jsonRec.Code != http.StatusBadRequest {
		t.Fatalf("JSON client: status %d, want 400", jsonRec.Code)
	}
	if apiErr := apiErrorOf(t, jsonRec.Body.Bytes()); !strings.HasPrefix(apiErr.Message, "acknowledgement_state is empty") {
		t.Errorf("JSON client: message %q, want the JSON endpoint's message", apiErr.Message)
	}
	var stored int64
	if err := s.db.Model(&models.AlertAcknowledgement{}).Count(&stored).Error; err != nil {
		t.Fatalf("count acknowledgements: %v", err)
	}
	if stored != 0 {
		t.Errorf("stored acknowledgements after rejected posts: %d, want 0", stored)
	}

	absent := s.postForm(path, "provider=alpha", "Accept", "application/json")
	if absent.Code != http.StatusCreated {
		t.Fatalf("post without a state: status %d, want 201 (body %.300s)", absent.Code, absent.Body.String())
	}
	if !strings.Contains(absent.Body.String(), `"acknowledgement_state":"acknowledged"`) {
		t.Errorf("post without a state: body %.300s, want acknowledged recorded", absent.Body.String())
	}
}

// TestAlertAckLinksNameDestination checks that each delivery row's link to
// the acknowledgement page names its destination in its text, because a
// screen reader's list of links shows the link text without its row.
func TestAlertAckLinksNameDestination(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())

	rec := s.postForm("/console/retry-health-alerts", "provider=all&retries=0", "HX-Request", "true")

	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200: %s", rec.Code, rec.Body.String())
	}
	rows := byTestID(document(t, rec), "alert-destination")
	if rows.Length() != 2 {
		t.Fatalf("result rows: got %d, want 2", rows.Length())
	}
	rows.Each(func(_ int, row *goquery.Selection) {
		provider, _ := row.Attr("data-provider")
		text := strings.Join(strings.Fields(row.Find(`[data-testid="alert-ack-link"]`).Text()), " ")
		if text != "acknowledgement page for "+provider {
			t.Errorf("link text in the %s row: got %q, want %q", provider, text, "acknowledgement page for "+provider)
		}
	})
}

// TestRejectedPlainPostLinksBackToForm posts an invalid acknowledgement
// without JavaScript from the acknowledgement page and checks that the
// error page links back to that page. A Referer of another host gets no
// such link.
func TestRejectedPlainPostLinksBackToForm(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"provider": "alpha", "retries": 0}`)
	ackPage := "/alerts/" + result.Health.HealthID + "/acknowledge/alpha"
	action := "/console/retry-health-alerts/" + result.Health.HealthID + "/acknowledgements"
	body := "provider=alpha&acknowledgement_state=later&return_to=" + url.QueryEscape(ackPage)

	rec := s.postForm(action, body, "Accept", "text/html", "Referer", "http://example.com"+ackPage)

	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status: got %d, want 400: %.300s", rec.Code, rec.Body.String())
	}
	doc := document(t, rec)
	if byTestID(doc, "error-page").Length() != 1 {
		t.Fatal("rejected plain post is not shown as the error page")
	}
	if got, _ := byTestID(doc, "error-back-to-form").Attr("href"); got != ackPage {
		t.Errorf("link back to the form: got %q, want %q", got, ackPage)
	}

	rec = s.postForm(action, body, "Accept", "text/html", "Referer", "http://other.example"+ackPage)

	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status with another host's Referer: got %d, want 400", rec.Code)
	}
	if got := byTestID(document(t, rec), "error-back-to-form").Length(); got != 0 {
		t.Errorf("links back to another host's page: got %d, want 0", got)
	}
}

// TestPlainAckPostShowsRecordedNote saves an acknowledgement without
// JavaScript from the console and follows the redirect, as a browser does.
// The console then states what was recorded, as the htmx response does,
// and a reload no longer shows it.
func TestPlainAckPostShowsRecordedNote(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"provider": "alpha", "retries": 0}`)
	authtest.CreateUser(t, s.db, "ack-plain", auth.RoleAdmin)
	b := newBrowser(s.testServer)
	b.mustSignIn("ack-plain")

	rec := b.do(http.MethodPost, "/console/retry-health-alerts/"+result.Health.HealthID+"/acknowledgements", url.Values{
		"_csrf": {b.sessionCSRF()}, "provider": {"alpha"}, "acknowledgement_state": {"acknowledged"},
		"return_to": {"/console#outstanding-acknowledgements"},
	})

	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status: got %d, want 303: %.300s", rec.Code, rec.Body.String())
	}
	location, _, _ := strings.Cut(rec.Header().Get("Location"), "#")
	page := b.do(http.MethodGet, location, nil)
	if page.Code != http.StatusOK {
		t.Fatalf("console after the redirect: status %d, want 200", page.Code)
	}
	want := "Recorded acknowledged for alpha on the critical alert " + result.Health.HealthID + " (action 1)."
	if got := strings.TrimSpace(byTestID(document(t, page), "ack-recorded").Text()); got != want {
		t.Errorf("recorded note after the redirect: got %q, want %q", got, want)
	}
	reload := b.do(http.MethodGet, location, nil)
	if got := byTestID(document(t, reload), "ack-recorded").Length(); got != 0 {
		t.Errorf("recorded notes after a reload: got %d, want 0", got)
	}
}

// Plain acknowledgement posts that return to a page other than the console
// keep only the newest recorded note, so the session cookie stays under its
// size limit and the console shows the note of the last action.
func TestPlainAckPostsKeepNewestNoteOnly(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"provider": "alpha", "retries": 0}`)
	authtest.CreateUser(t, s.db, "ack-plain", auth.RoleAdmin)
	b := newBrowser(s.testServer)
	b.mustSignIn("ack-plain")

	const posts = 40
	for i := range posts {
		state := models.AcknowledgementAcknowledged
		if i%2 == 1 {
			state = models.AcknowledgementEscalated
		}
		rec := b.do(http.MethodPost, "/console/retry-health-alerts/"+result.Health.HealthID+"/acknowledgements", url.Values{
			"_csrf": {b.sessionCSRF()}, "provider": {"alpha"}, "acknowledgement_state": {state}, "return_to": {"/profile"},
		})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("post %d: status %d, want 303: %.300s", i+1, rec.Code, rec.Body.String())
		}
	}

	page := b.do(http.MethodGet, "/console", nil)
	if page.Code != http.StatusOK {
		t.Fatalf("console: status %d, want 200", page.Code)
	}
	notes := byTestID(document(t, page), "ack-recorded")
	if notes.Length() != 1 {
		t.Fatalf("recorded notes: got %d, want 1", notes.Length())
	}
	want := fmt.Sprintf("Recorded %s for alpha on the critical alert %s (action %d).",
		models.AcknowledgementEscalated, result.Health.HealthID, posts)
	if got := strings.TrimSpace(notes.Text()); got != want {
		t.Errorf("recorded note: got %q, want %q", got, want)
	}
}

// The error page of a rejected plain post links back only to a local path
// of bounded length, whatever the Referer holds.
func TestRejectedPlainPostLinkStaysLocal(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"provider": "alpha", "retries": 0}`)
	action := "/console/retry-health-alerts/" + result.Health.HealthID + "/acknowledgements"
	body := "provider=alpha&acknowledgement_state=later"
	longest := "/console?q=" + strings.Repeat("a", maxFormPageLength-len("/console?q="))
	cases := []struct{ name, referer, want string }{
		{"backslash", `http://example.com/\evil.example/x`, "/%5Cevil.example/x"},
		{"encoded slash", "http://example.com/%2F/evil.example", ""},
		{"javascript scheme", "javascript://example.com/%0aalert(1)", "/%0aalert(1)"},
		{"javascript path", "javascript:alert(1)", ""},
		{"data URL", "data:text/html,<b>x</b>", ""},
		{"user info", "http://user:pass@example.com/console", "/console"},
		{"longest", "http://example.com" + longest, longest},
		{"overlong", "http://example.com" + longest + "a", ""},
	}
	for _, tc := range cases {
		rec := s.postForm(action, body, "Accept", "text/html", "Referer", tc.referer)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tc.name, rec.Code)
			continue
		}
		got, _ := byTestID(document(t, rec), "error-back-to-form").Attr("href")
		if got != tc.want {
			t.Errorf("%s: link back to the form %.80q, want %.80q", tc.name, got, tc.want)
		}
	}
}

// The State field of the acknowledgement form starts at the current state,
// so saving again without changing it repeats that state instead of
// replacing it with the first choice.
func TestAcknowledgeFormStartsAtCurrentState(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"retries": 0}`)
	path := "/alerts/" + result.Health.HealthID + "/acknowledge/alpha"
	action := "/console/retry-health-alerts/" + result.Health.HealthID + "/acknowledgements"

	doc := document(t, s.do(http.MethodGet, path, "", "", "Accept", "text/html"))
	if got := byTestID(doc, "ack-state").Find("option[selected]").Length(); got != 0 {
		t.Errorf("State field while pending: %d options selected, want none (the first choice)", got)
	}
	for _, state := range []string{"resolved", "escalated"} {
		rec := s.postForm(action, url.Values{"provider": {"alpha"}, "acknowledgement_state": {state}, "return_to": {path}}.Encode(), "HX-Request", "true")
		if rec.Code != http.StatusOK {
			t.Fatalf("save %s: status %d, want 200", state, rec.Code)
		}
		if got := byTestID(document(t, rec), "ack-state").Find("option[selected]").AttrOr("value", ""); got != state {
			t.Errorf("State field after saving %s: got %q selected, want %s", state, got, state)
		}
		page := document(t, s.do(http.MethodGet, path, "", "", "Accept", "text/html"))
		if got := byTestID(page, "ack-state").Find("option[selected]").AttrOr("value", ""); got != state {
			t.Errorf("State field on the page after saving %s: got %q selected, want %s", state, got, state)
		}
	}

	// The console's outstanding list starts each form at its row's state.
	console := document(t, s.do(http.MethodGet, "/console", "", "", "Accept", "text/html"))
	form := console.Find(`[data-testid="acknowledge-form"][data-provider="alpha"]`)
	if form.Length() == 0 {
		t.Fatal("console: no acknowledgement form for alpha, want the escalated alert outstanding")
	}
	if got := form.Find(`[data-testid="ack-state"] option[selected]`).AttrOr("value", ""); got != "escalated" {
		t.Errorf("console State field: got %q selected, want escalated", got)
	}
}
