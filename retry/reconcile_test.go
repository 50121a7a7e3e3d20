package retry

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// closingSender sends, then closes the worker's connection pool, so the
// worker cannot record the outcome, as one that stopped between sending
// and recording.
type closingSender struct {
	inner connectors.Sender
	pool  *sql.DB
}

func (s closingSender) Send(ctx context.Context, name string, msg connectors.Message, opts connectors.SendOptions) connectors.Result {
	result := s.inner.Send(ctx, name, msg, opts)
	_ = s.pool.Close()
	return result
}

// leaveInFlight runs a live run at clock's time on a connection pool of its
// own that closes after the send, and returns the execution the run left in
// flight. The run sends one retry to connector only. Its in-flight timeout
// of one hour keeps it from reconciling the executions of earlier calls.
func leaveInFlight(t *testing.T, databaseURL, serverURL string, clock *testClock, connector string) models.RetryExecution {
	t.Helper()
	return leaveInFlightOf(t, models.SubjectExecutiveReport, databaseURL, serverURL, clock, connector)
}

// leaveInFlightOf is leaveInFlight for the retries of subject kind kind.
func leaveInFlightOf(t *testing.T, kind, databaseURL, serverURL string, clock *testClock, connector string) models.RetryExecution {
	t.Helper()
	pool := dbtest.OpenExisting(t, databaseURL, dbtest.Options{})
	sqlDB, err := pool.DB()
	if err != nil {
		t.Fatalf("pool.DB: %v", err)
	}
	worker := newTestService(pool, webhookRegistry(t, serverURL, map[string]string{connector: "/webhook/" + connector}), clock.Now, &fakeSource{})
	worker.Delivery.Sender = closingSender{inner: worker.Delivery.Sender, pool: sqlDB}
	worker.InFlightTimeout = time.Hour

	request := liveRequest(immediatePolicy())
	request.Confirmed = &Confirmation{Destinations: []string{connector}, Count: 1}
	if _, err := worker.Run(context.Background(), kind, request); err == nil {
		t.Fatalf("Run of the stopping worker: got nil error, want one from the closed connection pool")
	}

	db := dbtest.OpenExisting(t, databaseURL, dbtest.Options{})
	var execution models.RetryExecution
	if err := db.Where("connector = ? AND outcome = ?", connector, models.ExecutionInFlight).Take(&execution).Error; err != nil {
		t.Fatalf("in-flight execution to %s: %v", connector, err)
	}
	return execution
}

func executionByID(t *testing.T, service *Service, id string) models.RetryExecution {
	t.Helper()
	var execution models.RetryExecution
	if err := service.DB.Where("id = ?", id).Take(&execution).Error; err != nil {
		t.Fatalf("read execution %s: %v", id, err)
	}
	return execution
}

func deliveryOf(t *testing.T, service *Service, execution models.RetryExecution) *models.Delivery {
	t.Helper()
	record, err := models.DeliveryByID(context.Background(), service.DB, execution.DeliveryID)
	if err != nil {
		t.Fatalf("DeliveryByID %s: %v", execution.DeliveryID, err)
	}
	return record
}

// TestReconcileStaleOnly checks that a live run reconciles an in-flight
// execution older than the in-flight timeout of one minute, and leaves one
// started 30 seconds ago in flight.
func TestReconcileStaleOnly(t *testing.T) {
	db, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	for _, connector := range []string{"stale", "young"} {
		insertDelivery(t, db, "run_1", connector, false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	}
	stale := leaveInFlight(t, databaseURL, server.URL, clock, "stale")
	clock.Advance(2 * time.Minute)
	young := leaveInFlight(t, databaseURL, server.URL, clock, "young")
	clock.Advance(30 * time.Second)

	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"stale": "/webhook/stale", "young": "/webhook/young"}), clock.Now, &fakeSource{})
	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	if got := run.Counts.ReconciledCount; got != 1 {
		t.Errorf("reconciled: got %d, want 1", got)
	}
	settled := executionByID(t, service, stale.ID)
	if settled.Outcome != models.ExecutionFailed {
		t.Errorf("outcome of the stale execution: got %q, want %q", settled.Outcome, models.ExecutionFailed)
	}
	if settled.Reason != InterruptedReason {
		t.Errorf("reason of the stale execution: got %q, want %q", settled.Reason, InterruptedReason)
	}
	if settled.ReconciledByRunID != run.WorkerRunID {
		t.Errorf("reconciling run of the stale execution: got %q, want %q", settled.ReconciledByRunID, run.WorkerRunID)
	}
	if len(run.ReconciledExecutions) != 1 || run.ReconciledExecutions[0].ExecutionID != stale.ID {
		t.Errorf("reconciled executions of the run: got %+v, want only %s", run.ReconciledExecutions, stale.ID)
	}
	if stored, err := service.WorkerRun(context.Background(), run.WorkerRunID); err != nil || len(stored.ReconciledExecutions) != 1 {
		t.Errorf("stored run: got %d reconciled executions (error %v), want 1", len(stored.ReconciledExecutions), err)
	}
	left := executionByID(t, service, young.ID)
	if left.Outcome != models.ExecutionInFlight {
		t.Errorf("outcome of the young execution: got %q (%s), want %q", left.Outcome, left.Reason, models.ExecutionInFlight)
	}
	if got := deliveryOf(t, service, young).State; got != models.DeliveryInFlight {
		t.Errorf("delivery of the young execution: got state %q, want %q", got, models.DeliveryInFlight)
	}
	// The young retry may still reach the destination, so the run does not
	// send to it again.
	if got := len(server.Requests()); got != 3 {
		t.Errorf("receiver requests: got %d, want 3 (one per stopped run, one retry of the stale destination)", got)
	}
}

// TestReconcileTakesRecordedDelivery checks that a stale execution whose
// delivery was recorded as delivered takes that outcome, not interrupted.
func TestReconcileTakesRecordedDelivery(t *testing.T) {
	db, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	stopped := leaveInFlight(t, databaseURL, server.URL, clock, "webhook")

	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/webhook"}), clock.Now, &fakeSource{})
	record := deliveryOf(t, service, stopped)
	completed := serviceStart.Add(time.Second)
	record.Success = true
	record.StatusCode = 200
	record.AttemptCount = 1
	record.ConnectorKind = "webhook"
	record.CompletedAt = &completed
	if err := models.CompleteDelivery(context.Background(), db, record); err != nil {
		t.Fatalf("CompleteDelivery: %v", err)
	}
	clock.Advance(2 * time.Minute)

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	if got := run.Counts.ReconciledCount; got != 1 {
		t.Errorf("reconciled: got %d, want 1", got)
	}
	settled := executionByID(t, service, stopped.ID)
	if settled.Outcome != models.ExecutionDelivered {
		t.Errorf("outcome: got %q (%s), want %q", settled.Outcome, settled.Reason, models.ExecutionDelivered)
	}
	if want := "delivered (HTTP 200)"; settled.Reason != want {
		t.Errorf("reason: got %q, want %q", settled.Reason, want)
	}
	after := deliveryOf(t, service, stopped)
	if !after.Success {
		t.Errorf("delivery success: got false (class %q), want true", after.ErrorClass)
	}
	if after.ErrorClass == ClassInterrupted {
		t.Errorf("delivery error class: got %q, want the recorded success kept", after.ErrorClass)
	}
	// The recorded success closed the group, so nothing is sent again.
	if got := run.Counts.SelectedCount; got != 0 {
		t.Errorf("selected: got %d, want 0", got)
	}
	if got := len(server.Requests()); got != 1 {
		t.Errorf("receiver requests: got %d, want 1", got)
	}
}

// TestStaleSendBecomesRetryable checks that a live run records a send left
// in flight longer than StaleSendAfter as interrupted and retries it, and
// leaves a younger send alone.
func TestStaleSendBecomesRetryable(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	inFlightSend := func(subjectID string, at time.Time) models.Delivery {
		record := models.Delivery{
			ID: models.NewID("dlv", at), SubjectKind: models.SubjectExecutiveReport, SubjectID: subjectID,
			SubjectKey: "rep_" + subjectID, Connector: "webhook", State: models.DeliveryInFlight, Attempts: "[]",
			RequestSummary: "{}", IdempotencyKey: "idem-" + subjectID, Origin: models.OriginSend,
			Actor: "release.manager", StartedAt: at, CreatedAt: at,
		}
		if err := models.CreateDelivery(db, &record); err != nil {
			t.Fatalf("CreateDelivery: %v", err)
		}
		return record
	}
	stale := inFlightSend("run_stale", serviceStart.Add(-StaleSendAfter-time.Second))
	young := inFlightSend("run_young", serviceStart.Add(-StaleSendAfter+time.Minute))
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/webhook"}), clock.Now, &fakeSource{})

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	settled := deliveryOf(t, service, models.RetryExecution{DeliveryID: stale.ID})
	if settled.State != models.DeliveryCompleted || settled.Success || settled.ErrorClass != ClassInterrupted {
		t.Errorf("stale send: got state %s, success %v, class %q, want completed, failed, %s",
			settled.State, settled.Success, settled.ErrorClass, ClassInterrupted)
	}
	if got := deliveryOf(t, service, models.RetryExecution{DeliveryID: young.ID}).State; got != models.DeliveryInFlight {
		t.Errorf("young send: got state %s, want %s", got, models.DeliveryInFlight)
	}
	if run.Counts.DeliveredCount != 1 || len(run.Executions) != 1 || run.Executions[0].SubjectID != "run_stale" {
		t.Errorf("run: got %d delivered of %d executions, want the stale send's group retried once", run.Counts.DeliveredCount, len(run.Executions))
	}
	if got := len(server.Requests()); got != 1 {
		t.Errorf("receiver requests: got %d, want 1, the retry of the stale send", got)
	}
}

// TestRejectedRunLeavesNoReconciledLink checks that a live run rejected
// after it reconciled an execution keeps that outcome but does not link the
// execution to the run, which is never stored.
func TestRejectedRunLeavesNoReconciledLink(t *testing.T) {
	db, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	for _, connector := range []string{"stale", "other"} {
		insertDelivery(t, db, "run_1", connector, false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	}
	stale := leaveInFlight(t, databaseURL, server.URL, clock, "stale")
	clock.Advance(2 * time.Hour)
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"stale": "/webhook/stale", "other": "/webhook/other"}), clock.Now, &fakeSource{})

	request := liveRequest(immediatePolicy())
	request.Confirmed = &Confirmation{Destinations: []string{"nowhere"}, Count: 1}
	if _, err := service.Run(context.Background(), models.SubjectExecutiveReport, request); err == nil {
		t.Fatalf("Run confirming a destination with nothing due: got nil error, want a conflict")
	}

	settled := executionByID(t, service, stale.ID)
	if settled.Outcome != models.ExecutionFailed {
		t.Errorf("outcome: got %q, want %q (the reconciliation stands)", settled.Outcome, models.ExecutionFailed)
	}
	if settled.ReconciledByRunID != "" {
		t.Errorf("reconciled_by_run_id: got %q, want empty for a run that was never stored", settled.ReconciledByRunID)
	}
}

// A retry left in flight for exactly the in-flight timeout is not yet
// interrupted: the plan, the preview and a live run all leave it in flight.
// One microsecond later all three treat it as interrupted.
func TestInFlightTimeoutBoundary(t *testing.T) {
	db, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	insertDelivery(t, db, "run_edge", "slack", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	left := leaveInFlight(t, databaseURL, server.URL, clock, "slack")
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"slack": "/webhook/slack"}), clock.Now, &fakeSource{})
	ctx := context.Background()
	interruptible := left.StartedAt.Add(service.InFlightTimeout + time.Microsecond)

	clock.Advance(service.InFlightTimeout)
	plan, err := service.Plan(ctx, models.SubjectExecutiveReport, immediatePolicy(), "release.manager")
	if err != nil {
		t.Fatalf("Plan at the timeout: %v", err)
	}
	if len(plan.Decisions) != 1 {
		t.Fatalf("plan decisions at the timeout: got %d, want 1", len(plan.Decisions))
	}
	if reason := plan.Decisions[0].Reason; !strings.Contains(reason, "its outcome is not recorded yet") {
		t.Errorf("reason at the timeout: got %q, want the plain in-flight reason", reason)
	}
	if next := plan.Decisions[0].NextRetryAt; next == nil || !next.Equal(interruptible) {
		t.Errorf("next_retry_at at the timeout: got %v, want %s", next, interruptible)
	}
	preview, err := service.Preview(ctx, models.SubjectExecutiveReport, immediatePolicy(), DefaultMaxRetryDeliveries, nil)
	if err != nil {
		t.Fatalf("Preview at the timeout: %v", err)
	}
	if preview.InFlightCount != 1 || preview.InterruptedCount != 0 {
		t.Errorf("preview at the timeout: got %d in flight and %d interrupted, want 1 and 0", preview.InFlightCount, preview.InterruptedCount)
	}
	if at := preview.InterruptibleAt; at == nil || !at.Equal(interruptible) {
		t.Errorf("preview interruptible_at: got %v, want %s", at, interruptible)
	}
	run, err := service.Run(ctx, models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("live Run at the timeout: %v", err)
	}
	if run.Counts.ReconciledCount != 0 {
		t.Errorf("reconciled at the timeout: got %d, want 0", run.Counts.ReconciledCount)
	}

	clock.Advance(time.Microsecond)
	plan, err = service.Plan(ctx, models.SubjectExecutiveReport, immediatePolicy(), "release.manager")
	if err != nil {
		t.Fatalf("Plan past the timeout: %v", err)
	}
	if len(plan.Decisions) != 1 {
		t.Fatalf("plan decisions past the timeout: got %d, want 1", len(plan.Decisions))
	}
	if reason := plan.Decisions[0].Reason; !strings.Contains(reason, "the next live run records it as interrupted") {
		t.Errorf("reason past the timeout: got %q, want the interrupted reason", reason)
	}
	preview, err = service.Preview(ctx, models.SubjectExecutiveReport, immediatePolicy(), DefaultMaxRetryDeliveries, nil)
	if err != nil {
		t.Fatalf("Preview past the timeout: %v", err)
	}
	if preview.InFlightCount != 0 || preview.InterruptedCount != 1 {
		t.Errorf("preview past the timeout: got %d in flight and %d interrupted, want 0 and 1", preview.InFlightCount, preview.InterruptedCount)
	}
	run, err = service.Run(ctx, models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("live Run past the timeout: %v", err)
	}
	if run.Counts.ReconciledCount != 1 {
		t.Errorf("reconciled past the timeout: got %d, want 1", run.Counts.ReconciledCount)
	}
}
