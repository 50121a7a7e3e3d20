package retry

import (
	"context"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// A live run that fails after reconciling must not leave the reconciled
// executions pointing to a worker run that was never stored.
func TestReconcileErrorLeavesNoDanglingRun(t *testing.T) {
	db, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	stopped := leaveInFlight(t, databaseURL, server.URL, clock, "webhook")
	clock.Advance(2 * time.Minute)

	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/webhook"}), clock.Now, &fakeSource{})
	failStatementOnce(t, db, "UPDATE retry_worker_runs SET state")
	if _, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy())); err == nil {
		t.Fatalf("Run: got nil error, want the injected one")
	}

	settled := executionByID(t, service, stopped.ID)
	if settled.ReconciledByRunID != "" {
		if _, err := models.RetryWorkerRunByID(context.Background(), db, settled.ReconciledByRunID); err != nil {
			t.Errorf("execution %s: reconciled_by_run_id %q names no stored worker run (%v)", settled.ID, settled.ReconciledByRunID, err)
		}
	}

	// The next run succeeds, and the stopped worker's run, none of whose
	// executions is in flight any more, must then be completed.
	if _, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy())); err != nil {
		t.Fatalf("next Run: %v", err)
	}
	stoppedRun, err := models.RetryWorkerRunByID(context.Background(), db, stopped.WorkerRunID)
	if err != nil {
		t.Fatalf("stopped worker run: %v", err)
	}
	if stoppedRun.State != models.WorkerRunInterrupted {
		t.Errorf("stopped worker run %s: got state %q, want %q", stoppedRun.ID, stoppedRun.State, models.WorkerRunInterrupted)
	}
}

// A client that leaves while a live run reconciles must not leave the
// stopped worker's run running for good: the outcomes recorded stand, so
// the rest of the reconciliation must be recorded too.
func TestReconcileSurvivesClientLeaving(t *testing.T) {
	db, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	stopped := leaveInFlight(t, databaseURL, server.URL, clock, "webhook")
	clock.Advance(2 * time.Minute)

	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/webhook"}), clock.Now, &fakeSource{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The client leaves right after the run has read the stale sends,
	// which is after it recorded the stopped execution as interrupted.
	err := db.Callback().Query().After("gorm:query").Register("test:leave_after_stale_sends", func(tx *gorm.DB) {
		if strings.Contains(tx.Statement.SQL.String(), "origin = ") {
			cancel()
		}
	})
	if err != nil {
		t.Fatalf("register callback: %v", err)
	}
	if _, err := service.Run(ctx, models.SubjectExecutiveReport, liveRequest(immediatePolicy())); err == nil {
		t.Fatalf("Run: got nil error, want the cancelled context's")
	}

	settled := executionByID(t, service, stopped.ID)
	if settled.Outcome != models.ExecutionFailed || settled.Reason != InterruptedReason {
		t.Errorf("stopped execution: got outcome %q reason %q, want %q %q", settled.Outcome, settled.Reason, models.ExecutionFailed, InterruptedReason)
	}
	if settled.ReconciledByRunID != "" {
		if _, err := models.RetryWorkerRunByID(context.Background(), db, settled.ReconciledByRunID); err != nil {
			t.Errorf("execution %s: reconciled_by_run_id %q names no stored worker run (%v)", settled.ID, settled.ReconciledByRunID, err)
		}
	}
	stoppedRun, err := models.RetryWorkerRunByID(context.Background(), db, stopped.WorkerRunID)
	if err != nil {
		t.Fatalf("stopped worker run: %v", err)
	}
	if stoppedRun.State != models.WorkerRunInterrupted {
		t.Errorf("stopped worker run %s: got state %q with no execution in flight, want %q", stoppedRun.ID, stoppedRun.State, models.WorkerRunInterrupted)
	}
}
