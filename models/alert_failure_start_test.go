package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// Three plans of one alert are sent to alpha at overlapping times. plan_a's
// send starts first and fails last, plan_c's succeeds while it runs, and
// plan_b's starts after that success and fails before plan_a's. The retry
// rules take plan_a's failure as the latest, by completion, and the success
// came after it started, so they retry nothing. The dashboard must then
// count no open failure either.
func TestOpenFailureCountFollowsLatestCompletion(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	start := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	slow := completedAlertDelivery("dlv_slow_a", "plan_a", false, start, start.Add(30*time.Second))
	success := completedAlertDelivery("dlv_success_c", "plan_c", true, start.Add(2*time.Second), start.Add(5*time.Second))
	quick := completedAlertDelivery("dlv_quick_b", "plan_b", false, start.Add(10*time.Second), start.Add(12*time.Second))
	if err := models.CreateDeliveries(db, []models.Delivery{slow, success, quick}); err != nil {
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
	groups, suppressed := 0, 0
	for _, bucket := range buckets {
		groups += bucket.Groups
		suppressed += bucket.Suppressed
	}
	if groups != 2 || suppressed != 2 {
		t.Fatalf("retry rules: got %d of %d groups suppressed, want 2 of 2", suppressed, groups)
	}

	open, err := models.CountOpenFailureGroups(ctx, db, models.SubjectHealthAlert)
	if err != nil {
		t.Fatalf("CountOpenFailureGroups: %v", err)
	}
	if open != 0 {
		t.Errorf("open failure groups: got %d, want 0 as the retry rules suppress every group", open)
	}
}

// Deliveries stored before the failure of an alert was dated at its start
// keep their counts right through the migration that changes that date: the
// dashboard's running count of open (alert, destination) pairs equals a
// direct count afterwards.
func TestAlertFailureStartMigrationCounts(t *testing.T) {
	databaseURL := dbtest.EmptyURL(t)
	db := dbtest.OpenExisting(t, databaseURL, dbtest.Options{})
	models.MigrateUpTo(t, db, 69)
	ctx := context.Background()
	start := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

	// fp_shared on alpha: an interrupted send recorded long after a success.
	interrupted := completedAlertDelivery("dlv_interrupted_a", "plan_a", false, start, start.Add(15*time.Minute))
	interrupted.ErrorClass = "interrupted"
	success := completedAlertDelivery("dlv_success_b", "plan_b", true, start.Add(time.Minute), start.Add(time.Minute+10*time.Second))
	// fp_open on beta: a failure that stays open.
	failure := completedAlertDelivery("dlv_failure_c", "plan_c", false, start, start.Add(5*time.Second))
	failure.SubjectKey, failure.Connector = "fp_open", "beta"
	// fp_overlap on gamma: the failure that completed last started before
	// a success, and another failure started after that success.
	overlap := []models.Delivery{
		completedAlertDelivery("dlv_slow_d", "plan_d", false, start, start.Add(30*time.Second)),
		completedAlertDelivery("dlv_success_e", "plan_e", true, start.Add(2*time.Second), start.Add(5*time.Second)),
		completedAlertDelivery("dlv_quick_f", "plan_f", false, start.Add(10*time.Second), start.Add(12*time.Second)),
	}
	for i := range overlap {
		overlap[i].SubjectKey, overlap[i].Connector = "fp_overlap", "gamma"
	}
	stored := append([]models.Delivery{interrupted, success, failure}, overlap...)
	if err := models.CreateDeliveries(db, stored); err != nil {
		t.Fatalf("CreateDeliveries: %v", err)
	}

	if _, err := models.Migrate(ctx, db, nil); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	direct, err := models.CountOpenFailureGroups(ctx, db, models.SubjectHealthAlert)
	if err != nil {
		t.Fatalf("CountOpenFailureGroups: %v", err)
	}
	if direct != 1 {
		t.Errorf("direct count: got %d open pairs, want 1 (fp_open on beta)", direct)
	}
	counts, err := models.AuditCounts(ctx, db)
	if err != nil {
		t.Fatalf("AuditCounts: %v", err)
	}
	if got := counts[models.OpenAlertDestinationCounter]; got != direct {
		t.Errorf("dashboard count: got %d open pairs, want %d as counted directly", got, direct)
	}
}
