package retry

import (
	"testing"
	"time"
)

func TestDecideRetryAfterReasonNamesStatus(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	retryAfter := now.Add(2 * time.Minute)
	policy := Policy{MaxRetryAttempts: 3, RetryDelayMinutes: 0, AllowImmediateRetry: true, BackoffMultiplier: 2}
	cases := []struct {
		name       string
		statusCode int
		kind       string
		class      string
		want       string
	}{
		{"429", 429, "webhook", "rate_limited", "the destination asked to wait (HTTP 429, Retry-After)"},
		{"503", 503, "webhook", "server_error", "the destination asked to wait (HTTP 503, Retry-After)"},
		{"no status", 0, "webhook", "timeout", "the destination asked to wait (timeout, Retry-After)"},
		{"datadog 429", 429, "datadog", "rate_limited", "the destination asked to wait (HTTP 429, Retry-After or X-RateLimit-Reset)"},
		{"datadog 503", 503, "datadog", "server_error", "the destination asked to wait (HTTP 503, Retry-After)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			group := groupOfFailures([]Failure{{
				DeliveryID: "dlv_1", At: now.Add(-time.Minute), ConnectorKind: tc.kind, Class: tc.class, StatusCode: tc.statusCode, RetryAfter: &retryAfter,
			}}, nil)
			decision := Decide(policy, group, now, 5*time.Minute)
			if decision.Action != ActionWait {
				t.Fatalf("action: got %q, want %q", decision.Action, ActionWait)
			}
			if decision.Reason != tc.want {
				t.Errorf("reason: got %q, want %q", decision.Reason, tc.want)
			}
			if decision.NextRetryAt == nil || !decision.NextRetryAt.Equal(retryAfter) {
				t.Errorf("next retry: got %v, want %v", decision.NextRetryAt, retryAfter)
			}
		})
	}
}

func TestDecideDelayReasonSingular(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		policy   Policy
		failures int
		want     string
	}{
		{"one failure, one minute", Policy{MaxRetryAttempts: 5, RetryDelayMinutes: 1, BackoffMultiplier: 1}, 1,
			"retry delay of 1 minute after 1 failure has not elapsed"},
		{"two failures, two minutes", Policy{MaxRetryAttempts: 5, RetryDelayMinutes: 1, BackoffMultiplier: 2}, 2,
			"retry delay of 2 minutes after 2 failures has not elapsed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var failures []Failure
			for range tc.failures {
				failures = append(failures, Failure{DeliveryID: "dlv", At: now, Class: "server_error", StatusCode: 503})
			}
			group := groupOfFailures(failures, nil)
			decision := Decide(tc.policy, group, now, 5*time.Minute)
			if decision.Action != ActionWait {
				t.Fatalf("action: got %q, want %q", decision.Action, ActionWait)
			}
			if decision.Reason != tc.want {
				t.Errorf("reason: got %q, want %q", decision.Reason, tc.want)
			}
		})
	}
}
