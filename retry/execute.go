package retry

import (
	"context"
	"errors"
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

// claimedRetry is one claimed decision with its delivery and, once sent,
// the connector result. record is the delivery as stored: in flight until
// recordOutcomes completes it.
type claimedRetry struct {
	execution models.RetryExecution
	pending   *delivery.Pending
	record    models.Delivery
	result    connectors.Result
	// returned is when the send returned: the delivery's completion time.
	returned time.Time
}

// prepareRetries builds the in-flight execution of each selected decision
// and reads its message from the subject kind's message source. An
// execution that will send gets the ID of its future delivery, so the claim
// stores the link and no later statement has to.
func (s *Service) prepareRetries(ctx context.Context, run *models.RetryWorkerRun, rows []models.RetryDecision) ([]preparedRetry, error) {
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
			item.execution.DeliveryID = delivery.NewDeliveryID(now)
		}
		prepared = append(prepared, item)
	}
	return prepared, nil
}

// yieldToSendsUnderWay takes, inside tx, the lock of each group a prepared
// retry would send to, and marks the retries whose destination another
// delivery is still sending to as yielded skips. A report delivery takes
// the same locks, so a send that began after prepareRetries looked is seen
// here, and a delivery that starts after this transaction finds the retries
// in flight.
func (s *Service) yieldToSendsUnderWay(tx *gorm.DB, run *models.RetryWorkerRun, prepared []preparedRetry) error {
	var groups []models.DeliveryGroupKey
	for _, item := range prepared {
		if item.skipReason == "" {
			groups = append(groups, models.DeliveryGroupKey{SubjectID: item.decision.SubjectID, Connector: item.decision.Connector})
		}
	}
	busy, err := models.LockSendsUnderWay(tx, run.SubjectKind, groups, models.UTC(s.Now()).Add(-max(s.inFlightTimeout(), StaleSendAfter)))
	if err != nil {
		return err
	}
	for i := range prepared {
		item := &prepared[i]
		started, ok := busy[models.DeliveryGroupKey{SubjectID: item.decision.SubjectID, Connector: item.decision.Connector}]
		if item.skipReason != "" || !ok {
			continue
		}
		s.logger().Info("retry skipped while another delivery to its destination is under way", "worker_run_id", run.ID,
			"decision_id", item.decision.ID, "subject_id", item.decision.SubjectID, "connector", item.decision.Connector,
			"delivery_started_at", started)
		item.yield(fmt.Sprintf("a delivery to this destination started at %s is still under way; a later run retries after its outcome",
			started.UTC().Format(time.RFC3339)))
	}
	return s.yieldToAlertDeliveriesInFlight(tx, run, prepared)
}

// closedGroupReason is the reason of a retry skipped because a delivery to
// its destination succeeded after the run selected it.
const closedGroupReason = "a delivery to this destination succeeded after this run selected the retry; nothing is left to retry"

// yieldToChangedGroups marks as yielded skips the prepared retries whose
// group changed after decideDue selected it: a delivery succeeded and closed
// the group, a newer failure was recorded, or, for a health alert, another
// plan delivered the same fingerprint there or failed to deliver it there
// later. The caller holds the group locks of yieldToSendsUnderWay, so a
// delivery that a report send or a manual re-delivery recorded before those
// locks is seen here.
func (s *Service) yieldToChangedGroups(tx *gorm.DB, run *models.RetryWorkerRun, prepared []preparedRetry) error {
	var keys []models.DeliveryGroupKey
	for _, item := range prepared {
		if item.skipReason == "" {
			keys = append(keys, models.DeliveryGroupKey{SubjectID: item.decision.SubjectID, Connector: item.decision.Connector})
		}
	}
	groups, err := models.DeliveryGroupsByKey(tx.Statement.Context, tx, run.SubjectKind, keys)
	if err != nil {
		return err
	}
	var newest map[alertDestination]models.DeliveryGroup
	if run.SubjectKind == models.SubjectHealthAlert {
		var subjectKeys []string
		for _, item := range prepared {
			if item.skipReason == "" {
				subjectKeys = append(subjectKeys, item.decision.SubjectKey)
			}
		}
		if newest, err = newestAlertGroups(tx.Statement.Context, tx, subjectKeys); err != nil {
			return err
		}
	}
	for i := range prepared {
		item := &prepared[i]
		if item.skipReason != "" {
			continue
		}
		group := groups[models.DeliveryGroupKey{SubjectID: item.decision.SubjectID, Connector: item.decision.Connector}]
		var reason string
		switch {
		case group.FailureCount == 0:
			reason = closedGroupReason
		case group.LastFailureID != item.decision.LastDeliveryID:
			reason = fmt.Sprintf("delivery %s to this destination failed after this run selected the retry; a later run decides again",
				group.LastFailureID)
		case run.SubjectKind == models.SubjectHealthAlert:
			// The run holds the alert's send lease, so a send of another
			// plan finished before it, and its success is found here.
			later, err := laterDelivery(tx.Statement.Context, tx, decisionOf(item.decision))
			if err != nil {
				return err
			}
			if later != nil {
				reason = deliveredLaterReason(decisionOf(item.decision), *later)
				break
			}
			// Another plan's send of the alert that failed there after the
			// selection supersedes this group, so that failure governs the
			// next retry.
			newer := supersedingGroup(group, newest)
			if newer == nil {
				continue
			}
			reason = fmt.Sprintf("alert %s failed later at this destination (delivery %s of plan %s) after this run selected the retry; "+
				"a later run decides again", item.decision.SubjectKey, newer.LastFailureID, newer.SubjectID)
		default:
			continue
		}
		s.logger().Info("retry skipped because its group changed after selection", "worker_run_id", run.ID,
			"decision_id", item.decision.ID, "subject_id", item.decision.SubjectID, "connector", item.decision.Connector,
			"selected_failure_id", item.decision.LastDeliveryID, "failure_count", group.FailureCount, "last_failure_id", group.LastFailureID)
		item.yield(reason)
	}
	return nil
}

// decisionOf returns the fields of a stored decision that laterDelivery
// reads.
func decisionOf(row models.RetryDecision) Decision {
	return Decision{SubjectKind: row.SubjectKind, SubjectKey: row.SubjectKey, Connector: row.Connector, LastFailureAt: row.LastFailureAt}
}

// yield marks the retry as a skip that went to another sender: it claims
// nothing and links no delivery.
func (item *preparedRetry) yield(reason string) {
	item.skipReason = reason
	item.execution.Yielded = true
	item.execution.ClaimKey = nil
	item.execution.DeliveryID = ""
}

// claimRetries claims the prepared retries of a live run inside tx and
// writes the in-flight delivery of each claimed one, so every claim and its
// in-flight rows commit together before anything is sent. A retry whose
// message is missing, or whose retry another run claimed first, is stored as
// a skipped execution. Each kind of row is written with one batched
// statement, executions before deliveries. It tallies the skips on run and
// returns the claims and the skipped executions.
func (s *Service) claimRetries(tx *gorm.DB, run *models.RetryWorkerRun, prepared []preparedRetry) ([]claimedRetry, []models.RetryExecution, error) {
	var toClaim []models.RetryExecution
	for _, item := range prepared {
		if item.skipReason == "" {
			toClaim = append(toClaim, item.execution)
		}
	}
	claimed, err := models.ClaimRetryDecisions(tx, run.ID, toClaim)
	if err != nil {
		return nil, nil, err
	}

	var claims []claimedRetry
	var requests []delivery.Request
	var skipped []models.RetryExecution
	skippedAt := models.UTC(s.Now())
	for _, item := range prepared {
		row := item.decision
		if item.skipReason == "" && !claimed[item.execution.ID] {
			s.logger().Info("retry already claimed by another worker run", "worker_run_id", run.ID, "decision_id", row.ID,
				"subject_id", row.SubjectID, "connector", row.Connector)
			item.skipReason = "already claimed by another worker run; sent at most once"
			item.execution.Yielded = true
		}
		if item.skipReason != "" {
			skipped = append(skipped, skippedExecution(item.execution, item.skipReason, skippedAt))
			continue
		}
		requests = append(requests, delivery.Request{
			SubjectKind: row.SubjectKind, SubjectID: row.SubjectID, SubjectKey: row.SubjectKey,
			Connector: row.Connector, Message: item.message, Options: sendOptionsOf(*run), Actor: run.Actor,
			Origin: models.OriginRetry, RetryExecutionID: item.execution.ID, DeliveryID: item.execution.DeliveryID,
		})
		claims = append(claims, claimedRetry{execution: item.execution})
	}
	if err := models.CreateRetryExecutions(tx, skipped); err != nil {
		return nil, nil, err
	}
	pendings, err := s.Delivery.BeginBatch(tx, requests)
	if err != nil {
		return nil, nil, err
	}
	for i, pending := range pendings {
		claims[i].pending = pending
		claims[i].record = pending.Record
	}
	run.SkippedCount += len(skipped)
	return claims, skipped, nil
}

// skippedExecution returns execution recorded as skipped. Its claim key is
// NULL, so it does not block another run's claim of the same retry, and it
// links no delivery because it sent nothing.
func skippedExecution(execution models.RetryExecution, reason string, completedAt time.Time) models.RetryExecution {
	execution.ClaimKey = nil
	execution.DeliveryID = ""
	execution.Outcome = models.ExecutionSkipped
	execution.Reason = reason
	execution.CompletedAt = &completedAt
	return execution
}

// sendClaimed sends the claimed retries with at most Concurrency at once,
// outside any transaction, and keeps each result on its claim for
// recordOutcomes.
func (s *Service) sendClaimed(ctx context.Context, claims []claimedRetry, options connectors.SendOptions) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, s.concurrency())
	for i := range claims {
		wg.Add(1)
		slots <- struct{}{}
		go func(claim *claimedRetry) {
			defer wg.Done()
			defer func() { <-slots }()
			claim.result = s.Delivery.Sender.Send(ctx, claim.execution.Connector, claim.pending.Request.Message, options)
			claim.returned = s.Now()
		}(&claims[i])
	}
	wg.Wait()
}

// recordOutcomes records the outcome of every sent retry and completes the
// worker run in one transaction: one UPDATE for the executions, one for
// their deliveries, and one for the run. Each execution and its delivery
// therefore stay in flight together or complete together. Executions are
// written before deliveries, in the same order as the claim, so the rows
// that triggers lock for both tables are always taken in one order.
//
// On success it tallies the outcomes on run, stores them on claims and
// returns true. When that transaction fails, recordEach records each claim
// on its own, and it returns false, so the caller reads the run back from
// the database.
func (s *Service) recordOutcomes(ctx context.Context, run *models.RetryWorkerRun, claims []claimedRetry) bool {
	completed := models.UTC(s.Now())
	finished := *run
	finished.State = models.WorkerRunCompleted
	finished.CompletedAt = &completed
	outcomes := make([]models.ExecutionOutcome, 0, len(claims))
	pendings := make([]*delivery.Pending, 0, len(claims))
	results := make([]connectors.Result, 0, len(claims))
	returned := make([]time.Time, 0, len(claims))
	for _, claim := range claims {
		outcome := outcomeOfClaim(claim)
		outcomes = append(outcomes, outcome)
		tallyOutcome(&finished, outcome.Outcome)
		pendings = append(pendings, claim.pending)
		results = append(results, claim.result)
		returned = append(returned, claim.returned)
	}

	var records []models.Delivery
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		changed, err := models.CompleteRetryExecutions(ctx, tx, outcomes)
		if err != nil {
			return err
		}
		if changed != int64(len(outcomes)) {
			return fmt.Errorf("retry: recorded %d of %d executions of worker run %s; the others are no longer in flight",
				changed, len(outcomes), run.ID)
		}
		if records, err = s.Delivery.FinishBatch(ctx, tx, pendings, results, returned); err != nil {
			return err
		}
		return models.FinishRetryWorkerRun(ctx, tx, &finished)
	})
	if err == nil {
		*run = finished
		for i := range claims {
			claims[i].execution.Outcome = outcomes[i].Outcome
			claims[i].execution.Reason = outcomes[i].Reason
			claims[i].execution.CompletedAt = &outcomes[i].CompletedAt
			claims[i].record = records[i]
			s.Delivery.ObserveFinished(records[i])
		}
		return true
	}

	s.logger().Warn("retry outcomes not recorded together; recording each on its own", "worker_run_id", run.ID,
		"executions", len(claims), "error", err)
	s.recordEach(ctx, run, claims, completed)
	return false
}

// errNotInFlight rejects the outcome of an execution that another live run
// already recorded as interrupted.
var errNotInFlight = errors.New("the execution is no longer in flight")

// recordEach records the outcome of each claim in a transaction of its own,
// so one failing statement, or one execution that another run already
// recorded, does not drop the outcomes of the others. A claim that cannot
// be recorded stays in flight, and so does the run: the next live run after
// the in-flight timeout records the claim as interrupted and completes the
// run. Otherwise the run is completed with the counts of its executions.
func (s *Service) recordEach(ctx context.Context, run *models.RetryWorkerRun, claims []claimedRetry, completed time.Time) {
	unrecorded := 0
	for i := range claims {
		claim := &claims[i]
		outcome := outcomeOfClaim(*claim)
		err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			changed, err := models.CompleteRetryExecutions(ctx, tx, []models.ExecutionOutcome{outcome})
			if err != nil {
				return err
			}
			if changed != 1 {
				return errNotInFlight
			}
			records, err := s.Delivery.FinishBatch(ctx, tx, []*delivery.Pending{claim.pending},
				[]connectors.Result{claim.result}, []time.Time{claim.returned})
			if err != nil {
				return err
			}
			claim.record = records[0]
			return nil
		})
		if err != nil {
			if !errors.Is(err, errNotInFlight) {
				unrecorded++
			}
			s.logger().Error("retry outcome not recorded", "worker_run_id", run.ID, "execution_id", claim.execution.ID,
				"delivery_id", claim.execution.DeliveryID, "connector", claim.execution.Connector,
				"outcome", outcome.Outcome, "error", err)
			continue
		}
		tallyOutcome(run, outcome.Outcome)
		s.Delivery.ObserveFinished(claim.record)
	}
	if unrecorded > 0 {
		s.logger().Error("retry outcomes left in flight; a live run after the in-flight timeout records them as interrupted",
			"worker_run_id", run.ID, "unrecorded", unrecorded)
		return
	}
	finished, err := models.CompleteSettledWorkerRun(ctx, s.DB, run.ID, completed)
	if err != nil {
		// The run stays running, and the next live run completes it.
		s.logger().Error("retry worker run not completed", "worker_run_id", run.ID, "error", err)
		return
	}
	if finished {
		run.State = models.WorkerRunCompleted
		run.CompletedAt = &completed
	}
}

// outcomeOfClaim returns the execution outcome of a sent claim.
func outcomeOfClaim(claim claimedRetry) models.ExecutionOutcome {
	outcome, reason := outcomeOf(string(claim.result.Kind), claim.result.Success, string(claim.result.Class), claim.result.StatusCode, claim.result.Error)
	return models.ExecutionOutcome{ExecutionID: claim.execution.ID, Outcome: outcome, Reason: reason, CompletedAt: models.UTC(claim.returned)}
}

// tallyOutcome counts one recorded outcome on run.
func tallyOutcome(run *models.RetryWorkerRun, outcome string) {
	switch outcome {
	case models.ExecutionDelivered:
		run.DeliveredCount++
	case models.ExecutionFailed:
		run.FailedCount++
	}
}
