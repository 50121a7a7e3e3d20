package models_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// completedAlertDelivery returns a completed health alert delivery of one
// alert plan to alpha, created at created and completed at completed.
func completedAlertDelivery(id, planID string, success bool, created, completed time.Time) models.Delivery {
	d := models.Delivery{
		ID: id, SubjectKind: models.SubjectHealthAlert, SubjectID: planID, SubjectKey: "fp_shared",
		Connector: "alpha", State: models.DeliveryCompleted, Success: success, Attempts: "[]",
		RequestSummary: "{}", IdempotencyKey: "idem-" + id, Origin: models.OriginSend, Actor: "release.manager",
		StartedAt: created, CompletedAt: &completed, CreatedAt: created,
	}
	if !success {
		d.StatusCode, d.ErrorClass, d.AttemptCount = 503, "server_error", 1
	}
	return d
}

// Two plans of one alert are sent to alpha at overlapping times: the
// success of plan_b starts first and ends last, after plan_a's failure.
// The retry rules suppress plan_a's group, because the alert reached alpha
// after that failure, so the dashboard must not count it as open either.
func TestOpenFailureCountMatchesRetryRules(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	start := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	success := completedAlertDelivery("dlv_success_b", "plan_b", true, start, start.Add(40*time.Second))
	failure := completedAlertDelivery("dlv_failure_a", "plan_a", false, start.Add(10*time.Second), start.Add(20*time.Second))
	if err := models.CreateDeliveries(db, []models.Delivery{success, failure}); err != nil {
		t.Fatalf("CreateDeliveries: %v", err)
	}

	rules := models.GroupRules{
		Now: start.Add(time.Hour), MaxAttempts: 3, Delays: []time.Duration{time.Minute, 2 * time.Minute},
		SuppressDeliveredKey: true,
	}
	buckets, err := models.TallyOpenGroups(ctx, db, models.SubjectHealthAlert, rules)
	if err != nil {
		t.Fatalf("TallyOpenGroups: %v", err)
	}
	suppressed := 0
	for _, bucket := range buckets {
		suppressed += bucket.Suppressed
	}
	if suppressed != 1 {
		t.Fatalf("retry rules: got %d suppressed groups, want plan_a's group suppressed by the later completed success", suppressed)
	}

	open, err := models.CountOpenFailureGroups(ctx, db, models.SubjectHealthAlert)
	if err != nil {
		t.Fatalf("CountOpenFailureGroups: %v", err)
	}
	if open != 0 {
		t.Errorf("open failure groups: got %d, want 0, because alpha received the alert at %s, after the failure at %s",
			open, success.CompletedAt.Format(time.TimeOnly), failure.CompletedAt.Format(time.TimeOnly))
	}
}

// Plans a and b of one alert failed at alpha, and b's failure is newer, so
// the health alert rules suppress a's group and select only b's. The rules
// of executive reports do not compare groups that share a subject key.
func TestRulesSuppressOlderFailureOfAlert(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	start := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	older := completedAlertDelivery("dlv_failure_a", "plan_a", false, start, start.Add(10*time.Second))
	newer := completedAlertDelivery("dlv_failure_b", "plan_b", false, start.Add(time.Minute), start.Add(time.Minute+10*time.Second))
	if err := models.CreateDeliveries(db, []models.Delivery{older, newer}); err != nil {
		t.Fatalf("CreateDeliveries: %v", err)
	}

	rules := models.GroupRules{Now: start.Add(time.Hour), MaxAttempts: 3, Delays: []time.Duration{time.Minute, 2 * time.Minute}}
	for _, tc := range []struct {
		name           string
		deliveredKey   bool
		wantSuppressed int
		wantDue        string
	}{
		{name: "health alert rules", deliveredKey: true, wantSuppressed: 1, wantDue: "plan_b"},
		{name: "rules without subject keys", deliveredKey: false, wantSuppressed: 0, wantDue: "plan_a,plan_b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules.SuppressDeliveredKey = tc.deliveredKey
			buckets, err := models.TallyOpenGroups(ctx, db, models.SubjectHealthAlert, rules)
			if err != nil {
				t.Fatalf("TallyOpenGroups: %v", err)
			}
			suppressed := 0
			for _, bucket := range buckets {
				suppressed += bucket.Suppressed
			}
			if suppressed != tc.wantSuppressed {
				t.Errorf("suppressed groups: got %d, want %d", suppressed, tc.wantSuppressed)
			}

			due, err := models.DueDeliveryGroups(ctx, db, models.SubjectHealthAlert, rules, 10)
			if err != nil {
				t.Fatalf("DueDeliveryGroups: %v", err)
			}
			var plans []string
			for _, group := range due {
				plans = append(plans, group.SubjectID)
			}
			if got := strings.Join(plans, ","); got != tc.wantDue {
				t.Errorf("due groups: got %q, want %q", got, tc.wantDue)
			}
		})
	}
}

// A send of plan_a that a stopped server left in flight is recorded as
// interrupted long after plan_b delivered the same alert to alpha. The
// alert reached alpha after that send started, so the retry rules suppress
// plan_a's group and the dashboard counts no open failure.
func TestInterruptedSendClosedByLaterSuccess(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	start := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	interrupted := completedAlertDelivery("dlv_interrupted_a", "plan_a", false, start, start.Add(15*time.Minute))
	interrupted.ErrorClass, interrupted.StatusCode = "interrupted", 0
	success := completedAlertDelivery("dlv_success_b", "plan_b", true, start.Add(time.Minute), start.Add(time.Minute+10*time.Second))
	if err := models.CreateDeliveries(db, []models.Delivery{interrupted, success}); err != nil {
		t.Fatalf("CreateDeliveries: %v", err)
	}

	rules := models.GroupRules{
		Now: start.Add(time.Hour), MaxAttempts: 3, Delays: []time.Duration{time.Minute, 2 * time.Minute},
		SuppressDeliveredKey: true,
	}
	buckets, err := models.TallyOpenGroups(ctx, db, models.SubjectHealthAlert, rules)
	if err != nil {
		t.Fatalf("TallyOpenGroups: %v", err)
	}
	suppressed := 0
	for _, bucket := range buckets {
		suppressed += bucket.Suppressed
	}
	if suppressed != 1 {
		t.Errorf("retry rules: got %d suppressed groups, want plan_a's group suppressed", suppressed)
	}

	open, err := models.CountOpenFailureGroups(ctx, db, models.SubjectHealthAlert)
	if err != nil {
		t.Fatalf("CountOpenFailureGroups: %v", err)
	}
	if open != 0 {
		t.Errorf("open failure groups: got %d, want 0", open)
	}
}
