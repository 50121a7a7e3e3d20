package retry

import (
	"context"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// openAlertDestinations returns the dashboard's count of (alert,
// destination) pairs with an open failure.
func openAlertDestinations(t *testing.T, service *Service) int64 {
	t.Helper()
	counts, err := models.AuditCounts(context.Background(), service.DB)
	if err != nil {
		t.Fatalf("AuditCounts: %v", err)
	}
	return counts[models.OpenAlertDestinationCounter]
}

// TestReconciledRetryKeepsLaterSuccess checks that an alert retry left in
// flight, and recorded as interrupted only after another plan delivered the
// same alert to its destination, does not reopen that destination's
// failure. The interrupted attempt started before the success, so the alert
// reached the destination after the attempt began, and a retry would send
// it a second time.
func TestReconciledRetryKeepsLaterSuccess(t *testing.T) {
	db, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	insertAlertDelivery(t, db, "apl_failed", "fp_1", "webhook", serviceStart.Add(-2*time.Hour))
	stopped := leaveInFlightOf(t, models.SubjectHealthAlert, databaseURL, server.URL, clock, "webhook")
	storeAlertDelivery(t, db, "apl_delivered", "fp_1", "webhook", true, serviceStart.Add(30*time.Second))
	clock.Advance(2 * time.Minute)

	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/webhook"}), clock.Now, &fakeSource{})
	run, err := service.Run(context.Background(), models.SubjectHealthAlert, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	if got := run.Counts.ReconciledCount; got != 1 {
		t.Errorf("reconciled: got %d, want 1", got)
	}
	if got := deliveryOf(t, service, stopped).ErrorClass; got != ClassInterrupted {
		t.Errorf("class of the stopped retry's delivery: got %q, want %q", got, ClassInterrupted)
	}
	if got := run.Counts.SelectedCount; got != 0 {
		t.Errorf("selected: got %d, want 0 because the alert was delivered", got)
	}
	if got := len(server.Requests()); got != 1 {
		t.Errorf("receiver requests: got %d, want 1 (the stopped run's send only)", got)
	}
	if got := openAlertDestinations(t, service); got != 0 {
		t.Errorf("open failed alert destinations: got %d, want 0", got)
	}
}

// TestStaleAlertSendKeepsLaterSuccess checks the same for a plain send of
// an alert that a stopped server left in flight. A success of the alert at
// that destination after the send started closes the send's failure when a
// live run records it as interrupted.
func TestStaleAlertSendKeepsLaterSuccess(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	startedAt := serviceStart.Add(-StaleSendAfter - time.Minute)
	stale := storedAlertDelivery("dlv_stale", "apl_stopped", "fp_1", "webhook", false, "", startedAt, nil)
	stale.Origin = models.OriginSend
	storeDeliveries(t, db, stale)
	storeAlertDelivery(t, db, "apl_delivered", "fp_1", "webhook", true, serviceStart.Add(-time.Minute))

	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/webhook"}), clock.Now, &fakeSource{})
	run, err := service.Run(context.Background(), models.SubjectHealthAlert, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	if len(run.ReconciledSendIDs) != 1 || run.ReconciledSendIDs[0] != stale.ID {
		t.Errorf("reconciled sends: got %v, want only %s", run.ReconciledSendIDs, stale.ID)
	}
	if got := run.Counts.SelectedCount; got != 0 {
		t.Errorf("selected: got %d, want 0 because the alert was delivered", got)
	}
	if got := len(server.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
	if got := openAlertDestinations(t, service); got != 0 {
		t.Errorf("open failed alert destinations: got %d, want 0", got)
	}
}
