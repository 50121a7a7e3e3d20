package retry

import (
	"context"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// A destination responded 429 with a Retry-After a day ahead, and a later
// delivery of the same report there timed out without one. The plan and a
// worker run both wait for the 429's Retry-After time.
func TestEarlierRetryAfterHoldsAfterTimeout(t *testing.T) {
	db := dbtest.Open(t)
	service := newTestService(db, nil, (&testClock{now: serviceStart}).Now, &fakeSource{})
	first := serviceStart.Add(-3 * time.Hour)
	retryAfter := first.Add(24 * time.Hour)
	insertDelivery(t, db, "run_limited", "slack", false, "rate_limited", 429, first, &retryAfter)
	insertDelivery(t, db, "run_limited", "slack", false, "timeout", 0, first.Add(5*time.Minute), nil)

	plan, err := service.Plan(context.Background(), models.SubjectExecutiveReport, DefaultPolicy(), "release.manager")
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if len(plan.Decisions) != 1 {
		t.Fatalf("plan decisions: got %d, want 1", len(plan.Decisions))
	}
	decision := plan.Decisions[0]
	if decision.Action != ActionWait {
		t.Errorf("action: got %q (%s), want wait", decision.Action, decision.Reason)
	}
	if want := "the destination asked to wait (HTTP 429, Retry-After)"; decision.Reason != want {
		t.Errorf("reason: got %q, want %q", decision.Reason, want)
	}
	if decision.NextRetryAt == nil || !decision.NextRetryAt.Equal(retryAfter) {
		t.Errorf("next_retry_at: got %v, want the Retry-After time %s", decision.NextRetryAt, retryAfter)
	}
	if decision.LastErrorClass != "timeout" {
		t.Errorf("last_error_class: got %q, want timeout, the newest failure", decision.LastErrorClass)
	}

	request := RunRequest{MaxRetryDeliveries: 5, Policy: DefaultPolicy(), Schedule: DefaultSchedule(), Actor: "release.manager"}
	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
	if err != nil {
		t.Fatalf("dry Run: %v", err)
	}
	if run.Counts.SelectedCount != 0 {
		t.Errorf("selected: got %d, want 0 before the Retry-After time", run.Counts.SelectedCount)
	}
	if run.OpenFailures.WaitCount != 1 {
		t.Errorf("open_failures wait_count: got %d, want 1", run.OpenFailures.WaitCount)
	}
	if next := run.OpenFailures.NextRetryAt; next == nil || next.Sub(retryAfter).Abs() > time.Millisecond {
		t.Errorf("open_failures next_retry_at: got %v, want %s", next, retryAfter)
	}
}

// The reason names an e-mail server's earlier reply code as SMTP even when
// the newest failure has no reply code.
func TestEarlierRetryAfterReasonNamesProtocol(t *testing.T) {
	db := dbtest.Open(t)
	service := newTestService(db, nil, (&testClock{now: serviceStart}).Now, &fakeSource{})
	first := serviceStart.Add(-3 * time.Hour)
	retryAfter := serviceStart.Add(time.Hour)
	insertDeliveryOfKind(t, db, "email", "run_mail", "mail", false, "rate_limited", 421, first, &retryAfter)
	insertDeliveryOfKind(t, db, "email", "run_mail", "mail", false, "connection_error", 0, first.Add(time.Minute), nil)

	plan, err := service.Plan(context.Background(), models.SubjectExecutiveReport, DefaultPolicy(), "release.manager")
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if len(plan.Decisions) != 1 {
		t.Fatalf("plan decisions: got %d, want 1", len(plan.Decisions))
	}
	if want := "the destination asked to wait (SMTP 421, Retry-After)"; plan.Decisions[0].Reason != want {
		t.Errorf("reason: got %q, want %q", plan.Decisions[0].Reason, want)
	}
}

// A success closes a group's failures and their Retry-After with them, so a
// new failure without one is not held back by the old time.
func TestSuccessClearsRetryAfter(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	service := newTestService(db, nil, (&testClock{now: serviceStart}).Now, &fakeSource{})
	first := serviceStart.Add(-3 * time.Hour)
	retryAfter := serviceStart.Add(24 * time.Hour)
	insertDelivery(t, db, "run_closed", "slack", false, "rate_limited", 429, first, &retryAfter)
	insertDelivery(t, db, "run_closed", "slack", true, "", 200, first.Add(time.Minute), nil)

	key := models.DeliveryGroupKey{SubjectID: "run_closed", Connector: "slack"}
	groups, err := models.DeliveryGroupsByKey(ctx, db, models.SubjectExecutiveReport, []models.DeliveryGroupKey{key})
	if err != nil {
		t.Fatalf("DeliveryGroupsByKey: %v", err)
	}
	closed := groups[key]
	if closed.FailureCount != 0 || closed.LastRetryAfter != nil || closed.RetryAfterStatusCode != 0 || closed.RetryAfterErrorClass != "" {
		t.Errorf("closed group: got %d failures, Retry-After %v from %d %q; want 0 failures and no Retry-After",
			closed.FailureCount, closed.LastRetryAfter, closed.RetryAfterStatusCode, closed.RetryAfterErrorClass)
	}

	insertDelivery(t, db, "run_closed", "slack", false, "timeout", 0, first.Add(2*time.Minute), nil)
	plan, err := service.Plan(ctx, models.SubjectExecutiveReport, DefaultPolicy(), "release.manager")
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if len(plan.Decisions) != 1 {
		t.Fatalf("plan decisions: got %d, want 1", len(plan.Decisions))
	}
	if plan.Decisions[0].Action != ActionRetry {
		t.Errorf("action: got %q (%s), want retry: the Retry-After belonged to a closed failure", plan.Decisions[0].Action, plan.Decisions[0].Reason)
	}
}
