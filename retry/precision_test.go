package retry

import (
	"context"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// The plan a POST returns must equal the plan read back, on both
// databases: a backoff multiplier with many digits gives a delay with a
// fraction of a microsecond.
func TestPlanNextRetryAtReadsBackEqual(t *testing.T) {
	db := dbtest.Open(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, nil, clock.Now, &fakeSource{})
	insertDelivery(t, db, "run_1", "slack", false, "server_error", 503, serviceStart.Add(-3*time.Minute), nil)
	insertDelivery(t, db, "run_1", "slack", false, "server_error", 503, serviceStart.Add(-time.Minute), nil)
	policy := Policy{MaxRetryAttempts: 5, RetryDelayMinutes: 1, BackoffMultiplier: 1.23456789}

	created, err := service.Plan(context.Background(), models.SubjectExecutiveReport, policy, "release.manager")
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	stored, err := service.PlanByID(context.Background(), created.RetryPlanID)
	if err != nil {
		t.Fatalf("PlanByID: %v", err)
	}
	if created.NextRetryAt == nil || stored.NextRetryAt == nil {
		t.Fatalf("next_retry_at: created %v, stored %v; want both set", created.NextRetryAt, stored.NextRetryAt)
	}
	if !created.NextRetryAt.Equal(*stored.NextRetryAt) {
		t.Errorf("plan next_retry_at: response %s, read back %s", created.NextRetryAt.Format(time.RFC3339Nano), stored.NextRetryAt.Format(time.RFC3339Nano))
	}
	if len(created.Decisions) == 1 && len(stored.Decisions) == 1 {
		a, b := created.Decisions[0].NextRetryAt, stored.Decisions[0].NextRetryAt
		if a != nil && b != nil && !a.Equal(*b) {
			t.Errorf("decision next_retry_at: response %s, read back %s", a.Format(time.RFC3339Nano), b.Format(time.RFC3339Nano))
		}
	}
}

// A fractional backoff gives a delay that ends inside a microsecond. The
// next retry time is rounded up to the microsecond, and the group is due
// exactly then.
func TestDecideNextRetryAtIsMicrosecond(t *testing.T) {
	policy := Policy{MaxRetryAttempts: 5, RetryDelayMinutes: 1, BackoffMultiplier: 1.23456789}
	lastAt := serviceStart.Add(-time.Minute)
	group := Group{SubjectKind: models.SubjectExecutiveReport, SubjectID: "run_1", SubjectKey: "rep_1", Connector: "webhook",
		FailureCount: 2, Latest: Failure{DeliveryID: "dlv_1", At: lastAt, Class: "server_error", StatusCode: 503}}

	waiting := Decide(policy, group, lastAt, DefaultInFlightTimeout)
	if waiting.Action != ActionWait || waiting.NextRetryAt == nil {
		t.Fatalf("decision right after the failure: got %q with next_retry_at %v, want wait with a time", waiting.Action, waiting.NextRetryAt)
	}
	next := *waiting.NextRetryAt
	if next.Nanosecond()%1000 != 0 {
		t.Errorf("next_retry_at: got %s, want whole microseconds", next.Format(time.RFC3339Nano))
	}
	if next.Before(lastAt.Add(policy.Delay(2))) {
		t.Errorf("next_retry_at: got %s, want no earlier than the end of the delay %s", next.Format(time.RFC3339Nano),
			lastAt.Add(policy.Delay(2)).Format(time.RFC3339Nano))
	}
	if got := Decide(policy, group, next, DefaultInFlightTimeout).Action; got != ActionRetry {
		t.Errorf("decision at next_retry_at: got %q, want %q", got, ActionRetry)
	}
	if got := Decide(policy, group, next.Add(-time.Microsecond), DefaultInFlightTimeout).Action; got != ActionWait {
		t.Errorf("decision a microsecond before next_retry_at: got %q, want %q", got, ActionWait)
	}
}
