package retry

import (
	"context"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/audit"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// Three executive report groups are due and a dry run selects one. Its
// plan stores one decision but counts three retries, and the dashboard and
// retry health both report the plans' retry counts.
func TestRetryableDecisionCountsAgree(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	for _, subjectID := range []string{"run_a", "run_b", "run_c"} {
		insertDelivery(t, db, subjectID, "slack", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	}
	clock := &testClock{now: serviceStart}
	service := newTestService(db, nil, clock.Now, &fakeSource{})
	dashboards := &audit.Service{DB: db, Now: clock.Now, Logger: quietLogger()}
	counts := func(step string) (dashboard, report int64) {
		t.Helper()
		board, err := dashboards.Dashboard(ctx)
		if err != nil {
			t.Fatalf("Dashboard %s: %v", step, err)
		}
		health, err := service.Health(ctx, models.SubjectExecutiveReport, DefaultHealthParams())
		if err != nil {
			t.Fatalf("Health %s: %v", step, err)
		}
		return board.ExecutiveRetries.RetryableDecisionCount, health.Counts.RetryableDecisionCount
	}

	request := RunRequest{MaxRetryDeliveries: 1, Policy: immediatePolicy(), Schedule: DefaultSchedule(), Actor: "release.manager"}
	run, err := service.Run(ctx, models.SubjectExecutiveReport, request)
	if err != nil {
		t.Fatalf("dry Run: %v", err)
	}
	if run.Counts.SelectedCount != 1 {
		t.Fatalf("selected: got %d, want 1", run.Counts.SelectedCount)
	}
	dashboard, report := counts("after the dry run")
	if dashboard != 3 {
		t.Errorf("dashboard retryable decisions after the dry run: got %d, want 3", dashboard)
	}
	if report != 3 {
		t.Errorf("retry health retryable decisions after the dry run: got %d, want 3", report)
	}

	if _, err := service.Plan(ctx, models.SubjectExecutiveReport, immediatePolicy(), "release.manager"); err != nil {
		t.Fatalf("Plan: %v", err)
	}
	dashboard, report = counts("after the plan")
	if dashboard != 6 {
		t.Errorf("dashboard retryable decisions after the plan: got %d, want 6", dashboard)
	}
	if report != 6 {
		t.Errorf("retry health retryable decisions after the plan: got %d, want 6", report)
	}
}
