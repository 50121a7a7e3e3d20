package retry

import (
	"context"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/models"
)

// preparedRetry is one selected decision of a live run with its in-flight
// execution. skipReason is set when the decision sends nothing.
type preparedRetry struct {
	decision   models.RetryDecision
	execution  models.RetryExecution
	message    connectors.Message
	skipReason string
}

// claimedRetry is one claimed decision with its in-flight delivery and, once
// sent, the connector result.
type claimedRetry struct {
	execution models.RetryExecution
	pending   *delivery.Pending
	result    connectors.Result
}

// prepareRetries builds the in-flight execution of each selected decision
// and reads its message from the subject kind's message source.
func (s *Service) prepareRetries(ctx context.Context, run *models.RetryWorkerRun, rows []models.RetryDecision) []preparedRetry {
	var prepared []preparedRetry
	for _, row := range rows {
		if !row.Selected {
			continue
		}
		now := models.UTC(s.Now())
		key := claimKey(row)
		item := preparedRetry{decision: row, execution: models.RetryExecution{
			ID: models.NewID("rex", now), DecisionID: row.ID, ClaimKey: &key, WorkerRunID: run.ID, PlanID: row.PlanID,
			SubjectKind: row.SubjectKind, SubjectID: row.SubjectID, SubjectKey: row.SubjectKey, Connector: row.Connector,
			Outcome: models.ExecutionInFlight, IdempotencyKey: row.IdempotencyKey, StartedAt: now,
		}}
		message, err := s.Sources[row.SubjectKind].Message(ctx, row.SubjectID, row.Connector)
		if err != nil {
			s.logger().Warn("retry message unavailable", "worker_run_id", run.ID, "decision_id", row.ID,
				"subject_id", row.SubjectID, "connector", row.Connector, "error", err)
			item.skipReason = fmt.Sprintf("message unavailable: %v", err)
		} else {
			if row.IdempotencyKey != "" {
				message.IdempotencyKey = row.IdempotencyKey
			}
			item.message = message
			item.execution.IdempotencyKey = message.IdempotencyKey
		}
		prepared = append(prepared, item)
	}
	return prepared
}

// claimRetries claims the prepared retries of a live run inside tx and
// writes the in-flight delivery of each claimed one, so every claim and its
// in-flight rows commit together before anything is sent. A retry whose
// message is missing, or whose retry another run claimed first, is stored as
// a skipped execution. It tallies the skips on run and returns the claims.
func (s *Service) claimRetries(tx *gorm.DB, run *models.RetryWorkerRun, prepared []preparedRetry) ([]claimedRetry, error) {
	var toClaim []models.RetryExecution
	for _, item := range prepared {
		if item.skipReason == "" {
			toClaim = append(toClaim, item.execution)
		}
	}
	claimed, err := models.ClaimRetryDecisions(tx, run.ID, toClaim)
	if err != nil {
		return nil, err
	}

	var claims []claimedRetry
	deliveryIDs := map[string]string{}
	for _, item := range prepared {
		row := item.decision
		if item.skipReason == "" && !claimed[item.execution.ID] {
			s.logger().Info("retry already claimed by another worker run", "worker_run_id", run.ID, "decision_id", row.ID,
				"subject_id", row.SubjectID, "connector", row.Connector)
			item.skipReason = "already claimed by another worker run; sent at most once"
		}
		if item.skipReason != "" {
			if err := models.CreateRetryExecution(tx.Statement.Context, tx, skippedExecution(item.execution, item.skipReason, models.UTC(s.Now()))); err != nil {
				return nil, err
			}
			run.SkippedCount++
			continue
		}
		pending, err := s.Delivery.Begin(tx, delivery.Request{
			SubjectKind: row.SubjectKind, SubjectID: row.SubjectID, SubjectKey: row.SubjectKey,
			Connector: row.Connector, Message: item.message, Options: s.SendOptions, Actor: run.Actor,
			Origin: models.OriginRetry, RetryExecutionID: item.execution.ID,
		})
		if err != nil {
			return nil, err
		}
		execution := item.execution
		execution.DeliveryID = pending.Record.ID
		deliveryIDs[execution.ID] = pending.Record.ID
		claims = append(claims, claimedRetry{execution: execution, pending: pending})
	}
	if err := models.SetRetryExecutionDeliveries(tx, deliveryIDs); err != nil {
		return nil, err
	}
	return claims, nil
}

// skippedExecution returns execution recorded as skipped. Its claim key is
// NULL, so it does not block another run's claim of the same retry.
func skippedExecution(execution models.RetryExecution, reason string, completedAt time.Time) *models.RetryExecution {
	execution.ClaimKey = nil
	execution.Outcome = models.ExecutionSkipped
	execution.Reason = reason
	execution.CompletedAt = &completedAt
	return &execution
}

// recordsEachOutcome reports whether a live run records each outcome in its
// own transaction as soon as its send returns, instead of all outcomes in
// one transaction after the last send. On PostgreSQL the audit count
// triggers make each outcome write costly, and concurrent transactions
// spread that work over the database's cores. SQLite has a single writer,
// so there one transaction with one commit is faster.
func (s *Service) recordsEachOutcome() bool {
	return s.DB.Dialector.Name() == "postgres"
}

// sendClaimed sends the claimed retries with at most Concurrency at once,
// outside any transaction. With recordEach it records each outcome as soon
// as its send returns and tallies it on run. Otherwise it keeps each result
// on its claim for recordOutcomes.
func (s *Service) sendClaimed(ctx context.Context, run *models.RetryWorkerRun, claims []claimedRetry, recordEach bool) {
	concurrency := s.Concurrency
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, concurrency)
	for i := range claims {
		wg.Add(1)
		slots <- struct{}{}
		go func(claim *claimedRetry) {
			defer wg.Done()
			defer func() { <-slots }()
			claim.result = s.Delivery.Sender.Send(ctx, claim.execution.Connector, claim.pending.Request.Message, s.SendOptions)
			if !recordEach {
				return
			}
			outcome := s.recordOutcome(ctx, run, *claim, claim.result)
			mu.Lock()
			defer mu.Unlock()
			switch outcome {
			case models.ExecutionDelivered:
				run.DeliveredCount++
			case models.ExecutionFailed:
				run.FailedCount++
			}
		}(&claims[i])
	}
	wg.Wait()
}

// recordOutcome records the outcome of one sent retry and returns it, or
// returns ExecutionInFlight when it could not be recorded (the next live run
// reconciles it). The execution and its delivery are recorded in one
// transaction, so both stay in flight or both complete. The execution is
// written before the delivery, in the same order as the claim, so rows that
// triggers lock for both are always taken in one order.
func (s *Service) recordOutcome(ctx context.Context, run *models.RetryWorkerRun, claim claimedRetry, result connectors.Result) string {
	outcome, reason := outcomeOf(result.Success, string(result.Class), result.StatusCode, result.Error)
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := models.CompleteRetryExecution(ctx, tx, claim.execution.ID, outcome, reason, models.UTC(s.Now())); err != nil {
			return err
		}
		recorder := *s.Delivery
		recorder.DB = tx
		_, err := recorder.Finish(ctx, claim.pending, result)
		return err
	})
	if err != nil {
		s.logger().Error("retry outcome not recorded; the next live run reconciles it", "worker_run_id", run.ID,
			"execution_id", claim.execution.ID, "delivery_id", claim.pending.Record.ID, "error", err)
		return models.ExecutionInFlight
	}
	return outcome
}

// recordOutcomes records the outcome of every sent retry and completes the
// worker run in one transaction, so each execution and its delivery stay in
// flight together or complete together. Executions are written before
// deliveries, in the same order as the claim, so the rows that triggers lock
// for both tables are always taken in one order. When the outcomes cannot be
// recorded, they stay in flight for the next live run to reconcile, and the
// run is completed without them.
func (s *Service) recordOutcomes(ctx context.Context, run *models.RetryWorkerRun, claims []claimedRetry) error {
	completed := models.UTC(s.Now())
	finished := *run
	finished.State = models.WorkerRunCompleted
	finished.CompletedAt = &completed
	outcomes := make([]string, len(claims))
	for i, claim := range claims {
		outcomes[i], _ = outcomeOf(claim.result.Success, string(claim.result.Class), claim.result.StatusCode, claim.result.Error)
		switch outcomes[i] {
		case models.ExecutionDelivered:
			finished.DeliveredCount++
		case models.ExecutionFailed:
			finished.FailedCount++
		}
	}

	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		items := make([]models.ExecutionOutcome, 0, len(claims))
		for i, claim := range claims {
			_, reason := outcomeOf(claim.result.Success, string(claim.result.Class), claim.result.StatusCode, claim.result.Error)
			items = append(items, models.ExecutionOutcome{ExecutionID: claim.execution.ID, Outcome: outcomes[i], Reason: reason})
		}
		if _, err := models.CompleteRetryExecutions(ctx, tx, items, completed); err != nil {
			return err
		}
		recorder := *s.Delivery
		recorder.DB = tx
		for _, claim := range claims {
			if _, err := recorder.Finish(ctx, claim.pending, claim.result); err != nil {
				return err
			}
		}
		return models.FinishRetryWorkerRun(ctx, tx, &finished)
	})
	if err == nil {
		*run = finished
		return nil
	}

	s.logger().Error("retry outcomes not recorded; the next live run reconciles them", "worker_run_id", run.ID,
		"executions", len(claims), "error", err)
	run.State = models.WorkerRunCompleted
	run.CompletedAt = &completed
	return models.FinishRetryWorkerRun(ctx, s.DB, run)
}
