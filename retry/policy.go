// Package retry plans and runs re-deliveries of failed connector deliveries
// for executive reports and health alerts. It decides per (subject,
// destination) group whether to retry, wait or suppress, from the open
// failures recorded in the deliveries table, and runs a worker that is a dry
// run by default and sends only with explicit consent.
package retry

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/executive"
)

// Policy bounds and defaults.
const (
	DefaultMaxRetryAttempts  = 3
	MinMaxRetryAttempts      = 1
	MaxMaxRetryAttempts      = 20
	DefaultRetryDelayMinutes = 30
	MaxRetryDelayMinutes     = 10080
	DefaultBackoffMultiplier = 2.0
	MinBackoffMultiplier     = 1.0
	MaxBackoffMultiplier     = 10.0

	DefaultMaxRetryDeliveries = 5
	MaxRetryDeliveriesLimit   = 25

	// Defaults of the send options the application configures, and the
	// bounds of the per-attempt timeout a worker run request may choose.
	DefaultSendRetries        = 1
	DefaultSendTimeoutSeconds = 10.0
	MinSendTimeoutSeconds     = 0.1
	MaxSendTimeoutSeconds     = 60.0

	DefaultScheduleIntervalMinutes = 60
	MaxScheduleIntervalMinutes     = executive.MaxIntervalMinutes
	DefaultScheduleCadence         = "manual"
)

// maxDelay caps a computed backoff delay, because base × multiplier^(n−1)
// overflows time.Duration for large n. The reason of a decision that waits
// for a capped delay names the cap, and the README documents it.
// NOTE: a cap of one year is a guard against overflow, not a product rule.
const maxDelay = 365 * 24 * time.Hour

// Policy is the retry policy of a plan.
type Policy struct {
	MaxRetryAttempts    int     `json:"max_retry_attempts"`
	RetryDelayMinutes   int     `json:"retry_delay_minutes"`
	AllowImmediateRetry bool    `json:"allow_immediate_retry"`
	BackoffMultiplier   float64 `json:"backoff_multiplier"`
}

// DefaultPolicy returns the default retry policy.
func DefaultPolicy() Policy {
	return Policy{
		MaxRetryAttempts:  DefaultMaxRetryAttempts,
		RetryDelayMinutes: DefaultRetryDelayMinutes,
		BackoffMultiplier: DefaultBackoffMultiplier,
	}
}

// ValidationError names the invalid request field. Unprocessable is true
// when the value is well formed but conflicts with another field (HTTP 422).
// Otherwise the value itself is out of range (HTTP 400).
type ValidationError struct {
	Field         string
	Message       string
	Unprocessable bool
	// WorkerRunID, when set, is the other worker run that the message
	// names, such as the live run that sent the confirmed retries first.
	WorkerRunID string
	// RunLength, when set, holds the figures of a run rejected because its
	// sends could outlast the in-flight timeout, so a form can word the
	// error with its own labels.
	RunLength *RunLength
}

func (e *ValidationError) Error() string { return e.Message }

// RunLength is the send time of a rejected run and the limit it exceeds.
type RunLength struct {
	Retries        int
	TimeoutSeconds float64
	// PerDelivery is the longest one retry delivery can take, and Longest
	// the longest the run's sends can take.
	PerDelivery, Longest    time.Duration
	Deliveries, Concurrency int
	// Limit is four fifths of InFlightTimeout.
	Limit, InFlightTimeout time.Duration
	DryRun                 bool
}

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

func conflict(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...), Unprocessable: true}
}

// Validate checks the ranges of every field, then that a zero delay is
// explicitly allowed.
func (p Policy) Validate() error {
	if p.MaxRetryAttempts < MinMaxRetryAttempts || p.MaxRetryAttempts > MaxMaxRetryAttempts {
		return invalid("retry_policy.max_retry_attempts", "retry_policy.max_retry_attempts must be a whole number from %d to %d; got %d",
			MinMaxRetryAttempts, MaxMaxRetryAttempts, p.MaxRetryAttempts)
	}
	if p.RetryDelayMinutes < 0 || p.RetryDelayMinutes > MaxRetryDelayMinutes {
		return invalid("retry_policy.retry_delay_minutes", "retry_policy.retry_delay_minutes must be a whole number from 0 to %d; got %d",
			MaxRetryDelayMinutes, p.RetryDelayMinutes)
	}
	if math.IsNaN(p.BackoffMultiplier) || p.BackoffMultiplier < MinBackoffMultiplier || p.BackoffMultiplier > MaxBackoffMultiplier {
		return invalid("retry_policy.backoff_multiplier", "retry_policy.backoff_multiplier must be a number from %.1f to %.1f; got %g",
			MinBackoffMultiplier, MaxBackoffMultiplier, p.BackoffMultiplier)
	}
	if p.RetryDelayMinutes == 0 && !p.AllowImmediateRetry {
		return conflict("retry_policy.retry_delay_minutes",
			"retry_policy.retry_delay_minutes is 0 but allow_immediate_retry is false; set allow_immediate_retry to true or use a delay of at least 1 minute")
	}
	return nil
}

// Delay returns the wait after the given number of failures:
// retry_delay_minutes × backoff_multiplier^(failures−1), capped at one year.
func (p Policy) Delay(failures int) time.Duration {
	if failures < 1 {
		failures = 1
	}
	minutes := float64(p.RetryDelayMinutes) * math.Pow(p.BackoffMultiplier, float64(failures-1))
	if minutes >= maxDelay.Minutes() {
		return maxDelay
	}
	return time.Duration(minutes * float64(time.Minute))
}

// Schedule describes the schedule a worker run ran under.
type Schedule struct {
	IntervalMinutes int    `json:"interval_minutes"`
	Enabled         bool   `json:"enabled"`
	Cadence         string `json:"cadence"`
}

// DefaultSchedule returns an enabled hourly manual schedule.
func DefaultSchedule() Schedule {
	return Schedule{IntervalMinutes: DefaultScheduleIntervalMinutes, Enabled: true, Cadence: DefaultScheduleCadence}
}

// ResolveSchedule applies the worker run defaults to a requested schedule
// and checks it with the rules of executive schedule runs
// (executive.ResolveSchedule): an interval of 5 to 10080 minutes, a cadence
// label of 1 to 40 printable characters, and hourly, daily or weekly only
// with their own interval. Without a cadence the cadence is "manual", and
// "manual" without an interval means 60 minutes. Any other label except
// hourly, daily and weekly needs an interval. A disabled
// schedule is kept as given: it pauses automatic runs, not a manual one.
func ResolveSchedule(in executive.ScheduleInput) (Schedule, error) {
	if in.Cadence == nil {
		cadence := DefaultScheduleCadence
		in.Cadence = &cadence
	}
	// The default cadence label, which worker runs report, keeps its
	// default interval when it is sent back without one.
	if in.IntervalMinutes == nil && strings.EqualFold(strings.TrimSpace(*in.Cadence), DefaultScheduleCadence) {
		cadence, interval := DefaultScheduleCadence, DefaultScheduleIntervalMinutes
		in.Cadence, in.IntervalMinutes = &cadence, &interval
	}
	resolved, err := executive.ResolveSchedule(in)
	if err != nil {
		return Schedule{}, scheduleError(err)
	}
	return Schedule{IntervalMinutes: resolved.IntervalMinutes, Enabled: resolved.Enabled, Cadence: resolved.Cadence}, nil
}

// Validate checks the schedule with the rules of ResolveSchedule.
func (s Schedule) Validate() error {
	interval, enabled, cadence := s.IntervalMinutes, s.Enabled, s.Cadence
	_, err := ResolveSchedule(executive.ScheduleInput{IntervalMinutes: &interval, Enabled: &enabled, Cadence: &cadence})
	return err
}

// scheduleError turns an executive schedule error into a ValidationError
// with the same field, message and status.
func scheduleError(err error) error {
	var param *executive.ParamError
	if errors.As(err, &param) {
		return &ValidationError{Field: param.Field, Message: param.Message, Unprocessable: param.Unprocessable}
	}
	return err
}

// RunRequest is the input of a worker run.
type RunRequest struct {
	DryRun             *bool // nil means not given
	Execute            bool
	MaxRetryDeliveries int
	Policy             Policy
	Schedule           Schedule
	Actor              string
	// MayRunLive is whether the actor's role grants live retries. The
	// caller decides it from the verified identity.
	MayRunLive bool
	// Confirmed, when set, is what a person confirmed for a live run: it
	// sends only to those destinations and at most that many deliveries.
	Confirmed *Confirmation
	// Retries and TimeoutSeconds, when set, replace the service's quick
	// retries and per-attempt timeout for each retry delivery of the run.
	Retries        *int
	TimeoutSeconds *float64
	// Destinations, when set, limits the run to retries to these
	// destinations, lower-case, so a destination that cannot send can be
	// left out of a live run instead of blocking it.
	Destinations []string
}

// Confirmation is the destinations and number of deliveries a person saw
// and confirmed before a live run.
type Confirmation struct {
	Destinations []string
	Count        int
	// Retries, when set, are the ids of the failed deliveries that the
	// confirmed retries re-send. A group that another run retried since,
	// and whose retry failed again, then has a newer failed delivery, so
	// its next attempt is not sent without being seen.
	Retries []string
}

// limit keeps the due decisions the confirmation covers: those to its
// destinations and, when it lists retries, of those failed deliveries, up
// to its count. Retries that became due since stay due for a later run.
func (c *Confirmation) limit(due []Decision) []Decision {
	if c == nil {
		return due
	}
	var confirmed []Decision
	for _, d := range due {
		if len(confirmed) < c.Count && c.covers(d) {
			confirmed = append(confirmed, d)
		}
	}
	return confirmed
}

func (c *Confirmation) covers(d Decision) bool {
	if !slices.Contains(c.Destinations, d.Connector) {
		return false
	}
	return len(c.Retries) == 0 || slices.Contains(c.Retries, d.LastDeliveryID)
}

// NormalizeDestinations returns the destination names of a run's limit
// lower-case, trimmed and each once, in the order given. An empty name or
// "all" is rejected: leaving the limit out means every destination.
func NormalizeDestinations(names []string) ([]string, error) {
	var out []string
	for _, name := range names {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" || name == "all" {
			return nil, &ValidationError{Field: "destinations", Message: fmt.Sprintf(
				"destinations lists %q; name configured destinations, or leave destinations out to retry to every destination", name)}
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// Live reports whether the request is for a live run: execute is true and
// dry_run was not set to true.
func (r RunRequest) Live() bool {
	return r.Execute && (r.DryRun == nil || !*r.DryRun)
}

// Validate checks the fields of a worker run request. A run is live only
// with execute true, so dry_run and execute must not both be true. A client
// that sends dry_run false expects a live run, so dry_run false without
// execute true is rejected rather than run dry.
func (r RunRequest) Validate() error {
	if r.DryRun != nil && *r.DryRun && r.Execute {
		return conflict("execute", "dry_run and execute are both true; send execute: true alone for a live run, or dry_run: true alone for a dry run")
	}
	if r.DryRun != nil && !*r.DryRun && !r.Execute {
		return conflict("dry_run", "dry_run is false but execute is not true, and a run is live only with execute: true; "+
			"send execute: true for a live run, or leave dry_run out (or send dry_run: true) for a dry run")
	}
	if r.MaxRetryDeliveries < 1 || r.MaxRetryDeliveries > MaxRetryDeliveriesLimit {
		return invalid("max_retry_deliveries", "max_retry_deliveries must be a whole number from 1 to %d; got %d",
			MaxRetryDeliveriesLimit, r.MaxRetryDeliveries)
	}
	// A confirmation that lists its retries is looked for among every due
	// retry, so its count, not the selection, bounds what the run sends.
	if r.Confirmed != nil && r.Confirmed.Count > r.MaxRetryDeliveries {
		return conflict("confirmed_count", "confirmed_count is %d but max_retry_deliveries is %d, and a run sends at most max_retry_deliveries; "+
			"open the live run confirmation again", r.Confirmed.Count, r.MaxRetryDeliveries)
	}
	if r.Retries != nil && (*r.Retries < 0 || *r.Retries > connectors.MaxRetries) {
		return invalid("retries", "retries must be a whole number from 0 to %d; got %d", connectors.MaxRetries, *r.Retries)
	}
	if t := r.TimeoutSeconds; t != nil && (math.IsNaN(*t) || *t < MinSendTimeoutSeconds || *t > MaxSendTimeoutSeconds) {
		return invalid("timeout_seconds", "timeout_seconds must be a number from %g to %g; got %s",
			MinSendTimeoutSeconds, MaxSendTimeoutSeconds, strconv.FormatFloat(*t, 'g', 6, 64))
	}
	if err := r.Policy.Validate(); err != nil {
		return err
	}
	return r.Schedule.Validate()
}

// sendOptions returns the options of each retry delivery of the run: the
// request's choices over defaults.
func (r RunRequest) sendOptions(defaults connectors.SendOptions) connectors.SendOptions {
	options := defaults
	if options.Timeout <= 0 {
		options.Timeout = connectors.DefaultTimeout
	}
	if r.Retries != nil {
		options.Retries = *r.Retries
	}
	if r.TimeoutSeconds != nil {
		options.Timeout = time.Duration(*r.TimeoutSeconds * float64(time.Second)).Round(time.Millisecond)
	}
	return options
}
