package retry

import (
	"fmt"
	"net/http"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
)

// Decision actions.
const (
	ActionRetry    = "retry"
	ActionWait     = "wait"
	ActionSuppress = "suppress"
)

// ClassInterrupted marks a retry delivery whose outcome is unknown because
// the worker stopped between sending and recording. It counts as a failure
// and is transient.
const ClassInterrupted = "interrupted"

// Failure is one failed delivery operation: the original send or one retry
// execution, whatever number of quick attempts it made.
type Failure struct {
	DeliveryID     string
	At             time.Time
	Class          string
	StatusCode     int
	RetryAfter     *time.Time
	IdempotencyKey string
	// ConnectorKind is the kind of connector that sent the failed delivery,
	// so a reason names its reply code with the right protocol. Empty reads
	// as HTTP.
	ConnectorKind string
}

// Group is the open failures of one (subject kind, subject id, destination):
// the failed deliveries after its latest success.
type Group struct {
	SubjectKind string
	SubjectID   string
	SubjectKey  string
	Connector   string
	// FailureCount is the number of open failures; Latest is the newest.
	FailureCount int
	Latest       Failure
	// RetryAfter is the open failure with the latest Retry-After time, or
	// nil when none has one. It may be older than Latest, because a
	// destination's request to wait still applies after a later failure
	// without one. From stored state only its Retry-After time, class,
	// status code and connector kind are known.
	RetryAfter *Failure
	// InFlightSince is the start of a retry delivery of this group that has
	// not been recorded yet, or nil.
	InFlightSince *time.Time
}

// Decision is the action a plan takes for one group, with its reason.
type Decision struct {
	SubjectKind    string     `json:"subject_kind"`
	SubjectID      string     `json:"subject_id"`
	SubjectKey     string     `json:"subject_key"`
	Connector      string     `json:"provider"`
	Action         string     `json:"action"`
	Reason         string     `json:"reason"`
	FailureCount   int        `json:"failure_count"`
	LastFailureAt  *time.Time `json:"last_failure_at"`
	LastErrorClass string     `json:"last_error_class"`
	NextRetryAt    *time.Time `json:"next_retry_at"`
	LastDeliveryID string     `json:"last_delivery_id"`
	IdempotencyKey string     `json:"idempotency_key"`
}

// groupOf converts the stored state of an open group.
func groupOf(g models.DeliveryGroup) Group {
	latest := Failure{DeliveryID: g.LastFailureID, Class: g.LastErrorClass, StatusCode: g.LastStatusCode,
		IdempotencyKey: g.LastIdempotencyKey}
	if g.LastFailureAt != nil {
		latest.At = *g.LastFailureAt
	}
	group := Group{SubjectKind: g.SubjectKind, SubjectID: g.SubjectID, SubjectKey: g.SubjectKey, Connector: g.Connector,
		FailureCount: g.FailureCount, Latest: latest, InFlightSince: g.InFlightSince}
	if g.LastRetryAfter != nil {
		group.RetryAfter = &Failure{Class: g.RetryAfterErrorClass, StatusCode: g.RetryAfterStatusCode, RetryAfter: g.LastRetryAfter}
	}
	return group
}

// Decide applies the retry rules to one group with open failures. It is pure:
// the same policy, group, time and in-flight timeout give the same decision.
//
// The rules apply in order. A permanent failure class is suppressed, and so
// are failures at or above max_retry_attempts. A group with a retry still in
// flight waits, and so does one before latest failure + delay or before the
// latest Retry-After time of its open failures. Every other group is
// retried.
func Decide(policy Policy, group Group, now time.Time, inFlightTimeout time.Duration) Decision {
	latest := group.Latest
	lastAt := models.UTC(latest.At)
	decision := Decision{
		SubjectKind: group.SubjectKind, SubjectID: group.SubjectID, SubjectKey: group.SubjectKey,
		Connector: group.Connector, FailureCount: group.FailureCount, LastFailureAt: &lastAt,
		LastErrorClass: latest.Class, LastDeliveryID: latest.DeliveryID, IdempotencyKey: latest.IdempotencyKey,
	}

	if reason, permanent := permanentReason(latest); permanent {
		decision.Action = ActionSuppress
		decision.Reason = reason
		return decision
	}
	if decision.FailureCount >= policy.MaxRetryAttempts {
		decision.Action = ActionSuppress
		decision.Reason = fmt.Sprintf("maximum retry attempts %d reached", policy.MaxRetryAttempts)
		return decision
	}
	if group.InFlightSince != nil {
		until := interruptibleAt(*group.InFlightSince, inFlightTimeout)
		decision.Action = ActionWait
		decision.Reason = "a retry delivery of this destination is in flight; its outcome is not recorded yet"
		if !now.Before(until) {
			decision.Reason = fmt.Sprintf("a retry delivery of this destination has been in flight for longer than the in-flight timeout of %s; "+
				"the next live run records it as interrupted and decides again", formatDelay(inFlightTimeout))
		}
		decision.NextRetryAt = &until
		return decision
	}

	delay := policy.Delay(decision.FailureCount)
	next := lastAt.Add(delay)
	capped := ""
	if delay == maxDelay {
		capped = " (capped at one year)"
	}
	reason := fmt.Sprintf("retry delay of %s%s after %s has not elapsed",
		formatDelay(delay), capped, countNoun(decision.FailureCount, "failure", "failures"))
	if wait := group.RetryAfter; wait != nil && wait.RetryAfter != nil && wait.RetryAfter.After(next) {
		next = models.UTC(*wait.RetryAfter)
		reason = retryAfterReason(*wait)
	}
	if now.Before(next) {
		decision.Action = ActionWait
		decision.Reason = reason
		due := ceilMicrosecond(next)
		decision.NextRetryAt = &due
		return decision
	}

	decision.Action = ActionRetry
	// The original send is the first of max_retry_attempts attempts, so
	// after n failures the retry is attempt n+1.
	decision.Reason = fmt.Sprintf("attempt %d of %d; the previous attempt failed", decision.FailureCount+1, policy.MaxRetryAttempts)
	if latest.Class != "" {
		decision.Reason += " (" + latest.Class + ")"
	}
	return decision
}

// interruptibleAt returns the first time at which a live run records a retry
// started at started, and still in flight, as interrupted. The retry must
// have been in flight for longer than timeout, as models.StaleRetryExecutions
// selects it, and the databases keep microseconds.
func interruptibleAt(started time.Time, timeout time.Duration) time.Time {
	return models.UTC(started.Add(timeout)).Add(time.Microsecond)
}

// ceilMicrosecond rounds t up to the microsecond the databases keep, in UTC.
// A delay with a fractional backoff multiplier can end inside a microsecond,
// and rounding up keeps the stored next retry time no earlier than the time
// at which Decide, given microsecond times, finds the group due.
func ceilMicrosecond(t time.Time) time.Time {
	rounded := models.UTC(t)
	if rounded.Before(t) {
		rounded = rounded.Add(time.Microsecond)
	}
	return rounded
}

// permanentClasses are the failure classes that permanentReason suppresses.
var permanentClasses = []connectors.Class{connectors.ClassGone, connectors.ClassAuthError, connectors.ClassClientError}

// rulesOf states the retry rules for the database, so it can count and
// select open groups without returning them all. A group the database
// finds due is decided again with Decide before it is retried.
func rulesOf(policy Policy, now time.Time) models.GroupRules {
	rules := models.GroupRules{Now: now, MaxAttempts: policy.MaxRetryAttempts}
	for _, class := range permanentClasses {
		rules.PermanentClasses = append(rules.PermanentClasses, string(class))
	}
	for failures := 1; failures < policy.MaxRetryAttempts; failures++ {
		rules.Delays = append(rules.Delays, policy.Delay(failures))
	}
	return rules
}

// permanentReason reports whether the failure needs an operator to change
// the destination or its credentials first. A configuration error is not
// permanent here: nothing was sent, and a live run checks that every
// destination is configured before it sends.
func permanentReason(failure Failure) (string, bool) {
	switch connectors.Class(failure.Class) {
	case connectors.ClassGone:
		return fmt.Sprintf("permanent failure: the destination is gone%s; fix the destination, then deliver again", statusSuffix(failure)), true
	case connectors.ClassAuthError:
		return fmt.Sprintf("permanent failure: the destination rejected the credentials%s; fix the connector credentials, then deliver again", statusSuffix(failure)), true
	case connectors.ClassClientError:
		return fmt.Sprintf("permanent failure: the destination rejected the request%s; fix the connector configuration, then deliver again", statusSuffix(failure)), true
	}
	return "", false
}

// statusSuffix returns " (HTTP 401)", or " (SMTP 535)" for an e-mail
// destination, for a failure with a response code, or "" for one without,
// such as an e-mail server that offers no usable sign-in method.
func statusSuffix(failure Failure) string {
	if failure.StatusCode == 0 {
		return ""
	}
	return " (" + connectors.ReplyCode(failure.ConnectorKind, failure.StatusCode) + ")"
}

// retryAfterReason names the status or error class of the failure whose
// Retry-After time a group waits for, and the header that may have set it.
func retryAfterReason(failure Failure) string {
	// A Datadog 429 without Retry-After takes its wait from
	// X-RateLimit-Reset, and the stored failure does not record which one.
	header := "Retry-After"
	if failure.ConnectorKind == string(connectors.KindDatadog) && failure.StatusCode == http.StatusTooManyRequests {
		header = "Retry-After or X-RateLimit-Reset"
	}
	if failure.StatusCode != 0 {
		return fmt.Sprintf("the destination asked to wait (%s, %s)", connectors.ReplyCode(failure.ConnectorKind, failure.StatusCode), header)
	}
	return fmt.Sprintf("the destination asked to wait (%s, %s)", classText(failure.Class), header)
}

func classText(class string) string {
	if class == "" {
		return "delivery"
	}
	return class
}

func formatDelay(d time.Duration) string {
	if d%time.Minute == 0 {
		return countNoun(int(d/time.Minute), "minute", "minutes")
	}
	return d.Round(time.Second).String()
}

// countNoun writes n followed by singular when n is 1, otherwise by plural.
func countNoun(n int, singular, plural string) string {
	if n == 1 {
		return "1 " + singular
	}
	return fmt.Sprintf("%d %s", n, plural)
}

// Plan decides every group at now, in the order given.
func Plan(policy Policy, groups []Group, now time.Time, inFlightTimeout time.Duration) []Decision {
	decisions := make([]Decision, 0, len(groups))
	for _, group := range groups {
		decisions = append(decisions, Decide(policy, group, now, inFlightTimeout))
	}
	return decisions
}
