package handlers

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/audit"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/connectors/receiver"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/retry"
)

// alertRetryServer is the router with alert sends, health alert retries and
// the dashboard wired to one webhook destination that always responds 503
// with Retry-After: 120, on a clock the test advances.
type alertRetryServer struct {
	*testServer
	receiver *receiver.Server
	clock    *alertClock
}

// alertRetryPolicy retries at once after a failure, up to three attempts of
// each group in all.
const alertRetryPolicy = `"retry_policy":{"max_retry_attempts":3,"retry_delay_minutes":0,"allow_immediate_retry":true}`

func newAlertRetryServer(t *testing.T) *alertRetryServer {
	t.Helper()
	s := &alertRetryServer{testServer: newTestServer(t), clock: &alertClock{now: testNow}}
	rcv, err := receiver.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start receiver: %v", err)
	}
	t.Cleanup(func() { _ = rcv.Close() })
	s.receiver = rcv

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	env := map[string]string{"URL_FAILING": rcv.URL + "/fail/503/failing-webhook"}
	cfg := connectors.FileConfig{Connectors: map[string]connectors.ConnectorConfig{
		"failing-webhook": {Kind: connectors.KindWebhook, URLEnv: "URL_FAILING"},
	}}
	// The registry reads Retry-After against the test clock, so the
	// destination's wait ends two minutes after the clock's reading.
	registry, err := connectors.NewRegistry(cfg, func(name string) (string, bool) {
		value, ok := env[name]
		return value, ok
	}, connectors.WithClock(s.clock.Now), connectors.WithBackoff(time.Millisecond, time.Millisecond), connectors.WithLogger(logger))
	if err != nil {
		t.Fatalf("build registry: %v", err)
	}

	db := s.db
	sends := &delivery.Service{DB: db, Sender: registry, Now: s.clock.Now, Logger: logger}
	alerts := &alerting.Service{
		DB: db, Health: &health.Service{DB: db, Now: s.clock.Now, Logger: logger}, Destinations: registry,
		Delivery: sends, PublicURL: "http://console.test", Now: s.clock.Now, Logger: logger,
	}
	s.handler.Alerts = alerts
	s.handler.Retry = &retry.Service{
		DB: db, Delivery: sends, Connectors: registry,
		Sources: map[string]retry.MessageSource{models.SubjectHealthAlert: retry.MessageSourceFunc(alerts.AlertMessage)},
		Now:     s.clock.Now, Logger: logger, SendOptions: connectors.SendOptions{Timeout: 2 * time.Second},
	}
	s.handler.Audit = &audit.Service{DB: db, Now: s.clock.Now, Logger: logger}
	s.e = NewServer(s.handler)
	return s
}

// sendAlert sends the retry health alert to every destination and returns
// its plan ID and fingerprint. The send fails at failing-webhook.
func (s *alertRetryServer) sendAlert() (planID, fingerprint string) {
	s.t.Helper()
	rec := s.postJSON(alertsPath+"/deliver", `{"retries":0,"timeout_seconds":2}`)
	if rec.Code != http.StatusCreated {
		s.t.Fatalf("deliver: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	var result alerting.DeliverResult
	if err := json.Unmarshal(rec.Body.Bytes(), &result); err != nil {
		s.t.Fatalf("decode deliver response: %v", err)
	}
	if result.Success {
		s.t.Fatalf("deliver plan %s: got success, want a failure at failing-webhook", result.Plan.PlanID)
	}
	return result.Plan.PlanID, result.Plan.Fingerprint
}

// liveRun runs the health alert retry worker live.
func (s *alertRetryServer) liveRun() retry.RunView {
	s.t.Helper()
	rec := s.postJSON(alertsPath+"/retry-worker-run", `{"execute":true,`+alertRetryPolicy+`,"retries":0,"timeout_seconds":5}`)
	if rec.Code != http.StatusCreated {
		s.t.Fatalf("live run: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	var run retry.RunView
	if err := json.Unmarshal(rec.Body.Bytes(), &run); err != nil {
		s.t.Fatalf("decode run: %v", err)
	}
	return run
}

// dryRun runs the health alert retry worker without sending.
func (s *alertRetryServer) dryRun() retry.RunView {
	s.t.Helper()
	rec := s.postJSON(alertsPath+"/retry-worker-run", `{`+alertRetryPolicy+`}`)
	if rec.Code != http.StatusCreated {
		s.t.Fatalf("dry run: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	var run retry.RunView
	if err := json.Unmarshal(rec.Body.Bytes(), &run); err != nil {
		s.t.Fatalf("decode run: %v", err)
	}
	return run
}

// plan stores a health alert retry plan with every decision.
func (s *alertRetryServer) plan() retry.PlanView {
	s.t.Helper()
	rec := s.postJSON(alertsPath+"/retry-plan", `{`+alertRetryPolicy+`}`)
	if rec.Code != http.StatusCreated {
		s.t.Fatalf("plan: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	var plan retry.PlanView
	if err := json.Unmarshal(rec.Body.Bytes(), &plan); err != nil {
		s.t.Fatalf("decode plan: %v", err)
	}
	return plan
}

// openAlertPairs returns the dashboard's count of (alert, destination)
// pairs with an open failure.
func (s *alertRetryServer) openAlertPairs() int64 {
	s.t.Helper()
	rec := s.getJSON(runtimePrefix + "/dashboard")
	if rec.Code != http.StatusOK {
		s.t.Fatalf("dashboard: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	var dashboard audit.Dashboard
	if err := json.Unmarshal(rec.Body.Bytes(), &dashboard); err != nil {
		s.t.Fatalf("decode dashboard: %v", err)
	}
	return dashboard.Alerts.Deliveries.OpenFailedCount
}

// decisionOf returns the plan's decision for alert plan planID.
func decisionOf(t *testing.T, plan retry.PlanView, planID string) retry.DecisionView {
	t.Helper()
	for _, decision := range plan.Decisions {
		if decision.AlertPlanID == planID {
			return decision
		}
	}
	t.Fatalf("plan %s: no decision for alert plan %s in %+v", plan.RetryPlanID, planID, plan.Decisions)
	return retry.DecisionView{}
}

// checkCountsAgree checks that the stored plan, a dry run's tally and the
// dashboard count the same open failures: one retried or waiting group per
// open (alert, destination) pair, and every other group suppressed.
func (s *alertRetryServer) checkCountsAgree(plan retry.PlanView, wantPairs int64) {
	s.t.Helper()
	if got := s.dryRun().OpenFailures.PlanCounts; got != plan.Counts {
		s.t.Errorf("dry run tally: got %+v, want the plan's counts %+v", got, plan.Counts)
	}
	if got := s.openAlertPairs(); got != wantPairs {
		s.t.Errorf("dashboard open (alert, destination) pairs: got %d, want %d", got, wantPairs)
	}
	if got := int64(plan.Counts.RetryCount + plan.Counts.WaitCount); got > wantPairs {
		s.t.Errorf("plan retry and wait decisions: got %d, want at most one per open pair (%d)", got, wantPairs)
	}
}

// Two plans of one alert failed at a destination. A retry of the newest
// failure gets 503 with Retry-After, and a run ten seconds later must not
// send the alert there again through the other plan.
func TestAlertRetryWaitsForNewestFailure(t *testing.T) {
	s := newAlertRetryServer(t)
	firstPlan, fingerprint := s.sendAlert()
	s.clock.Advance(time.Minute)
	secondPlan, secondFingerprint := s.sendAlert()
	if secondFingerprint != fingerprint {
		t.Fatalf("fingerprints: got %s and %s, want two sends of one alert", fingerprint, secondFingerprint)
	}
	s.clock.Advance(3 * time.Minute)
	sent := len(s.receiver.Requests())

	first := s.liveRun()
	if first.Counts.FailedCount != 1 || len(first.Executions) != 1 {
		t.Fatalf("first run: got counts %+v, want one failed retry", first.Counts)
	}
	if got := first.Executions[0].AlertPlanID; got != secondPlan {
		t.Errorf("first run retried alert plan %s, want %s, whose failure is newest", got, secondPlan)
	}

	s.clock.Advance(10 * time.Second)
	second := s.liveRun()
	if second.Counts.SelectedCount != 0 {
		t.Errorf("second run selected %d retries (%+v), want none while failing-webhook's Retry-After lasts",
			second.Counts.SelectedCount, second.SelectedDecisions)
	}
	if got := len(s.receiver.Requests()) - sent; got != 1 {
		t.Errorf("requests to failing-webhook from both runs: got %d, want 1", got)
	}

	plan := s.plan()
	if plan.Counts != (retry.PlanCounts{DecisionCount: 2, WaitCount: 1, SuppressCount: 1}) {
		t.Errorf("plan counts: got %+v, want 2 decisions: 1 wait, 1 suppress", plan.Counts)
	}
	newest := decisionOf(t, plan, secondPlan)
	if newest.Action != retry.ActionWait || !strings.Contains(newest.Reason, "Retry-After") {
		t.Errorf("decision of plan %s: got %s %q, want wait for Retry-After", secondPlan, newest.Action, newest.Reason)
	}
	older := decisionOf(t, plan, firstPlan)
	if older.Action != retry.ActionSuppress {
		t.Errorf("decision of plan %s: got %s %q, want suppress", firstPlan, older.Action, older.Reason)
	}
	for _, part := range []string{"alert " + fingerprint + " failed later at this destination", newest.LastDeliveryID, secondPlan, "retried instead"} {
		if !strings.Contains(older.Reason, part) {
			t.Errorf("reason of plan %s: got %q, want it to contain %q", firstPlan, older.Reason, part)
		}
	}
	s.checkCountsAgree(plan, 1)
}

// The attempt cap holds for an alert at a destination across its plans:
// only the newest failure is retried, so the alert is retried there at
// most max_retry_attempts - 1 times after the newest plan's send.
func TestAlertRetryCapCoversEveryPlan(t *testing.T) {
	s := newAlertRetryServer(t)
	firstPlan, _ := s.sendAlert()
	s.clock.Advance(time.Minute)
	secondPlan, _ := s.sendAlert()
	sent := len(s.receiver.Requests())

	for range 5 {
		s.clock.Advance(3 * time.Minute)
		s.liveRun()
	}
	if got := len(s.receiver.Requests()) - sent; got != 2 {
		t.Errorf("retries to failing-webhook: got %d, want 2 (3 attempts, the first the send of plan %s)", got, secondPlan)
	}

	plan := s.plan()
	if plan.Counts != (retry.PlanCounts{DecisionCount: 2, SuppressCount: 2}) {
		t.Errorf("plan counts: got %+v, want 2 decisions, both suppressed", plan.Counts)
	}
	if newest := decisionOf(t, plan, secondPlan); !strings.Contains(newest.Reason, "maximum retry attempts 3 reached") {
		t.Errorf("decision of plan %s: got %s %q, want suppressed at the attempt cap", secondPlan, newest.Action, newest.Reason)
	}
	if older := decisionOf(t, plan, firstPlan); !strings.Contains(older.Reason, "only that failure may be retried, and it is suppressed") {
		t.Errorf("decision of plan %s: got %s %q, want suppressed behind the newest failure", firstPlan, older.Action, older.Reason)
	}
	s.checkCountsAgree(plan, 1)
}
