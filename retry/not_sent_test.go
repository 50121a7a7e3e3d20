package retry

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// A confirmed live run names each confirmed retry it did not send and why:
// one closed by a later success, one whose group failed again since, while
// the third is sent.
func TestConfirmedRunNamesRetriesNotSent(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	closed := insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-3*time.Hour), nil)
	changed := insertDelivery(t, db, "run_2", "webhook", false, "server_error", 503, serviceStart.Add(-3*time.Hour+time.Second), nil)
	sent := insertDelivery(t, db, "run_3", "webhook", false, "server_error", 503, serviceStart.Add(-3*time.Hour+2*time.Second), nil)
	policy := immediatePolicy()
	policy.MaxRetryAttempts = 10
	confirmation := &Confirmation{Destinations: []string{"webhook"}, Count: 3, Retries: []string{closed.ID, changed.ID, sent.ID}}

	// While the confirmation is open, run_1 is delivered and run_2 fails
	// again.
	insertDelivery(t, db, "run_1", "webhook", true, "", 200, serviceStart.Add(-time.Hour), nil)
	newer := insertDelivery(t, db, "run_2", "webhook", false, "timeout", 0, serviceStart.Add(-time.Hour), nil)

	request := liveRequest(policy)
	request.Confirmed = confirmation
	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
	if err != nil {
		t.Fatalf("confirmed live Run: %v", err)
	}
	if run.Counts.SelectedCount != 1 || run.Counts.DeliveredCount != 1 {
		t.Errorf("counts: got %+v, want the one still due selected and delivered", run.Counts)
	}
	if len(run.ConfirmedNotSent) != 2 {
		t.Fatalf("confirmed_not_sent: got %+v, want 2 entries", run.ConfirmedNotSent)
	}
	byID := map[string]NotSentRetry{}
	for _, item := range run.ConfirmedNotSent {
		byID[item.FailedDeliveryID] = item
	}
	if got := byID[closed.ID]; got.Cause != NotSentClosed || got.Provider != "webhook" || got.SubjectID != "run_1" {
		t.Errorf("closed retry: got %+v, want cause %q for run_1 to webhook", got, NotSentClosed)
	}
	if got := byID[changed.ID]; got.Cause != NotSentRetriedSince {
		t.Errorf("changed retry: got %+v, want cause %q", got, NotSentRetriedSince)
	}
	if got := byID[changed.ID].Reason; !strings.Contains(got, newer.ID) {
		t.Errorf("changed retry reason: got %q, want it to name the newer failure %s", got, newer.ID)
	}
	if _, ok := byID[sent.ID]; ok {
		t.Errorf("confirmed_not_sent lists %s, which the run sent", sent.ID)
	}
	encoded, err := json.Marshal(run)
	if err != nil {
		t.Fatalf("encode the run: %v", err)
	}
	if !strings.Contains(string(encoded), `"confirmed_not_sent":[{"failed_delivery_id":"`) {
		t.Errorf("run JSON: got %s, want confirmed_not_sent", encoded)
	}

	// The run stores the list, so reading the run back shows it too.
	stored, err := service.WorkerRun(context.Background(), run.WorkerRunID)
	if err != nil {
		t.Fatalf("WorkerRun: %v", err)
	}
	want, _ := json.Marshal(run.ConfirmedNotSent)
	got, _ := json.Marshal(stored.ConfirmedNotSent)
	if string(got) != string(want) {
		t.Errorf("stored confirmed_not_sent: got %s, want %s", got, want)
	}
}

// A confirmed retry whose group has a retry in flight elsewhere is named
// with the wait reason.
func TestConfirmedRunNamesRetryInFlight(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	busy := insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-3*time.Hour), nil)
	sent := insertDelivery(t, db, "run_2", "webhook", false, "server_error", 503, serviceStart.Add(-3*time.Hour+time.Second), nil)
	confirmation := &Confirmation{Destinations: []string{"webhook"}, Count: 2, Retries: []string{busy.ID, sent.ID}}

	// Another run has claimed run_1 and is sending it.
	other := liveRequest(immediatePolicy())
	other.MaxRetryDeliveries = 1
	first, err := service.Run(context.Background(), models.SubjectExecutiveReport, other)
	if err != nil || len(first.Executions) != 1 {
		t.Fatalf("other live run: got %+v, %v; want one execution", first.Counts, err)
	}
	execution := first.Executions[0]
	if err := db.Model(&models.RetryExecution{}).Where("id = ?", execution.ExecutionID).
		Updates(map[string]any{"outcome": models.ExecutionInFlight, "completed_at": nil}).Error; err != nil {
		t.Fatalf("put the execution back in flight: %v", err)
	}
	if err := db.Exec("UPDATE deliveries SET state = ?, success = ?, completed_at = NULL WHERE id = ?", models.DeliveryInFlight, false, execution.DeliveryID).Error; err != nil {
		t.Fatalf("put the delivery back in flight: %v", err)
	}
	clock.Advance(time.Second)

	request := liveRequest(immediatePolicy())
	request.Confirmed = confirmation
	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
	if err != nil {
		t.Fatalf("confirmed live Run: %v", err)
	}
	if len(run.ConfirmedNotSent) != 1 {
		t.Fatalf("confirmed_not_sent: got %+v, want 1 entry", run.ConfirmedNotSent)
	}
	got := run.ConfirmedNotSent[0]
	if got.FailedDeliveryID != busy.ID || got.Cause != ActionWait {
		t.Errorf("retry in flight: got %+v, want %s with cause %q", got, busy.ID, ActionWait)
	}
	if !strings.Contains(got.Reason, "in flight") {
		t.Errorf("retry in flight reason: got %q, want it to say a retry is in flight", got.Reason)
	}
}

// A listed id that names a successful delivery, as a hand-written form can,
// is not reported as a closed failure.
func TestConfirmedSuccessIDNotCalledClosed(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	failed := insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-3*time.Hour), nil)
	success := insertDelivery(t, db, "run_9", "webhook", true, "", 200, serviceStart.Add(-3*time.Hour), nil)

	request := liveRequest(immediatePolicy())
	request.Confirmed = &Confirmation{Destinations: []string{"webhook"}, Count: 2, Retries: []string{failed.ID, success.ID}}
	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
	if err != nil {
		t.Fatalf("confirmed live Run: %v", err)
	}
	if len(run.ConfirmedNotSent) != 1 {
		t.Fatalf("confirmed_not_sent: got %+v, want 1 entry", run.ConfirmedNotSent)
	}
	got := run.ConfirmedNotSent[0]
	if got.Cause != NotSentUnknown {
		t.Errorf("cause: got %q (%s), want %q", got.Cause, got.Reason, NotSentUnknown)
	}
	if !strings.Contains(got.Reason, "is not a failed") {
		t.Errorf("reason: got %q, want it to say the delivery is not a failed one", got.Reason)
	}
}
