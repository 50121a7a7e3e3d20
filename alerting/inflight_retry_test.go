package alerting_test

import (
	"context"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/models"
)

// A delivery that a stopped server left in flight is recorded as
// interrupted by a later live run. When the alert reached that destination
// after the interrupted delivery started, by a forced send or by a send
// after the in-flight suppression ended, the run does not send it again.
func TestRetrySkipsInterruptedSendDeliveredSince(t *testing.T) {
	for name, later := range map[string]func(*alerting.DeliverRequest){
		"forced send":            func(req *alerting.DeliverRequest) { req.Force = true },
		"send after suppression": nil,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, map[string]string{"alpha": "/webhook/a"})
			first := f.deliver(t, nil)
			if len(first.Delivery) != 1 {
				t.Fatalf("first send: got %d deliveries, want 1", len(first.Delivery))
			}
			markInFlight(t, f, first.Delivery[0].DeliveryID)

			if later == nil {
				f.clock.Advance(models.StaleSendAfter + time.Minute)
			} else {
				f.clock.Advance(time.Minute)
			}
			second := f.deliver(t, later)
			if len(second.Delivery) != 1 || !second.Success {
				t.Fatalf("second send: got %d deliveries, success %v; want 1 successful", len(second.Delivery), second.Success)
			}
			f.clock.Advance(models.StaleSendAfter + time.Minute)
			received := len(f.receiver.Requests())

			worker := alertRetryWorker(f, f.registry)
			run, err := worker.Run(context.Background(), models.SubjectHealthAlert, liveAlertRetry())
			if err != nil {
				t.Fatalf("retry Run: %v", err)
			}
			if run.Counts.ReconciledCount != 1 {
				t.Errorf("reconciled: got %d, want the interrupted send", run.Counts.ReconciledCount)
			}
			if run.Counts.DeliveredCount != 0 {
				t.Errorf("delivered retries: got %d, want 0 because the alert reached alpha after the interrupted send started", run.Counts.DeliveredCount)
			}
			if got := len(f.receiver.Requests()) - received; got != 0 {
				t.Errorf("requests during the retry run: got %d, want 0", got)
			}
		})
	}
}
