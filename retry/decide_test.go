package retry

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
)

var decideNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func failuresAt(class string, status int, ages ...time.Duration) []Failure {
	var failures []Failure
	for i, age := range ages {
		failures = append(failures, Failure{DeliveryID: "dlv_" + string(rune('a'+i)), At: decideNow.Add(-age), Class: class, StatusCode: status, IdempotencyKey: "idem-1"})
	}
	return failures
}

// decideCase is one row of the decision table: a policy, the open failures
// of a group, oldest first, and the decision they must give at decideNow.
type decideCase struct {
	name       string
	policy     Policy
	failures   []Failure
	inFlight   *time.Time
	wantAction string
	wantReason string
	wantNext   *time.Time
}

func decideTable() []decideCase {
	base := Policy{MaxRetryAttempts: 3, RetryDelayMinutes: 30, BackoffMultiplier: 2}
	immediate := Policy{MaxRetryAttempts: 3, RetryDelayMinutes: 0, AllowImmediateRetry: true, BackoffMultiplier: 2}
	retryAfterFuture := decideNow.Add(10 * time.Minute)
	retryAfterPast := decideNow.Add(-10 * time.Minute)
	retryAfterDay := decideNow.Add(21 * time.Hour)
	inFlight := decideNow.Add(-time.Minute)
	stuck := decideNow.Add(-time.Hour)
	atTimeout := decideNow.Add(-5 * time.Minute)
	pastTimeout := atTimeout.Add(-time.Microsecond)

	return []decideCase{
		// One failure, 30 minutes elapsed: below the maximum and due.
		{"below maximum and due", base, failuresAt("server_error", 503, 31*time.Minute), nil, ActionRetry, "attempt 2 of 3", nil},
		{"at maximum", base, failuresAt("server_error", 503, 5*time.Hour, 4*time.Hour, 3*time.Hour), nil, ActionSuppress, "maximum retry attempts 3 reached", nil},
		{"above maximum", base, failuresAt("timeout", 0, 5*time.Hour, 4*time.Hour, 3*time.Hour, 2*time.Hour), nil, ActionSuppress, "maximum retry attempts 3 reached", nil},
		// Two failures: the delay is 30 × 2^1 = 60 minutes after the latest.
		{"delay with multiplier not elapsed", base, failuresAt("server_error", 503, 3*time.Hour, 59*time.Minute), nil, ActionWait, "retry delay of 60 minutes after 2 failures", ptr(decideNow.Add(time.Minute))},
		{"delay with multiplier elapsed exactly", base, failuresAt("server_error", 503, 3*time.Hour, 60*time.Minute), nil, ActionRetry, "attempt 3 of 3", nil},
		{"single failure delay not elapsed", base, failuresAt("connection_error", 0, 29*time.Minute), nil, ActionWait, "retry delay of 30 minutes", ptr(decideNow.Add(time.Minute))},
		// The retry is due at latest failure + delay, and not a moment before.
		{"single failure delay 1ms short", base, failuresAt("server_error", 503, 30*time.Minute-time.Millisecond), nil, ActionWait, "retry delay of 30 minutes", ptr(decideNow.Add(time.Millisecond))},
		{"single failure delay elapsed exactly", base, failuresAt("server_error", 503, 30*time.Minute), nil, ActionRetry, "attempt 2 of 3", nil},
		{"immediate retry allowed", immediate, failuresAt("server_error", 500, 0), nil, ActionRetry, "attempt 2 of 3", nil},
		// Retry-After later than the delay moves next_retry_at to it.
		{"429 with Retry-After in the future", base, withRetryAfter(failuresAt("rate_limited", 429, 2*time.Hour), retryAfterFuture), nil, ActionWait, "HTTP 429, Retry-After", &retryAfterFuture},
		{"429 with Retry-After passed", base, withRetryAfter(failuresAt("rate_limited", 429, 2*time.Hour), retryAfterPast), nil, ActionRetry, "attempt 2 of 3", nil},
		// An earlier 429's Retry-After still holds after a later failure
		// without one, and the latest Retry-After among the open failures
		// wins.
		{"earlier 429 Retry-After outlasts a later timeout", base, withRetryAfterOf(numbered(
			agedFailure("rate_limited", 429, 3*time.Hour),
			agedFailure("timeout", 0, 3*time.Hour-5*time.Minute),
		), 0, retryAfterDay), nil, ActionWait, "the destination asked to wait (HTTP 429, Retry-After)", &retryAfterDay},
		{"latest Retry-After wins over a newer sooner one", base, withRetryAfterOf(withRetryAfterOf(numbered(
			agedFailure("rate_limited", 429, 3*time.Hour),
			agedFailure("server_error", 503, 2*time.Hour),
		), 0, retryAfterDay), 1, retryAfterFuture), nil, ActionWait, "the destination asked to wait (HTTP 429, Retry-After)", &retryAfterDay},
		{"earlier passed Retry-After leaves a later timeout due", base, withRetryAfterOf(numbered(
			agedFailure("rate_limited", 429, 3*time.Hour),
			agedFailure("timeout", 0, 2*time.Hour),
		), 0, retryAfterPast), nil, ActionRetry, "attempt 3 of 3; the previous attempt failed (timeout)", nil},
		// Retry-After sooner than the delay does not shorten it.
		{"429 with Retry-After before the delay", base, withRetryAfter(failuresAt("rate_limited", 429, 5*time.Minute), decideNow.Add(time.Minute)), nil, ActionWait, "retry delay of 30 minutes", ptr(decideNow.Add(25 * time.Minute))},
		{"400 is permanent", base, failuresAt("client_error", 400, 2*time.Hour), nil, ActionSuppress, "permanent failure: the destination rejected the request (HTTP 400)", nil},
		{"410 is permanent", base, failuresAt("gone", 410, 2*time.Hour), nil, ActionSuppress, "permanent failure: the destination is gone (HTTP 410)", nil},
		{"401 is permanent", base, failuresAt("auth_error", 401, 2*time.Hour), nil, ActionSuppress, "rejected the credentials", nil},
		// Nothing was sent on a configuration error, so it is retried.
		{"config error is retried", base, failuresAt("config_error", 0, 2*time.Hour), nil, ActionRetry, "attempt 2 of 3", nil},
		{"interrupted is retried", base, failuresAt(ClassInterrupted, 0, 2*time.Hour), nil, ActionRetry, "attempt 2 of 3", nil},
		// A retry counts as interrupted once it has been in flight for
		// longer than the timeout of 5 minutes, which at microsecond
		// precision is 1µs past it.
		{"retry in flight waits", base, failuresAt("server_error", 503, 2*time.Hour), &inFlight, ActionWait, "in flight",
			ptr(inFlight.Add(5*time.Minute + time.Microsecond))},
		{"retry in flight for exactly the timeout", base, failuresAt("server_error", 503, 2*time.Hour), &atTimeout, ActionWait,
			"in flight; its outcome is not recorded yet", ptr(decideNow.Add(time.Microsecond))},
		{"retry in flight 1µs past the timeout", base, failuresAt("server_error", 503, 2*time.Hour), &pastTimeout, ActionWait,
			"the next live run records it as interrupted", ptr(decideNow)},
		{"retry in flight past the timeout waits for reconciling", base, failuresAt("server_error", 503, 2*time.Hour), &stuck, ActionWait,
			"the next live run records it as interrupted", ptr(stuck.Add(5*time.Minute + time.Microsecond))},
	}
}

func TestDecideTable(t *testing.T) {
	for _, tc := range decideTable() {
		t.Run(tc.name, func(t *testing.T) {
			group := groupOfFailures(tc.failures, tc.inFlight)
			got := Decide(tc.policy, group, decideNow, 5*time.Minute)
			if got.Action != tc.wantAction {
				t.Fatalf("action: got %q (reason %q), want %q", got.Action, got.Reason, tc.wantAction)
			}
			if !strings.Contains(got.Reason, tc.wantReason) {
				t.Errorf("reason: got %q, want it to contain %q", got.Reason, tc.wantReason)
			}
			switch {
			case tc.wantNext == nil && got.NextRetryAt != nil:
				t.Errorf("next_retry_at: got %v, want none", *got.NextRetryAt)
			case tc.wantNext != nil && got.NextRetryAt == nil:
				t.Errorf("next_retry_at: got none, want %v", *tc.wantNext)
			case tc.wantNext != nil && !got.NextRetryAt.Equal(*tc.wantNext):
				t.Errorf("next_retry_at: got %v, want %v", *got.NextRetryAt, *tc.wantNext)
			}
			if got.FailureCount != len(tc.failures) {
				t.Errorf("failure_count: got %d, want %d", got.FailureCount, len(tc.failures))
			}
			if got.IdempotencyKey != "idem-1" {
				t.Errorf("idempotency_key: got %q, want %q", got.IdempotencyKey, "idem-1")
			}
		})
	}
}

// groupOfFailures returns the group of one schedule run and destination
// whose open failures are failures, oldest first.
// The failure with the latest Retry-After time, the newest on a tie, is
// the one the group waits for.
func groupOfFailures(failures []Failure, inFlight *time.Time) Group {
	group := Group{SubjectKind: models.SubjectExecutiveReport, SubjectID: "run_1", SubjectKey: "rep_1", Connector: "webhook",
		FailureCount: len(failures), Latest: failures[len(failures)-1], InFlightSince: inFlight}
	for i := range failures {
		at := failures[i].RetryAfter
		if at != nil && (group.RetryAfter == nil || !at.Before(*group.RetryAfter.RetryAfter)) {
			group.RetryAfter = &failures[i]
		}
	}
	return group
}

func ptr(t time.Time) *time.Time { return &t }

func withRetryAfter(failures []Failure, at time.Time) []Failure {
	return withRetryAfterOf(failures, len(failures)-1, at)
}

// withRetryAfterOf sets the Retry-After time of failures[i].
func withRetryAfterOf(failures []Failure, i int, at time.Time) []Failure {
	failures[i].RetryAfter = &at
	return failures
}

// agedFailure returns a failure of class and status code that completed
// age before decideNow.
func agedFailure(class string, status int, age time.Duration) Failure {
	return Failure{At: decideNow.Add(-age), Class: class, StatusCode: status, IdempotencyKey: "idem-1"}
}

// numbered gives failures, oldest first, the delivery IDs that failuresAt
// gives.
func numbered(failures ...Failure) []Failure {
	for i := range failures {
		failures[i].DeliveryID = "dlv_" + string(rune('a'+i))
	}
	return failures
}

func TestPolicyValidate(t *testing.T) {
	cases := []struct {
		name              string
		policy            Policy
		wantField         string
		wantUnprocessable bool
	}{
		{"defaults are valid", DefaultPolicy(), "", false},
		{"attempts below range", Policy{MaxRetryAttempts: 0, RetryDelayMinutes: 30, BackoffMultiplier: 2}, "retry_policy.max_retry_attempts", false},
		{"attempts above range", Policy{MaxRetryAttempts: 21, RetryDelayMinutes: 30, BackoffMultiplier: 2}, "retry_policy.max_retry_attempts", false},
		{"attempts at maximum", Policy{MaxRetryAttempts: 20, RetryDelayMinutes: 30, BackoffMultiplier: 2}, "", false},
		{"negative delay", Policy{MaxRetryAttempts: 3, RetryDelayMinutes: -1, BackoffMultiplier: 2}, "retry_policy.retry_delay_minutes", false},
		{"delay above range", Policy{MaxRetryAttempts: 3, RetryDelayMinutes: 10081, BackoffMultiplier: 2}, "retry_policy.retry_delay_minutes", false},
		{"multiplier below range", Policy{MaxRetryAttempts: 3, RetryDelayMinutes: 30, BackoffMultiplier: 0.5}, "retry_policy.backoff_multiplier", false},
		{"multiplier above range", Policy{MaxRetryAttempts: 3, RetryDelayMinutes: 30, BackoffMultiplier: 10.5}, "retry_policy.backoff_multiplier", false},
		{"zero delay without immediate retry", Policy{MaxRetryAttempts: 3, RetryDelayMinutes: 0, BackoffMultiplier: 2}, "retry_policy.retry_delay_minutes", true},
		{"zero delay with immediate retry", Policy{MaxRetryAttempts: 3, RetryDelayMinutes: 0, AllowImmediateRetry: true, BackoffMultiplier: 2}, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Validate()
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("Validate: got %v, want nil", err)
				}
				return
			}
			var validation *ValidationError
			if !errors.As(err, &validation) {
				t.Fatalf("Validate: got %v, want a *ValidationError", err)
			}
			if validation.Field != tc.wantField {
				t.Errorf("field: got %q, want %q", validation.Field, tc.wantField)
			}
			if validation.Unprocessable != tc.wantUnprocessable {
				t.Errorf("unprocessable: got %v, want %v", validation.Unprocessable, tc.wantUnprocessable)
			}
		})
	}
}

func TestPolicyDelayCapsLargeBackoff(t *testing.T) {
	policy := Policy{MaxRetryAttempts: 20, RetryDelayMinutes: 10080, BackoffMultiplier: 10}
	if got := policy.Delay(20); got != maxDelay {
		t.Errorf("Delay(20): got %v, want the cap %v", got, maxDelay)
	}
	if got, want := (Policy{RetryDelayMinutes: 30, BackoffMultiplier: 2}).Delay(3), 120*time.Minute; got != want {
		t.Errorf("Delay(3): got %v, want %v", got, want)
	}
	decision := Decide(policy, groupOfFailures(failuresAt("server_error", 503, 3*time.Hour, 2*time.Hour, time.Hour, time.Minute), nil), decideNow, time.Hour)
	if decision.Action != ActionWait || !strings.Contains(decision.Reason, "(capped at one year)") {
		t.Errorf("decision after 4 failures: got %s %q, want wait with a reason that names the cap", decision.Action, decision.Reason)
	}
}

// TestPolicyDelayCapsJustAboveCap checks the cap where the uncapped delay
// after 7 failures, 10080 × 2^6 = 645120 minutes, is above the cap of
// 525600 minutes (one year) but below twice the cap.
func TestPolicyDelayCapsJustAboveCap(t *testing.T) {
	policy := Policy{MaxRetryAttempts: 20, RetryDelayMinutes: 10080, BackoffMultiplier: 2}
	oneYear := 365 * 24 * time.Hour

	if got := policy.Delay(7); got != oneYear {
		t.Errorf("Delay(7): got %v, want %v", got, oneYear)
	}
	// Six failures give 10080 × 2^5 = 322560 minutes, below the cap.
	if got, want := policy.Delay(6), 322560*time.Minute; got != want {
		t.Errorf("Delay(6): got %v, want %v", got, want)
	}
}

// A permanent failure without a response code, such as an e-mail server
// that offers no usable sign-in method, names no code in its reason.
func TestPermanentReasonWithoutStatusCode(t *testing.T) {
	reason, permanent := permanentReason(Failure{Class: "auth_error"})
	if !permanent {
		t.Fatal("auth_error without a status code: not permanent, want permanent")
	}
	if strings.Contains(reason, "HTTP") {
		t.Errorf("reason = %q, want no HTTP code in it", reason)
	}
}

// An execution's reason names an e-mail reply code as SMTP and an HTTP
// status as HTTP.
func TestOutcomeReasonNamesProtocol(t *testing.T) {
	if _, reason := outcomeOf("email", true, "ok", 250, ""); reason != "delivered (SMTP 250)" {
		t.Errorf("e-mail delivered: reason %q, want delivered (SMTP 250)", reason)
	}
	if _, reason := outcomeOf("webhook", false, "server_error", 503, ""); reason != "server_error (HTTP 503)" {
		t.Errorf("webhook failed: reason %q, want server_error (HTTP 503)", reason)
	}
}
