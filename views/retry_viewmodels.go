package views

import (
	"fmt"

	"github.com/a-h/templ"
)

// RetryConsoleView is the content of a delivery retry section of the
// console, for either subject kind.
type RetryConsoleView struct {
	Policy             RetryPolicyForm
	MaxRetryDeliveries int
	Send               RetrySendForm
	// PlanBlockedReason and RunBlockedReason are the reasons the user's role
	// may not plan retries or start worker runs, shown under the disabled
	// forms. They are empty when the role may.
	PlanBlockedReason string
	RunBlockedReason  string
	// LiveBlockedReason is the reason this user cannot run live retries, or
	// is empty.
	LiveBlockedReason string
	Plan              *RetryPlanView
	LatestRun         *RetryRunView
	Health            RetryHealthView
}

// RetrySendForm is the send options of a worker run as the forms show
// them. Text describes them in words.
type RetrySendForm struct {
	Retries        int
	TimeoutSeconds string
	Text           string
}

// RetryPolicyForm is the retry policy as the form shows it.
type RetryPolicyForm struct {
	MaxRetryAttempts    int
	RetryDelayMinutes   int
	AllowImmediateRetry bool
	BackoffMultiplier   string
}

// MaxRetryAttemptsHint is the help text of the "Max retry attempts" input.
// The policy counts the original send as an attempt, so 1 allows no retry.
const MaxRetryAttemptsHint = "Includes the original send: 3 allows 2 retries."

// RetryPlanView is a persisted retry plan ready to show.
type RetryPlanView struct {
	PlanID        string
	CreatedAt     string
	Actor         string
	Policy        string
	RetryCount    int
	WaitCount     int
	SuppressCount int
	Decisions     []RetryDecisionView
	// LaterRunID is the newest worker run when it is a live run that
	// started after this plan and planned on its own, so the decisions
	// shown may be out of date.
	LaterRunID string
}

// outOfBand returns the attribute with which htmx swaps an element of a
// response into the page by its id, or none when oob is false.
func outOfBand(oob bool) templ.Attributes {
	if !oob {
		return nil
	}
	return templ.Attributes{"hx-swap-oob": "true"}
}

// describedByNote returns the aria-describedby attribute that points a
// control at the note with id noteID, or no attribute when reason is empty
// and so no note is shown.
func describedByNote(noteID, reason string) templ.Attributes {
	if reason == "" {
		return nil
	}
	return templ.Attributes{"aria-describedby": noteID}
}

// runDecisionsLabel names the scroll region of a worker run's decision
// table after the heading above it, which differs for a dry and a live run.
func runDecisionsLabel(k RetryKind, mode string) string {
	if mode == "live" {
		return k.Word + " retries selected by the live run"
	}
	return k.Word + " retries the dry run would send"
}

// EmptyText explains a plan without stored decisions. A worker run's plan
// stores only the decisions the run selected, while its counts cover every
// open group, so such a plan can count groups it does not list.
func (p *RetryPlanView) EmptyText() string {
	if p.RetryCount+p.WaitCount+p.SuppressCount == 0 {
		return "No failed deliveries are open."
	}
	return "No decision was stored: this plan keeps only the decisions its worker run selected, and the counts above cover every open group. Plan again to see each one."
}

// RetryDecisionView is one decision row.
type RetryDecisionView struct {
	DecisionID   string
	Action       string
	Reason       string
	Subject      string // schedule run or alert plan
	SubjectKey   string // report or fingerprint
	Provider     string
	FailureCount int
	LastFailure  string
	NextRetry    string
	Selected     bool
}

// RetryRunView is one worker run ready to show.
type RetryRunView struct {
	RunID       string
	SubjectKind string
	Mode        string
	Actor       string
	PlanID      string
	Policy      string
	// Send describes the attempts of each retry delivery.
	Send string
	// OnlyDestinations is the destination limit of the run, or empty.
	OnlyDestinations string
	Schedule         string
	// ScheduleEnabled is false when automatic runs of the schedule are
	// paused; a manual run still runs.
	ScheduleEnabled bool
	Window          string
	State           string
	CreatedAt       string
	CompletedAt     string
	Selected        int
	Delivered       int
	Failed          int
	Skipped         int
	Reconciled      int
	// WouldInterrupt and WouldInterruptSends are, on a dry run, the retry
	// executions and plain sends that a live run would have recorded as
	// interrupted first.
	WouldInterrupt      int
	WouldInterruptSends int
	// NotSent lists, on a confirmed live run's result, each confirmed
	// retry the run did not send as "destination, subject (failed delivery
	// ID): reason".
	NotSent []string
	// NoRetryDue describes the open failures when the run selected nothing.
	NoRetryDue string
	// NotReady lists "destination: reason" for the destinations of a dry
	// run that a live run could not send to.
	NotReady   []string
	Decisions  []RetryDecisionView
	Executions []RetryExecutionView
	// ReconciledExecutions are executions of stopped workers whose outcome
	// this run recorded.
	ReconciledExecutions []RetryReconciledView
	// ReconciledSendIDs are the deliveries of plain sends a stopped server
	// left in flight that this run recorded as interrupted.
	ReconciledSendIDs []string
}

// RetryReconciledView is one execution of a stopped worker whose outcome a
// live run recorded.
type RetryReconciledView struct {
	ExecutionID string
	// WorkerRunID is the stopped run the execution belongs to.
	WorkerRunID string
	Provider    string
	Outcome     string
	Reason      string
	StartedAt   string
}

// RetryExecutionView is one execution record row.
type RetryExecutionView struct {
	ExecutionID string
	Outcome     string
	Reason      string
	Subject     string
	SubjectKey  string
	Provider    string
	DeliveryID  string
	StatusCode  int
	// Kind is the connector kind, which names the protocol of StatusCode.
	Kind           string
	IdempotencyKey string
	StartedAt      string
	// Duration is how long the execution took, or empty while in flight.
	Duration string
}

// RetryRunsList is one page of the worker run list, newest first.
type RetryRunsList struct {
	Rows []RetryRunRow
	// Total counts the runs of every page, and Offset is the number of
	// newer runs before this page.
	Total  int64
	Offset int
	// PreviousHref links the newer runs and NextHref the older ones.
	PageLinks
}

// RetryRunRow is one row of the worker run list.
type RetryRunRow struct {
	RunID       string
	SubjectKind string
	Mode        string
	Actor       string
	State       string
	CreatedAt   string
	Selected    int
	Delivered   int
	Failed      int
	Skipped     int
}

// RetryConfirmView is the confirmation step of a live run.
type RetryConfirmView struct {
	Policy             RetryPolicyForm
	MaxRetryDeliveries int
	Send               RetrySendForm
	Count              int
	Destinations       []string
	// Retries are the ids of the failed deliveries that the confirmed
	// retries re-send, so the live run sends only what was shown.
	Retries []string
	// DestinationCounts names each destination with its number of retry
	// deliveries, such as "alpha (2), beta (1)".
	DestinationCounts string
	// OnlyDestinations is the destination limit the confirmation was made
	// with, sent on with the live run; empty means every destination.
	OnlyDestinations []string
	// LeaveOut, when set, offers a confirmation without the destinations
	// that cannot send.
	LeaveOut *RetryLeaveOutView
	// Interrupted is the number of executions a stopped worker left in
	// flight, which the live run records as interrupted before it sends.
	Interrupted int
	// StaleSends is the number of plain sends a stopped server left in
	// flight, which the live run also records as interrupted first.
	StaleSends int
	// InFlight describes executions in flight for less than the in-flight
	// timeout and when a live run may record them as interrupted, or is
	// empty when there are none.
	InFlight string
	// MaxDuration is how long the sends can take, such as "up to 44s", or
	// empty when the run sends nothing.
	MaxDuration string
	// NoRetryDue describes the open failures when no retry is due now.
	NoRetryDue string
	Decisions  []RetryDecisionView
	// NotReady lists "destination: reason" for destinations that cannot send.
	NotReady []string
	// BlockedReason is the reason the live run cannot be confirmed, or empty.
	BlockedReason string
	// NothingDue is true when no retry is due and nothing waits to be
	// recorded as interrupted. BlockedReason then gives the reason.
	NothingDue bool
}

// RetryLeaveOutView offers to confirm a live run again, limited to the
// destinations that can send.
type RetryLeaveOutView struct {
	// Unready names the destinations left out, and Ready the limit sent.
	Unready, Ready []string
	// Due names the destinations of Ready with a retry due now.
	Due []string
}

// CountNoun writes n followed by singular when n is 1, otherwise by plural.
func CountNoun(n int, singular, plural string) string {
	if n == 1 {
		return "1 " + singular
	}
	return fmt.Sprintf("%d %s", n, plural)
}

// DeliveryCount writes n with "retry delivery" or "retry deliveries".
func DeliveryCount(n int) string {
	if n == 1 {
		return "1 retry delivery"
	}
	return fmt.Sprintf("%d retry deliveries", n)
}

// RetryHealthView is a delivery retry health evaluation ready to show.
type RetryHealthView struct {
	AlertLevel              string
	EvaluatedAt             string
	ExpectedIntervalMinutes int
	StaleMetadataMinutes    int
	Findings                []FindingView
	Counts                  []CountView
	LatestWorkerRun         *RecordAgeView
	LatestRetryPlan         *RecordAgeView
	RecommendedActions      []string
}

// RunCountsText sums up what a worker run selected and how its executions
// ended.
func RunCountsText(r RetryRunView) string {
	text := fmt.Sprintf("%d selected, %d delivered, %d failed, %d skipped", r.Selected, r.Delivered, r.Failed, r.Skipped)
	// Reconciled counts both executions and plain sends. A run stored
	// before plain sends were counted lists more of them than its count
	// leaves room for, so the listed executions are the lower bound.
	sends := len(r.ReconciledSendIDs)
	executions := max(r.Reconciled-sends, len(r.ReconciledExecutions))
	if executions > 0 {
		text += ", " + CountNoun(executions, "interrupted execution", "interrupted executions") + " reconciled"
	}
	if sends > 0 {
		text += ", " + CountNoun(sends, "interrupted send", "interrupted sends") + " reconciled"
	}
	return text
}
