package handlers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/retry"
	"github.com/releaseops/evidence-console/views"
)

// retryTime formats a time that a retry waits for, rounded up to the
// second, so a page never shows it as due before it is.
func (h *Handler) retryTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return views.FormatTimeSeconds(*t, h.TimeZone)
}

// recordedTime formats a time at which something happened, rounded down to
// the second.
func (h *Handler) recordedTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return views.FormatRecordedTime(*t, h.TimeZone)
}

func policyForm(policy retry.Policy) views.RetryPolicyForm {
	return views.RetryPolicyForm{
		MaxRetryAttempts: policy.MaxRetryAttempts, RetryDelayMinutes: policy.RetryDelayMinutes,
		AllowImmediateRetry: policy.AllowImmediateRetry, BackoffMultiplier: strconv.FormatFloat(policy.BackoffMultiplier, 'f', -1, 64),
	}
}

func policyText(policy retry.Policy) string {
	text := fmt.Sprintf("at most %s, %d-minute delay × %s per failure",
		views.CountNoun(policy.MaxRetryAttempts, "attempt", "attempts"), policy.RetryDelayMinutes, strconv.FormatFloat(policy.BackoffMultiplier, 'f', -1, 64))
	if policy.AllowImmediateRetry {
		text += ", immediate retry allowed"
	}
	return text
}

// noRetryDueText describes the open failures of a run or preview that
// selected nothing: how many are open, waiting and suppressed, and when the
// next waiting one is due. A run limited to some destinations counts the
// open failures of every destination. Its text states this and leaves out
// when one is due, because that may be now for a destination outside the
// limit.
func (h *Handler) noRetryDueText(open retry.OpenFailures, limited bool) string {
	if open.DecisionCount == 0 {
		if limited {
			return "No failed deliveries are open to any destination."
		}
		return "No failed deliveries are open."
	}
	counts := fmt.Sprintf(" (%d waiting, %d suppressed)", open.WaitCount, open.SuppressCount)
	if limited {
		return views.CountNoun(open.DecisionCount, "failed delivery is open", "failed deliveries are open") +
			" across every destination" + counts + "."
	}
	text := views.CountNoun(open.DecisionCount, "failed delivery is open", "failed deliveries are open") + counts
	switch {
	case open.NextRetryAt != nil:
		return text + "; none is due before " + h.retryTime(open.NextRetryAt) + "."
	case open.SuppressCount == open.DecisionCount:
		return text + "; none is due, because every one is suppressed after a permanent failure or the maximum retry attempts. " +
			"No retry run sends a suppressed delivery, so fix its cause and deliver it again by hand; a new plan shows the reason of each."
	}
	return text + "; none could be selected now."
}

func (h *Handler) decisionRow(d retry.DecisionView) views.RetryDecisionView {
	return views.RetryDecisionView{
		DecisionID: d.DecisionID, Action: d.Action, Reason: d.Reason, Subject: d.SubjectID, SubjectKey: d.SubjectKey,
		Provider: d.Provider, FailureCount: d.FailureCount, LastFailure: h.recordedTime(d.LastFailureAt),
		NextRetry: h.retryTime(d.NextRetryAt), Selected: d.Selected,
	}
}

func (h *Handler) retryPlanView(plan *retry.PlanView) *views.RetryPlanView {
	if plan == nil {
		return nil
	}
	view := &views.RetryPlanView{
		PlanID: plan.RetryPlanID, CreatedAt: views.FormatTime(plan.CreatedAt, h.TimeZone), Actor: plan.Actor,
		Policy: policyText(plan.Policy), RetryCount: plan.Counts.RetryCount, WaitCount: plan.Counts.WaitCount,
		SuppressCount: plan.Counts.SuppressCount,
	}
	for _, d := range plan.Decisions {
		view.Decisions = append(view.Decisions, h.decisionRow(d))
	}
	return view
}

func (h *Handler) retryRunView(run retry.RunView) views.RetryRunView {
	schedule := run.Schedule.Cadence + ", every " + views.CountNoun(run.Schedule.IntervalMinutes, "minute", "minutes")
	if run.Schedule.Cadence == retry.DefaultScheduleCadence {
		schedule = "manual (started by hand), expected every " + views.CountNoun(run.Schedule.IntervalMinutes, "minute", "minutes")
	}
	if !run.Schedule.Enabled {
		schedule += ", disabled (automatic runs are paused; this run was started by hand)"
	}
	view := views.RetryRunView{
		RunID: run.WorkerRunID, SubjectKind: run.SubjectKind, Mode: run.Mode, Actor: run.Actor, PlanID: run.RetryPlanID,
		Policy: policyText(run.Policy), Send: sendText(run.Retries, run.TimeoutSeconds), OnlyDestinations: strings.Join(run.OnlyDestinations, ", "),
		Schedule: schedule, ScheduleEnabled: run.Schedule.Enabled, State: run.State,
		Window:    views.FormatTime(run.Schedule.WindowStart, h.TimeZone) + " to " + views.FormatTime(run.Schedule.WindowEnd, h.TimeZone),
		CreatedAt: views.FormatTime(run.CreatedAt, h.TimeZone), CompletedAt: h.recordedTime(run.CompletedAt),
		Selected: run.Counts.SelectedCount, Delivered: run.Counts.DeliveredCount, Failed: run.Counts.FailedCount,
		Skipped: run.Counts.SkippedCount, Reconciled: run.Counts.ReconciledCount,
		NoRetryDue: h.noRetryDueText(run.OpenFailures, len(run.OnlyDestinations) > 0),
	}
	for _, item := range run.ConfirmedNotSent {
		if item.Provider == "" {
			// An id that names no failed delivery of this kind has no
			// destination or subject to show, and its reason names the id.
			view.NotSent = append(view.NotSent, item.Reason)
			continue
		}
		view.NotSent = append(view.NotSent, fmt.Sprintf("%s, %s (failed delivery %s): %s", item.Provider, item.SubjectID, item.FailedDeliveryID, item.Reason))
	}
	if run.WouldReconcile != nil {
		view.WouldInterrupt, view.WouldInterruptSends = run.WouldReconcile.InterruptedCount, run.WouldReconcile.StaleSendCount
	}
	for _, d := range run.SelectedDecisions {
		view.Decisions = append(view.Decisions, h.decisionRow(d))
	}
	for _, name := range slices.Sorted(maps.Keys(run.NotReady)) {
		view.NotReady = append(view.NotReady, name+": "+run.NotReady[name])
	}
	for _, e := range run.Executions {
		row := views.RetryExecutionView{
			ExecutionID: e.ExecutionID, Outcome: e.Outcome, Reason: e.Reason, Subject: e.SubjectID, SubjectKey: e.SubjectKey,
			Provider: e.Provider, DeliveryID: e.DeliveryID, IdempotencyKey: e.IdempotencyKey,
			StartedAt: views.FormatTime(e.StartedAt, h.TimeZone),
		}
		if e.Delivery != nil {
			row.StatusCode, row.Kind = e.Delivery.StatusCode, e.Delivery.ConnectorKind
		}
		// An outcome a later run recorded does not show how long the send
		// took, so it gets no duration.
		if e.CompletedAt != nil && e.ReconciledByRunID == "" {
			row.Duration = e.CompletedAt.Sub(e.StartedAt).Round(time.Millisecond).String()
		}
		view.Executions = append(view.Executions, row)
	}
	for _, e := range run.ReconciledExecutions {
		view.ReconciledExecutions = append(view.ReconciledExecutions, views.RetryReconciledView{
			ExecutionID: e.ExecutionID, WorkerRunID: e.WorkerRunID, Provider: e.Provider, Outcome: e.Outcome,
			Reason: e.Reason, StartedAt: views.FormatTime(e.StartedAt, h.TimeZone),
		})
	}
	view.ReconciledSendIDs = run.ReconciledSendIDs
	return view
}

func (h *Handler) retryRunRow(run retry.RunSummary) views.RetryRunRow {
	return views.RetryRunRow{
		RunID: run.WorkerRunID, SubjectKind: run.SubjectKind, Mode: run.Mode, Actor: run.Actor, State: run.State,
		CreatedAt: views.FormatTime(run.CreatedAt, h.TimeZone), Selected: run.Counts.SelectedCount,
		Delivered: run.Counts.DeliveredCount, Failed: run.Counts.FailedCount, Skipped: run.Counts.SkippedCount,
	}
}

// Actions named in the notes of retry forms a role may not submit.
const (
	planRetryAction = "plan delivery retries"
	runRetryAction  = "run delivery retries"
	liveRetryAction = "run live retries"
)

func (h *Handler) retryConfirmView(preview retry.Preview, options connectors.SendOptions, mayRunLive bool) views.RetryConfirmView {
	view := views.RetryConfirmView{
		Policy: policyForm(preview.Policy), MaxRetryDeliveries: preview.MaxRetryDeliveries,
		Send:  sendForm(options.Retries, options.Timeout.Seconds()),
		Count: len(preview.SelectedDecisions), Destinations: preview.Destinations, OnlyDestinations: preview.OnlyDestinations,
		DestinationCounts: destinationCounts(preview.SelectedDecisions), Interrupted: preview.InterruptedCount,
		StaleSends: preview.StaleSendCount,
		NoRetryDue: h.noRetryDueText(preview.OpenFailures, len(preview.OnlyDestinations) > 0),
	}
	for _, d := range preview.SelectedDecisions {
		row := h.decisionRow(d)
		// A preview stores nothing, so its decision ids would name no
		// record; the live run stores decisions with ids of its own.
		row.DecisionID = ""
		view.Decisions = append(view.Decisions, row)
		view.Retries = append(view.Retries, d.LastDeliveryID)
	}
	// NotReady names the selected destinations that cannot send and those
	// the limit names, because a live run rejects either.
	unready := slices.Sorted(maps.Keys(preview.NotReady))
	for _, name := range unready {
		view.NotReady = append(view.NotReady, name+": "+preview.NotReady[name])
	}
	if len(unready) > 0 && len(preview.ReadyDestinations) > 0 && mayRunLive {
		view.LeaveOut = &views.RetryLeaveOutView{Unready: unready, Ready: preview.ReadyDestinations}
	}
	if view.Count == 0 && view.Interrupted+view.StaleSends > 0 {
		view.NoRetryDue = "No retry is due before the interrupted " + interruptedNoun(view.Interrupted, view.StaleSends) + " recorded."
	}
	if preview.InFlightCount > 0 {
		waits := "Its group waits for it. If it is"
		if preview.InFlightCount != 1 {
			waits = "Their groups wait for them. If one is"
		}
		view.InFlight = views.CountNoun(preview.InFlightCount, "retry is", "retries are") + " in flight without an outcome yet: " +
			"a send under way, or one a stopped worker left. " + waits + " still in flight at " +
			h.retryTime(preview.InterruptibleAt) + ", a live run from then on records it as interrupted."
	}
	switch {
	case !mayRunLive:
		// The caller passes no role, so the note leaves it out.
		view.BlockedReason = blockedReason("", auth.PermissionRunLiveRetries, liveRetryAction)
	case len(view.NotReady) > 0:
		view.BlockedReason = "Some destinations cannot send: " + strings.Join(view.NotReady, "; ")
	case view.Count == 0 && view.Interrupted == 0 && view.StaleSends == 0 && len(preview.OnlyDestinations) > 0:
		limit := "those destinations"
		if len(preview.OnlyDestinations) == 1 {
			limit = "that destination"
		}
		view.BlockedReason = "No retry to " + strings.Join(preview.OnlyDestinations, ", ") + " is due now, so a live run limited to " +
			limit + " would send nothing. " + view.NoRetryDue
		view.NothingDue = true
	case view.Count == 0 && view.Interrupted == 0 && view.StaleSends == 0:
		view.BlockedReason = "No retry is due now, so a live run would send nothing. " + view.NoRetryDue
		view.NothingDue = true
	}
	return view
}

// destinationCounts names each destination of decisions, sorted, with its
// number of decisions.
func destinationCounts(decisions []retry.DecisionView) string {
	counts := map[string]int{}
	var names []string
	for _, d := range decisions {
		if counts[d.Provider] == 0 {
			names = append(names, d.Provider)
		}
		counts[d.Provider]++
	}
	slices.Sort(names)
	parts := make([]string, 0, len(names))
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s (%d)", name, counts[name]))
	}
	return strings.Join(parts, ", ")
}

func (h *Handler) retryHealthView(r retry.HealthReport) views.RetryHealthView {
	view := views.RetryHealthView{
		AlertLevel: r.AlertLevel, EvaluatedAt: views.FormatTime(r.EvaluatedAt, h.TimeZone),
		ExpectedIntervalMinutes: r.ExpectedIntervalMinutes, StaleMetadataMinutes: r.StaleMetadataMinutes,
		RecommendedActions: r.RecommendedActions,
	}
	for _, f := range r.Findings {
		view.Findings = append(view.Findings, views.FindingView{Category: f.Category, Severity: f.Severity, Message: f.Message})
	}
	c := r.Counts
	view.Counts = []views.CountView{
		{Key: "worker_run_count", Label: "Worker runs", Value: c.WorkerRunCount},
		{Key: "live_run_count", Label: "Live runs", Value: c.LiveRunCount},
		{Key: "retry_plan_count", Label: "Retry plans", Value: c.RetryPlanCount},
		{Key: "failed_delivery_count", Label: "Open failed deliveries", Value: c.FailedDeliveryCount},
		{Key: "delivered_execution_count", Label: "Delivered executions", Value: c.DeliveredExecutionCount},
		{Key: "failed_execution_count", Label: "Open failed executions", Value: c.FailedExecutionCount},
		{Key: "in_flight_execution_count", Label: "Executions in flight", Value: c.InFlightExecutionCount},
	}
	if run := r.LatestWorkerRun; run != nil {
		view.LatestWorkerRun = &views.RecordAgeView{ID: run.WorkerRunID, CreatedAt: views.FormatTime(run.CreatedAt, h.TimeZone),
			Age: views.FormatAge(run.Minutes, run.InFuture), Detail: strings.ReplaceAll(run.Mode, "_", " ")}
	}
	if plan := r.LatestRetryPlan; plan != nil {
		view.LatestRetryPlan = &views.RecordAgeView{ID: plan.RetryPlanID, CreatedAt: views.FormatTime(plan.CreatedAt, h.TimeZone),
			Age: views.FormatAge(plan.Minutes, plan.InFuture)}
	}
	return view
}

// retryKindView returns the names of the console section that retries
// deliveries of the subject kind.
func retryKindView(kind string) views.RetryKind {
	if kind == models.SubjectHealthAlert {
		return views.AlertRetry
	}
	return views.ExecutiveRetry
}

// retryConsoleView gathers the console section of the subject kind's
// delivery retries: the requested plan (retry_plan_id) when it is of that
// kind, else the newest, the newest worker run and the current health. It
// writes nothing.
func (h *Handler) retryConsoleView(ctx context.Context, c echo.Context, kind string) (*views.RetryConsoleView, error) {
	if h.Retry == nil {
		return nil, nil
	}
	view := &views.RetryConsoleView{
		Policy: policyForm(retry.DefaultPolicy()), MaxRetryDeliveries: retry.DefaultMaxRetryDeliveries,
		Send:              sendForm(retry.DefaultSendRetries, retry.DefaultSendTimeoutSeconds),
		PlanBlockedReason: formBlockedReason(c, auth.PermissionPlanRetries, planRetryAction),
		RunBlockedReason:  formBlockedReason(c, auth.PermissionPlanRetries, runRetryAction),
		LiveBlockedReason: formBlockedReason(c, auth.PermissionRunLiveRetries, liveRetryAction),
	}

	var plan *retry.PlanView
	if id := consoleID(c, "retry_plan_id"); id != "" {
		found, err := h.Retry.PlanByID(ctx, id)
		if err != nil {
			return nil, err
		}
		// A plan of the other kind is shown in that kind's section, so this
		// section shows its own newest plan instead.
		if found.SubjectKind == kind {
			plan = &found
		}
	}
	if plan == nil {
		latest, err := h.Retry.LatestPlan(ctx, kind)
		if err != nil {
			return nil, err
		}
		plan = latest
	}
	view.Plan = h.retryPlanView(plan)

	runs, err := h.Retry.WorkerRuns(ctx, kind, 1, 0)
	if err != nil {
		return nil, err
	}
	if len(runs) > 0 {
		run, err := h.Retry.WorkerRun(ctx, runs[0].WorkerRunID)
		if err != nil {
			return nil, err
		}
		runView := h.retryRunView(run)
		view.LatestRun = &runView
	}
	// Only a live run changes what a plan decided, so the newest live run
	// counts, even when a dry run came after it.
	if plan != nil {
		live, err := h.Retry.NewestLiveRun(ctx, kind)
		if err != nil {
			return nil, err
		}
		if live != nil && live.RetryPlanID != plan.RetryPlanID && live.CreatedAt.After(plan.CreatedAt) {
			view.Plan.LaterRunID = live.WorkerRunID
		}
	}

	report, err := h.Retry.Health(ctx, kind, retry.DefaultHealthParams())
	if err != nil {
		return nil, err
	}
	view.Health = h.retryHealthView(report)
	return view, nil
}

// sendForm returns a run's send options as the forms show them.
func sendForm(retries int, timeoutSeconds float64) views.RetrySendForm {
	return views.RetrySendForm{
		Retries: retries, TimeoutSeconds: strconv.FormatFloat(timeoutSeconds, 'f', -1, 64),
		Text: sendText(retries, timeoutSeconds),
	}
}

// sendText describes the attempts of each retry delivery of a run.
func sendText(retries int, timeoutSeconds float64) string {
	timeout := time.Duration(timeoutSeconds * float64(time.Second)).Round(time.Millisecond)
	return "each delivery up to " + views.CountNoun(retries+1, "attempt", "attempts") + " of " + timeout.String()
}

// interruptedNoun names what a live run records as interrupted before it
// can retry, with its verb: retry executions, plain sends, or both.
func interruptedNoun(executions, sends int) string {
	switch {
	case sends == 0 && executions == 1:
		return "execution is"
	case sends == 0:
		return "executions are"
	case executions == 0 && sends == 1:
		return "send is"
	case executions == 0:
		return "sends are"
	}
	return "executions and sends are"
}
