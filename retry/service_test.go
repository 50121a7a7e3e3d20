package retry

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

var serviceStart = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func liveRequest(policy Policy) RunRequest {
	return RunRequest{Execute: true, MaxRetryDeliveries: DefaultMaxRetryDeliveries, Policy: policy,
		Schedule: DefaultSchedule(), Actor: "release.manager", MayRunLive: true}
}

func immediatePolicy() Policy {
	return Policy{MaxRetryAttempts: 3, RetryDelayMinutes: 0, AllowImmediateRetry: true, BackoffMultiplier: 2}
}

func TestPlanPersistsDecisions(t *testing.T) {
	db := dbtest.Open(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, nil, clock.Now, &fakeSource{})
	insertDelivery(t, db, "run_due", "slack", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	insertDelivery(t, db, "run_wait", "slack", false, "timeout", 0, serviceStart.Add(-10*time.Minute), nil)
	insertDelivery(t, db, "run_gone", "teams", false, "gone", 410, serviceStart.Add(-3*time.Hour), nil)
	insertDelivery(t, db, "run_closed", "slack", false, "server_error", 503, serviceStart.Add(-3*time.Hour), nil)
	insertDelivery(t, db, "run_closed", "slack", true, "ok", 200, serviceStart.Add(-2*time.Hour), nil)

	plan, err := service.Plan(context.Background(), models.SubjectExecutiveReport, DefaultPolicy(), "release.manager")
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	want := map[string]string{"run_due": ActionRetry, "run_wait": ActionWait, "run_gone": ActionSuppress}
	if len(plan.Decisions) != len(want) {
		t.Fatalf("decisions: got %d, want %d (%+v)", len(plan.Decisions), len(want), plan.Decisions)
	}
	for _, decision := range plan.Decisions {
		if got := decision.Action; got != want[decision.SubjectID] {
			t.Errorf("action of %s: got %q, want %q", decision.SubjectID, got, want[decision.SubjectID])
		}
		if decision.ScheduleRunID != decision.SubjectID || decision.ReportID != "rep_"+decision.SubjectID {
			t.Errorf("links of %s: got schedule run %q report %q, want %q and %q", decision.SubjectID, decision.ScheduleRunID, decision.ReportID, decision.SubjectID, "rep_"+decision.SubjectID)
		}
		// The failure completed one second after it started, 10 minutes ago.
		wantNext := serviceStart.Add(20*time.Minute + time.Second)
		if decision.Action == ActionWait && (decision.NextRetryAt == nil || !decision.NextRetryAt.Equal(wantNext)) {
			t.Errorf("next_retry_at of the waiting decision: got %v, want %v", decision.NextRetryAt, wantNext)
		}
	}

	stored, err := service.PlanByID(context.Background(), plan.RetryPlanID)
	if err != nil {
		t.Fatalf("PlanByID: %v", err)
	}
	if stored.Counts != (PlanCounts{DecisionCount: 3, RetryCount: 1, WaitCount: 1, SuppressCount: 1}) {
		t.Errorf("stored counts: got %+v, want 3 decisions, 1 of each action", stored.Counts)
	}
	if stored.Actor != "release.manager" || stored.Policy != DefaultPolicy() {
		t.Errorf("stored plan: got actor %q policy %+v, want release.manager and the defaults", stored.Actor, stored.Policy)
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	source := &fakeSource{}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, source)
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	insertDelivery(t, db, "run_2", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	deliveriesBefore := countTable(t, db, "deliveries")

	for _, request := range []RunRequest{
		// No flags at all: a dry run by default.
		{MaxRetryDeliveries: 5, Policy: DefaultPolicy(), Schedule: DefaultSchedule(), Actor: "viewer", MayRunLive: true},
		{DryRun: boolPtr(true), MaxRetryDeliveries: 1, Policy: DefaultPolicy(), Schedule: DefaultSchedule(), Actor: "viewer"},
	} {
		run, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if run.Mode != ModeDryRun || !run.DryRun {
			t.Errorf("mode: got %q dry_run %v, want dry_run", run.Mode, run.DryRun)
		}
		if want := min(request.MaxRetryDeliveries, 2); len(run.SelectedDecisions) != want {
			t.Errorf("selected decisions: got %d, want %d", len(run.SelectedDecisions), want)
		}
		if len(run.Executions) != 0 {
			t.Errorf("executions: got %d, want 0", len(run.Executions))
		}
	}

	if got := len(server.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
	if got := countTable(t, db, "retry_executions"); got != 0 {
		t.Errorf("execution records: got %d, want 0", got)
	}
	if got := countTable(t, db, "deliveries"); got != deliveriesBefore {
		t.Errorf("deliveries: got %d, want %d", got, deliveriesBefore)
	}
	if got := countTable(t, db, "retry_worker_runs"); got != 2 {
		t.Errorf("worker runs: got %d, want 2", got)
	}
	if got := source.calls.Load(); got != 0 {
		t.Errorf("message source calls: got %d, want 0", got)
	}
}

func TestLiveRunRejectedSendsNothing(t *testing.T) {
	server := startReceiver(t)
	cases := []struct {
		name          string
		configured    bool
		request       func(RunRequest) RunRequest
		wantForbidden bool
		wantField     string
		wantText      string
	}{
		{"without connector configuration", false, func(r RunRequest) RunRequest { return r }, false, "", "not configured"},
		{"without permission", true, func(r RunRequest) RunRequest { r.MayRunLive = false; return r }, true, "", "may not run live retries"},
		{"with conflicting flags", true, func(r RunRequest) RunRequest { r.DryRun = boolPtr(true); return r }, false, "execute", "both true"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := dbtest.Open(t)
			server.Reset()
			clock := &testClock{now: serviceStart}
			registry := webhookRegistry(t, server.URL, map[string]string{"other": "/webhook/other"})
			if tc.configured {
				registry = webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"})
			}
			service := newTestService(db, registry, clock.Now, &fakeSource{})
			insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
			before := dbtest.CountRows(t, db)

			_, err := service.Run(context.Background(), models.SubjectExecutiveReport, tc.request(liveRequest(DefaultPolicy())))
			if err == nil {
				t.Fatal("Run: got nil error, want a rejection")
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error: got %q, want it to contain %q", err, tc.wantText)
			}
			var guard *GuardError
			var validation *ValidationError
			switch {
			case tc.wantField != "":
				if !errors.As(err, &validation) || validation.Field != tc.wantField || !validation.Unprocessable {
					t.Errorf("error: got %#v, want an unprocessable *ValidationError on %q", err, tc.wantField)
				}
			case !errors.As(err, &guard):
				t.Errorf("error: got %T, want *GuardError", err)
			case guard.Forbidden != tc.wantForbidden:
				t.Errorf("forbidden: got %v, want %v", guard.Forbidden, tc.wantForbidden)
			}
			if got := len(server.Requests()); got != 0 {
				t.Errorf("receiver requests: got %d, want 0", got)
			}
			after := dbtest.CountRows(t, db)
			for table, n := range before {
				if after[table] != n {
					t.Errorf("rows of %s: got %d, want %d", table, after[table], n)
				}
			}
		})
	}
}

func TestLiveRunDeliversOnceWithOriginalKey(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	original := insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(DefaultPolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if run.Mode != ModeLive || run.Counts.DeliveredCount != 1 || len(run.Executions) != 1 {
		t.Fatalf("run: got mode %q counts %+v executions %d, want live with 1 delivered", run.Mode, run.Counts, len(run.Executions))
	}
	execution := run.Executions[0]
	if execution.Outcome != models.ExecutionDelivered {
		t.Errorf("outcome: got %q (%s), want delivered", execution.Outcome, execution.Reason)
	}
	if execution.WorkerRunID != run.WorkerRunID || execution.RetryPlanID != run.RetryPlanID ||
		execution.ScheduleRunID != "run_1" || execution.ReportID != "rep_run_1" || execution.DeliveryID == "" {
		t.Errorf("links: got %+v, want worker run, plan, schedule run run_1, report rep_run_1 and a delivery", execution)
	}
	if execution.Delivery == nil || execution.Delivery.Origin != models.OriginRetry || execution.Delivery.RetryExecutionID != execution.ExecutionID {
		t.Errorf("delivery evidence: got %+v, want origin retry linked to %s", execution.Delivery, execution.ExecutionID)
	}
	if got := receivedKeys(server); got[original.IdempotencyKey] != 1 || len(got) != 1 {
		t.Errorf("received keys: got %v, want %q once", got, original.IdempotencyKey)
	}

	// The success closes the group: the next live run has nothing to send.
	clock.Advance(time.Hour)
	again, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(DefaultPolicy()))
	if err != nil {
		t.Fatalf("second Run: %v", err)
	}
	if again.Counts.SelectedCount != 0 || len(server.Requests()) != 1 {
		t.Errorf("second run: got %d selected and %d requests, want 0 and 1", again.Counts.SelectedCount, len(server.Requests()))
	}
	report, err := service.Health(context.Background(), models.SubjectExecutiveReport, DefaultHealthParams())
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if report.Counts.FailedDeliveryCount != 0 || report.Counts.DeliveredExecutionCount != 1 {
		t.Errorf("health counts: got %d open failed deliveries and %d delivered executions, want 0 and 1",
			report.Counts.FailedDeliveryCount, report.Counts.DeliveredExecutionCount)
	}
}

func TestLiveRunFailureBacksOff(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/fail/503/webhook"}), clock.Now, &fakeSource{})
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(DefaultPolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if run.Counts.FailedCount != 1 || run.Executions[0].Outcome != models.ExecutionFailed {
		t.Fatalf("run: got counts %+v, want 1 failed", run.Counts)
	}
	if !strings.Contains(run.Executions[0].Reason, "server_error") {
		t.Errorf("reason: got %q, want the failure class", run.Executions[0].Reason)
	}

	// Two failures now: the next retry waits 30 × 2 = 60 minutes, or the
	// receiver's Retry-After of 120 seconds if later.
	plan, err := service.Plan(context.Background(), models.SubjectExecutiveReport, DefaultPolicy(), "release.manager")
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if len(plan.Decisions) != 1 || plan.Decisions[0].Action != ActionWait || plan.Decisions[0].FailureCount != 2 {
		t.Fatalf("decisions: got %+v, want one wait after 2 failures", plan.Decisions)
	}
	if next := plan.Decisions[0].NextRetryAt; next == nil || next.Before(serviceStart.Add(60*time.Minute)) {
		t.Errorf("next_retry_at: got %v, want at least %v", next, serviceStart.Add(60*time.Minute))
	}

	report, err := service.Health(context.Background(), models.SubjectExecutiveReport, DefaultHealthParams())
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if report.Counts.FailedExecutionCount != 1 || !hasFinding(report, "failed_executive_delivery_retry_execution") {
		t.Errorf("open failed executions: got %d with findings %+v, want 1 and a failed retry execution finding",
			report.Counts.FailedExecutionCount, report.Findings)
	}
}

func TestHangingReceiverIsRecordedAsTimeout(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/hang/webhook"}), clock.Now, &fakeSource{})
	service.SendOptions.Timeout = 200 * time.Millisecond
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(DefaultPolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(run.Executions) != 1 || run.Executions[0].Outcome != models.ExecutionFailed {
		t.Fatalf("executions: got %+v, want one failed", run.Executions)
	}
	if got := run.Executions[0].Delivery; got == nil || got.ErrorClass != "timeout" || got.State != models.DeliveryCompleted {
		t.Errorf("delivery: got %+v, want a completed timeout", got)
	}
	var inFlight int64
	if err := db.Model(&models.Delivery{}).Where("state = ?", models.DeliveryInFlight).Count(&inFlight).Error; err != nil {
		t.Fatal(err)
	}
	if inFlight != 0 {
		t.Errorf("in-flight deliveries: got %d, want 0", inFlight)
	}
}

func TestMessageSourceErrorSkips(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{err: errors.New("report rep_run_1 not found")})
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(DefaultPolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if run.Counts.SkippedCount != 1 || len(run.Executions) != 1 || run.Executions[0].Outcome != models.ExecutionSkipped {
		t.Fatalf("run: got counts %+v executions %+v, want one skipped", run.Counts, run.Executions)
	}
	if !strings.Contains(run.Executions[0].Reason, "message unavailable") {
		t.Errorf("reason: got %q, want message unavailable", run.Executions[0].Reason)
	}
	if got := len(server.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
}

// TestLatestPlanSkipsWorkerRunPlans plans, then runs the worker; the latest
// plan is still the one with every decision, not the run's selection.
func TestLatestPlanSkipsWorkerRunPlans(t *testing.T) {
	db := dbtest.Open(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, nil, clock.Now, &fakeSource{})
	insertDelivery(t, db, "run_due", "slack", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	insertDelivery(t, db, "run_wait", "slack", false, "timeout", 0, serviceStart.Add(-10*time.Minute), nil)

	plan, err := service.Plan(context.Background(), models.SubjectExecutiveReport, DefaultPolicy(), "release.manager")
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	clock.Advance(time.Minute)
	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, RunRequest{
		MaxRetryDeliveries: DefaultMaxRetryDeliveries, Policy: DefaultPolicy(), Schedule: DefaultSchedule(), Actor: "release.manager"})
	if err != nil {
		t.Fatalf("dry Run: %v", err)
	}

	latest, err := service.LatestPlan(context.Background(), models.SubjectExecutiveReport)
	if err != nil {
		t.Fatalf("LatestPlan: %v", err)
	}
	if latest == nil || latest.RetryPlanID != plan.RetryPlanID {
		t.Fatalf("latest plan: got %v, want %s, not the worker run's plan %s", latest, plan.RetryPlanID, run.RetryPlanID)
	}
	if len(latest.Decisions) != 2 {
		t.Errorf("decisions of the latest plan: got %d, want 2", len(latest.Decisions))
	}
}

// A dry run lists the selected destinations that a live run could not send
// to, so the run that the README recommends first shows what a live run
// would reject. Read back later, it checks the configuration again.
func TestDryRunListsDestinationsNotReady(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	failedAt := time.Now().Add(-time.Hour)
	insertDelivery(t, db, "run_ready", "webhook", false, "server_error", 503, failedAt, nil)
	insertDelivery(t, db, "run_unconfigured", "slack", false, "server_error", 503, failedAt, nil)
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), time.Now, &fakeSource{})
	request := liveRequest(immediatePolicy())
	request.Execute = false

	view, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if view.Counts.SelectedCount != 2 {
		t.Fatalf("selected: got %d, want 2", view.Counts.SelectedCount)
	}
	if reason := view.NotReady["slack"]; !strings.Contains(reason, "slack") {
		t.Errorf("not ready reason of slack: got %q, want one naming slack", reason)
	}
	if _, listed := view.NotReady["webhook"]; listed || len(view.NotReady) != 1 {
		t.Errorf("not ready destinations: got %v, want only slack", view.NotReady)
	}
	readBack, err := service.WorkerRun(context.Background(), view.WorkerRunID)
	if err != nil {
		t.Fatalf("WorkerRun: %v", err)
	}
	if !reflect.DeepEqual(readBack.NotReady, view.NotReady) {
		t.Errorf("not ready read back: got %v, want %v", readBack.NotReady, view.NotReady)
	}
	if got := len(server.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}

	service.Sources = map[string]MessageSource{}
	readBack, err = service.WorkerRun(context.Background(), view.WorkerRunID)
	if err != nil {
		t.Fatalf("WorkerRun without a message source: %v", err)
	}
	if len(readBack.NotReady) != 2 || !strings.Contains(readBack.NotReady["webhook"], "cannot be rebuilt") {
		t.Errorf("not ready without a message source: got %v, want both destinations with the missing source", readBack.NotReady)
	}
}
