package retry

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// A health alert is its fingerprint, so a later plan's success at the
// destination repairs a failed retry of an earlier plan there.
func TestAlertHealthClearsRepairedExecution(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/fail/503/webhook"}), clock.Now, &fakeSource{})
	insertAlertDelivery(t, db, "apl_a", "fp_1", "webhook", serviceStart.Add(-2*time.Hour))

	run, err := service.Run(context.Background(), models.SubjectHealthAlert, liveRequest(DefaultPolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if run.Counts.FailedCount != 1 {
		t.Fatalf("run counts: got %+v, want 1 failed", run.Counts)
	}
	report, err := service.Health(context.Background(), models.SubjectHealthAlert, DefaultHealthParams())
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if report.Counts.FailedExecutionCount != 1 {
		t.Errorf("failed_execution_count before the repair: got %d, want 1", report.Counts.FailedExecutionCount)
	}

	clock.Advance(time.Minute)
	storeAlertDelivery(t, db, "apl_b", "fp_1", "webhook", true, clock.Now())
	report, err = service.Health(context.Background(), models.SubjectHealthAlert, DefaultHealthParams())
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if report.Counts.FailedDeliveryCount != 0 {
		t.Errorf("failed_delivery_count: got %d, want 0", report.Counts.FailedDeliveryCount)
	}
	if report.Counts.FailedExecutionCount != 0 {
		t.Errorf("failed_execution_count after the repair: got %d, want 0", report.Counts.FailedExecutionCount)
	}
	if hasFinding(report, "failed_health_alert_delivery_retry_execution") {
		t.Errorf("findings: got %+v, want no failed retry execution finding", report.Findings)
	}
}

// A retry whose message cannot be built is skipped without a delivery, so
// its group stays first in the queue. Later runs send the other due
// retries first and still try it when there is room.
func TestUnavailableMessageGoesLast(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	fixed := &fakeSource{}
	source := MessageSourceFunc(func(ctx context.Context, subjectID, connector string) (connectors.Message, error) {
		if subjectID == "run_broken" {
			return connectors.Message{}, errors.New("schedule run unreadable")
		}
		return fixed.Message(ctx, subjectID, connector)
	})
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/ok/webhook"}), clock.Now, source)
	insertDelivery(t, db, "run_broken", "webhook", false, "server_error", 503, serviceStart.Add(-3*time.Hour), nil)
	insertDelivery(t, db, "run_ok", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)

	request := liveRequest(DefaultPolicy())
	request.MaxRetryDeliveries = 1
	var selected []string
	for range 3 {
		run, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		for _, decision := range run.SelectedDecisions {
			selected = append(selected, decision.SubjectID)
		}
		clock.Advance(time.Hour)
	}
	want := []string{"run_broken", "run_ok", "run_broken"}
	if len(selected) != len(want) {
		t.Fatalf("selected: got %v, want %v", selected, want)
	}
	for i := range want {
		if selected[i] != want[i] {
			t.Errorf("selected: got %v, want %v", selected, want)
			break
		}
	}
	if got := len(server.Requests()); got != 1 {
		t.Errorf("requests to the receiver: got %d, want 1 (the retry of run_ok)", got)
	}
}

// Each execution completes when its own send returned, which is also its
// delivery's completion time, not when the run recorded the outcomes.
func TestExecutionCompletesWithItsSend(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	var ticks atomic.Int64
	// Every reading of the clock is a millisecond later than the one before.
	now := func() time.Time {
		return serviceStart.Add(time.Duration(ticks.Add(1)) * time.Millisecond)
	}
	registry := webhookRegistry(t, server.URL, map[string]string{"webhook": "/ok/webhook", "failing": "/fail/503/failing"})
	service := newTestService(db, registry, now, &fakeSource{})
	service.Concurrency = 1
	insertDelivery(t, db, "run_a", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	insertDelivery(t, db, "run_b", "failing", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(DefaultPolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var executions []models.RetryExecution
	if err := db.Where("worker_run_id = ?", run.WorkerRunID).Find(&executions).Error; err != nil {
		t.Fatalf("read executions: %v", err)
	}
	if len(executions) != 2 {
		t.Fatalf("executions: got %d, want 2", len(executions))
	}
	for _, execution := range executions {
		var record models.Delivery
		if err := db.Where("id = ?", execution.DeliveryID).Take(&record).Error; err != nil {
			t.Fatalf("read delivery %s: %v", execution.DeliveryID, err)
		}
		if execution.CompletedAt == nil || record.CompletedAt == nil || !execution.CompletedAt.Equal(*record.CompletedAt) {
			t.Errorf("execution %s completed at %v, its delivery at %v; want the same time", execution.ID, execution.CompletedAt, record.CompletedAt)
		}
	}
	if executions[0].CompletedAt != nil && executions[1].CompletedAt != nil && executions[0].CompletedAt.Equal(*executions[1].CompletedAt) {
		t.Errorf("both executions completed at %v; want the time each send returned", executions[0].CompletedAt)
	}
}
