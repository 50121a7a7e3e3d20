package retry

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// A destination that responds to a live retry with 408 Request Timeout or 425
// Too Early may accept the same request later, so the failure is transient
// and the next plan retries it instead of suppressing it as permanent.
func TestTransientStatusStaysRetryable(t *testing.T) {
	cases := []struct {
		status    int
		wantClass connectors.Class
	}{
		{408, connectors.ClassTimeout},
		{425, connectors.ClassConnectionError},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("HTTP %d", tc.status), func(t *testing.T) {
			db := dbtest.Open(t)
			server := startReceiver(t)
			clock := &testClock{now: serviceStart}
			insertDelivery(t, db, "run_1", "hook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
			path := fmt.Sprintf("/fail/%d/webhook", tc.status)
			service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"hook": path}), clock.Now, &fakeSource{})

			run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
			if err != nil {
				t.Fatalf("live Run: %v", err)
			}
			if run.Counts.FailedCount != 1 {
				t.Fatalf("failed executions: got %d, want 1", run.Counts.FailedCount)
			}

			plan, err := service.Plan(context.Background(), models.SubjectExecutiveReport, immediatePolicy(), "release.manager")
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if len(plan.Decisions) != 1 {
				t.Fatalf("plan decisions: got %d, want 1", len(plan.Decisions))
			}
			decision := plan.Decisions[0]
			if decision.LastErrorClass != string(tc.wantClass) {
				t.Errorf("last_error_class: got %q, want %q", decision.LastErrorClass, tc.wantClass)
			}
			if decision.Action != ActionRetry {
				t.Errorf("action: got %q (%s), want retry", decision.Action, decision.Reason)
			}
		})
	}
}
