package models_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// storeLiveRun stores a retry plan with one selected decision per subject,
// claimed by the run as a live run stores it, and a running live worker run
// of that plan.
func storeLiveRun(t *testing.T, db *gorm.DB, subjects ...string) (models.RetryWorkerRun, []models.RetryDecision) {
	t.Helper()
	plan := models.RetryPlan{ID: models.NewID("rtp", deliveryStart), SubjectKind: models.SubjectExecutiveReport,
		MaxRetryAttempts: 3, BackoffMultiplier: 2, DecisionCount: len(subjects), RetryCount: len(subjects),
		Actor: "release.manager", CreatedAt: deliveryStart}
	runID := models.NewID("rwr", deliveryStart)
	var decisions []models.RetryDecision
	for i, subject := range subjects {
		decisions = append(decisions, models.RetryDecision{
			ID: models.NewID("rtd", deliveryStart), PlanID: plan.ID, Position: i, SubjectKind: models.SubjectExecutiveReport,
			SubjectID: subject, SubjectKey: "rep_" + subject, Connector: "webhook", Action: "retry",
			LastDeliveryID: "dlv_before_" + subject, Selected: true, State: models.DecisionClaimed, ClaimedBy: runID,
		})
	}
	run := models.RetryWorkerRun{ID: runID, SubjectKind: models.SubjectExecutiveReport,
		PlanID: plan.ID, Actor: "release.manager", SelectedCount: len(subjects), State: models.WorkerRunRunning,
		WindowStart: deliveryStart, WindowEnd: deliveryStart, CreatedAt: deliveryStart}
	plan.WorkerRunID = run.ID
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := models.CreateRetryPlan(tx, &plan, decisions); err != nil {
			return err
		}
		return models.CreateRetryWorkerRun(tx, &run)
	})
	if err != nil {
		t.Fatalf("store live run: %v", err)
	}
	return run, decisions
}

// inFlightExecution returns the in-flight execution of decision with the
// given claim key, linked to deliveryID.
func inFlightExecution(run models.RetryWorkerRun, decision models.RetryDecision, claimKey, deliveryID string) models.RetryExecution {
	return models.RetryExecution{
		ID: models.NewID("rex", deliveryStart), DecisionID: decision.ID, ClaimKey: &claimKey, WorkerRunID: run.ID,
		PlanID: decision.PlanID, SubjectKind: decision.SubjectKind, SubjectID: decision.SubjectID,
		SubjectKey: decision.SubjectKey, Connector: decision.Connector, Outcome: models.ExecutionInFlight,
		DeliveryID: deliveryID, IdempotencyKey: "idem-" + decision.SubjectID, StartedAt: deliveryStart,
	}
}

func TestClaimRetryDecisionsStoresDeliveryLinks(t *testing.T) {
	db := dbtest.Open(t)
	first, firstDecisions := storeLiveRun(t, db, "run_1", "run_2")
	second, secondDecisions := storeLiveRun(t, db, "run_2")

	// The first run claims both retries; the second run's claim of run_2
	// has the same claim key and is not stored.
	var firstClaimed map[string]bool
	executions := []models.RetryExecution{
		inFlightExecution(first, firstDecisions[0], "after:dlv_before_run_1", "dlv_a"),
		inFlightExecution(first, firstDecisions[1], "after:dlv_before_run_2", "dlv_b"),
	}
	if err := db.Transaction(func(tx *gorm.DB) error {
		var err error
		firstClaimed, err = models.ClaimRetryDecisions(tx, first.ID, executions)
		return err
	}); err != nil {
		t.Fatalf("ClaimRetryDecisions of the first run: %v", err)
	}
	lost := inFlightExecution(second, secondDecisions[0], "after:dlv_before_run_2", "dlv_c")
	var secondClaimed map[string]bool
	if err := db.Transaction(func(tx *gorm.DB) error {
		var err error
		secondClaimed, err = models.ClaimRetryDecisions(tx, second.ID, []models.RetryExecution{lost})
		return err
	}); err != nil {
		t.Fatalf("ClaimRetryDecisions of the second run: %v", err)
	}

	if len(firstClaimed) != 2 || !firstClaimed[executions[0].ID] || !firstClaimed[executions[1].ID] {
		t.Errorf("claims of the first run: got %v, want both executions", firstClaimed)
	}
	if len(secondClaimed) != 0 {
		t.Errorf("claims of the second run: got %v, want none", secondClaimed)
	}
	stored, err := models.RetryExecutionsOf(context.Background(), db, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]string{}
	for _, execution := range stored {
		links[execution.ID] = execution.DeliveryID
	}
	for _, execution := range executions {
		if links[execution.ID] != execution.DeliveryID {
			t.Errorf("delivery_id of %s: got %q, want %q", execution.ID, links[execution.ID], execution.DeliveryID)
		}
	}
	if others, err := models.RetryExecutionsOf(context.Background(), db, second.ID); err != nil || len(others) != 0 {
		t.Errorf("executions of the second run: got %d (error %v), want 0", len(others), err)
	}

	decisions, err := models.RetryDecisionsOf(context.Background(), db, first.PlanID)
	if err != nil {
		t.Fatal(err)
	}
	for _, decision := range decisions {
		if decision.State != models.DecisionClaimed || decision.ClaimedBy != first.ID {
			t.Errorf("decision %s of the first run: got state %q by %q, want claimed by %s", decision.ID, decision.State, decision.ClaimedBy, first.ID)
		}
	}
	decisions, err = models.RetryDecisionsOf(context.Background(), db, second.PlanID)
	if err != nil {
		t.Fatal(err)
	}
	if len(decisions) != 1 || decisions[0].State != models.DecisionPending || decisions[0].ClaimedBy != "" {
		t.Errorf("decision of the second run: got %+v, want it released to pending", decisions)
	}
}

func TestCreateRetryExecutionsStoresSkips(t *testing.T) {
	db := dbtest.Open(t)
	run, decisions := storeLiveRun(t, db, "run_1", "run_2")
	var skips []models.RetryExecution
	for _, decision := range decisions {
		skip := inFlightExecution(run, decision, "", "")
		skip.ClaimKey = nil
		skip.Outcome = models.ExecutionSkipped
		skip.Reason = "message unavailable"
		completed := deliveryStart
		skip.CompletedAt = &completed
		skips = append(skips, skip)
	}

	if err := db.Transaction(func(tx *gorm.DB) error { return models.CreateRetryExecutions(tx, skips) }); err != nil {
		t.Fatalf("CreateRetryExecutions: %v", err)
	}
	stored, err := models.RetryExecutionsOf(context.Background(), db, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(skips) {
		t.Fatalf("stored executions: got %d, want %d", len(stored), len(skips))
	}
	for _, execution := range stored {
		if execution.Outcome != models.ExecutionSkipped || execution.ClaimKey != nil || execution.DeliveryID != "" {
			t.Errorf("execution %s: got outcome %q claim key %v delivery %q, want skipped with neither",
				execution.ID, execution.Outcome, execution.ClaimKey, execution.DeliveryID)
		}
	}
	if err := models.CreateRetryExecutions(db, nil); err != nil {
		t.Errorf("CreateRetryExecutions with no rows: got %v, want nil", err)
	}
}
