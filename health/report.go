package health

import (
	"fmt"
	"time"
)

// Params are the thresholds of an evaluation, in minutes.
type Params struct {
	ExpectedIntervalMinutes int `json:"expected_interval_minutes"`
	StaleMetadataMinutes    int `json:"stale_metadata_minutes"`
}

// Default thresholds.
const (
	DefaultExpectedIntervalMinutes = 30
	DefaultStaleMetadataMinutes    = 120
	MaxThresholdMinutes            = 10080
)

// DefaultParams returns the default thresholds.
func DefaultParams() Params {
	return Params{ExpectedIntervalMinutes: DefaultExpectedIntervalMinutes, StaleMetadataMinutes: DefaultStaleMetadataMinutes}
}

// ParamError names the invalid parameter.
type ParamError struct {
	Field   string
	Message string
}

func (e *ParamError) Error() string { return e.Message }

// Validate checks both thresholds are whole minutes from 1 to 10080 (a week).
func (p Params) Validate() error {
	for _, field := range []struct {
		name  string
		value int
	}{{"expected_interval_minutes", p.ExpectedIntervalMinutes}, {"stale_metadata_minutes", p.StaleMetadataMinutes}} {
		if field.value < 1 || field.value > MaxThresholdMinutes {
			return &ParamError{Field: field.name, Message: fmt.Sprintf(
				"%s must be a whole number of minutes from 1 to %d; got %d", field.name, MaxThresholdMinutes, field.value)}
		}
	}
	return nil
}

// Report is one recovery retry health evaluation, as returned in JSON and
// stored in a snapshot.
type Report struct {
	HealthID                string         `json:"health_id,omitempty"`
	OccurrenceID            string         `json:"occurrence_id,omitempty"`
	Fingerprint             string         `json:"fingerprint"`
	AlertLevel              string         `json:"alert_level"`
	EvaluatedAt             time.Time      `json:"evaluated_at"`
	Actor                   string         `json:"actor,omitempty"`
	ExpectedIntervalMinutes int            `json:"expected_interval_minutes"`
	StaleMetadataMinutes    int            `json:"stale_metadata_minutes"`
	Findings                []Finding      `json:"findings"`
	Counts                  Counts         `json:"counts"`
	LatestWorkerRun         *WorkerRunView `json:"latest_worker_run"`
	LatestRetryPlan         *RetryPlanView `json:"latest_retry_plan"`
	OpenFailedExecutions    []OpenFailure  `json:"open_failed_executions"`
	RecommendedActions      []string       `json:"recommended_actions"`
}

// Finding is one problem found by an evaluation.
type Finding struct {
	Category string `json:"category"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// Counts are the exact totals behind the findings. SelectedRetryCount and
// AcknowledgementPendingCount come from the newest worker run;
// FailedExecutionCount counts open failures, that is (plan, provider) pairs
// whose latest execution failed or was skipped.
type Counts struct {
	WorkerRunCount                int64 `json:"worker_run_count"`
	RetryPlanCount                int64 `json:"retry_plan_count"`
	ExecutionRecordCount          int64 `json:"execution_record_count"`
	RetryableRetryCount           int64 `json:"retryable_retry_count"`
	SelectedRetryCount            int64 `json:"selected_retry_count"`
	AcknowledgementPendingCount   int64 `json:"acknowledgement_pending_count"`
	FailedExecutionCount          int64 `json:"failed_execution_count"`
	FailedExecutionRecordCount    int64 `json:"failed_execution_record_count"`
	DeliveredExecutionCount       int64 `json:"delivered_execution_count"`
	EscalationDeliveryCount       int64 `json:"escalation_delivery_count"`
	FailedEscalationDeliveryCount int64 `json:"failed_escalation_delivery_count"`
	DisabledScheduleCount         int64 `json:"disabled_schedule_count"`
}

// Age is the age of a record in whole minutes. A record stamped in the
// future has no age, so Minutes is nil and InFuture is true.
type Age struct {
	Minutes  *int `json:"age_minutes"`
	InFuture bool `json:"in_future"`
}

// WorkerRunView is the newest escalation worker run.
type WorkerRunView struct {
	RunID     string    `json:"run_id"`
	CreatedAt time.Time `json:"created_at"`
	Age
	DryRun                      bool `json:"dry_run"`
	SelectedRetryCount          int  `json:"selected_retry_count"`
	AcknowledgementPendingCount int  `json:"acknowledgement_pending_count"`
	ScheduleEnabled             bool `json:"schedule_enabled"`
}

// RetryPlanView is the newest escalation retry plan.
type RetryPlanView struct {
	RetryPlanID string    `json:"retry_plan_id"`
	CreatedAt   time.Time `json:"created_at"`
	Age
	RetryableCount int `json:"retryable_count"`
}

// OpenFailure is a (plan, provider) pair whose latest execution failed or was
// skipped.
type OpenFailure struct {
	PlanID          string    `json:"plan_id"`
	Provider        string    `json:"provider"`
	ExecutionID     string    `json:"execution_id"`
	ExecutionStatus string    `json:"execution_status"`
	CreatedAt       time.Time `json:"created_at"`
}
