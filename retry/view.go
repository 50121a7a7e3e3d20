package retry

import (
	"time"

	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/models"
)

// Worker run modes.
const (
	ModeDryRun = "dry_run"
	ModeLive   = "live"
)

// PlanCounts tallies the decisions of a plan by action.
type PlanCounts struct {
	DecisionCount int `json:"decision_count"`
	RetryCount    int `json:"retry_count"`
	WaitCount     int `json:"wait_count"`
	SuppressCount int `json:"suppress_count"`
}

// OpenFailures tallies the decisions of the plan behind a worker run or a
// preview: every open failure group, whether or not it is due now. A
// worker run counts them when it plans, before it sends anything.
// NextRetryAt is the earliest next retry time of the waiting groups, or nil
// when none waits.
type OpenFailures struct {
	PlanCounts
	NextRetryAt *time.Time `json:"next_retry_at"`
}

func openFailuresOf(plan models.RetryPlan) OpenFailures {
	return OpenFailures{
		PlanCounts: PlanCounts{DecisionCount: plan.DecisionCount, RetryCount: plan.RetryCount,
			WaitCount: plan.WaitCount, SuppressCount: plan.SuppressCount},
		NextRetryAt: plan.NextRetryAt,
	}
}

// PlanView is the JSON shape of a persisted retry plan.
type PlanView struct {
	RetryPlanID string         `json:"retry_plan_id"`
	SubjectKind string         `json:"subject_kind"`
	Policy      Policy         `json:"retry_policy"`
	CreatedAt   time.Time      `json:"created_at"`
	Actor       string         `json:"actor"`
	WorkerRunID string         `json:"worker_run_id,omitempty"`
	Counts      PlanCounts     `json:"counts"`
	NextRetryAt *time.Time     `json:"next_retry_at"`
	Decisions   []DecisionView `json:"decisions"`
}

// DecisionView is the JSON shape of one stored decision. ScheduleRunID and
// ReportID are set for executive report deliveries, AlertPlanID and
// Fingerprint for health alert deliveries.
type DecisionView struct {
	DecisionID     string     `json:"decision_id"`
	Action         string     `json:"action"`
	Reason         string     `json:"reason"`
	FailureCount   int        `json:"failure_count"`
	LastFailureAt  *time.Time `json:"last_failure_at"`
	LastErrorClass string     `json:"last_error_class"`
	NextRetryAt    *time.Time `json:"next_retry_at"`
	SubjectKind    string     `json:"subject_kind"`
	SubjectID      string     `json:"subject_id"`
	SubjectKey     string     `json:"subject_key"`
	ScheduleRunID  string     `json:"schedule_run_id,omitempty"`
	ReportID       string     `json:"report_id,omitempty"`
	AlertPlanID    string     `json:"alert_plan_id,omitempty"`
	Fingerprint    string     `json:"fingerprint,omitempty"`
	Provider       string     `json:"provider"`
	LastDeliveryID string     `json:"last_delivery_id"`
	IdempotencyKey string     `json:"idempotency_key"`
	Selected       bool       `json:"selected"`
	State          string     `json:"state"`
}

// ScheduleView is the schedule a worker run ran under and its window.
type ScheduleView struct {
	Schedule
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
}

// RunCounts tallies a worker run. ReconciledCount is the number of
// executions and plain sends, left in flight by a stopped worker or
// server, whose outcome a live run recorded before it sent anything.
type RunCounts struct {
	RetryableCount  int `json:"retryable_count"`
	SelectedCount   int `json:"selected_count"`
	DeliveredCount  int `json:"delivered_count"`
	FailedCount     int `json:"failed_count"`
	SkippedCount    int `json:"skipped_count"`
	ReconciledCount int `json:"reconciled_count"`
}

// RunView is the JSON shape of one worker run. SelectedDecisions are what a
// dry run would send and what a live run tried to send.
type RunView struct {
	WorkerRunID        string `json:"worker_run_id"`
	SubjectKind        string `json:"subject_kind"`
	Mode               string `json:"mode"`
	DryRun             bool   `json:"dry_run"`
	Actor              string `json:"actor"`
	RetryPlanID        string `json:"retry_plan_id"`
	Policy             Policy `json:"retry_policy"`
	MaxRetryDeliveries int    `json:"max_retry_deliveries"`
	// Retries and TimeoutSeconds are the quick retries and per-attempt
	// timeout of each retry delivery. A dry run records what a live run
	// would have used.
	Retries        int     `json:"retries"`
	TimeoutSeconds float64 `json:"timeout_seconds"`
	// OnlyDestinations is the destination limit of the run; empty means
	// every destination.
	OnlyDestinations  []string        `json:"only_destinations"`
	Schedule          ScheduleView    `json:"schedule"`
	State             string          `json:"state"`
	CreatedAt         time.Time       `json:"created_at"`
	CompletedAt       *time.Time      `json:"completed_at"`
	Counts            RunCounts       `json:"counts"`
	OpenFailures      OpenFailures    `json:"open_failures"`
	SelectedDecisions []DecisionView  `json:"selected_decisions"`
	Executions        []ExecutionView `json:"executions"`
	// ReconciledExecutions are the executions of stopped workers whose
	// outcome this live run recorded before it sent anything: their
	// delivery's outcome when it was recorded, otherwise interrupted.
	ReconciledExecutions []ExecutionView `json:"reconciled_executions"`
	// ReconciledSendIDs are the deliveries of plain sends, not retries, that
	// a stopped server left in flight and this live run recorded as
	// interrupted.
	ReconciledSendIDs []string `json:"reconciled_send_ids"`
	// WouldReconcile is set on a dry run: what a live run started at the
	// same moment would have recorded as interrupted before sending
	// anything. The dry run recorded none of it. Live runs leave it out.
	WouldReconcile *WouldReconcile `json:"would_reconcile,omitempty"`
	// ConfirmedNotSent lists, for a confirmed live run, the confirmed
	// retries that the run did not select, with the reason. It is absent
	// when the run selected every confirmed retry. A selected retry that
	// was skipped, for example because a send to its destination was under
	// way, is an execution with outcome skipped and its reason.
	ConfirmedNotSent []NotSentRetry `json:"confirmed_not_sent,omitempty"`
	// NotReady lists, for a dry run, the selected destinations and the
	// destinations the limit names that a live run could not send to when
	// the view was made, with the reason. It is absent when there are none
	// and on live runs.
	NotReady map[string]string `json:"not_ready,omitempty"`
}

// WouldReconcile counts what a live run would record as interrupted first,
// with the meanings of the fields of the same names in Preview.
type WouldReconcile struct {
	InterruptedCount int `json:"interrupted_count"`
	StaleSendCount   int `json:"stale_send_count"`
}

// ExecutionView is the JSON shape of one execution record, linking the
// worker run, the retry plan, the subject and the new delivery evidence.
type ExecutionView struct {
	ExecutionID    string         `json:"execution_id"`
	DecisionID     string         `json:"decision_id"`
	WorkerRunID    string         `json:"worker_run_id"`
	RetryPlanID    string         `json:"retry_plan_id"`
	SubjectKind    string         `json:"subject_kind"`
	SubjectID      string         `json:"subject_id"`
	SubjectKey     string         `json:"subject_key"`
	ScheduleRunID  string         `json:"schedule_run_id,omitempty"`
	ReportID       string         `json:"report_id,omitempty"`
	AlertPlanID    string         `json:"alert_plan_id,omitempty"`
	Fingerprint    string         `json:"fingerprint,omitempty"`
	Provider       string         `json:"provider"`
	Outcome        string         `json:"outcome"`
	Reason         string         `json:"reason"`
	DeliveryID     string         `json:"delivery_id"`
	IdempotencyKey string         `json:"idempotency_key"`
	StartedAt      time.Time      `json:"started_at"`
	CompletedAt    *time.Time     `json:"completed_at"`
	Delivery       *delivery.View `json:"delivery,omitempty"`
	// ReconciledByRunID is the live worker run that recorded the outcome of
	// this execution, which a stopped worker left in flight.
	ReconciledByRunID string `json:"reconciled_by_run_id,omitempty"`
}

// RunSummary is one row of the worker run list.
type RunSummary struct {
	WorkerRunID     string `json:"worker_run_id"`
	SubjectKind     string `json:"subject_kind"`
	Mode            string `json:"mode"`
	Actor           string `json:"actor"`
	RetryPlanID     string `json:"retry_plan_id"`
	ScheduleEnabled bool   `json:"schedule_enabled"`
	// MaxRetryDeliveries, Retries and TimeoutSeconds are the run's limit and
	// the send options of each of its retry deliveries.
	MaxRetryDeliveries int     `json:"max_retry_deliveries"`
	Retries            int     `json:"retries"`
	TimeoutSeconds     float64 `json:"timeout_seconds"`
	// OnlyDestinations is the destination limit of the run; empty means
	// every destination.
	OnlyDestinations []string   `json:"only_destinations"`
	State            string     `json:"state"`
	CreatedAt        time.Time  `json:"created_at"`
	CompletedAt      *time.Time `json:"completed_at"`
	Counts           RunCounts  `json:"counts"`
}

// Preview lists the retries a live run would send now, for the confirmation
// step. Computing it writes nothing.
type Preview struct {
	SubjectKind        string         `json:"subject_kind"`
	Policy             Policy         `json:"retry_policy"`
	MaxRetryDeliveries int            `json:"max_retry_deliveries"`
	OpenFailures       OpenFailures   `json:"open_failures"`
	SelectedDecisions  []DecisionView `json:"selected_decisions"`
	Destinations       []string       `json:"destinations"`
	// OnlyDestinations is the destination limit of the request, or empty.
	OnlyDestinations []string `json:"only_destinations,omitempty"`
	// ReadyDestinations lists the configured destinations, within the
	// limit, that can send now: the limit that leaves out those that cannot.
	ReadyDestinations []string `json:"ready_destinations"`
	// NotReady maps each selected destination, and each destination the
	// limit names, that cannot send to the reason.
	NotReady map[string]string `json:"not_ready"`
	// InterruptedCount is the number of executions left in flight past the
	// in-flight timeout, which a live run records as interrupted first.
	InterruptedCount int `json:"interrupted_count"`
	// InFlightCount is the number of executions in flight for less than the
	// in-flight timeout: sends under way, or left by a worker stopped
	// moments ago. InterruptibleAt is when the oldest of them, if still in
	// flight, is past the timeout and a live run records it as interrupted.
	InFlightCount   int        `json:"in_flight_count"`
	InterruptibleAt *time.Time `json:"interruptible_at,omitempty"`
	// StaleSendCount is the number of plain sends in flight for longer than
	// StaleSendAfter, which a live run records as interrupted first.
	StaleSendCount int `json:"stale_send_count"`
}

func subjectLinks(kind, subjectID, subjectKey string) (scheduleRunID, reportID, alertPlanID, fingerprint string) {
	switch kind {
	case models.SubjectExecutiveReport:
		return subjectID, subjectKey, "", ""
	case models.SubjectHealthAlert:
		return "", "", subjectID, subjectKey
	}
	return "", "", "", ""
}

func decisionView(d models.RetryDecision) DecisionView {
	view := DecisionView{
		DecisionID: d.ID, Action: d.Action, Reason: d.Reason, FailureCount: d.FailureCount,
		LastFailureAt: d.LastFailureAt, LastErrorClass: d.LastErrorClass, NextRetryAt: d.NextRetryAt,
		SubjectKind: d.SubjectKind, SubjectID: d.SubjectID, SubjectKey: d.SubjectKey, Provider: d.Connector,
		LastDeliveryID: d.LastDeliveryID, IdempotencyKey: d.IdempotencyKey, Selected: d.Selected, State: d.State,
	}
	view.ScheduleRunID, view.ReportID, view.AlertPlanID, view.Fingerprint = subjectLinks(d.SubjectKind, d.SubjectID, d.SubjectKey)
	return view
}

func executionView(e models.RetryExecution) ExecutionView {
	view := ExecutionView{
		ExecutionID: e.ID, DecisionID: e.DecisionID, WorkerRunID: e.WorkerRunID, RetryPlanID: e.PlanID,
		SubjectKind: e.SubjectKind, SubjectID: e.SubjectID, SubjectKey: e.SubjectKey, Provider: e.Connector,
		Outcome: e.Outcome, Reason: e.Reason, DeliveryID: e.DeliveryID, IdempotencyKey: e.IdempotencyKey,
		StartedAt: e.StartedAt, CompletedAt: e.CompletedAt, ReconciledByRunID: e.ReconciledByRunID,
	}
	view.ScheduleRunID, view.ReportID, view.AlertPlanID, view.Fingerprint = subjectLinks(e.SubjectKind, e.SubjectID, e.SubjectKey)
	return view
}

func policyOf(plan models.RetryPlan) Policy {
	return Policy{
		MaxRetryAttempts: plan.MaxRetryAttempts, RetryDelayMinutes: plan.RetryDelayMinutes,
		AllowImmediateRetry: plan.AllowImmediateRetry, BackoffMultiplier: plan.BackoffMultiplier,
	}
}

func runCounts(run models.RetryWorkerRun) RunCounts {
	return RunCounts{
		RetryableCount: run.RetryableCount, SelectedCount: run.SelectedCount, DeliveredCount: run.DeliveredCount,
		FailedCount: run.FailedCount, SkippedCount: run.SkippedCount, ReconciledCount: run.ReconciledCount,
	}
}

func modeOf(dryRun bool) string {
	if dryRun {
		return ModeDryRun
	}
	return ModeLive
}

func runSummary(run models.RetryWorkerRun) RunSummary {
	return RunSummary{
		WorkerRunID: run.ID, SubjectKind: run.SubjectKind, Mode: modeOf(run.DryRun), Actor: run.Actor,
		RetryPlanID: run.PlanID, ScheduleEnabled: run.ScheduleEnabled, State: run.State,
		MaxRetryDeliveries: run.MaxRetryDeliveries, Retries: run.SendRetries, TimeoutSeconds: float64(run.SendTimeoutMS) / 1000,
		OnlyDestinations: splitDestinations(run.OnlyDestinations), CreatedAt: run.CreatedAt, CompletedAt: run.CompletedAt, Counts: runCounts(run),
	}
}
