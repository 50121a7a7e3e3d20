package retry

import (
	"github.com/releaseops/evidence-console/metrics"

	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/models"
)

// Run runs the retry worker once for one subject kind. It plans, selects up
// to MaxRetryDeliveries retry decisions and records the worker run. A dry
// run (the default) stops there: it sends nothing and writes no execution
// records. A live run needs Execute, the actor's permission, and a working
// connector and message source for every selected destination. It claims
// each selected decision in the database before sending, so each executes
// at most once even when workers run at the same time.
func (s *Service) Run(ctx context.Context, kind string, req RunRequest) (RunView, error) {
	if err := req.Validate(); err != nil {
		return RunView{}, err
	}
	live := req.Live()
	if live && !req.MayRunLive {
		return RunView{}, &GuardError{Forbidden: true, Message: "your role may not run live retries; ask a release manager or an administrator, or run a dry run"}
	}

	now := models.UTC(s.Now())
	reconciled := 0
	if live {
		var err error
		if reconciled, err = s.reconcile(ctx, kind, now); err != nil {
			return RunView{}, err
		}
	}

	decisions, err := s.decide(ctx, kind, req.Policy, now)
	if err != nil {
		return RunView{}, err
	}
	selected := Select(decisions, req.MaxRetryDeliveries)
	if live {
		if err := s.guardLive(kind, decisions, selected); err != nil {
			return RunView{}, err
		}
	}

	// A worker run keeps its selected decisions as rows and the tally of the
	// rest on its plan, so repeated runs over a large backlog do not store
	// the whole backlog each time. POST …/delivery-retry-plan keeps them all.
	plan, rows := planRecords(kind, req.Policy, decisions, selected, live, true, req.Actor, now)
	run := models.RetryWorkerRun{
		ID: models.NewID("rwr", now), SubjectKind: kind, PlanID: plan.ID, DryRun: !live, Actor: req.Actor,
		MaxRetryDeliveries: req.MaxRetryDeliveries, ScheduleEnabled: req.Schedule.Enabled,
		ScheduleIntervalMinutes: req.Schedule.IntervalMinutes, ScheduleCadence: req.Schedule.Cadence,
		WindowStart: now.Add(-time.Duration(req.Schedule.IntervalMinutes) * time.Minute), WindowEnd: now,
		RetryableCount: plan.RetryCount, SelectedCount: len(selected), ReconciledCount: reconciled,
		State: models.WorkerRunRunning, CreatedAt: now,
	}
	if !live {
		run.State = models.WorkerRunCompleted
		run.CompletedAt = &now
	}
	plan.WorkerRunID = run.ID
	if err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := models.CreateRetryPlan(tx, &plan, rows); err != nil {
			return err
		}
		return models.CreateRetryWorkerRun(tx, &run)
	}); err != nil {
		return RunView{}, err
	}
	metrics.ObserveWorkerRun(metricsMode(run.DryRun))
	s.logger().Info("delivery retry worker run started", "worker_run_id", run.ID, "subject_kind", kind,
		"mode", modeOf(run.DryRun), "retry_plan_id", plan.ID, "selected", run.SelectedCount, "actor", req.Actor)

	if live {
		// A live run finishes what it claimed even if the caller goes away,
		// so no claimed decision is left half-sent by a closed browser tab.
		ctx = context.WithoutCancel(ctx)
		s.executeSelected(ctx, &run, rows)
		completed := models.UTC(s.Now())
		run.State = models.WorkerRunCompleted
		run.CompletedAt = &completed
		if err := models.FinishRetryWorkerRun(context.WithoutCancel(ctx), s.DB, &run); err != nil {
			return RunView{}, err
		}
	}
	s.logger().Info("delivery retry worker run finished", "worker_run_id", run.ID, "mode", modeOf(run.DryRun),
		"delivered", run.DeliveredCount, "failed", run.FailedCount, "skipped", run.SkippedCount, "reconciled", run.ReconciledCount)
	return s.WorkerRun(context.WithoutCancel(ctx), run.ID)
}

// guardLive rejects a live run when a selected destination cannot send or
// the subject kind has no message source. Nothing has been written yet.
func (s *Service) guardLive(kind string, decisions []Decision, selected []int) error {
	if len(selected) == 0 {
		return nil
	}
	if _, ok := s.Sources[kind]; !ok {
		return &GuardError{Message: missingSourceMessage(kind) + "; nothing was sent"}
	}
	checked := map[string]bool{}
	for _, i := range selected {
		name := decisions[i].Connector
		if checked[name] {
			continue
		}
		checked[name] = true
		if err := s.checkConnector(name); err != nil {
			return &GuardError{Message: fmt.Sprintf("live retry rejected: %v; configure the connector or run a dry run; nothing was sent", err)}
		}
	}
	return nil
}

// executeSelected executes the selected decisions of a live run with at most
// Concurrency sends at once and tallies the outcomes on run.
func (s *Service) executeSelected(ctx context.Context, run *models.RetryWorkerRun, rows []models.RetryDecision) {
	concurrency := s.Concurrency
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, concurrency)
	for _, row := range rows {
		if !row.Selected {
			continue
		}
		wg.Add(1)
		slots <- struct{}{}
		go func(row models.RetryDecision) {
			defer wg.Done()
			defer func() { <-slots }()
			outcome := s.execute(ctx, run, row)
			mu.Lock()
			defer mu.Unlock()
			switch outcome {
			case models.ExecutionDelivered:
				run.DeliveredCount++
			case models.ExecutionFailed:
				run.FailedCount++
			case models.ExecutionSkipped:
				run.SkippedCount++
			}
		}(row)
	}
	wg.Wait()
}

// execute claims one decision, sends its message and records the outcome.
// It returns the outcome, or ExecutionInFlight when the outcome could not
// be recorded (the next live run reconciles it).
func (s *Service) execute(ctx context.Context, run *models.RetryWorkerRun, row models.RetryDecision) string {
	log := s.logger().With("worker_run_id", run.ID, "decision_id", row.ID, "subject_id", row.SubjectID, "connector", row.Connector)
	now := models.UTC(s.Now())
	key := claimKey(row)
	execution := models.RetryExecution{
		ID: models.NewID("rex", now), DecisionID: row.ID, ClaimKey: &key, WorkerRunID: run.ID, PlanID: row.PlanID,
		SubjectKind: row.SubjectKind, SubjectID: row.SubjectID, SubjectKey: row.SubjectKey, Connector: row.Connector,
		Outcome: models.ExecutionInFlight, IdempotencyKey: row.IdempotencyKey, StartedAt: now,
	}

	message, err := s.Sources[row.SubjectKind].Message(ctx, row.SubjectID, row.Connector)
	if err != nil {
		log.Warn("retry message unavailable", "error", err)
		return s.skip(ctx, execution, fmt.Sprintf("message unavailable: %v", err))
	}
	if row.IdempotencyKey != "" {
		message.IdempotencyKey = row.IdempotencyKey
	}
	execution.IdempotencyKey = message.IdempotencyKey

	var pending *delivery.Pending
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := models.ClaimRetryDecision(tx, row.ID, run.ID, &execution); err != nil {
			return err
		}
		var err error
		pending, err = s.Delivery.Begin(tx, delivery.Request{
			SubjectKind: row.SubjectKind, SubjectID: row.SubjectID, SubjectKey: row.SubjectKey,
			Connector: row.Connector, Message: message, Options: s.SendOptions, Actor: run.Actor,
			Origin: models.OriginRetry, RetryExecutionID: execution.ID,
		})
		if err != nil {
			return err
		}
		return models.SetRetryExecutionDelivery(tx, execution.ID, pending.Record.ID)
	})
	if errors.Is(err, models.ErrAlreadyClaimed) {
		log.Info("retry already claimed by another worker run")
		return s.skip(ctx, execution, "already claimed by another worker run; sent at most once")
	}
	if err != nil {
		log.Error("unable to claim retry decision", "error", err)
		return s.skip(ctx, execution, "unable to claim the decision; nothing was sent")
	}

	result := s.Delivery.Sender.Send(ctx, row.Connector, message, s.SendOptions)

	// The delivery evidence and the execution outcome are recorded in one
	// transaction, so both stay in flight or both complete. The execution is
	// written before the delivery, in the same order as the claim, so rows
	// that triggers lock for both are always taken in one order.
	outcome, reason := outcomeOf(result.Success, string(result.Class), result.StatusCode, result.Error)
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := models.CompleteRetryExecution(ctx, tx, execution.ID, outcome, reason, models.UTC(s.Now())); err != nil {
			return err
		}
		recorder := *s.Delivery
		recorder.DB = tx
		_, err := recorder.Finish(ctx, pending, result)
		return err
	})
	if err != nil {
		log.Error("retry outcome not recorded; the next live run reconciles it", "execution_id", execution.ID,
			"delivery_id", pending.Record.ID, "error", err)
		return models.ExecutionInFlight
	}
	return outcome
}

// outcomeOf returns the execution outcome and reason of a delivery result.
// errorText is the connector's redacted error.
func outcomeOf(success bool, class string, statusCode int, errorText string) (string, string) {
	if success {
		return models.ExecutionDelivered, fmt.Sprintf("delivered (HTTP %d)", statusCode)
	}
	reason := class
	if statusCode != 0 {
		reason = fmt.Sprintf("%s (HTTP %d)", reason, statusCode)
	}
	if errorText != "" {
		reason += ": " + errorText
	}
	return models.ExecutionFailed, reason
}

// skip records an execution that sent nothing. Its claim key is NULL, so
// it does not block another run's claim of the same retry.
func (s *Service) skip(ctx context.Context, execution models.RetryExecution, reason string) string {
	completed := models.UTC(s.Now())
	execution.ClaimKey = nil
	execution.Outcome = models.ExecutionSkipped
	execution.Reason = reason
	execution.CompletedAt = &completed
	if err := models.CreateRetryExecution(context.WithoutCancel(ctx), s.DB, &execution); err != nil {
		s.logger().Error("unable to record skipped retry execution", "execution_id", execution.ID, "decision_id", execution.DecisionID, "error", err)
	}
	return models.ExecutionSkipped
}

// reconcile settles the executions of one subject kind left in flight for
// longer than InFlightTimeout, which happens when a worker stopped between
// sending and recording. An execution whose delivery was recorded takes that
// delivery's outcome. Otherwise the execution and its delivery are recorded
// as failed with InterruptedReason, and that failure counts for the group.
// It returns the number of executions settled.
func (s *Service) reconcile(ctx context.Context, kind string, now time.Time) (int, error) {
	stale, err := models.StaleRetryExecutions(ctx, s.DB, kind, now.Add(-s.inFlightTimeout()))
	if err != nil {
		return 0, err
	}
	settled := 0
	for _, execution := range stale {
		changed, outcome, reason, err := s.settle(ctx, execution, now)
		if err != nil {
			return settled, err
		}
		if changed {
			settled++
			s.logger().Warn("in-flight retry execution reconciled", "execution_id", execution.ID,
				"delivery_id", execution.DeliveryID, "outcome", outcome, "reason", reason)
		}
	}
	return settled, nil
}

// settle records the outcome of one stale in-flight execution and of its
// delivery in one transaction. The execution is updated first and only
// while still in flight, so when two runs reconcile at once, the second
// changes nothing.
func (s *Service) settle(ctx context.Context, execution models.RetryExecution, now time.Time) (bool, string, string, error) {
	outcome, reason := models.ExecutionFailed, InterruptedReason
	var record *models.Delivery
	if execution.DeliveryID != "" {
		found, err := models.DeliveryByID(ctx, s.DB, execution.DeliveryID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return false, "", "", err
		}
		record = found
	}
	if record != nil && record.State == models.DeliveryCompleted {
		outcome, reason = outcomeOf(record.Success, record.ErrorClass, record.StatusCode, record.Error)
	}

	changed := false
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		changed, err = models.CompleteRetryExecution(ctx, tx, execution.ID, outcome, reason, now)
		if err != nil || !changed || record == nil || record.State == models.DeliveryCompleted {
			return err
		}
		record.Success = false
		record.ErrorClass = ClassInterrupted
		record.Error = InterruptedReason
		record.CompletedAt = &now
		if record.ConnectorKind == "" {
			record.ConnectorKind = "unknown"
		}
		return models.CompleteDelivery(ctx, tx, record)
	})
	return changed, outcome, reason, err
}

// WorkerRun returns one worker run with its selected decisions and
// executions, or models.ErrNotFound.
func (s *Service) WorkerRun(ctx context.Context, runID string) (RunView, error) {
	run, err := models.RetryWorkerRunByID(ctx, s.DB, runID)
	if err != nil {
		return RunView{}, err
	}
	plan, err := models.RetryPlanByID(ctx, s.DB, run.PlanID)
	if err != nil {
		return RunView{}, err
	}
	rows, err := models.SelectedRetryDecisionsOf(ctx, s.DB, run.PlanID)
	if err != nil {
		return RunView{}, err
	}
	executions, err := models.RetryExecutionsOf(ctx, s.DB, run.ID)
	if err != nil {
		return RunView{}, err
	}

	view := RunView{
		WorkerRunID: run.ID, SubjectKind: run.SubjectKind, Mode: modeOf(run.DryRun), DryRun: run.DryRun,
		Actor: run.Actor, RetryPlanID: run.PlanID, Policy: policyOf(*plan), MaxRetryDeliveries: run.MaxRetryDeliveries,
		Schedule: ScheduleView{
			Schedule:    Schedule{IntervalMinutes: run.ScheduleIntervalMinutes, Enabled: run.ScheduleEnabled, Cadence: run.ScheduleCadence},
			WindowStart: run.WindowStart, WindowEnd: run.WindowEnd,
		},
		State: run.State, CreatedAt: run.CreatedAt, CompletedAt: run.CompletedAt, Counts: runCounts(*run),
		SelectedDecisions: []DecisionView{}, Executions: []ExecutionView{},
	}
	for _, row := range rows {
		view.SelectedDecisions = append(view.SelectedDecisions, decisionView(row))
	}
	for _, execution := range executions {
		item := executionView(execution)
		if execution.DeliveryID != "" {
			record, err := models.DeliveryByID(ctx, s.DB, execution.DeliveryID)
			if err == nil {
				evidence := delivery.ViewOf(*record)
				item.Delivery = &evidence
			} else if !errors.Is(err, models.ErrNotFound) {
				return RunView{}, err
			}
		}
		view.Executions = append(view.Executions, item)
	}
	return view, nil
}

// WorkerRuns lists the newest worker runs of one subject kind, or of every
// kind when kind is empty.
func (s *Service) WorkerRuns(ctx context.Context, kind string, limit, offset int) ([]RunSummary, error) {
	runs, err := models.RetryWorkerRuns(ctx, s.DB, kind, limit, offset)
	if err != nil {
		return nil, err
	}
	out := make([]RunSummary, 0, len(runs))
	for _, run := range runs {
		out = append(out, runSummary(run))
	}
	return out, nil
}

func metricsMode(dryRun bool) string {
	if dryRun {
		return metrics.ModeDry
	}
	return metrics.ModeLive
}
