package alerting_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/models"
)

// markInFlight turns a recorded delivery back into one still in flight, as
// a server stopped between sending it and recording its outcome leaves it.
func markInFlight(t *testing.T, f *fixture, deliveryID string) {
	t.Helper()
	err := f.db.Model(&models.Delivery{}).Where("id = ?", deliveryID).
		Updates(map[string]any{"state": models.DeliveryInFlight, "success": false, "completed_at": nil}).Error
	if err != nil {
		t.Fatalf("mark delivery %s in flight: %v", deliveryID, err)
	}
}

// A send of an alert whose earlier delivery a stopped server left in flight
// does not send it to that destination again, because the destination may
// have received it. Once that delivery is older than models.StaleSendAfter,
// a send goes out again.
func TestSendSuppressesDeliveryLeftInFlight(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/a"})
	first := f.deliver(t, nil)
	if len(first.Delivery) != 1 || !first.Success {
		t.Fatalf("first send: got %d deliveries, success %v; want 1 successful", len(first.Delivery), first.Success)
	}
	stopped := first.Delivery[0]
	markInFlight(t, f, stopped.DeliveryID)

	f.clock.Advance(time.Minute)
	second := f.deliver(t, nil)
	if len(second.Delivery) != 0 {
		t.Errorf("second send: got %d deliveries, want 0", len(second.Delivery))
	}
	if got := len(f.receiver.Requests()); got != 1 {
		t.Errorf("receiver requests after the second send: got %d, want 1", got)
	}
	suppressed, ok := suppressedProviders(second)["alpha"]
	if !ok {
		t.Fatalf("second send: alpha not suppressed; suppressed %+v", second.Plan.SuppressedProviders)
	}
	if suppressed.Reason != alerting.ReasonInFlight {
		t.Errorf("suppression reason: got %q, want %q", suppressed.Reason, alerting.ReasonInFlight)
	}
	if suppressed.DeliveryID != stopped.DeliveryID {
		t.Errorf("suppressing delivery: got %q, want %q", suppressed.DeliveryID, stopped.DeliveryID)
	}
	if suppressed.LastDeliveryAt == nil || !suppressed.LastDeliveryAt.Equal(stopped.StartedAt) {
		t.Errorf("suppression time: got %v, want the start %v", suppressed.LastDeliveryAt, stopped.StartedAt)
	}

	f.clock.Advance(models.StaleSendAfter)
	third := f.deliver(t, nil)
	if len(third.Delivery) != 1 {
		t.Errorf("send after the in-flight delivery went stale: got %d deliveries, want 1", len(third.Delivery))
	}
	if got := len(f.receiver.Requests()); got != 2 {
		t.Errorf("receiver requests after the third send: got %d, want 2", got)
	}
}

// A forced send still sends beside a delivery left in flight, as it does
// beside a success.
func TestForcedSendIgnoresDeliveryLeftInFlight(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/a"})
	first := f.deliver(t, nil)
	markInFlight(t, f, first.Delivery[0].DeliveryID)

	f.clock.Advance(time.Minute)
	forced := f.deliver(t, func(req *alerting.DeliverRequest) { req.Force = true })
	if len(forced.Delivery) != 1 {
		t.Errorf("forced send: got %d deliveries, want 1", len(forced.Delivery))
	}
}

// A live retry of an alert's failed delivery is skipped while a delivery of
// the same alert to that destination from another plan, left by a stopped
// server, is still in flight, because that delivery may have arrived.
func TestRetryYieldsToAlertDeliveryLeftInFlight(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/fail/500/alpha"})
	failed := f.deliver(t, nil)
	if failed.Success {
		t.Fatalf("first send: got success, want a failure from the failing destination")
	}
	f.clock.Advance(time.Minute)
	stopped := f.deliver(t, nil)
	if len(stopped.Delivery) != 1 {
		t.Fatalf("second send: got %d deliveries, want 1", len(stopped.Delivery))
	}
	markInFlight(t, f, stopped.Delivery[0].DeliveryID)
	f.configure(t, map[string]string{"alpha": "/webhook/alpha"})
	f.clock.Advance(time.Minute)
	received := len(f.receiver.Requests())

	worker := alertRetryWorker(f, f.registry)
	run, err := worker.Run(context.Background(), models.SubjectHealthAlert, liveAlertRetry())
	if err != nil {
		t.Fatalf("retry Run: %v", err)
	}
	if run.Counts.DeliveredCount != 0 {
		t.Errorf("delivered retries: got %d, want 0", run.Counts.DeliveredCount)
	}
	if run.Counts.SkippedCount != 1 {
		t.Errorf("skipped retries: got %d, want 1", run.Counts.SkippedCount)
	}
	if len(run.Executions) == 1 && !strings.Contains(run.Executions[0].Reason, "is still in flight") {
		t.Errorf("skip reason: got %q, want it to name the delivery in flight", run.Executions[0].Reason)
	}
	if got := len(f.receiver.Requests()) - received; got != 0 {
		t.Errorf("requests during the delivery in flight: got %d, want 0", got)
	}
}
