package handlers

import (
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/retry"
)

func TestRetryViewsCountSingular(t *testing.T) {
	h := &Handler{TimeZone: time.UTC}
	policy := retry.Policy{MaxRetryAttempts: 1, RetryDelayMinutes: 1, BackoffMultiplier: 1}
	if got, want := policyText(policy), "at most 1 attempt, "; !strings.HasPrefix(got, want) {
		t.Errorf("policy text: got %q, want it to start with %q", got, want)
	}
	policy.MaxRetryAttempts = 3
	if got, want := policyText(policy), "at most 3 attempts, "; !strings.HasPrefix(got, want) {
		t.Errorf("policy text: got %q, want it to start with %q", got, want)
	}

	run := retry.RunView{Policy: policy, Schedule: retry.ScheduleView{Schedule: retry.Schedule{IntervalMinutes: 1, Enabled: true, Cadence: "manual"}}}
	if got, want := h.retryRunView(run).Schedule, "manual (started by hand), expected every 1 minute"; got != want {
		t.Errorf("schedule text: got %q, want %q", got, want)
	}
	run.Schedule.IntervalMinutes = 90
	if got, want := h.retryRunView(run).Schedule, "manual (started by hand), expected every 90 minutes"; got != want {
		t.Errorf("schedule text: got %q, want %q", got, want)
	}
	run.Schedule.Cadence = "hourly"
	if got, want := h.retryRunView(run).Schedule, "hourly, every 90 minutes"; got != want {
		t.Errorf("schedule text: got %q, want %q", got, want)
	}

	open := retry.OpenFailures{PlanCounts: retry.PlanCounts{DecisionCount: 1, SuppressCount: 1}}
	if got, want := h.noRetryDueText(open, false), "1 failed delivery is open (0 waiting, 1 suppressed); none is due, because every one is suppressed after a permanent failure "+
		"or the maximum retry attempts. No retry run sends a suppressed delivery, so fix its cause and deliver it again by hand; "+
		"a new plan shows the reason of each."; got != want {
		t.Errorf("nothing due text: got %q, want %q", got, want)
	}
	// A run limited to some destinations counts the open failures of every
	// destination. Its text states this and leaves out when one is due,
	// because that may be now for a destination outside the limit.
	if got, want := h.noRetryDueText(open, true), "1 failed delivery is open across every destination (0 waiting, 1 suppressed)."; got != want {
		t.Errorf("nothing due text of a limited run: got %q, want %q", got, want)
	}
}

// A confirmation limited to one destination with nothing due names it in
// the singular and counts the open failures of every destination once.
func TestRetryConfirmLimitedNothingDueText(t *testing.T) {
	h := &Handler{TimeZone: time.UTC}
	preview := retry.Preview{
		OnlyDestinations: []string{"slack"},
		OpenFailures:     retry.OpenFailures{PlanCounts: retry.PlanCounts{DecisionCount: 2, WaitCount: 1}},
	}
	view := h.retryConfirmView(preview, connectors.SendOptions{Timeout: time.Second}, true)
	want := "No retry to slack is due now, so a live run limited to that destination would send nothing. " +
		"2 failed deliveries are open across every destination (1 waiting, 0 suppressed)."
	if view.BlockedReason != want {
		t.Errorf("blocked reason: got %q, want %q", view.BlockedReason, want)
	}
}
