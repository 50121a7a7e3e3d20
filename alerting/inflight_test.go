package alerting_test

import (
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
