package retry

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// storeStaleSend stores a plain send of schedule run subjectID to webhook
// that has been in flight for longer than StaleSendAfter.
func storeStaleSend(t *testing.T, db *gorm.DB, subjectID string) models.Delivery {
	t.Helper()
	at := serviceStart.Add(-StaleSendAfter - time.Second)
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

// A storage error while a live run records a stale send as interrupted
// fails the run: it is not the case of a send recorded by another writer
// first. The next run records the send.
func TestStaleSendStoreErrorFailsRun(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	stale := storeStaleSend(t, db, "run_stale")
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/webhook"}), clock.Now, &fakeSource{})
	injected := errors.New("injected storage error")
	armed := &atomic.Bool{}
	armed.Store(true)
	err := db.Callback().Update().Before("gorm:update").Register("test:fail_delivery_update", func(tx *gorm.DB) {
		if tx.Statement.Table == "deliveries" && armed.CompareAndSwap(true, false) {
			_ = tx.AddError(injected)
		}
	})
	if err != nil {
		t.Fatalf("register callback: %v", err)
	}

	_, err = service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if !errors.Is(err, injected) {
		t.Fatalf("live Run: got error %v, want the injected storage error", err)
	}
	if got := deliveryOf(t, service, models.RetryExecution{DeliveryID: stale.ID}).State; got != models.DeliveryInFlight {
		t.Errorf("stale send after the failed run: got state %q, want %q", got, models.DeliveryInFlight)
	}
	if runs, err := service.WorkerRunCount(context.Background(), models.SubjectExecutiveReport); err != nil || runs != 0 {
		t.Errorf("worker runs after the failed run: got %d (error %v), want 0", runs, err)
	}

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("next live Run: %v", err)
	}
	if len(run.ReconciledSendIDs) != 1 || run.ReconciledSendIDs[0] != stale.ID {
		t.Errorf("reconciled sends of the next run: got %v, want [%s]", run.ReconciledSendIDs, stale.ID)
	}
}

// A stale send that its late sender records after the live run read it is
// left out of the run, which still succeeds.
func TestStaleSendRecordedMeanwhileSkipped(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	stale := storeStaleSend(t, db, "run_late")
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/webhook"}), clock.Now, &fakeSource{})
	completed := serviceStart.Add(-time.Second)
	late := stale
	late.Success, late.StatusCode, late.ConnectorKind, late.CompletedAt = true, 200, "webhook", &completed
	armed := &atomic.Bool{}
	armed.Store(true)
	// The late sender records its outcome right after the run has read the
	// stale sends.
	err := db.Callback().Query().After("gorm:query").Register("test:record_after_stale_read", func(tx *gorm.DB) {
		if strings.Contains(tx.Statement.SQL.String(), "origin = ") && armed.CompareAndSwap(true, false) {
			if err := models.CompleteDelivery(context.Background(), db, &late); err != nil {
				t.Errorf("late sender's CompleteDelivery: %v", err)
			}
		}
	})
	if err != nil {
		t.Fatalf("register callback: %v", err)
	}

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("live Run: %v", err)
	}
	if armed.Load() {
		t.Fatal("the late sender never recorded its outcome: no stale send query matched")
	}
	if len(run.ReconciledSendIDs) != 0 {
		t.Errorf("reconciled sends: got %v, want none, because the sender recorded its own outcome", run.ReconciledSendIDs)
	}
	if got := deliveryOf(t, service, models.RetryExecution{DeliveryID: stale.ID}); !got.Success {
		t.Errorf("late send: got success %v (class %q), want the sender's success kept", got.Success, got.ErrorClass)
	}
}

// The reconciled count of a live run covers the plain sends it recorded as
// interrupted, in its result and in its stored record.
func TestStaleSendCountedAsReconciled(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	stale := storeStaleSend(t, db, "run_counted")
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/webhook"}), clock.Now, &fakeSource{})

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("live Run: %v", err)
	}
	if len(run.ReconciledSendIDs) != 1 || run.ReconciledSendIDs[0] != stale.ID {
		t.Fatalf("reconciled sends: got %v, want [%s]", run.ReconciledSendIDs, stale.ID)
	}
	if got := run.Counts.ReconciledCount; got != 1 {
		t.Errorf("reconciled count of the result: got %d, want 1", got)
	}
	stored, err := models.RetryWorkerRunByID(context.Background(), db, run.WorkerRunID)
	if err != nil {
		t.Fatalf("RetryWorkerRunByID: %v", err)
	}
	if stored.ReconciledCount != 1 {
		t.Errorf("stored reconciled count: got %d, want 1", stored.ReconciledCount)
	}
	read, err := service.WorkerRun(context.Background(), run.WorkerRunID)
	if err != nil {
		t.Fatalf("WorkerRun: %v", err)
	}
	if read.Counts.ReconciledCount != 1 || len(read.ReconciledExecutions) != 0 || len(read.ReconciledSendIDs) != 1 {
		t.Errorf("run read back: got count %d, %d executions, sends %v; want 1, 0, [%s]",
			read.Counts.ReconciledCount, len(read.ReconciledExecutions), read.ReconciledSendIDs, stale.ID)
	}
}

// A dry run counts the stale sends and executions a live run would record
// as interrupted first, stores that count with the run, and records none.
func TestDryRunCountsWhatLiveRunWouldRecord(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	stale := storeStaleSend(t, db, "run_dry")
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/webhook"}), clock.Now, &fakeSource{})

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, RunRequest{MaxRetryDeliveries: 5, Policy: immediatePolicy(), Schedule: DefaultSchedule()})
	if err != nil {
		t.Fatalf("dry Run: %v", err)
	}
	if run.WouldReconcile == nil {
		t.Fatal("would_reconcile of the dry run: got nil, want the counts")
	}
	if run.WouldReconcile.StaleSendCount != 1 || run.WouldReconcile.InterruptedCount != 0 {
		t.Errorf("would_reconcile: got %+v, want 1 stale send and no execution", *run.WouldReconcile)
	}
	read, err := service.WorkerRun(context.Background(), run.WorkerRunID)
	if err != nil {
		t.Fatalf("WorkerRun: %v", err)
	}
	if read.WouldReconcile == nil || *read.WouldReconcile != *run.WouldReconcile {
		t.Errorf("would_reconcile read back: got %+v, want %+v", read.WouldReconcile, *run.WouldReconcile)
	}
	if got := deliveryOf(t, service, models.RetryExecution{DeliveryID: stale.ID}).State; got != models.DeliveryInFlight {
		t.Errorf("stale send after the dry run: got state %q, want %q", got, models.DeliveryInFlight)
	}

	live, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("live Run: %v", err)
	}
	if live.WouldReconcile != nil {
		t.Errorf("would_reconcile of the live run: got %+v, want none", *live.WouldReconcile)
	}
	if len(live.ReconciledSendIDs) != 1 {
		t.Errorf("reconciled sends of the live run: got %v, want the one the dry run counted", live.ReconciledSendIDs)
	}
}

// A send recorded as interrupted fails now, when the live run finds it, so
// the retry rules wait the delay before its retry instead of letting the
// same run send the message again right after the unknown outcome.
func TestInterruptedSendWaitsDelayBeforeRetry(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	stale := storeStaleSend(t, db, "run_stale")
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/webhook"}), clock.Now, &fakeSource{})
	// The send has been in flight for longer than the one-minute delay.
	policy := Policy{MaxRetryAttempts: 3, RetryDelayMinutes: 1, BackoffMultiplier: 2}

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(policy))
	if err != nil {
		t.Fatalf("live Run: %v", err)
	}
	if len(run.ReconciledSendIDs) != 1 || run.ReconciledSendIDs[0] != stale.ID {
		t.Fatalf("reconciled sends: got %v, want [%s]", run.ReconciledSendIDs, stale.ID)
	}
	if run.Counts.SelectedCount != 0 || len(server.Requests()) != 0 {
		t.Errorf("run that recorded the send: got %d selected and %d requests, want none", run.Counts.SelectedCount, len(server.Requests()))
	}

	clock.Advance(time.Minute + time.Second)
	later, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(policy))
	if err != nil {
		t.Fatalf("later live Run: %v", err)
	}
	if later.Counts.DeliveredCount != 1 || len(server.Requests()) != 1 {
		t.Errorf("run after the delay: got %d delivered and %d requests, want the retry sent once", later.Counts.DeliveredCount, len(server.Requests()))
	}
}
