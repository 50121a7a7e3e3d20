package retry

import (
	"context"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// A plan's reasons name an e-mail server's reply code as SMTP and a web
// destination's as HTTP, as the delivery that failed recorded them.
func TestPlanReasonReplyProtocol(t *testing.T) {
	db := dbtest.Open(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, nil, clock.Now, &fakeSource{})
	later := serviceStart.Add(time.Hour)
	insertDeliveryOfKind(t, db, "email", "run_mail_auth", "mail", false, "auth_error", 535, serviceStart.Add(-2*time.Hour), nil)
	insertDeliveryOfKind(t, db, "email", "run_mail_busy", "mail", false, "rate_limited", 421, serviceStart.Add(-2*time.Hour), &later)
	insertDeliveryOfKind(t, db, "webhook", "run_hook_gone", "hook", false, "gone", 410, serviceStart.Add(-2*time.Hour), nil)

	plan, err := service.Plan(context.Background(), models.SubjectExecutiveReport, DefaultPolicy(), "release.manager")
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	want := map[string]string{
		"run_mail_auth": "permanent failure: the destination rejected the credentials (SMTP 535); fix the connector credentials, then deliver again",
		"run_mail_busy": "the destination asked to wait (SMTP 421, Retry-After)",
		"run_hook_gone": "permanent failure: the destination is gone (HTTP 410); fix the destination, then deliver again",
	}
	if len(plan.Decisions) != len(want) {
		t.Fatalf("decisions: got %d, want %d (%+v)", len(plan.Decisions), len(want), plan.Decisions)
	}
	for _, decision := range plan.Decisions {
		if decision.Reason != want[decision.SubjectID] {
			t.Errorf("reason of %s:\n got %q\nwant %q", decision.SubjectID, decision.Reason, want[decision.SubjectID])
		}
	}
}
