package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/connectors/receiver"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
	"github.com/releaseops/evidence-console/retry"
)

const (
	executiveRetryPlanPath   = auditDelivery + "/recovery-executive-report/delivery-retry-plan"
	executiveRetryRunPath    = auditDelivery + "/recovery-executive-report/delivery-retry-worker-run"
	executiveRetryRunsPath   = auditDelivery + "/recovery-executive-report/delivery-retry-worker-runs"
	executiveRetryHealthPath = auditDelivery + "/recovery-executive-report/delivery-retry-health"
)

// retryTestServer is the router with a retry service that sends through a
// loopback receiver.
type retryTestServer struct {
	*testServer
	receiver *receiver.Server
}

// retryMessages rebuilds a fixed executive message per schedule run.
func retryMessages(_ context.Context, runID, _ string) (connectors.Message, error) {
	return connectors.Message{Event: connectors.EventExecutiveRecoveryReport, Title: "Executive report " + runID, Level: "warning",
		Summary: "Recovery report", OccurredAt: testNow}, nil
}

// newRetryTestServer configures the named webhook connectors on the
// receiver; an empty map configures none, and an empty path leaves the
// connector's URL variable unset, so it cannot send.
func newRetryTestServer(t *testing.T, connectorPaths map[string]string) *retryTestServer {
	t.Helper()
	s := &retryTestServer{testServer: newTestServer(t)}
	server, err := receiver.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start receiver: %v", err)
	}
	t.Cleanup(func() { _ = server.Close() })
	s.receiver = server

	cfg := connectors.FileConfig{Connectors: map[string]connectors.ConnectorConfig{}}
	env := map[string]string{}
	for name, path := range connectorPaths {
		variable := "RETRY_HANDLER_URL_" + strings.ToUpper(name)
		if path != "" {
			env[variable] = server.URL + path
		}
		cfg.Connectors[name] = connectors.ConnectorConfig{Kind: connectors.KindWebhook, URLEnv: variable}
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	registry, err := connectors.NewRegistry(cfg, func(name string) (string, bool) { v, ok := env[name]; return v, ok }, connectors.WithLogger(logger))
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	clock := func() time.Time { return testNow }
	s.handler.Retry = &retry.Service{
		DB: s.db, Delivery: &delivery.Service{DB: s.db, Sender: registry, Now: clock, Logger: logger},
		Connectors: registry, Sources: map[string]retry.MessageSource{models.SubjectExecutiveReport: retry.MessageSourceFunc(retryMessages)},
		Now: clock, Logger: logger, SendOptions: connectors.SendOptions{Timeout: 2 * time.Second},
	}
	return s
}

// failDelivery stores a failed executive delivery of schedule run runID to
// connector, completed at the given time.
func (s *retryTestServer) failDelivery(runID, connector string, at time.Time) {
	s.t.Helper()
	record := models.Delivery{
		ID: models.NewID("dlv", at), SubjectKind: models.SubjectExecutiveReport, SubjectID: runID, SubjectKey: "rep_" + runID,
		Connector: connector, State: models.DeliveryInFlight, Attempts: "[]", RequestSummary: "{}",
		IdempotencyKey: "idem-" + runID, Origin: models.OriginSend, Actor: "release.manager", StartedAt: at, CreatedAt: at,
	}
	if err := models.CreateDelivery(s.db, &record); err != nil {
		s.t.Fatal(err)
	}
	record.ErrorClass, record.StatusCode, record.ConnectorKind, record.CompletedAt = "server_error", 503, "webhook", &at
	if err := models.CompleteDelivery(context.Background(), s.db, &record); err != nil {
		s.t.Fatal(err)
	}
}

func errorOf(t *testing.T, body string) APIError {
	t.Helper()
	var envelope struct {
		Error APIError `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &envelope); err != nil {
		t.Fatalf("decode error body %q: %v", body, err)
	}
	return envelope.Error
}

func TestExecutiveRetryPlanRejectsInvalidPolicy(t *testing.T) {
	s := newRetryTestServer(t, nil)
	cases := []struct {
		name       string
		body       string
		wantStatus int
		wantField  string
	}{
		{"attempts below range", `{"retry_policy":{"max_retry_attempts":0}}`, 400, "retry_policy.max_retry_attempts"},
		{"attempts above range", `{"retry_policy":{"max_retry_attempts":21}}`, 400, "retry_policy.max_retry_attempts"},
		{"attempts as text", `{"retry_policy":{"max_retry_attempts":"3"}}`, 400, "retry_policy.max_retry_attempts"},
		{"attempts as fraction", `{"retry_policy":{"max_retry_attempts":2.5}}`, 400, "retry_policy.max_retry_attempts"},
		{"delay above range", `{"retry_policy":{"retry_delay_minutes":10081}}`, 400, "retry_policy.retry_delay_minutes"},
		{"zero delay without immediate retry", `{"retry_policy":{"retry_delay_minutes":0}}`, 422, "retry_policy.retry_delay_minutes"},
		{"multiplier above range", `{"retry_policy":{"backoff_multiplier":10.5}}`, 400, "retry_policy.backoff_multiplier"},
		{"boolean as text", `{"retry_policy":{"allow_immediate_retry":"false"}}`, 400, "retry_policy.allow_immediate_retry"},
		{"unknown field", `{"retry_policy":{"max_attempts":3}}`, 400, "retry_policy.max_attempts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.postJSON(executiveRetryPlanPath, tc.body)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status: got %d, want %d (%s)", rec.Code, tc.wantStatus, rec.Body.String())
			}
			if got := errorOf(t, rec.Body.String()).Field; got != tc.wantField {
				t.Errorf("field: got %q, want %q", got, tc.wantField)
			}
		})
	}
	var plans int64
	if err := s.db.Model(&models.RetryPlan{}).Count(&plans).Error; err != nil {
		t.Fatal(err)
	}
	if plans != 0 {
		t.Errorf("retry plans stored: got %d, want 0", plans)
	}
}

func TestExecutiveRetryPlanReturnsDecisions(t *testing.T) {
	s := newRetryTestServer(t, nil)
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
	s.failDelivery("run_2", "webhook", testNow.Add(-5*time.Minute))

	rec := s.postJSON(executiveRetryPlanPath, `{"retry_policy":{"max_retry_attempts":3,"retry_delay_minutes":30,"backoff_multiplier":2}}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	var plan retry.PlanView
	if err := json.Unmarshal(rec.Body.Bytes(), &plan); err != nil {
		t.Fatal(err)
	}
	if plan.RetryPlanID == "" || plan.Actor != "test-admin" || len(plan.Decisions) != 2 {
		t.Fatalf("plan: got id %q actor %q %d decisions, want an id, test-admin and 2", plan.RetryPlanID, plan.Actor, len(plan.Decisions))
	}
	actions := map[string]string{}
	for _, d := range plan.Decisions {
		actions[d.SubjectID] = d.Action
	}
	if actions["run_1"] != retry.ActionRetry || actions["run_2"] != retry.ActionWait {
		t.Errorf("actions: got %v, want run_1 retry and run_2 wait", actions)
	}
}

func TestExecutiveRetryWorkerRunJSON(t *testing.T) {
	cases := []struct {
		name          string
		connectors    map[string]string
		role          auth.Role
		body          string
		wantStatus    int
		wantField     string
		wantRequests  int
		wantMode      string
		wantDelivered int
	}{
		{"dry run by default", map[string]string{"webhook": "/webhook/exec"}, auth.RoleReleaseManager, `{}`, 201, "", 0, retry.ModeDryRun, 0},
		{"explicit dry run", map[string]string{"webhook": "/webhook/exec"}, auth.RoleReleaseManager, `{"dry_run":true}`, 201, "", 0, retry.ModeDryRun, 0},
		{"live run", map[string]string{"webhook": "/webhook/exec"}, auth.RoleReleaseManager, `{"execute":true}`, 201, "", 1, retry.ModeLive, 1},
		{"conflicting flags", map[string]string{"webhook": "/webhook/exec"}, auth.RoleReleaseManager, `{"dry_run":true,"execute":true}`, 422, "execute", 0, "", 0},
		{"live without connector", map[string]string{"other": "/webhook/other"}, auth.RoleReleaseManager, `{"execute":true}`, 422, "execute", 0, "", 0},
		{"viewer may not run", map[string]string{"webhook": "/webhook/exec"}, auth.RoleViewer, `{"execute":true}`, 403, "", 0, "", 0},
		{"max deliveries above range", map[string]string{"webhook": "/webhook/exec"}, auth.RoleReleaseManager, `{"max_retry_deliveries":26}`, 400, "max_retry_deliveries", 0, "", 0},
		{"execute as text", map[string]string{"webhook": "/webhook/exec"}, auth.RoleReleaseManager, `{"execute":"true"}`, 400, "execute", 0, "", 0},
		{"retries above range", map[string]string{"webhook": "/webhook/exec"}, auth.RoleReleaseManager, `{"execute":true,"retries":6}`, 400, "retries", 0, "", 0},
		{"timeout below range", map[string]string{"webhook": "/webhook/exec"}, auth.RoleReleaseManager, `{"execute":true,"timeout_seconds":0.01}`, 400, "timeout_seconds", 0, "", 0},
		{"sends outlast the in-flight timeout", map[string]string{"webhook": "/webhook/exec"}, auth.RoleReleaseManager,
			`{"execute":true,"max_retry_deliveries":25,"retries":5,"timeout_seconds":60}`, 422, "timeout_seconds", 0, "", 0},
		{"live run with send options", map[string]string{"webhook": "/webhook/exec"}, auth.RoleReleaseManager,
			`{"execute":true,"retries":0,"timeout_seconds":1.5}`, 201, "", 1, retry.ModeLive, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newRetryTestServer(t, tc.connectors)
			s.actAs("user-"+string(tc.role), tc.role)
			s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
			before := dbtest.CountRows(t, s.db)

			rec := s.postJSON(executiveRetryRunPath, tc.body)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status: got %d, want %d (%s)", rec.Code, tc.wantStatus, rec.Body.String())
			}
			if got := len(s.receiver.Requests()); got != tc.wantRequests {
				t.Errorf("receiver requests: got %d, want %d", got, tc.wantRequests)
			}
			if tc.wantStatus >= 400 {
				if got := errorOf(t, rec.Body.String()).Field; got != tc.wantField {
					t.Errorf("field: got %q, want %q", got, tc.wantField)
				}
				after := dbtest.CountRows(t, s.db)
				for table, n := range before {
					if after[table] != n {
						t.Errorf("rows of %s: got %d, want %d", table, after[table], n)
					}
				}
				return
			}
			var run retry.RunView
			if err := json.Unmarshal(rec.Body.Bytes(), &run); err != nil {
				t.Fatal(err)
			}
			if run.Mode != tc.wantMode || run.Counts.DeliveredCount != tc.wantDelivered || run.Counts.SelectedCount != 1 {
				t.Errorf("run: got mode %q counts %+v, want %q with %d delivered of 1 selected", run.Mode, run.Counts, tc.wantMode, tc.wantDelivered)
			}
			if tc.wantMode == retry.ModeDryRun && len(run.Executions) != 0 {
				t.Errorf("dry run executions: got %d, want 0", len(run.Executions))
			}
			var sent struct {
				Retries        *int     `json:"retries"`
				TimeoutSeconds *float64 `json:"timeout_seconds"`
			}
			if err := json.Unmarshal([]byte(tc.body), &sent); err != nil {
				t.Fatal(err)
			}
			if sent.Retries != nil && (run.Retries != *sent.Retries || run.TimeoutSeconds != *sent.TimeoutSeconds) {
				t.Errorf("send options: got retries %d and timeout_seconds %g, want %d and %g", run.Retries, run.TimeoutSeconds, *sent.Retries, *sent.TimeoutSeconds)
			}
		})
	}
}

func TestExecutiveRetryWorkerRunReadsJSONWithoutContentType(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))

	rec := s.do(http.MethodPost, executiveRetryRunPath, "", `{"execute":true}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	if !strings.Contains(rec.Body.String(), `"mode":"live"`) {
		t.Errorf("body: got %s, want a live run", rec.Body.String())
	}
	if got := len(s.receiver.Requests()); got != 1 {
		t.Errorf("receiver requests: got %d, want 1", got)
	}
}

func TestExecutiveRetryConsoleLiveRunNeedsConfirmation(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
	policy := "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2&max_retry_deliveries=5"

	// The confirmation step names the destination and the count and writes nothing.
	before := dbtest.CountRows(t, s.db)
	rec := s.postForm("/console/executive-retry/confirm", policy, "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("confirm status: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	doc := document(t, rec)
	if got := byTestID(doc, "retry-confirm-summary").Text(); !strings.Contains(got, "1 retry delivery to webhook") {
		t.Errorf("confirmation summary: got %q, want it to name 1 delivery to webhook", got)
	}
	if _, required := byTestID(doc, "retry-confirm-checkbox").Attr("required"); !required {
		t.Error("confirmation checkbox: not required, want required")
	}
	if _, disabled := byTestID(doc, "run-live-retry").Attr("disabled"); disabled {
		t.Error("live run button: disabled, want enabled")
	}
	var failedID string
	if err := s.db.Table("deliveries").Where("subject_id = ?", "run_1").Pluck("id", &failedID).Error; err != nil {
		t.Fatal(err)
	}
	confirmedRetries, _ := byTestID(doc, "retry-confirm-form").Find(`input[name="confirmed_retries"]`).Attr("value")
	if confirmedRetries != failedID {
		t.Errorf("confirmed_retries: got %q, want the failed delivery %q", confirmedRetries, failedID)
	}
	after := dbtest.CountRows(t, s.db)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("rows of %s after confirm step: got %d, want %d", table, after[table], n)
		}
	}

	rec = s.postForm("/console/executive-retry/run", policy+"&execute=true")
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("live run without confirmation: got %d, want 422", rec.Code)
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Fatalf("receiver requests without confirmation: got %d, want 0", got)
	}

	rec = s.postForm("/console/executive-retry/run", policy+"&execute=true&confirm=true")
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("live run whose confirmation names nothing: got %d, want 422", rec.Code)
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Fatalf("receiver requests after a confirmation that names nothing: got %d, want 0", got)
	}

	rec = s.postForm("/console/executive-retry/run",
		policy+"&execute=true&confirm=true&confirmed_destinations=webhook&confirmed_count=1&confirmed_retries="+confirmedRetries)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("confirmed live run: got %d, want 303 (%s)", rec.Code, rec.Body.String())
	}
	location := rec.Header().Get("Location")
	if !strings.HasPrefix(location, "/retries/runs/rwr_") {
		t.Fatalf("redirect: got %q, want the run page", location)
	}
	if got := len(s.receiver.Requests()); got != 1 {
		t.Errorf("receiver requests after confirmation: got %d, want 1", got)
	}

	page := s.do(http.MethodGet, location, "", "")
	if page.Code != http.StatusOK {
		t.Fatalf("run page: got %d, want 200", page.Code)
	}
	pageDoc := document(t, page)
	if got := pageDoc.Find(`[data-testid="retry-execution"][data-outcome="delivered"]`).Length(); got != 1 {
		t.Errorf("delivered execution rows: got %d, want 1", got)
	}
	if got := byTestID(pageDoc, "retry-run").AttrOr("data-mode", ""); got != retry.ModeLive {
		t.Errorf("run mode: got %q, want %q", got, retry.ModeLive)
	}

	list := s.do(http.MethodGet, "/retries/runs", "", "")
	if got := byTestID(document(t, list), "retry-run-row").Length(); got != 1 {
		t.Errorf("run list rows: got %d, want 1", got)
	}
}

// TestConsoleLiveRunSendsOnlyConfirmed confirms one delivery to one
// destination. Retries that became due since, to it and to another
// destination, wait for a later run.
func TestConsoleLiveRunSendsOnlyConfirmed(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"alpha": "/webhook/alpha", "beta": "/webhook/beta"})
	s.failDelivery("run_1", "alpha", testNow.Add(-3*time.Hour))
	s.failDelivery("run_2", "alpha", testNow.Add(-2*time.Hour))
	s.failDelivery("run_3", "beta", testNow.Add(-2*time.Hour))
	policy := "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2&max_retry_deliveries=5"

	for _, count := range []string{"abc", "0", "26"} {
		bad := s.postForm("/console/executive-retry/run", policy+"&execute=true&confirm=true&confirmed_destinations=alpha&confirmed_count="+count)
		if bad.Code != http.StatusBadRequest || !strings.Contains(bad.Body.String(), "confirmed_count") {
			t.Errorf("confirmed_count %s: got %d %s, want 400 naming confirmed_count", count, bad.Code, bad.Body.String())
		}
	}
	for _, retries := range []string{"dlv_a,dlv_b", ",", strings.Repeat("d", 201)} {
		bad := s.postForm("/console/executive-retry/run",
			policy+"&execute=true&confirm=true&confirmed_destinations=alpha&confirmed_count=1&confirmed_retries="+retries)
		if bad.Code != http.StatusBadRequest || !strings.Contains(bad.Body.String(), "confirmed_retries") {
			t.Errorf("confirmed_retries %.20s: got %d %s, want 400 naming confirmed_retries", retries, bad.Code, bad.Body.String())
		}
	}
	// A confirmed retry that is no longer the due one, because its group
	// failed again since, is not sent.
	changed := s.postForm("/console/executive-retry/run",
		policy+"&execute=true&confirm=true&confirmed_destinations=alpha&confirmed_count=1&confirmed_retries=dlv_retried_since")
	if changed.Code != http.StatusUnprocessableEntity || !strings.Contains(changed.Body.String(), "not the ones the confirmation listed") {
		t.Errorf("changed retry: got %d %s, want 422 saying the due retries changed", changed.Code, changed.Body.String())
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Fatalf("receiver requests after invalid confirmations: got %d, want 0", got)
	}

	rec := s.postForm("/console/executive-retry/run", policy+"&execute=true&confirm=true&confirmed_destinations=alpha&confirmed_count=1")

	if rec.Code != http.StatusSeeOther {
		t.Fatalf("confirmed live run: got %d, want 303 (%s)", rec.Code, rec.Body.String())
	}
	requests := s.receiver.Requests()
	if len(requests) != 1 {
		t.Fatalf("receiver requests: got %d, want 1", len(requests))
	}
	if requests[0].Path != "/webhook/alpha" {
		t.Errorf("request path: got %q, want /webhook/alpha", requests[0].Path)
	}
	var executions int64
	if err := s.db.Table("retry_executions").Count(&executions).Error; err != nil {
		t.Fatal(err)
	}
	if executions != 1 {
		t.Errorf("executions: got %d, want 1", executions)
	}
}

// TestPostRejectsQueryParameters sends execute as a query parameter, which
// a POST of the API does not read, and expects a 400 that changes nothing.
func TestPostRejectsQueryParameters(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
	before := dbtest.CountRows(t, s.db)

	rec := s.postJSON(executiveRetryRunPath+"?execute=true", `{}`)

	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status: got %d, want 400 (%s)", rec.Code, rec.Body.String())
	}
	if body := rec.Body.String(); !strings.Contains(body, `"field":"execute"`) || !strings.Contains(body, "JSON body") {
		t.Errorf("error: got %s, want it to name execute and the JSON body", body)
	}
	after := dbtest.CountRows(t, s.db)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("rows of %s: got %d, want %d", table, after[table], n)
		}
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
}

func TestExecutiveRetryConsoleConfirmBlockedWithoutConnector(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"other": "/webhook/other"})
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))

	rec := s.postForm("/console/executive-retry/confirm", "max_retry_deliveries=5", "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	doc := document(t, rec)
	if got := byTestID(doc, "retry-confirm-blocked").Text(); !strings.Contains(got, "webhook") {
		t.Errorf("blocked reason: got %q, want it to name webhook", got)
	}
	if got := byTestID(doc, "retry-confirm-summary").Text(); strings.Contains(got, "This sends") || !strings.Contains(got, "sends nothing until") {
		t.Errorf("confirmation summary: got %q, want it to say that nothing is sent until the destinations can send", got)
	}
	if _, disabled := byTestID(doc, "run-live-retry").Attr("disabled"); !disabled {
		t.Error("live run button: enabled, want disabled")
	}
}

func TestExecutiveRetryConsoleDryRunFragment(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))

	rec := s.postForm("/console/executive-retry/run", "dry_run=true&max_retry_deliveries=5", "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	doc := document(t, rec)
	if got := byTestID(doc, "retry-run").AttrOr("data-mode", ""); got != retry.ModeDryRun {
		t.Errorf("mode: got %q, want %q", got, retry.ModeDryRun)
	}
	if got := byTestID(doc, "retry-decision").Length(); got != 1 {
		t.Errorf("would-send rows: got %d, want 1", got)
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
	if got := byTestID(doc, "retry-run-not-ready").Length(); got != 0 {
		t.Errorf("not ready note with every destination configured: got %d, want 0", got)
	}
	// A dry run changes no decision, so the plan shown above it gets no
	// note that it may be out of date.
	if got := byTestID(doc, "retry-plan-stale").Length(); got != 0 {
		t.Errorf("plan notes after a dry run: got %d, want 0", got)
	}

	console := s.do(http.MethodGet, "/console", "", "")
	consoleDoc := document(t, console)
	if got := byTestID(consoleDoc, "executive-retry").Length(); got != 1 {
		t.Fatalf("console retry section: got %d, want 1", got)
	}
	if got := byTestID(consoleDoc, "plan-executive-retry").Length(); got != 1 {
		t.Errorf("plan button: got %d, want 1", got)
	}
}

func TestExecutiveRetryHealthIsReadOnly(t *testing.T) {
	s := newRetryTestServer(t, nil)
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
	before := dbtest.CountRows(t, s.db)

	rec := s.getJSON(executiveRetryHealthPath)
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	var report retry.HealthReport
	if err := json.Unmarshal(rec.Body.Bytes(), &report); err != nil {
		t.Fatal(err)
	}
	if report.ExpectedIntervalMinutes != 60 || report.StaleMetadataMinutes != 180 {
		t.Errorf("defaults: got %d and %d, want 60 and 180", report.ExpectedIntervalMinutes, report.StaleMetadataMinutes)
	}
	if report.AlertLevel != "critical" || report.Counts.FailedDeliveryCount != 1 {
		t.Errorf("report: got level %q failed deliveries %d, want critical and 1", report.AlertLevel, report.Counts.FailedDeliveryCount)
	}
	after := dbtest.CountRows(t, s.db)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("rows of %s: got %d, want %d", table, after[table], n)
		}
	}

	if rec := s.getJSON(executiveRetryHealthPath + "?expected_interval_minutes=10080&stale_metadata_minutes=1"); rec.Code != http.StatusOK {
		t.Errorf("thresholds at the range ends: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	for _, query := range []string{"expected_interval_minutes=0", "expected_interval_minutes=10081", "stale_metadata_minutes=abc", "stale_metadata_minutes=1.5", "stale_minutes=5"} {
		rec := s.getJSON(executiveRetryHealthPath + "?" + query)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: got %d, want 400", query, rec.Code)
		}
		field := strings.SplitN(query, "=", 2)[0]
		if got := errorOf(t, rec.Body.String()).Field; got != field {
			t.Errorf("%s: field got %q, want %q", query, got, field)
		}
	}
}

func TestExecutiveRetryRunListAndDetailJSON(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
	for range 2 {
		if rec := s.postJSON(executiveRetryRunPath, `{}`); rec.Code != http.StatusCreated {
			t.Fatalf("run: got %d, want 201", rec.Code)
		}
	}

	rec := s.getJSON(executiveRetryRunsPath + "?limit=1")
	var list struct {
		WorkerRuns []retry.RunSummary `json:"worker_runs"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.WorkerRuns) != 1 {
		t.Fatalf("listed runs with limit 1: got %d, want 1", len(list.WorkerRuns))
	}
	detail := s.getJSON(executiveRetryRunsPath + "/" + list.WorkerRuns[0].WorkerRunID)
	if detail.Code != http.StatusOK || !strings.Contains(detail.Body.String(), `"selected_decisions"`) {
		t.Errorf("detail: got %d %s, want 200 with selected_decisions", detail.Code, detail.Body.String())
	}
	if missing := s.getJSON(executiveRetryRunsPath + "/rwr_missing"); missing.Code != http.StatusNotFound {
		t.Errorf("missing run: got %d, want 404", missing.Code)
	}
	if bad := s.getJSON(executiveRetryRunsPath + "?limit=0"); bad.Code != http.StatusBadRequest {
		t.Errorf("limit 0: got %d, want 400", bad.Code)
	}
}

func TestAlertRetryRoutesUseTheSameEngine(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	at := testNow.Add(-2 * time.Hour)
	record := models.Delivery{
		ID: models.NewID("dlv", at), SubjectKind: models.SubjectHealthAlert, SubjectID: "alp_1", SubjectKey: "fp_1",
		Connector: "webhook", State: models.DeliveryInFlight, Attempts: "[]", RequestSummary: "{}", IdempotencyKey: "alert-key",
		Origin: models.OriginSend, Actor: "release.manager", StartedAt: at, CreatedAt: at,
	}
	if err := models.CreateDelivery(s.db, &record); err != nil {
		t.Fatal(err)
	}
	record.ErrorClass, record.StatusCode, record.ConnectorKind, record.CompletedAt = "timeout", 0, "webhook", &at
	if err := models.CompleteDelivery(context.Background(), s.db, &record); err != nil {
		t.Fatal(err)
	}

	rec := s.postJSON(alertRetryPath+"/retry-plan", `{}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("plan: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	var plan retry.PlanView
	if err := json.Unmarshal(rec.Body.Bytes(), &plan); err != nil {
		t.Fatal(err)
	}
	if len(plan.Decisions) != 1 || plan.Decisions[0].AlertPlanID != "alp_1" || plan.Decisions[0].Fingerprint != "fp_1" {
		t.Errorf("decisions: got %+v, want one for alert plan alp_1 and fingerprint fp_1", plan.Decisions)
	}

	// No message source for health alerts is wired in this test server, so
	// a live run is rejected and sends nothing.
	rec = s.postJSON(alertRetryPath+"/retry-worker-run", `{"execute":true}`)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("live run: got %d, want 422 (%s)", rec.Code, rec.Body.String())
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
	rec = s.postJSON(alertRetryPath+"/retry-worker-run", `{}`)
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), fmt.Sprintf(`"mode":%q`, retry.ModeDryRun)) {
		t.Errorf("dry run: got %d %s, want 201 dry_run", rec.Code, rec.Body.String())
	}

	// With a source wired, the live run re-sends the alert with its key.
	s.handler.Retry.(*retry.Service).Sources[models.SubjectHealthAlert] = retry.MessageSourceFunc(retryMessages)
	rec = s.postJSON(alertRetryPath+"/retry-worker-run", `{"execute":true}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("live run with a source: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	var run retry.RunView
	if err := json.Unmarshal(rec.Body.Bytes(), &run); err != nil {
		t.Fatal(err)
	}
	if run.Counts.DeliveredCount != 1 || len(run.Executions) != 1 || run.Executions[0].AlertPlanID != "alp_1" {
		t.Errorf("live run: got counts %+v executions %+v, want one delivered execution of alert plan alp_1", run.Counts, run.Executions)
	}
	requests := s.receiver.Requests()
	if len(requests) != 1 || requests[0].Headers.Get("webhook-id") != "alert-key" {
		t.Errorf("receiver: got %d requests, want 1 with webhook-id alert-key", len(requests))
	}

	// The health alert runs have their own list, newest first; the
	// executive list has none of them.
	rec = s.getJSON(alertRetryPath + "/retry-worker-runs")
	if rec.Code != http.StatusOK {
		t.Fatalf("alert run list: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	var list struct {
		WorkerRuns []retry.RunSummary `json:"worker_runs"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.WorkerRuns) != 2 || list.WorkerRuns[0].WorkerRunID != run.WorkerRunID {
		t.Errorf("alert run list: got %+v, want the live run first and the dry run", list.WorkerRuns)
	}
	executive := s.getJSON(executiveRetryPath + "/delivery-retry-worker-runs")
	if strings.Contains(executive.Body.String(), run.WorkerRunID) {
		t.Errorf("executive run list: got the health alert run %s, want only executive runs", run.WorkerRunID)
	}
	if list.WorkerRuns[0].Retries != 0 || list.WorkerRuns[0].TimeoutSeconds != 2 || list.WorkerRuns[0].MaxRetryDeliveries != 5 {
		t.Errorf("alert run list send options: got %+v, want retries 0, timeout_seconds 2 and max_retry_deliveries 5", list.WorkerRuns[0])
	}

	// One run is read at the path of its kind; the other kind's path names it.
	rec = s.getJSON(alertRetryPath + "/retry-worker-runs/" + run.WorkerRunID)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), run.WorkerRunID) {
		t.Errorf("alert run: got %d %s, want 200 with the run", rec.Code, rec.Body.String())
	}
	rec = s.getJSON(executiveRetryPath + "/delivery-retry-worker-runs/" + run.WorkerRunID)
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), alertRetryPath+"/retry-worker-runs/"+run.WorkerRunID) {
		t.Errorf("alert run at the executive path: got %d %s, want 404 naming the alert path", rec.Code, rec.Body.String())
	}
}

func TestExecutiveRetryConsoleForViewerDisablesLiveRun(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.actAs("console-viewer", auth.RoleViewer)

	doc := document(t, s.do(http.MethodGet, "/console", "", ""))
	button := byTestID(doc, "prepare-live-retry")
	if _, disabled := button.Attr("disabled"); !disabled {
		t.Error("prepare live run button: enabled, want disabled for a viewer")
	}
	if got := byTestID(doc, "retry-run-blocked").Text(); !strings.Contains(got, "may not run delivery retries") {
		t.Errorf("blocked reason: got %q, want it to say the role may not run retries, dry or live", got)
	}
	if rec := s.postForm("/console/executive-retry/plan", "max_retry_attempts=3"); rec.Code != http.StatusForbidden {
		t.Errorf("viewer plan: got %d, want 403", rec.Code)
	}
}

func TestExecutiveRetryPlainFormPostRedirects(t *testing.T) {
	s := newRetryTestServer(t, nil)
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))

	rec := s.postForm("/console/executive-retry/plan", "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2")
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status: got %d, want 303 (%s)", rec.Code, rec.Body.String())
	}
	location := rec.Header().Get("Location")
	if !strings.HasPrefix(location, "/console?retry_plan_id=rtp_") {
		t.Fatalf("redirect: got %q, want the console with the plan", location)
	}
	page, _, _ := strings.Cut(location, "#")
	doc := document(t, s.do(http.MethodGet, page, "", ""))
	if got := byTestID(doc, "retry-plan-id").Text(); !strings.Contains(location, got) || got == "" {
		t.Errorf("shown plan: got %q, want the plan in %q", got, location)
	}
	if got := doc.Find(`#executive-retry-plan [data-testid="retry-decision"]`).AttrOr("data-action", ""); got != retry.ActionRetry {
		t.Errorf("decision action: got %q, want retry", got)
	}

	for _, form := range []string{"max_retry_attempts=abc", "backoff_multiplier=x", "allow_immediate_retry=yes", "retry_delay_minutes=0"} {
		rec := s.postForm("/console/executive-retry/plan", form, "HX-Request", "true")
		if rec.Code != http.StatusBadRequest && rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: got %d, want 400 or 422", form, rec.Code)
		}
	}
}

func TestExecutiveRetryLiveRunWhileSelectionHeld(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.handler.Retry.(*retry.Service).SelectionLockWait = 100 * time.Millisecond
	s.actAs("release-manager", auth.RoleReleaseManager)
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
	release, err := models.LockRetrySelection(context.Background(), s.db, models.SubjectExecutiveReport)
	if err != nil {
		t.Fatalf("LockRetrySelection: %v", err)
	}
	defer release()
	before := dbtest.CountRows(t, s.db)

	rec := s.postJSON(executiveRetryRunPath, `{"execute":true}`)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status: got %d, want 503 (%s)", rec.Code, rec.Body.String())
	}
	if got := errorOf(t, rec.Body.String()); got.Code != CodeUnavailable || !strings.Contains(got.Message, "run again") {
		t.Errorf("error: got code %q and message %q, want %q and a message that says to run again", got.Code, got.Message, CodeUnavailable)
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
	after := dbtest.CountRows(t, s.db)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("rows of %s: got %d, want %d", table, after[table], n)
		}
	}
}

// A console opened after a live worker run that came after the plan shown
// notes it, as the page that sent the run does, and drops the note once a
// newer plan is made. A dry run changes no decision and gets no note.
func TestExecutiveRetryConsoleNotesLaterRun(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
	now := testNow
	s.handler.Retry.(*retry.Service).Now = func() time.Time { return now }
	staleNote := func() string {
		t.Helper()
		return strings.TrimSpace(byTestID(document(t, s.do(http.MethodGet, "/console", "", "")), "retry-plan-stale").Text())
	}

	if rec := s.postForm("/console/executive-retry/plan", "", "HX-Request", "true"); rec.Code != http.StatusOK {
		t.Fatalf("plan: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	if got := staleNote(); got != "" {
		t.Errorf("note right after planning: got %q, want none", got)
	}

	now = now.Add(time.Minute)
	rec := s.postForm("/console/executive-retry/run", "dry_run=true&max_retry_deliveries=5", "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("dry run: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	if got := staleNote(); got != "" {
		t.Errorf("note after a later dry run: got %q, want none", got)
	}

	now = now.Add(time.Minute)
	rec = s.postForm("/console/executive-retry/run",
		"execute=true&confirm=true&confirmed_destinations=webhook&confirmed_count=1&max_retry_deliveries=5", "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("live run: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	doc := document(t, rec)
	runID := byTestID(doc, "retry-run-link").Text()
	if stale := byTestID(doc, "retry-plan-stale"); stale.AttrOr("hx-swap-oob", "") != "true" || runID == "" || !strings.Contains(stale.Text(), runID) {
		t.Errorf("plan note in the live run's response: got hx-swap-oob %q and text %q, want an out-of-band note naming run %q",
			stale.AttrOr("hx-swap-oob", ""), stale.Text(), runID)
	}
	if got := staleNote(); runID == "" || !strings.Contains(got, runID) {
		t.Errorf("note after a later live run: got %q, want it to name run %q", got, runID)
	}

	// A dry run after the live run leaves the note on the live run.
	now = now.Add(time.Minute)
	if rec := s.postForm("/console/executive-retry/run", "dry_run=true&max_retry_deliveries=5", "HX-Request", "true"); rec.Code != http.StatusOK {
		t.Fatalf("dry run after the live run: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	if got := staleNote(); runID == "" || !strings.Contains(got, runID) {
		t.Errorf("note after a dry run that followed the live run: got %q, want it to name the live run %q", got, runID)
	}

	now = now.Add(time.Minute)
	if rec := s.postForm("/console/executive-retry/plan", "", "HX-Request", "true"); rec.Code != http.StatusOK {
		t.Fatalf("second plan: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	if got := staleNote(); got != "" {
		t.Errorf("note after planning again: got %q, want none", got)
	}
}

// A dry run that selects a retry to a destination whose connector cannot
// send warns that a live run would be rejected, and why.
func TestExecutiveRetryDryRunNamesDestinationNotReady(t *testing.T) {
	s := newRetryTestServer(t, nil)
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))

	rec := s.postForm("/console/executive-retry/run", "dry_run=true&max_retry_deliveries=5", "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	note := byTestID(document(t, rec), "retry-run-not-ready").Text()
	if !strings.Contains(note, "live run would be rejected") || !strings.Contains(note, "webhook: ") {
		t.Errorf("not ready note: got %q, want it to say a live run would be rejected and name webhook", note)
	}

	api := s.postJSON(executiveRetryRunPath, `{}`)
	if api.Code != http.StatusCreated {
		t.Fatalf("JSON dry run: got %d, want 201 (%s)", api.Code, api.Body.String())
	}
	var view retry.RunView
	if err := json.Unmarshal(api.Body.Bytes(), &view); err != nil {
		t.Fatalf("decode run: %v", err)
	}
	if view.NotReady["webhook"] == "" {
		t.Errorf("not_ready: got %v, want a reason for webhook", view.NotReady)
	}
}

// A policy field that is not a number is rejected under the field name and
// with the range that an out-of-range number gets, so the console marks
// the same input and names the values to enter.
func TestExecutiveRetryPlanFormNamesPolicyField(t *testing.T) {
	s := newRetryTestServer(t, nil)
	cases := []struct {
		form, field, message string
	}{
		{"backoff_multiplier=abc", "retry_policy.backoff_multiplier", `must be a number from 1.0 to 10.0; got "abc"`},
		{"backoff_multiplier=", "retry_policy.backoff_multiplier", "is empty; enter a number from 1.0 to 10.0"},
		{"backoff_multiplier=11", "retry_policy.backoff_multiplier", "must be a number from 1.0 to 10.0; got 11"},
		{"max_retry_attempts=1.5", "retry_policy.max_retry_attempts", `must be a whole number from 1 to 20; got "1.5"`},
		{"retry_delay_minutes=soon", "retry_policy.retry_delay_minutes", `must be a whole number from 0 to 10080; got "soon"`},
	}
	before := dbtest.CountRows(t, s.db)
	for _, tc := range cases {
		rec := s.postForm("/console/executive-retry/plan", tc.form, "HX-Request", "true")
		if rec.Code != http.StatusBadRequest && rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: got %d, want 400 or 422", tc.form, rec.Code)
			continue
		}
		fragment := byTestID(document(t, rec), "error-fragment")
		if got := fragment.AttrOr("data-field", ""); got != tc.field {
			t.Errorf("%s: field %q, want %q", tc.form, got, tc.field)
		}
		if got := fragment.Text(); !strings.Contains(got, tc.message) {
			t.Errorf("%s: message %q, want it to contain %q", tc.form, got, tc.message)
		}
	}
	after := dbtest.CountRows(t, s.db)
	for table, n := range after {
		if n != before[table] {
			t.Errorf("table %s: %d rows before the rejected forms, %d after", table, before[table], n)
		}
	}
}

// A run option that is not a number is rejected with the range it takes,
// as an out-of-range number is, so one correction fixes it.
func TestExecutiveRetryRunFormNamesOptionRange(t *testing.T) {
	s := newRetryTestServer(t, nil)
	cases := []struct {
		form, field, message string
	}{
		{"max_retry_deliveries=abc", "max_retry_deliveries", `must be a whole number from 1 to 25; got "abc"`},
		{"max_retry_deliveries=", "max_retry_deliveries", "is empty; enter a whole number from 1 to 25"},
		{"retries=1.5", "retries", `must be a whole number from 0 to 5; got "1.5"`},
		{"timeout_seconds=soon", "timeout_seconds", `must be a number from 0.1 to 60; got "soon"`},
	}
	before := dbtest.CountRows(t, s.db)
	for _, tc := range cases {
		rec := s.postForm("/console/executive-retry/run", "dry_run=true&"+tc.form, "HX-Request", "true")
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: got %d, want 400", tc.form, rec.Code)
			continue
		}
		fragment := byTestID(document(t, rec), "error-fragment")
		if got := fragment.AttrOr("data-field", ""); got != tc.field {
			t.Errorf("%s: field %q, want %q", tc.form, got, tc.field)
		}
		if got := fragment.Text(); !strings.Contains(got, tc.message) {
			t.Errorf("%s: message %q, want it to contain %q", tc.form, got, tc.message)
		}
	}
	after := dbtest.CountRows(t, s.db)
	for table, n := range after {
		if n != before[table] {
			t.Errorf("table %s: %d rows before the rejected forms, %d after", table, before[table], n)
		}
	}
}

// A limit that names a destination that cannot send blocks the
// confirmation even when no retry to it is due, because the live run would
// be rejected, and the confirmation names it.
func TestConsoleConfirmNamesUnreadyLimitWithoutDueRetry(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"alpha": "/webhook/alpha", "broken": ""})
	s.failDelivery("run_1", "alpha", testNow.Add(-2*time.Hour))

	doc := document(t, s.postForm("/console/executive-retry/confirm", immediatePolicyForm+"&execute=true&destinations=alpha,broken", "HX-Request", "true"))
	if _, disabled := byTestID(doc, "run-live-retry").Attr("disabled"); !disabled {
		t.Error("live run button with broken in the limit: enabled, want disabled")
	}
	if got := byTestID(doc, "retry-confirm-blocked").Text(); !strings.Contains(got, "broken: ") {
		t.Errorf("blocked reason: got %q, want it to name broken", got)
	}
}

// A destination that cannot send blocks the confirmation, which offers to
// confirm again without it. That confirmation and its live run send only
// to the destinations that can.
func TestConsoleConfirmLeavesOutUnreadyDestination(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"alpha": "/webhook/alpha", "broken": ""})
	s.failDelivery("run_1", "broken", testNow.Add(-3*time.Hour))
	s.failDelivery("run_2", "alpha", testNow.Add(-2*time.Hour))
	s.failDelivery("run_3", "alpha", testNow.Add(-time.Hour))

	blocked := document(t, s.postForm("/console/executive-retry/confirm", immediatePolicyForm, "HX-Request", "true"))
	if _, disabled := byTestID(blocked, "run-live-retry").Attr("disabled"); !disabled {
		t.Error("live run button with broken selected: enabled, want disabled")
	}
	leaveOut := byTestID(blocked, "retry-leave-out-form")
	if got := strings.TrimSpace(byTestID(blocked, "retry-leave-out").Text()); got != "Confirm without broken" {
		t.Errorf("leave-out button: got %q, want %q", got, "Confirm without broken")
	}
	only := leaveOut.Find(`input[name="destinations"]`).AttrOr("value", "")
	if only != "alpha" {
		t.Fatalf("leave-out destinations: got %q, want alpha", only)
	}

	confirm := document(t, s.postForm("/console/executive-retry/confirm", immediatePolicyForm+"&execute=true&destinations="+only, "HX-Request", "true"))
	if _, disabled := byTestID(confirm, "run-live-retry").Attr("disabled"); disabled {
		t.Fatalf("live run button limited to alpha: disabled (%s)", byTestID(confirm, "retry-confirm-blocked").Text())
	}
	if got := strings.TrimSpace(byTestID(confirm, "retry-confirm-summary").Text()); !strings.Contains(got, "2 retry deliveries to alpha (2)") {
		t.Errorf("confirmation summary: got %q, want 2 retry deliveries to alpha (2)", got)
	}
	form := byTestID(confirm, "retry-confirm-form")
	body := url.Values{}
	form.Find("input[type=hidden]").Each(func(_ int, input *goquery.Selection) {
		name, _ := input.Attr("name")
		if name != "_csrf" {
			body.Set(name, input.AttrOr("value", ""))
		}
	})
	if body.Get("destinations") != "alpha" {
		t.Fatalf("run form destinations: got %q, want alpha", body.Get("destinations"))
	}
	body.Set("confirm", "true")
	rec := s.postForm("/console/executive-retry/run", body.Encode(), "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("live run: status %d: %s", rec.Code, rec.Body)
	}
	if got := len(s.receiver.Requests()); got != 2 {
		t.Errorf("requests to the receiver: got %d, want 2", got)
	}
	var brokenExecutions int64
	if err := s.db.Model(&models.RetryExecution{}).Where("connector = ?", "broken").Count(&brokenExecutions).Error; err != nil {
		t.Fatal(err)
	}
	if brokenExecutions != 0 {
		t.Errorf("executions to broken: got %d, want 0", brokenExecutions)
	}
}

func TestRetryRunJSONRejectsBadDestinations(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"alpha": "/webhook/alpha"})
	cases := []struct {
		body   string
		status int
	}{
		{`{"destinations":["all"]}`, http.StatusBadRequest},
		{`{"destinations":[""]}`, http.StatusBadRequest},
		{`{"destinations":"alpha"}`, http.StatusBadRequest},
		{`{"destinations":["alhpa"]}`, http.StatusUnprocessableEntity},
	}
	for _, tc := range cases {
		rec := s.postJSON(executiveRetryRunPath, tc.body)
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.body, rec.Code, tc.status, rec.Body)
			continue
		}
		if got := errorOf(t, rec.Body.String()).Field; got != "destinations" {
			t.Errorf("%s: field %q, want destinations", tc.body, got)
		}
	}
	if got := dbtest.CountRows(t, s.db)["retry_worker_runs"]; got != 0 {
		t.Errorf("worker runs stored: got %d, want 0", got)
	}
}

// An empty destinations list would read as no limit, so it is rejected.
func TestRetryRunJSONRejectsEmptyDestinations(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"alpha": "/webhook/alpha"})
	s.failDelivery("run_1", "alpha", testNow.Add(-2*time.Hour))
	rec := s.postJSON(executiveRetryRunPath, `{"execute":true,"destinations":[]}`)
	if rec.Code != http.StatusBadRequest || errorOf(t, rec.Body.String()).Field != "destinations" {
		t.Errorf("empty destinations: status %d, body %s; want a 400 on destinations", rec.Code, rec.Body)
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("requests to the receiver: got %d, want 0", got)
	}
}

// "Confirm without" is offered only when the destinations that can send
// have a retry due, and a run records its limit.
func TestLeaveOutOfferedOnlyWithRetriesDue(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"alpha": "/webhook/alpha", "broken": ""})
	s.failDelivery("run_1", "broken", testNow.Add(-2*time.Hour))

	doc := document(t, s.postForm("/console/executive-retry/confirm", immediatePolicyForm, "HX-Request", "true"))
	if byTestID(doc, "retry-leave-out-form").Length() != 0 {
		t.Error("leave-out form with nothing due to alpha: shown, want none")
	}

	s.failDelivery("run_2", "alpha", testNow.Add(-time.Hour))
	doc = document(t, s.postForm("/console/executive-retry/confirm", immediatePolicyForm, "HX-Request", "true"))
	if byTestID(doc, "retry-leave-out-form").Length() != 1 {
		t.Fatal("leave-out form with a retry due to alpha: missing")
	}

	rec := s.postJSON(executiveRetryRunPath, `{"execute":true,"destinations":["alpha"],"retry_policy":{"retry_delay_minutes":0,"allow_immediate_retry":true}}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("live run limited to alpha: status %d: %s", rec.Code, rec.Body)
	}
	var run retry.RunView
	if err := json.Unmarshal(rec.Body.Bytes(), &run); err != nil {
		t.Fatal(err)
	}
	if len(run.OnlyDestinations) != 1 || run.OnlyDestinations[0] != "alpha" {
		t.Errorf("run only_destinations: got %v, want [alpha]", run.OnlyDestinations)
	}
	page := document(t, s.do(http.MethodGet, "/retries/runs/"+run.WorkerRunID, "", "", "Accept", "text/html"))
	if got := strings.TrimSpace(byTestID(page, "retry-run-detail-only").Text()); got != "only alpha" {
		t.Errorf("run page destinations: got %q, want %q", got, "only alpha")
	}
}

// TestConsoleLiveRunNamesEarlierRun confirms the same retry twice, as two
// people may at once. The second run sends nothing and links to the run
// that sent the retry.
func TestConsoleLiveRunNamesEarlierRun(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"alpha": "/webhook/alpha"})
	s.failDelivery("run_1", "alpha", testNow.Add(-2*time.Hour))
	live := "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2&max_retry_deliveries=5" +
		"&execute=true&confirm=true&confirmed_destinations=alpha&confirmed_count=1"

	rec := s.postForm("/console/executive-retry/run", live, "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("first live run: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	var runID string
	if err := s.db.Table("retry_worker_runs").Where("dry_run = ?", false).Select("id").Scan(&runID).Error; err != nil || runID == "" {
		t.Fatalf("read the first live run's id: %q, %v", runID, err)
	}

	rec = s.postForm("/console/executive-retry/run", live, "HX-Request", "true")
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("second live run: got %d, want 422 (%s)", rec.Code, rec.Body.String())
	}
	doc := document(t, rec)
	if text := byTestID(doc, "error-fragment").Text(); !strings.Contains(text, "live worker run "+runID+", started by test-admin") {
		t.Errorf("fragment = %q, want it to name run %s and who started it", text, runID)
	}
	if got := byTestID(doc, "error-link").AttrOr("href", ""); got != "/retries/runs/"+runID {
		t.Errorf("link = %q, want /retries/runs/%s", got, runID)
	}

	if got := len(s.receiver.Requests()); got != 1 {
		t.Errorf("receiver requests = %d, want 1 (the first run's)", got)
	}
}

// The executive retry health panel states the thresholds it used, so
// fields left empty show the defaults they got.
func TestRetryHealthPanelStatesThresholds(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/a"})

	cases := []struct {
		query, want string
	}{
		{"expected_interval_minutes=&stale_metadata_minutes=", "Evaluated with an expected interval of 60 minutes and stale after 180 minutes."},
		{"expected_interval_minutes=15&stale_metadata_minutes=45", "Evaluated with an expected interval of 15 minutes and stale after 45 minutes."},
	}
	for _, tc := range cases {
		rec := s.do(http.MethodGet, "/console/executive-retry/health?"+tc.query, "", "", "HX-Request", "true")
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d, want 200; body %.300s", tc.query, rec.Code, rec.Body.String())
		}
		got := strings.Join(strings.Fields(byTestID(document(t, rec), "retry-health-thresholds").Text()), " ")
		if got != tc.want {
			t.Errorf("%s: thresholds %q, want %q", tc.query, got, tc.want)
		}
	}
}
