package retry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/metrics"
	"github.com/releaseops/evidence-console/models"
)

// Run runs the retry worker once for one subject kind. It plans, selects up
// to MaxRetryDeliveries retry decisions and records the worker run. A dry
// run (the default) stops there: it sends nothing and writes no execution
// records. A live run needs Execute, the actor's permission, and a working
// connector and message source for every selected destination. It claims
// each selected decision in the database before sending, so each executes
// at most once even when workers run at the same time.
func (s *Service) Run(ctx context.Context, kind string, req RunRequest) (view RunView, err error) {
	if err := req.Validate(); err != nil {
		return RunView{}, err
	}
	if err := s.checkDestinations(req.Destinations); err != nil {
		return RunView{}, err
	}
	live := req.Live()
	if live && !req.MayRunLive {
		return RunView{}, &GuardError{Forbidden: true, Message: "your role may not run live retries; ask a release manager or an administrator, or run a dry run"}
	}
	if live {
		if err := s.checkLimitReady(req.Destinations); err != nil {
			return RunView{}, err
		}
	}

	options, err := s.ResolveSendOptions(req)
	if err != nil {
		return RunView{}, err
	}
	now := models.UTC(s.Now())
	runID := models.NewID("rwr", now)
	var reconciled []models.RetryExecution
	var reconciledSends []string
	runStored := false
	releaseSelection := func() {}
	phases := phaseClock{kind: kind, started: time.Now(), live: live}
	if live {
		// The outcomes recorded stand, but a run that fails or is rejected
		// below is never stored, so its reconciled executions must not
		// point to it. This also covers a reconcile that fails part-way.
		defer func() {
			if len(reconciled)+len(reconciledSends) > 0 && !runStored {
				if clearErr := models.ClearReconciledBy(context.WithoutCancel(ctx), s.DB, runID); clearErr != nil {
					s.logger().Error("unable to unlink executions from a rejected worker run", "worker_run_id", runID, "error", clearErr)
				}
			}
		}()
		// Reconciling runs to the end even if the caller goes away, so a
		// stopped worker's run is completed with its last execution.
		if reconciled, reconciledSends, err = s.reconcile(context.WithoutCancel(ctx), kind, runID, now); err != nil {
			return RunView{}, err
		}
		phases.end(metrics.PhaseReconcile)
	}

	if live {
		// Selection and claims are serialised per kind, so a live run that
		// starts while another is claiming selects the retries that run
		// left, instead of the same ones.
		waitCtx, cancel := context.WithTimeout(ctx, s.selectionLockWait())
		lock := models.LockRetrySelection
		if s.lockSelection != nil {
			lock = s.lockSelection
		}
		release, err := lock(waitCtx, s.DB, kind)
		cancel()
		if errors.Is(err, models.ErrSelectionLockBusy) && ctx.Err() != nil {
			// The caller left while waiting, so nothing was selected.
			return RunView{}, ctx.Err()
		}
		if errors.Is(err, models.ErrSelectionLockBusy) {
			return RunView{}, &BusyError{Message: fmt.Sprintf("another live worker run of this kind held the retry selection for over %s; "+
				"nothing was sent; run again in a moment", s.selectionLockWait())}
		}
		if err != nil {
			return RunView{}, err
		}
		defer release()
		releaseSelection = release
	}
	selectLimit := req.MaxRetryDeliveries
	if live && req.Confirmed != nil && len(req.Confirmed.Retries) > 0 {
		// Groups that waited at the confirmation may have become due since
		// and come first. Reading up to the largest run lets the listed
		// retries still be found, and the confirmation then keeps only them,
		// at most its count.
		selectLimit = MaxRetryDeliveriesLimit
	}
	due, open, err := s.decideDue(ctx, kind, req.Policy, now, selectLimit, req.Destinations)
	if err != nil {
		return RunView{}, err
	}
	var notSent []NotSentRetry
	if live {
		confirmed := req.Confirmed.limit(due)
		// A confirmation of no deliveries only records interrupted
		// executions, so it covers no retry on purpose.
		if req.Confirmed != nil && req.Confirmed.Count > 0 && len(due) > 0 && len(confirmed) == 0 {
			// Running on would record a live run that sends nothing while
			// retries are due, which reads as if none were.
			if dueTo(due, req.Confirmed.Destinations) {
				// Retries to the confirmed destinations are due, but not
				// the listed ones: another run retried them and their next
				// attempts are due already, or other groups became due
				// first and took the places.
				return RunView{}, s.confirmedRetriesChangedError(ctx, kind, req.Confirmed, now)
			}
			return RunView{}, conflict("confirmed_destinations", "no retry is due to the confirmed destinations (%s); retries are due to %s; "+
				"open the confirmation again to see what a live run would send", strings.Join(req.Confirmed.Destinations, ", "), dueDestinations(due))
		}
		if req.Confirmed != nil && req.Confirmed.Count > 0 && len(due) == 0 {
			// Another run sent them, or they wait again after a failure.
			// Recording an empty live run would read as if the confirmed
			// retries had been dealt with.
			return RunView{}, s.nothingDueError(ctx, kind, req.Confirmed, now)
		}
		if notSent, err = s.confirmedNotSent(ctx, kind, req.Policy, req.Confirmed, confirmed, now); err != nil {
			return RunView{}, err
		}
		due = confirmed
		if err := s.guardLive(kind, due, req.Destinations); err != nil {
			return RunView{}, err
		}
	}

	plan, rows := selectedPlanRecords(kind, req.Policy, due, open, live, req.Actor, now)
	run := models.RetryWorkerRun{
		ID: runID, SubjectKind: kind, PlanID: plan.ID, DryRun: !live, Actor: req.Actor,
		MaxRetryDeliveries: req.MaxRetryDeliveries, ScheduleEnabled: req.Schedule.Enabled,
		ScheduleIntervalMinutes: req.Schedule.IntervalMinutes, ScheduleCadence: req.Schedule.Cadence,
		WindowStart: now.Add(-time.Duration(req.Schedule.IntervalMinutes) * time.Minute), WindowEnd: now,
		RetryableCount: plan.RetryCount, SelectedCount: len(rows), ReconciledCount: len(reconciled) + len(reconciledSends),
		SendRetries: options.Retries, SendTimeoutMS: options.Timeout.Milliseconds(), OnlyDestinations: strings.Join(req.Destinations, ","),
		State: models.WorkerRunRunning, CreatedAt: now,
	}
	if !live {
		run.State = models.WorkerRunCompleted
		run.CompletedAt = &now
		if run.WouldInterruptCount, run.WouldInterruptSendCount, err = s.wouldReconcile(ctx, kind, now); err != nil {
			return RunView{}, err
		}
	}
	if len(notSent) > 0 {
		// The list is stored with the run, so its page shows later which
		// confirmed retries the run left out and why.
		encoded, err := json.Marshal(notSent)
		if err != nil {
			return RunView{}, err
		}
		run.ConfirmedNotSent = string(encoded)
	}
	plan.WorkerRunID = run.ID

	// A live run looks up every message before it writes anything, so a
	// missing message becomes a skipped execution, never a claim.
	var prepared []preparedRetry
	if live {
		if prepared, err = s.prepareRetries(ctx, &run, rows); err != nil {
			return RunView{}, err
		}
		releaseLeases, err := s.holdAlertSendLeases(ctx, &run, prepared)
		if err != nil {
			return RunView{}, err
		}
		defer releaseLeases()
		phases.end(metrics.PhaseSelect)
	}
	// The database keeps microseconds, and the view built below from these
	// records must equal what WorkerRun reads back.
	if plan.NextRetryAt != nil {
		next := models.UTC(*plan.NextRetryAt)
		plan.NextRetryAt = &next
	}
	var claims []claimedRetry
	var skipped []models.RetryExecution
	if err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if live {
			if err := s.yieldToSendsUnderWay(tx, &run, prepared); err != nil {
				return err
			}
			if err := s.yieldToChangedGroups(tx, &run, prepared); err != nil {
				return err
			}
			markClaimed(rows, prepared, run.ID)
		}
		if err := models.CreateRetryPlan(tx, &plan, rows); err != nil {
			return err
		}
		if err := models.CreateRetryWorkerRun(tx, &run); err != nil {
			return err
		}
		var err error
		claims, skipped, err = s.claimRetries(tx, &run, prepared)
		return err
	}); err != nil {
		return RunView{}, err
	}
	// The claims are committed, so other runs may select now.
	releaseSelection()
	phases.end(metrics.PhaseClaim)
	runStored = true
	metrics.ObserveWorkerRun(metricsMode(run.DryRun))
	s.logger().Info("delivery retry worker run started", "worker_run_id", run.ID, "subject_kind", kind,
		"mode", modeOf(run.DryRun), "retry_plan_id", plan.ID, "selected", run.SelectedCount, "schedule_enabled", run.ScheduleEnabled, "actor", req.Actor,
		"only_destinations", strings.Join(req.Destinations, ","))

	recorded := true
	if live {
		// A live run finishes what it claimed even if the caller goes away,
		// so no claimed decision is left half-sent by a closed browser tab.
		ctx = context.WithoutCancel(ctx)
		s.sendClaimed(ctx, claims, options)
		phases.end(metrics.PhaseSend)
		recorded = s.recordOutcomes(ctx, &run, claims)
		phases.end(metrics.PhaseRecord)
	}
	s.logger().Info("delivery retry worker run finished", "worker_run_id", run.ID, "mode", modeOf(run.DryRun),
		"delivered", run.DeliveredCount, "failed", run.FailedCount, "skipped", run.SkippedCount, "reconciled", run.ReconciledCount)
	if !recorded {
		// The outcomes were recorded one by one, and some may still be in
		// flight, so the view comes from the database.
		return s.WorkerRun(context.WithoutCancel(ctx), run.ID)
	}
	view = writtenRunView(run, plan, rows, claims, skipped)
	s.markNotReady(&view)
	for _, execution := range reconciled {
		view.ReconciledExecutions = append(view.ReconciledExecutions, executionView(execution))
	}
	view.ReconciledSendIDs = append(view.ReconciledSendIDs, reconciledSends...)
	view.ConfirmedNotSent = notSent
	return view, nil
}

// phaseClock measures the phases of one worker run for the phase duration
// metric. Only live runs are observed, because a dry run has no claim, send
// or record phase.
type phaseClock struct {
	kind    string
	started time.Time
	live    bool
}

// end observes the time since the previous phase ended as phase.
func (c *phaseClock) end(phase string) {
	now := time.Now()
	if c.live {
		metrics.ObserveWorkerPhase(c.kind, phase, now.Sub(c.started))
	}
	c.started = now
}

// wouldReconcile counts the executions and plain sends of one subject kind
// that a live run started at now would record as interrupted before it
// sends anything. It reads the same records as reconcile and writes
// nothing.
func (s *Service) wouldReconcile(ctx context.Context, kind string, now time.Time) (executions, sends int, err error) {
	stale, err := models.StaleRetryExecutions(ctx, s.DB, kind, now.Add(-s.inFlightTimeout()))
	if err != nil {
		return 0, 0, err
	}
	staleSends, err := models.StaleSendDeliveries(ctx, s.DB, kind, now.Add(-StaleSendAfter))
	if err != nil {
		return 0, 0, err
	}
	return len(stale), len(staleSends), nil
}

// nothingDueError is the error of a live run whose confirmed retries are no
// longer due. When another live run retried to a confirmed destination
// within the in-flight timeout, most likely while this person read the
// confirmation, and retried one of the listed retries if the confirmation
// lists them, the error names that run, who started it and when, every
// confirmed destination it retried to, and whether it is still sending.
func (s *Service) nothingDueError(ctx context.Context, kind string, confirmed *Confirmation, now time.Time) error {
	// A confirmation that lists its retries names only a run that retried
	// one of them, because a run that retried another group to the same
	// destination is not why the listed ones are no longer due.
	other, retried := s.runThatRetried(ctx, kind, confirmed.Destinations, confirmed.Retries, now)
	if other == nil {
		return conflict("confirmed_count", "no retry is due now, but the confirmation covered %d to %s; "+
			"nothing was sent; open the confirmation again to see what a live run would send",
			confirmed.Count, strings.Join(confirmed.Destinations, ", "))
	}
	var handled *ValidationError
	if other.State == models.WorkerRunRunning {
		handled = conflict("confirmed_count", "%s is retrying to %s; nothing was sent; open that run to see its outcome when it finishes",
			describeRun(other), strings.Join(retried, ", "))
	} else {
		handled = conflict("confirmed_count", "%s already retried to %s, so no retry is due now; nothing was sent; open that run to see its outcome",
			describeRun(other), strings.Join(retried, ", "))
	}
	handled.WorkerRunID = other.ID
	return handled
}

// confirmedRetriesChangedError is the error of a live run whose confirmed
// retries are not among the due ones, while other retries to the confirmed
// destinations are. When another live run retried one of the listed
// failed deliveries within the in-flight timeout, the error names that
// run, the destinations of the listed retries it retried, and whether it
// is still sending, because that retry may fail again and its next
// attempt was not shown.
func (s *Service) confirmedRetriesChangedError(ctx context.Context, kind string, confirmed *Confirmation, now time.Time) error {
	var other *models.RetryWorkerRun
	var retried []string
	if len(confirmed.Retries) > 0 {
		other, retried = s.runThatRetried(ctx, kind, confirmed.Destinations, confirmed.Retries, now)
	}
	if other == nil {
		return conflict("confirmed_count", "the retries due to %s now are not the ones the confirmation listed, "+
			"because other retries became due first or another run retried the listed ones; nothing was sent; "+
			"open the confirmation again to see what a live run would send", strings.Join(confirmed.Destinations, ", "))
	}
	verb := "already retried"
	if other.State == models.WorkerRunRunning {
		verb = "is retrying"
	}
	handled := conflict("confirmed_count", "%s %s listed retries to %s, so the retries due now are not the ones confirmed; nothing was sent; "+
		"open that run to see its outcome, and open the confirmation again to see what a live run would send",
		describeRun(other), verb, strings.Join(retried, ", "))
	handled.WorkerRunID = other.ID
	return handled
}

// runThatRetried returns the live worker run that made the newest retry to
// one of destinations within the in-flight timeout, limited to the failed
// deliveries failedDeliveryIDs when that is not empty, and the destinations
// among destinations that it retried to. It returns nil when there is no
// such run, or when the lookup failed, which it logs, because the caller's
// general error is still right then.
func (s *Service) runThatRetried(ctx context.Context, kind string, destinations, failedDeliveryIDs []string, now time.Time) (*models.RetryWorkerRun, []string) {
	execution, err := models.NewestRetryExecutionTo(ctx, s.DB, kind, destinations, failedDeliveryIDs, now.Add(-s.inFlightTimeout()))
	if err != nil || execution == nil {
		if err != nil {
			s.logger().Warn("unable to find the live run that retried the confirmed retries", "subject_kind", kind, "error", err)
		}
		return nil, nil
	}
	other, err := models.RetryWorkerRunByID(ctx, s.DB, execution.WorkerRunID)
	if err != nil {
		s.logger().Warn("unable to read the live run that retried the confirmed retries", "worker_run_id", execution.WorkerRunID, "error", err)
		return nil, nil
	}
	retried, err := models.RetriedConnectorsOf(ctx, s.DB, other.ID, destinations, failedDeliveryIDs)
	if err != nil {
		s.logger().Warn("unable to read the destinations of the live run that retried the confirmed retries", "worker_run_id", other.ID, "error", err)
		return nil, nil
	}
	if !slices.Contains(retried, execution.Connector) {
		retried = append(retried, execution.Connector)
		sort.Strings(retried)
	}
	return other, retried
}

// describeRun names a live worker run, who started it and when.
func describeRun(run *models.RetryWorkerRun) string {
	return fmt.Sprintf("live worker run %s, started by %s at %s,", run.ID, run.Actor, run.CreatedAt.UTC().Format("2006-01-02 15:04:05 MST"))
}

// dueTo reports whether any due decision goes to one of destinations.
func dueTo(due []Decision, destinations []string) bool {
	for _, d := range due {
		if slices.Contains(destinations, d.Connector) {
			return true
		}
	}
	return false
}

// dueDestinations lists the destinations of due decisions, each once.
func dueDestinations(due []Decision) string {
	var names []string
	for _, d := range due {
		if !slices.Contains(names, d.Connector) {
			names = append(names, d.Connector)
		}
	}
	return strings.Join(names, ", ")
}

// ResolveSendOptions returns the send options of each retry delivery of a
// run made with req. It rejects them when the run's sends could outlast the
// in-flight timeout. A dry run is checked too, because it shows what a live
// run with the same request would do.
func (s *Service) ResolveSendOptions(req RunRequest) (connectors.SendOptions, error) {
	options := req.sendOptions(s.SendOptions)
	err := s.checkRunLength(req.MaxRetryDeliveries, options)
	var validation *ValidationError
	if err != nil && !req.Live() && errors.As(err, &validation) {
		validation.Message += "; a dry run checks the same limits as a live run, because it shows what a live run with these options would do"
		if validation.RunLength != nil {
			validation.RunLength.DryRun = true
		}
	}
	return options, err
}

// MaxRunDuration returns the longest a live run's sends can take: runs
// whose sends could take longer are rejected.
func (s *Service) MaxRunDuration() time.Duration {
	return s.inFlightTimeout()
}

// checkRunLength rejects send options with which the last delivery of a
// run of maxDeliveries could still be under way when the in-flight timeout
// marks it interrupted. A run sends Concurrency deliveries at a time, and
// each send takes at most options.MaxDuration().
func (s *Service) checkRunLength(maxDeliveries int, options connectors.SendOptions) error {
	concurrency := s.concurrency()
	longest := s.MaxSendTime(maxDeliveries, options)
	// The run also reads, claims and records around its sends, and its
	// executions' start times are the run's, so the sends must leave a
	// fifth of the in-flight timeout for that work. Otherwise another
	// worker could record a run still under way as interrupted.
	if longest <= s.inFlightTimeout()-s.inFlightTimeout()/5 {
		return nil
	}
	deliveries := fmt.Sprintf("%d deliveries sent %d at a time", maxDeliveries, concurrency)
	if maxDeliveries == 1 {
		deliveries = "1 delivery"
	}
	err := conflict("timeout_seconds", "with retries %d and timeout_seconds %g one retry delivery can take up to %s, so %s can take up to %s: "+
		"more than %s, four fifths of the %s after which an unrecorded retry counts as interrupted; lower timeout_seconds, retries or max_retry_deliveries",
		options.Retries, options.Timeout.Seconds(), options.MaxDuration(), deliveries, longest,
		s.inFlightTimeout()-s.inFlightTimeout()/5, s.inFlightTimeout())
	err.RunLength = &RunLength{
		Retries: options.Retries, TimeoutSeconds: options.Timeout.Seconds(),
		PerDelivery: options.MaxDuration(), Longest: longest,
		Deliveries: maxDeliveries, Concurrency: concurrency,
		Limit: s.inFlightTimeout() - s.inFlightTimeout()/5, InFlightTimeout: s.inFlightTimeout(),
	}
	return err
}

// MaxSendTime returns the longest a live run takes to send the given
// number of deliveries with options, Concurrency at a time.
func (s *Service) MaxSendTime(deliveries int, options connectors.SendOptions) time.Duration {
	concurrency := s.concurrency()
	rounds := (deliveries + concurrency - 1) / concurrency
	return time.Duration(rounds) * options.MaxDuration()
}

// sendOptionsOf returns the send options a worker run records.
func sendOptionsOf(run models.RetryWorkerRun) connectors.SendOptions {
	return connectors.SendOptions{Retries: run.SendRetries, Timeout: time.Duration(run.SendTimeoutMS) * time.Millisecond}
}

// markClaimed stores the decisions that a live run will try to claim as
// claimed by runID, so a claim needs no update of them. ClaimRetryDecisions
// releases the few whose claim another run holds.
func markClaimed(rows []models.RetryDecision, prepared []preparedRetry, runID string) {
	willClaim := make(map[string]bool, len(prepared))
	for _, item := range prepared {
		if item.skipReason == "" {
			willClaim[item.decision.ID] = true
		}
	}
	for i := range rows {
		if willClaim[rows[i].ID] {
			rows[i].State = models.DecisionClaimed
			rows[i].ClaimedBy = runID
		}
	}
}

// writtenRunView builds the view of a worker run from the records that Run
// wrote, so it equals what WorkerRun reads back. The selected decisions are
// in plan order and claimed by the run where its claim was stored. The
// executions are in (started_at, id) order with their deliveries.
func writtenRunView(run models.RetryWorkerRun, plan models.RetryPlan, rows []models.RetryDecision, claims []claimedRetry, skipped []models.RetryExecution) RunView {
	claimedDecisions := make(map[string]bool, len(claims))
	executions := make([]models.RetryExecution, 0, len(claims)+len(skipped))
	records := make(map[string]models.Delivery, len(claims))
	for _, claim := range claims {
		claimedDecisions[claim.execution.DecisionID] = true
		executions = append(executions, claim.execution)
		records[claim.record.ID] = claim.record
	}
	executions = append(executions, skipped...)
	sort.Slice(executions, func(i, j int) bool {
		if !executions[i].StartedAt.Equal(executions[j].StartedAt) {
			return executions[i].StartedAt.Before(executions[j].StartedAt)
		}
		return executions[i].ID < executions[j].ID
	})

	selected := make([]models.RetryDecision, 0, len(rows))
	for _, row := range rows {
		if !row.Selected {
			continue
		}
		if row.State == models.DecisionClaimed && !claimedDecisions[row.ID] {
			row.State = models.DecisionPending
			row.ClaimedBy = ""
		}
		selected = append(selected, row)
	}
	sort.SliceStable(selected, func(i, j int) bool { return selected[i].Position < selected[j].Position })
	return runView(run, plan, selected, executions, records)
}

// guardLive rejects a live run when a selected destination cannot send or
// the subject kind has no message source. Nothing has been written yet.
func (s *Service) guardLive(kind string, due []Decision, limit []string) error {
	if len(due) == 0 {
		return nil
	}
	if _, ok := s.Sources[kind]; !ok {
		return &GuardError{Message: missingSourceMessage(kind) + "; nothing was sent"}
	}
	checked := map[string]bool{}
	for _, decision := range due {
		name := decision.Connector
		if checked[name] {
			continue
		}
		checked[name] = true
		if err := s.checkConnector(name); err != nil {
			if len(limit) > 0 {
				return &GuardError{Field: "destinations", Message: fmt.Sprintf("live retry rejected: %v; configure the connector, "+
					"remove %s from destinations, or run a dry run; nothing was sent", err, name)}
			}
			return &GuardError{Message: fmt.Sprintf("live retry rejected: %v; configure the connector, leave it out by listing the other destinations in destinations, "+
				"or run a dry run; nothing was sent", err)}
		}
	}
	return nil
}

// checkLimitReady rejects a live run limited to a destination that cannot
// send, even when none of its retries is due, because the caller asked to
// send there.
func (s *Service) checkLimitReady(limit []string) error {
	for _, name := range limit {
		if err := s.checkConnector(name); err != nil {
			return &GuardError{Field: "destinations", Message: fmt.Sprintf("live retry rejected: %v; configure the connector, "+
				"remove %s from destinations, or run a dry run; nothing was sent", err, name)}
		}
	}
	return nil
}

// outcomeOf returns the execution outcome and reason of a delivery result
// to a destination of the connector kind kind. errorText is the
// connector's redacted error.
func outcomeOf(kind string, success bool, class string, statusCode int, errorText string) (string, string) {
	if success {
		return models.ExecutionDelivered, fmt.Sprintf("delivered (%s)", connectors.ReplyCode(kind, statusCode))
	}
	reason := class
	if statusCode != 0 {
		reason = fmt.Sprintf("%s (%s)", reason, connectors.ReplyCode(kind, statusCode))
	}
	if errorText != "" {
		reason += ": " + errorText
	}
	return models.ExecutionFailed, reason
}

// reconcile settles the executions of one subject kind left in flight for
// longer than InFlightTimeout, which happens when a worker stopped between
// sending and recording. An execution whose delivery was recorded takes that
// delivery's outcome. Otherwise the execution and its delivery are recorded
// as failed with InterruptedReason, and that failure counts for the group.
// It also records plain sends left in flight as interrupted. Last, it marks
// interrupted every running worker run older than InFlightTimeout with no
// execution in flight, including any that an earlier reconcile failed to
// complete. It returns the executions and the IDs of the plain
// sends it settled, even on error.
func (s *Service) reconcile(ctx context.Context, kind, runID string, now time.Time) ([]models.RetryExecution, []string, error) {
	stale, err := models.StaleRetryExecutions(ctx, s.DB, kind, now.Add(-s.inFlightTimeout()))
	if err != nil {
		return nil, nil, err
	}
	var settled []models.RetryExecution
	for _, execution := range stale {
		changed, outcome, reason, err := s.settle(ctx, execution, runID, now)
		if err != nil {
			return settled, nil, err
		}
		if changed {
			execution.Outcome, execution.Reason, execution.CompletedAt, execution.ReconciledByRunID = outcome, reason, &now, runID
			settled = append(settled, execution)
			s.logger().Warn("in-flight retry execution reconciled", "execution_id", execution.ID,
				"delivery_id", execution.DeliveryID, "outcome", outcome, "reason", reason, "worker_run_id", runID)
		}
	}
	sends, err := s.settleStaleSends(ctx, kind, runID, now)
	if err != nil {
		return settled, sends, err
	}
	completed, err := models.CompleteStoppedWorkerRuns(ctx, s.DB, kind, now.Add(-s.inFlightTimeout()), now)
	if err != nil {
		return settled, sends, err
	}
	if completed > 0 {
		s.logger().Warn("interrupted retry worker runs completed", "subject_kind", kind, "runs", completed, "worker_run_id", runID)
	}
	return settled, sends, nil
}

// StaleSendAfter is how long a plain send's delivery may stay in flight
// before a live run records it as interrupted.
const StaleSendAfter = models.StaleSendAfter

// settleStaleSends records, as interrupted by worker run runID, the sends
// of one subject kind that a stopped server left in flight, and returns
// their IDs. Each then counts as a failed delivery of its group, which the
// retry rules can retry. A send whose outcome was recorded meanwhile is
// left out. Any other error stops it, and it returns the sends settled
// before it with that error.
func (s *Service) settleStaleSends(ctx context.Context, kind, runID string, now time.Time) ([]string, error) {
	stale, err := models.StaleSendDeliveries(ctx, s.DB, kind, now.Add(-StaleSendAfter))
	if err != nil {
		return nil, err
	}
	var settled []string
	for i := range stale {
		record := &stale[i]
		record.Success, record.ErrorClass, record.Error = false, ClassInterrupted, InterruptedReason
		record.CompletedAt = &now
		record.ReconciledByRunID = runID
		if record.ConnectorKind == "" {
			record.ConnectorKind = "unknown"
		}
		err := models.CompleteDelivery(ctx, s.DB, record)
		if errors.Is(err, models.ErrNotInFlight) {
			// Another run, or the late sender itself, recorded it first.
			s.logger().Info("stale send already recorded by another writer", "delivery_id", record.ID, "worker_run_id", runID)
			continue
		}
		if err != nil {
			return settled, fmt.Errorf("record stale send %s as interrupted: %w", record.ID, err)
		}
		s.logger().Warn("in-flight send recorded as interrupted", "delivery_id", record.ID,
			"subject_kind", kind, "subject_id", record.SubjectID, "connector", record.Connector, "worker_run_id", runID)
		settled = append(settled, record.ID)
	}
	return settled, nil
}

// settle records the outcome of one stale in-flight execution and of its
// delivery in one transaction. The execution is updated first and only
// while still in flight, so when two runs reconcile at once, the second
// changes nothing.
func (s *Service) settle(ctx context.Context, execution models.RetryExecution, runID string, now time.Time) (bool, string, string, error) {
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
		outcome, reason = outcomeOf(record.ConnectorKind, record.Success, record.ErrorClass, record.StatusCode, record.Error)
	}

	changed := false
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		changed, err = models.ReconcileRetryExecution(ctx, tx, execution.ID, outcome, reason, runID, now)
		if err != nil || !changed || record == nil || record.State == models.DeliveryCompleted {
			return err
		}
		record.Success = false
		record.ErrorClass = ClassInterrupted
		record.Error = InterruptedReason
		record.CompletedAt = &now
		record.ReconciledByRunID = runID
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
	deliveryIDs := make([]string, 0, len(executions))
	for _, execution := range executions {
		if execution.DeliveryID != "" {
			deliveryIDs = append(deliveryIDs, execution.DeliveryID)
		}
	}
	records, err := models.DeliveriesByID(ctx, s.DB, deliveryIDs)
	if err != nil {
		return RunView{}, err
	}
	view := runView(*run, *plan, rows, executions, records)
	s.markNotReady(&view)
	if run.ConfirmedNotSent != "" {
		if err := json.Unmarshal([]byte(run.ConfirmedNotSent), &view.ConfirmedNotSent); err != nil {
			return RunView{}, fmt.Errorf("invalid confirmed_not_sent stored with worker run %s: %w", run.ID, err)
		}
	}
	if view.ReconciledSendIDs, err = models.SendsReconciledBy(ctx, s.DB, run.ID); err != nil {
		return RunView{}, err
	}
	if run.ReconciledCount > 0 {
		reconciled, err := models.RetryExecutionsReconciledBy(ctx, s.DB, run.ID)
		if err != nil {
			return RunView{}, err
		}
		for _, execution := range reconciled {
			view.ReconciledExecutions = append(view.ReconciledExecutions, executionView(execution))
		}
	}
	return view, nil
}

// markNotReady lists on a dry run's view the selected destinations that a
// live run could not send to now.
func (s *Service) markNotReady(view *RunView) {
	if !view.DryRun {
		return
	}
	if notReady := s.notReady(view.SubjectKind, withLimit(destinationsOf(view.SelectedDecisions), view.OnlyDestinations)); len(notReady) > 0 {
		view.NotReady = notReady
	}
}

// runView builds the view of a worker run from its plan, its selected
// decisions, its executions and their deliveries keyed by delivery ID.
func runView(run models.RetryWorkerRun, plan models.RetryPlan, rows []models.RetryDecision, executions []models.RetryExecution, records map[string]models.Delivery) RunView {
	view := RunView{
		WorkerRunID: run.ID, SubjectKind: run.SubjectKind, Mode: modeOf(run.DryRun), DryRun: run.DryRun,
		Actor: run.Actor, RetryPlanID: run.PlanID, Policy: policyOf(plan), MaxRetryDeliveries: run.MaxRetryDeliveries,
		Retries: run.SendRetries, TimeoutSeconds: float64(run.SendTimeoutMS) / 1000, OnlyDestinations: splitDestinations(run.OnlyDestinations),
		Schedule: ScheduleView{
			Schedule:    Schedule{IntervalMinutes: run.ScheduleIntervalMinutes, Enabled: run.ScheduleEnabled, Cadence: run.ScheduleCadence},
			WindowStart: run.WindowStart, WindowEnd: run.WindowEnd,
		},
		State: run.State, CreatedAt: run.CreatedAt, CompletedAt: run.CompletedAt, Counts: runCounts(run),
		OpenFailures:      openFailuresOf(plan),
		SelectedDecisions: []DecisionView{}, Executions: []ExecutionView{}, ReconciledExecutions: []ExecutionView{}, ReconciledSendIDs: []string{},
	}
	if run.DryRun {
		view.WouldReconcile = &WouldReconcile{InterruptedCount: run.WouldInterruptCount, StaleSendCount: run.WouldInterruptSendCount}
	}
	for _, row := range rows {
		view.SelectedDecisions = append(view.SelectedDecisions, decisionView(row))
	}
	for _, execution := range executions {
		item := executionView(execution)
		if record, ok := records[execution.DeliveryID]; ok {
			evidence := delivery.ViewOf(record)
			item.Delivery = &evidence
		}
		view.Executions = append(view.Executions, item)
	}
	return view
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

// NewestLiveRun returns the newest live worker run of one subject kind, or
// nil when there is none.
func (s *Service) NewestLiveRun(ctx context.Context, kind string) (*RunSummary, error) {
	run, err := models.NewestLiveRetryWorkerRun(ctx, s.DB, kind)
	if err != nil || run == nil {
		return nil, err
	}
	summary := runSummary(*run)
	return &summary, nil
}

// WorkerRunCount returns the number of worker runs of one subject kind, or
// of every kind when kind is empty.
func (s *Service) WorkerRunCount(ctx context.Context, kind string) (int64, error) {
	return models.CountRetryWorkerRuns(ctx, s.DB, kind)
}

// splitDestinations reads a stored destination limit; empty is no limit.
func splitDestinations(stored string) []string {
	if stored == "" {
		return []string{}
	}
	return strings.Split(stored, ",")
}

func metricsMode(dryRun bool) string {
	if dryRun {
		return metrics.ModeDry
	}
	return metrics.ModeLive
}
