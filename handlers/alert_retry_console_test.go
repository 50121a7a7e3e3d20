package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
	"github.com/releaseops/evidence-console/retry"
)

// alertRetryPolicyForm is a console policy under which a failure two hours
// old is due, with at most five retries in a run.
const alertRetryPolicyForm = "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2&max_retry_deliveries=5"

// newAlertRetryConsoleServer is a retry test server that also rebuilds
// health alert messages, with one failed delivery of alert plan alp_1 to
// connector. It returns the failed delivery's id.
func newAlertRetryConsoleServer(t *testing.T, connectorPaths map[string]string, connector string) (*retryTestServer, string) {
	t.Helper()
	s := newRetryTestServer(t, connectorPaths)
	s.handler.Retry.(*retry.Service).Sources[models.SubjectHealthAlert] = retry.MessageSourceFunc(retryMessages)

	at := testNow.Add(-2 * time.Hour)
	record := models.Delivery{
		ID: models.NewID("dlv", at), SubjectKind: models.SubjectHealthAlert, SubjectID: "alp_1", SubjectKey: "fp_1",
		Connector: connector, State: models.DeliveryInFlight, Attempts: "[]", RequestSummary: "{}", IdempotencyKey: "alert-key",
		Origin: models.OriginSend, Actor: "release.manager", StartedAt: at, CreatedAt: at,
	}
	if err := models.CreateDelivery(s.db, &record); err != nil {
		t.Fatal(err)
	}
	record.ErrorClass, record.StatusCode, record.ConnectorKind, record.CompletedAt = "server_error", 503, "webhook", &at
	if err := models.CompleteDelivery(context.Background(), s.db, &record); err != nil {
		t.Fatal(err)
	}
	return s, record.ID
}

// countRowsOf counts the rows of table.
func countRowsOf(t *testing.T, s *retryTestServer, table string) int64 {
	t.Helper()
	var n int64
	if err := s.db.Table(table).Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// assertRowsUnchanged compares the row count of every table with before.
func assertRowsUnchanged(t *testing.T, s *retryTestServer, before map[string]int64, step string) {
	t.Helper()
	after := dbtest.CountRows(t, s.db)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("rows of %s after %s: got %d, want %d", table, step, after[table], n)
		}
	}
}

func TestAlertRetryConsoleSection(t *testing.T) {
	s, _ := newAlertRetryConsoleServer(t, map[string]string{"webhook": "/webhook/alert"}, "webhook")

	doc := document(t, s.do(http.MethodGet, "/console", "", ""))
	if got := byTestID(doc, "alert-retry").Length(); got != 1 {
		t.Fatalf("alert retry sections: got %d, want 1", got)
	}
	for _, testID := range []string{"plan-alert-retry", "run-alert-retry", "alert-prepare-live-retry", "alert-retry-health-button", "alert-retry-health"} {
		if got := byTestID(doc, testID).Length(); got != 1 {
			t.Errorf("%s: got %d, want 1", testID, got)
		}
	}
	if got := byTestID(doc, "plan-alert-retry").Text(); got != "Plan Alert Retry" {
		t.Errorf("plan button label: got %q, want Plan Alert Retry", got)
	}
	if got := doc.Find(`#alert-retry form[data-testid="alert-retry-plan-form"]`).AttrOr("hx-post", ""); got != "/console/alert-retry/plan" {
		t.Errorf("plan form posts to %q, want /console/alert-retry/plan", got)
	}

	// The two sections keep their policy fields in step separately.
	if got := doc.Find(`#alert-retry [data-sync="retry-policy"]`).Length(); got != 0 {
		t.Errorf("alert policy inputs in the executive sync group: got %d, want 0", got)
	}
	if got := doc.Find(`#alert-retry [data-sync="alert-retry-policy"]`).Length(); got != 8 {
		t.Errorf("alert policy inputs in their own sync group: got %d, want 8", got)
	}
}

// On the console with every section, the alert retry section follows the
// alert sections and comes before the executive sections, and no id
// repeats, although both retry sections are on the page.
func TestAlertRetryConsolePlacement(t *testing.T) {
	s, _ := newFormAccessServer(t)

	doc := document(t, s.do(http.MethodGet, "/console", "", "", "Accept", "text/html"))
	order := doc.Find(`#retry-health-alerts, #alert-retry, #executive-retry`).Map(func(_ int, sel *goquery.Selection) string {
		return sel.AttrOr("id", "")
	})
	if strings.Join(order, ",") != "retry-health-alerts,alert-retry,executive-retry" {
		t.Errorf("section order: got %v, want the alert retries between the alerts and the executive retries", order)
	}
	seen := map[string]int{}
	doc.Find("[id]").Each(func(_ int, sel *goquery.Selection) { seen[sel.AttrOr("id", "")]++ })
	for id, n := range seen {
		if n > 1 {
			t.Errorf("id %q: %d elements, want 1", id, n)
		}
	}

	// Selectors by data-testid find one section's element, so the two
	// sections share none but the table scroll hint.
	executive := map[string]bool{}
	doc.Find(`#executive-retry [data-testid]`).Each(func(_ int, sel *goquery.Selection) {
		executive[sel.AttrOr("data-testid", "")] = true
	})
	doc.Find(`#alert-retry [data-testid]`).Each(func(_ int, sel *goquery.Selection) {
		if testID := sel.AttrOr("data-testid", ""); executive[testID] && testID != "scroll-hint" {
			t.Errorf("data-testid %q: in both retry sections, want it in one", testID)
		}
	})
}

func TestAlertRetryConsolePlan(t *testing.T) {
	s, _ := newAlertRetryConsoleServer(t, map[string]string{"webhook": "/webhook/alert"}, "webhook")

	rec := s.postForm("/console/alert-retry/plan", "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2", "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("plan: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("HX-Trigger"); !strings.Contains(got, "alert-retry-changed") {
		t.Errorf("HX-Trigger: got %q, want it to contain alert-retry-changed", got)
	}
	doc := document(t, rec)
	if got := doc.Find("#alert-retry-plan").Length(); got != 1 {
		t.Fatalf("plan panel #alert-retry-plan: got %d, want 1", got)
	}
	decision := byTestID(doc, "alert-retry-decision")
	if decision.Length() != 1 || decision.AttrOr("data-action", "") != retry.ActionRetry || decision.AttrOr("data-provider", "") != "webhook" {
		t.Errorf("decisions: got %d, first %q to %q, want one retry to webhook",
			decision.Length(), decision.AttrOr("data-action", ""), decision.AttrOr("data-provider", ""))
	}
	if got := countRowsOf(t, s, "retry_plans"); got != 1 {
		t.Errorf("stored plans: got %d, want 1", got)
	}

	// The console route shares its handler with the JSON API, so it takes
	// the API's JSON body too.
	rec = s.do(http.MethodPost, "/console/alert-retry/plan", "application/json", `{"retry_policy":{"max_retry_attempts":3}}`,
		"Accept", "application/json")
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"subject_kind":"health_alert"`) {
		t.Errorf("JSON plan: got %d %s, want 201 with a health alert plan", rec.Code, rec.Body.String())
	}

	// A plain form post leads to the console's alert retry section, which
	// shows the plan, while the executive section shows none.
	rec = s.postForm("/console/alert-retry/plan", "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2")
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("plain plan: got %d, want 303 (%s)", rec.Code, rec.Body.String())
	}
	location := rec.Header().Get("Location")
	if !strings.HasPrefix(location, "/console?retry_plan_id=rtp_") || !strings.HasSuffix(location, "#alert-retry") {
		t.Fatalf("redirect: got %q, want the console's alert retry section with the plan", location)
	}
	page, _, _ := strings.Cut(location, "#")
	console := document(t, s.do(http.MethodGet, page, "", ""))
	if got := byTestID(console, "alert-retry-plan-id").Text(); got == "" || !strings.Contains(location, got) {
		t.Errorf("alert section plan: got %q, want the plan in %q", got, location)
	}
	if got := byTestID(console, "retry-plan-empty").Length(); got != 1 {
		t.Errorf("executive section empty plan notes: got %d, want 1", got)
	}
}

func TestAlertRetryConsoleDryRunSendsNothing(t *testing.T) {
	s, _ := newAlertRetryConsoleServer(t, map[string]string{"webhook": "/webhook/alert"}, "webhook")

	rec := s.postForm("/console/alert-retry/run", "dry_run=true&"+alertRetryPolicyForm, "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("dry run: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	doc := document(t, rec)
	run := doc.Find("#alert-retry-run")
	if got := run.AttrOr("data-mode", ""); got != retry.ModeDryRun {
		t.Errorf("run mode: got %q, want %q", got, retry.ModeDryRun)
	}
	if got := byTestID(doc, "alert-retry-decision").Length(); got != 1 {
		t.Errorf("would-send rows: got %d, want 1", got)
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
	if got := countRowsOf(t, s, "retry_executions"); got != 0 {
		t.Errorf("retry executions: got %d, want 0", got)
	}
	var kind string
	if err := s.db.Table("retry_worker_runs").Pluck("subject_kind", &kind).Error; err != nil {
		t.Fatal(err)
	}
	if kind != models.SubjectHealthAlert {
		t.Errorf("worker run subject kind: got %q, want %q", kind, models.SubjectHealthAlert)
	}
}

func TestAlertRetryConsoleLiveRunNeedsConfirmation(t *testing.T) {
	s, failedID := newAlertRetryConsoleServer(t, map[string]string{"webhook": "/webhook/alert"}, "webhook")

	// The confirmation names the destination and the count, lists the
	// failed delivery it re-sends and writes nothing.
	before := dbtest.CountRows(t, s.db)
	rec := s.postForm("/console/alert-retry/confirm", alertRetryPolicyForm, "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("confirm: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	assertRowsUnchanged(t, s, before, "the confirmation")
	doc := document(t, rec)
	if got := byTestID(doc, "alert-retry-confirm-summary").Text(); !strings.Contains(got, "1 retry delivery to webhook (1)") {
		t.Errorf("confirmation summary: got %q, want it to name 1 delivery to webhook", got)
	}
	form := byTestID(doc, "alert-retry-confirm-form")
	if got := form.AttrOr("hx-post", ""); got != "/console/alert-retry/run" {
		t.Errorf("confirmation posts to %q, want /console/alert-retry/run", got)
	}
	if got := form.Find(`input[name="confirmed_retries"]`).AttrOr("value", ""); got != failedID {
		t.Errorf("confirmed_retries: got %q, want the failed delivery %q", got, failedID)
	}
	if got := form.Find(`input[name="confirmed_destinations"]`).AttrOr("value", ""); got != "webhook" {
		t.Errorf("confirmed_destinations: got %q, want webhook", got)
	}
	if got := form.Find(`input[name="confirmed_count"]`).AttrOr("value", ""); got != "1" {
		t.Errorf("confirmed_count: got %q, want 1", got)
	}
	if _, required := byTestID(doc, "alert-retry-confirm-checkbox").Attr("required"); !required {
		t.Error("confirmation checkbox: not required, want required")
	}

	// Without the ticked box, or with a confirmation that names nothing,
	// the live run sends nothing and records nothing.
	for _, body := range []string{"&execute=true", "&execute=true&confirm=true"} {
		rec = s.postForm("/console/alert-retry/run", alertRetryPolicyForm+body)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "confirm") {
			t.Errorf("live run with %s: got %d %s, want 422 naming confirm", body, rec.Code, rec.Body.String())
		}
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Fatalf("receiver requests without a confirmation: got %d, want 0", got)
	}
	assertRowsUnchanged(t, s, before, "the unconfirmed live runs")

	rec = s.postForm("/console/alert-retry/run",
		alertRetryPolicyForm+"&execute=true&confirm=true&confirmed_destinations=webhook&confirmed_count=1&confirmed_retries="+failedID,
		"HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("confirmed live run: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	doc = document(t, rec)
	if got := doc.Find("#alert-retry-run").AttrOr("data-mode", ""); got != retry.ModeLive {
		t.Errorf("run mode: got %q, want %q", got, retry.ModeLive)
	}
	execution := byTestID(doc, "alert-retry-execution")
	if execution.Length() != 1 || execution.AttrOr("data-outcome", "") != "delivered" {
		t.Errorf("executions: got %d, first %q, want one delivered", execution.Length(), execution.AttrOr("data-outcome", ""))
	}
	requests := s.receiver.Requests()
	if len(requests) != 1 || requests[0].Path != "/webhook/alert" || requests[0].Headers.Get("webhook-id") != "alert-key" {
		t.Errorf("receiver: got %d requests, want 1 to /webhook/alert with the alert's idempotency key", len(requests))
	}
	if got := countRowsOf(t, s, "retry_executions"); got != 1 {
		t.Errorf("retry executions: got %d, want 1", got)
	}
}

func TestAlertRetryConsoleConfirmBlockedWithoutConnector(t *testing.T) {
	s, _ := newAlertRetryConsoleServer(t, map[string]string{"webhook": ""}, "webhook")

	rec := s.postForm("/console/alert-retry/confirm", alertRetryPolicyForm, "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("confirm: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	doc := document(t, rec)
	if got := byTestID(doc, "alert-retry-confirm-blocked").Text(); !strings.Contains(got, "cannot send") || !strings.Contains(got, "webhook") {
		t.Errorf("blocked reason: got %q, want it to say that webhook cannot send", got)
	}
	if _, disabled := byTestID(doc, "alert-run-live-retry").Attr("disabled"); !disabled {
		t.Error("live run button: enabled, want disabled")
	}
	if _, disabled := byTestID(doc, "alert-retry-confirm-checkbox").Attr("disabled"); !disabled {
		t.Error("confirmation checkbox: enabled, want disabled")
	}
}

func TestAlertRetryConsoleNeedsPermission(t *testing.T) {
	s, failedID := newAlertRetryConsoleServer(t, map[string]string{"webhook": "/webhook/alert"}, "webhook")
	s.actAs("alert-retry-owner", auth.RolePlatformOwner)

	doc := document(t, s.do(http.MethodGet, "/console", "", ""))
	if _, disabled := byTestID(doc, "alert-prepare-live-retry").Attr("disabled"); !disabled {
		t.Error("prepare live run button: enabled, want disabled for a platform owner")
	}
	if got := byTestID(doc, "alert-retry-run-blocked").Text(); !strings.Contains(got, "may not run delivery retries") {
		t.Errorf("blocked reason: got %q, want it to say that the role may not run retries", got)
	}

	before := dbtest.CountRows(t, s.db)
	for path, body := range map[string]string{
		"/console/alert-retry/plan":    "max_retry_attempts=3",
		"/console/alert-retry/run":     alertRetryPolicyForm + "&execute=true&confirm=true&confirmed_destinations=webhook&confirmed_count=1&confirmed_retries=" + failedID,
		"/console/alert-retry/confirm": alertRetryPolicyForm,
	} {
		if rec := s.postForm(path, body); rec.Code != http.StatusForbidden {
			t.Errorf("%s as a platform owner: got %d, want 403", path, rec.Code)
		}
	}
	assertRowsUnchanged(t, s, before, "the rejected posts")
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
}

// A rejected alert retry form names the input by its label, marks it and
// changes nothing.
func TestAlertRetryConsoleRejectsBadInput(t *testing.T) {
	s, failedID := newAlertRetryConsoleServer(t, map[string]string{"webhook": "/webhook/alert"}, "webhook")
	cases := []struct {
		path, form, field, message string
	}{
		{"/console/alert-retry/plan", "backoff_multiplier=abc", "retry_policy.backoff_multiplier", `‘Backoff multiplier’ must be a number from 1.0 to 10.0; got "abc"`},
		{"/console/alert-retry/plan", "max_retry_attempts=21", "retry_policy.max_retry_attempts", "‘Max retry attempts’"},
		{"/console/alert-retry/plan", "retry_delay_minutes=0", "retry_policy.allow_immediate_retry", "Tick ‘Allow immediate retry (delay 0)’"},
		{"/console/alert-retry/run", "dry_run=true&max_retry_deliveries=abc", "max_retry_deliveries", `‘Max retry deliveries’ must be a whole number from 1 to 25; got "abc"`},
		{"/console/alert-retry/run", "dry_run=true&retries=9", "retries", "‘Quick retries per delivery’"},
		{"/console/alert-retry/confirm", "timeout_seconds=soon", "timeout_seconds", "‘Timeout per attempt (s)’"},
		{"/console/alert-retry/run", alertRetryPolicyForm + "&execute=true&confirm=true&confirmed_destinations=webhook&confirmed_count=1&confirmed_retries=dlv_a," + failedID,
			"confirmed_retries", "confirmed_retries lists 2 retries"},
	}
	before := dbtest.CountRows(t, s.db)
	for _, tc := range cases {
		rec := s.postForm(tc.path, tc.form, "HX-Request", "true")
		if rec.Code != http.StatusBadRequest && rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s %s: got %d, want 400 or 422", tc.path, tc.form, rec.Code)
			continue
		}
		fragment := byTestID(document(t, rec), "error-fragment")
		if got := fragment.AttrOr("data-field", ""); got != tc.field {
			t.Errorf("%s %s: field %q, want %q", tc.path, tc.form, got, tc.field)
		}
		if got := fragment.Text(); !strings.Contains(got, tc.message) {
			t.Errorf("%s %s: message %q, want it to contain %q", tc.path, tc.form, got, tc.message)
		}
	}
	assertRowsUnchanged(t, s, before, "the rejected forms")
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
}

func TestAlertRetryConsoleHealth(t *testing.T) {
	s, _ := newAlertRetryConsoleServer(t, map[string]string{"webhook": "/webhook/alert"}, "webhook")
	before := dbtest.CountRows(t, s.db)

	rec := s.do(http.MethodGet, "/console/alert-retry/health?expected_interval_minutes=30&stale_metadata_minutes=90", "", "", "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("health: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	doc := document(t, rec)
	panel := doc.Find("#alert-retry-health")
	if got := panel.AttrOr("hx-trigger", ""); got != "alert-retry-changed from:body" {
		t.Errorf("panel reloads on %q, want alert-retry-changed from:body", got)
	}
	if got := byTestID(doc, "alert-retry-health-thresholds").Text(); !strings.Contains(got, "30 minutes") || !strings.Contains(got, "90 minutes") {
		t.Errorf("thresholds: got %q, want 30 and 90 minutes", got)
	}
	found := false
	byTestID(doc, "alert-retry-health-finding").Each(func(_ int, sel *goquery.Selection) {
		if sel.AttrOr("data-category", "") == "missed_health_alert_delivery_retry_worker" {
			found = true
		}
	})
	if !found {
		t.Error("findings: want missed_health_alert_delivery_retry_worker, because no alert worker run exists")
	}
	assertRowsUnchanged(t, s, before, "the health evaluation")

	rec = s.do(http.MethodGet, "/console/alert-retry/health?expected_interval_minutes=0", "", "", "HX-Request", "true")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("health with an interval of 0: got %d, want 400", rec.Code)
	}
	if got := byTestID(document(t, rec), "error-fragment").Text(); !strings.Contains(got, "‘Expected interval (minutes)’") {
		t.Errorf("message: got %q, want it to name the Expected interval input", got)
	}
}

// A browser without htmx gets the confirmation and the retry health as
// whole pages that name the health alert kind.
func TestAlertRetryConsolePagesWithoutHTMX(t *testing.T) {
	s, failedID := newAlertRetryConsoleServer(t, map[string]string{"webhook": "/webhook/alert"}, "webhook")

	rec := s.postForm("/console/alert-retry/confirm", alertRetryPolicyForm)
	if rec.Code != http.StatusOK {
		t.Fatalf("confirm page: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	doc := document(t, rec)
	if got := strings.TrimSpace(doc.Find("h1").Text()); got != "Confirm the live health alert retry" {
		t.Errorf("confirm page heading: got %q, want Confirm the live health alert retry", got)
	}
	form := byTestID(doc, "alert-retry-confirm-form")
	if got := form.AttrOr("action", ""); got != "/console/alert-retry/run" {
		t.Errorf("confirm form action: got %q, want /console/alert-retry/run", got)
	}
	if got := form.Find(`input[name="confirmed_retries"]`).AttrOr("value", ""); got != failedID {
		t.Errorf("confirmed_retries: got %q, want %q", got, failedID)
	}
	if got := byTestID(doc, "alert-retry-confirm-cancel").AttrOr("href", ""); got != "/console#alert-retry" {
		t.Errorf("cancel link: got %q, want /console#alert-retry", got)
	}

	rec = s.do(http.MethodGet, "/console/alert-retry/health", "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("health page: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	if got := strings.TrimSpace(document(t, rec).Find("h1").Text()); got != "Health alert delivery retry health" {
		t.Errorf("health page heading: got %q, want Health alert delivery retry health", got)
	}
}

// The run and plan pages of a health alert run head their columns with the
// alert plan, not the schedule run of an executive report.
func TestAlertRetryDetailPagesNameAlertPlans(t *testing.T) {
	s, _ := newAlertRetryConsoleServer(t, map[string]string{"webhook": "/webhook/alert"}, "webhook")
	rec := s.postForm("/console/alert-retry/run", "dry_run=true&"+alertRetryPolicyForm)
	location := rec.Header().Get("Location")
	if !strings.HasPrefix(location, "/retries/runs/") {
		t.Fatalf("dry run: got %d with Location %q, want a redirect to the run page", rec.Code, location)
	}
	page := s.do(http.MethodGet, location, "", "")
	if strings.Contains(page.Body.String(), "Schedule run / plan") {
		t.Error("alert run page: names schedule runs in its headings, want alert plans")
	}
	if !strings.Contains(page.Body.String(), "Alert plan") {
		t.Error("alert run page: no Alert plan heading")
	}
	planLink := document(t, page).Find(`a[href^="/retries/plans/"]`).First().AttrOr("href", "")
	if planLink == "" {
		t.Fatal("alert run page: no link to its plan")
	}
	plan := s.do(http.MethodGet, planLink, "", "")
	if strings.Contains(plan.Body.String(), "Schedule run / plan") {
		t.Error("alert plan page: names schedule runs in its headings, want alert plans")
	}
	if !strings.Contains(plan.Body.String(), "Alert plan") {
		t.Error("alert plan page: no Alert plan heading")
	}
}

// A live run stores the confirmed retries it left out as listed, so a
// listed id with markup, a credential or a configured secret is rejected
// before anything is sent or stored.
func TestAlertRetryConfirmedRetriesRejectUnstorableIDs(t *testing.T) {
	const secretSegment = "Qm7ZpRtXwKvNbLcYdHsJ"
	s, failedID := newAlertRetryConsoleServer(t, map[string]string{"webhook": "/webhook/" + secretSegment}, "webhook")
	s.handler.Secrets = s.handler.Retry.(*retry.Service).Connectors.(*connectors.Registry).Redactor()
	cases := []struct{ name, id, message string }{
		{"configured secret", secretSegment, "contains a credential or a secret"},
		{"half of a configured secret", secretSegment[:12], "contains a credential or a secret"},
		{"markup", "dlv_<b>x</b>", "made of letters, digits"},
		{"bidirectional character", "dlv_\u202ex", "made of letters, digits"},
	}
	before := dbtest.CountRows(t, s.db)
	for _, tc := range cases {
		form := alertRetryPolicyForm + "&execute=true&confirm=true&confirmed_destinations=webhook&confirmed_count=2&confirmed_retries=" +
			failedID + "," + url.QueryEscape(tc.id)
		rec := s.postForm("/console/alert-retry/run", form, "HX-Request", "true")
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: got %d, want 400", tc.name, rec.Code)
			continue
		}
		fragment := byTestID(document(t, rec), "error-fragment")
		if got := fragment.AttrOr("data-field", ""); got != "confirmed_retries" {
			t.Errorf("%s: field %q, want confirmed_retries", tc.name, got)
		}
		if got := fragment.Text(); !strings.Contains(got, tc.message) {
			t.Errorf("%s: message %q, want it to contain %q", tc.name, got, tc.message)
		}
		if strings.Contains(rec.Body.String(), secretSegment[:12]) {
			t.Errorf("%s: the response repeats the secret", tc.name)
		}
	}
	assertRowsUnchanged(t, s, before, "the rejected confirmations")
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
}
