package models_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// boundStatement is one raw statement that GORM sent, with its bound values.
type boundStatement struct {
	sql  string
	vars []any
}

// captureRawStatements records every statement that db.Exec sends from now
// on, so a test can check how many values a statement binds.
func captureRawStatements(t *testing.T, db *gorm.DB) *[]boundStatement {
	t.Helper()
	var captured []boundStatement
	err := db.Callback().Raw().After("gorm:raw").Register("test:capture_raw", func(tx *gorm.DB) {
		captured = append(captured, boundStatement{sql: tx.Statement.SQL.String(), vars: append([]any(nil), tx.Statement.Vars...)})
	})
	if err != nil {
		t.Fatalf("register capture callback: %v", err)
	}
	return &captured
}

// countBound returns how often value is bound in the statements whose SQL
// contains fragment, and how many statements those are.
func countBound(statements []boundStatement, fragment, value string) (count, matched int) {
	for _, statement := range statements {
		if !strings.Contains(statement.sql, fragment) {
			continue
		}
		matched++
		for _, v := range statement.vars {
			if s, ok := v.(string); ok && s == value {
				count++
			}
		}
	}
	return count, matched
}

// A batch of outcomes binds each delivery ID once, not once per column, so
// the statement stays short, because SQLite parses it again on every call.
func TestCompleteDeliveriesBindsEachIDOnce(t *testing.T) {
	db := dbtest.Open(t)
	var batch []models.Delivery
	for i := range 25 {
		batch = append(batch, inFlightDelivery(fmt.Sprintf("run_%02d", i)))
	}
	if err := models.CreateDeliveries(db, batch); err != nil {
		t.Fatalf("CreateDeliveries: %v", err)
	}
	completed := deliveryStart.Add(time.Second)
	for i := range batch {
		batch[i].CompletedAt = &completed
		batch[i].Success = i%2 == 0
		batch[i].StatusCode = 200 + i
	}

	captured := captureRawStatements(t, db)
	if err := db.Transaction(func(tx *gorm.DB) error {
		return models.CompleteDeliveries(context.Background(), tx, batch)
	}); err != nil {
		t.Fatalf("CompleteDeliveries: %v", err)
	}

	for _, record := range batch {
		count, matched := countBound(*captured, "UPDATE deliveries", record.ID)
		if matched != 1 {
			t.Fatalf("UPDATE deliveries statements: got %d, want 1", matched)
		}
		if count != 1 {
			t.Errorf("bindings of delivery ID %s: got %d, want 1", record.ID, count)
		}
		got := readDelivery(t, db, record.ID)
		if got.State != models.DeliveryCompleted {
			t.Errorf("state of %s: got %q, want completed", record.ID, got.State)
		}
		if got.Success != record.Success || got.StatusCode != record.StatusCode {
			t.Errorf("outcome of %s: got success %v status %d, want %v %d", record.ID, got.Success, got.StatusCode, record.Success, record.StatusCode)
		}
	}
}

// The in-flight condition of the batched update is a literal, because
// SQLite built with STAT4 prepares a statement again at its first step when a
// bound value meets an indexed column, and this statement compiles the
// deliveries triggers each time.
func TestCompleteDeliveriesStateIsLiteral(t *testing.T) {
	db := dbtest.Open(t)
	batch := []models.Delivery{inFlightDelivery("run_1"), inFlightDelivery("run_2")}
	if err := models.CreateDeliveries(db, batch); err != nil {
		t.Fatalf("CreateDeliveries: %v", err)
	}
	completed := deliveryStart.Add(time.Second)
	for i := range batch {
		batch[i].CompletedAt = &completed
	}

	captured := captureRawStatements(t, db)
	if err := models.CompleteDeliveries(context.Background(), db, batch); err != nil {
		t.Fatalf("CompleteDeliveries: %v", err)
	}
	count, matched := countBound(*captured, "UPDATE deliveries", models.DeliveryInFlight)
	if matched != 1 {
		t.Fatalf("UPDATE deliveries statements: got %d, want 1", matched)
	}
	if count != 0 {
		t.Errorf("bindings of the state %q: got %d, want 0", models.DeliveryInFlight, count)
	}
	for _, record := range batch {
		if got := readDelivery(t, db, record.ID); got.State != models.DeliveryCompleted {
			t.Errorf("state of %s: got %q, want completed", record.ID, got.State)
		}
	}
}

// A batch of execution outcomes binds each execution ID once, sets each
// execution's own outcome, reason and completion time and leaves a
// completed execution alone.
func TestCompleteRetryExecutionsBindsEachIDOnce(t *testing.T) {
	db := dbtest.Open(t)
	run, decisions := storeLiveRun(t, db, "run_1", "run_2", "run_3")
	var executions []models.RetryExecution
	for i, decision := range decisions {
		executions = append(executions, inFlightExecution(run, decision, "after:dlv_before_"+decision.SubjectID, fmt.Sprintf("dlv_%d", i)))
	}
	if err := db.Transaction(func(tx *gorm.DB) error {
		_, err := models.ClaimRetryDecisions(tx, run.ID, executions)
		return err
	}); err != nil {
		t.Fatalf("ClaimRetryDecisions: %v", err)
	}
	firstDone := deliveryStart.Add(time.Second)
	if changed, err := models.CompleteRetryExecutions(context.Background(), db, []models.ExecutionOutcome{
		{ExecutionID: executions[0].ID, Outcome: models.ExecutionDelivered, Reason: "first", CompletedAt: firstDone},
	}); err != nil || changed != 1 {
		t.Fatalf("CompleteRetryExecutions of the first execution: got %d (error %v), want 1", changed, err)
	}

	outcomes := []models.ExecutionOutcome{
		{ExecutionID: executions[2].ID, Outcome: models.ExecutionFailed, Reason: "HTTP 503", CompletedAt: deliveryStart.Add(3 * time.Second)},
		{ExecutionID: executions[0].ID, Outcome: models.ExecutionFailed, Reason: "again", CompletedAt: deliveryStart.Add(4 * time.Second)},
		{ExecutionID: executions[1].ID, Outcome: models.ExecutionDelivered, Reason: "HTTP 200", CompletedAt: deliveryStart.Add(2 * time.Second)},
	}
	captured := captureRawStatements(t, db)
	changed, err := models.CompleteRetryExecutions(context.Background(), db, outcomes)
	if err != nil {
		t.Fatalf("CompleteRetryExecutions: %v", err)
	}
	if changed != 2 {
		t.Errorf("changed executions: got %d, want 2 because the first was completed already", changed)
	}
	for _, outcome := range outcomes {
		count, matched := countBound(*captured, "UPDATE retry_executions", outcome.ExecutionID)
		if matched != 1 {
			t.Fatalf("UPDATE retry_executions statements: got %d, want 1", matched)
		}
		if count != 1 {
			t.Errorf("bindings of execution ID %s: got %d, want 1", outcome.ExecutionID, count)
		}
	}

	stored, err := models.RetryExecutionsOf(context.Background(), db, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]models.RetryExecution{}
	for _, execution := range stored {
		byID[execution.ID] = execution
	}
	want := map[string]models.ExecutionOutcome{
		executions[0].ID: {Outcome: models.ExecutionDelivered, Reason: "first", CompletedAt: firstDone},
		executions[1].ID: outcomes[2],
		executions[2].ID: outcomes[0],
	}
	for id, expected := range want {
		got := byID[id]
		if got.Outcome != expected.Outcome || got.Reason != expected.Reason {
			t.Errorf("execution %s: got %q %q, want %q %q", id, got.Outcome, got.Reason, expected.Outcome, expected.Reason)
		}
		if got.CompletedAt == nil || !got.CompletedAt.Equal(expected.CompletedAt) {
			t.Errorf("completed_at of %s: got %v, want %v", id, got.CompletedAt, expected.CompletedAt)
		}
	}
}
