package retry

import (
	"context"
	"fmt"
	"time"

	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/models"
)

// Delivery retry health thresholds, in minutes.
const (
	DefaultHealthIntervalMinutes = 60
	DefaultHealthStaleMinutes    = 180
)

// DefaultHealthParams returns the default delivery retry health thresholds.
func DefaultHealthParams() health.Params {
	return health.Params{ExpectedIntervalMinutes: DefaultHealthIntervalMinutes, StaleMetadataMinutes: DefaultHealthStaleMinutes}
}

// Finding categories of delivery retry health, for executive report
// deliveries (the health alert categories replace "executive" with
// "health_alert").
const (
	findingMissedWorker     = "missed_%s_delivery_retry_worker"
	findingStalePlan        = "stale_%s_delivery_retry_plan"
	findingFailedDelivery   = "failed_%s_delivery"
	findingFailedExecution  = "failed_%s_delivery_retry_execution"
	findingDisabledSchedule = "disabled_%s_delivery_retry_schedule"
)

// HealthCounts are the exact totals behind the findings.
type HealthCounts struct {
	WorkerRunCount int64 `json:"worker_run_count"`
	DryRunCount    int64 `json:"dry_run_count"`
	LiveRunCount   int64 `json:"live_run_count"`
	RetryPlanCount int64 `json:"retry_plan_count"`
	// RetryableDecisionCount sums the retry counts of every plan, including
	// the due groups that a worker run did not select, as the dashboard does.
	RetryableDecisionCount     int64 `json:"retryable_decision_count"`
	ExecutionRecordCount       int64 `json:"execution_record_count"`
	DeliveredExecutionCount    int64 `json:"delivered_execution_count"`
	FailedExecutionRecordCount int64 `json:"failed_execution_record_count"`
	SkippedExecutionCount      int64 `json:"skipped_execution_count"`
	InFlightExecutionCount     int64 `json:"in_flight_execution_count"`
	// FailedExecutionCount counts failed or skipped executions whose subject
	// and destination still have an open failed delivery.
	FailedExecutionCount int64 `json:"failed_execution_count"`
	// FailedDeliveryCount counts (subject, destination) pairs whose latest
	// completed delivery failed.
	FailedDeliveryCount   int64 `json:"failed_delivery_count"`
	SelectedRetryCount    int64 `json:"selected_retry_count"`
	DisabledScheduleCount int64 `json:"disabled_schedule_count"`
}

// HealthWorkerRun is the newest worker run with its age.
type HealthWorkerRun struct {
	WorkerRunID string    `json:"worker_run_id"`
	CreatedAt   time.Time `json:"created_at"`
	health.Age
	Mode            string `json:"mode"`
	SelectedCount   int    `json:"selected_count"`
	ScheduleEnabled bool   `json:"schedule_enabled"`
}

// HealthRetryPlan is the newest retry plan with its age.
type HealthRetryPlan struct {
	RetryPlanID string    `json:"retry_plan_id"`
	CreatedAt   time.Time `json:"created_at"`
	health.Age
	RetryCount int `json:"retry_count"`
}

// HealthReport is one delivery retry health evaluation. It has the shape
// of the recovery retry health report.
type HealthReport struct {
	SubjectKind string `json:"subject_kind"`
	// Fingerprint is a hash of the findings' categories and severities, as in
	// recovery retry health, so it stays the same while the same problems
	// persist.
	Fingerprint             string           `json:"fingerprint"`
	AlertLevel              string           `json:"alert_level"`
	EvaluatedAt             time.Time        `json:"evaluated_at"`
	ExpectedIntervalMinutes int              `json:"expected_interval_minutes"`
	StaleMetadataMinutes    int              `json:"stale_metadata_minutes"`
	Findings                []health.Finding `json:"findings"`
	Counts                  HealthCounts     `json:"counts"`
	LatestWorkerRun         *HealthWorkerRun `json:"latest_worker_run"`
	LatestRetryPlan         *HealthRetryPlan `json:"latest_retry_plan"`
	RecommendedActions      []string         `json:"recommended_actions"`
}

// HealthInputs are the stored facts a delivery retry health evaluation reads.
type HealthInputs struct {
	Now        time.Time
	LatestRun  *models.RetryWorkerRun
	LatestPlan *models.RetryPlan
	Counts     models.RetryCounts
}

func kindWord(kind string) string {
	if kind == models.SubjectHealthAlert {
		return "health_alert"
	}
	return "executive"
}

func kindLabel(kind string) string {
	if kind == models.SubjectHealthAlert {
		return "health alert"
	}
	return "executive report"
}

// EvaluateHealth applies the delivery retry health rules. It is pure. A
// worker run older than twice the expected interval is missed, but one of
// exactly twice is not. A plan older than the stale threshold is stale, but
// one exactly at the threshold is not. A timestamp in the future has no age
// and is neither.
func EvaluateHealth(kind string, params health.Params, in HealthInputs) HealthReport {
	now := models.UTC(in.Now)
	word, label := kindWord(kind), kindLabel(kind)
	c := in.Counts
	report := HealthReport{
		SubjectKind: kind, EvaluatedAt: now, ExpectedIntervalMinutes: params.ExpectedIntervalMinutes,
		StaleMetadataMinutes: params.StaleMetadataMinutes, Findings: []health.Finding{},
		Counts: HealthCounts{
			WorkerRunCount: c.WorkerRuns, DryRunCount: c.DryWorkerRuns, LiveRunCount: c.LiveWorkerRuns,
			RetryPlanCount: c.RetryPlans, RetryableDecisionCount: c.RetryableDecisions, ExecutionRecordCount: c.Executions,
			DeliveredExecutionCount: c.Delivered, FailedExecutionRecordCount: c.Failed, SkippedExecutionCount: c.Skipped,
			InFlightExecutionCount: c.InFlight, FailedExecutionCount: c.OpenFailedExecutions,
			FailedDeliveryCount: c.FailedDeliveries, DisabledScheduleCount: c.DisabledSchedules,
		},
	}
	add := func(format, severity, message string) {
		report.Findings = append(report.Findings, health.Finding{Category: fmt.Sprintf(format, word), Severity: severity, Message: message})
	}
	missedAfter := 2 * time.Duration(params.ExpectedIntervalMinutes) * time.Minute
	staleAfter := time.Duration(params.StaleMetadataMinutes) * time.Minute

	if run := in.LatestRun; run == nil {
		add(findingMissedWorker, health.SeverityCritical, fmt.Sprintf("No %s delivery retry worker run has been recorded.", label))
	} else {
		age := ageOf(now, run.CreatedAt)
		report.LatestWorkerRun = &HealthWorkerRun{WorkerRunID: run.ID, CreatedAt: run.CreatedAt, Age: age,
			Mode: modeOf(run.DryRun), SelectedCount: run.SelectedCount, ScheduleEnabled: run.ScheduleEnabled}
		report.Counts.SelectedRetryCount = int64(run.SelectedCount)
		if !age.InFuture && now.Sub(run.CreatedAt) > missedAfter {
			add(findingMissedWorker, health.SeverityCritical, fmt.Sprintf(
				"The newest %s delivery retry worker run %s is %s old, more than twice the expected %d-minute interval.",
				label, run.ID, health.AgeText(now.Sub(run.CreatedAt)), params.ExpectedIntervalMinutes))
		}
		if !run.ScheduleEnabled {
			add(findingDisabledSchedule, health.SeverityWarning, fmt.Sprintf(
				"The newest %s delivery retry worker run %s reports its schedule disabled.", label, run.ID))
		}
	}

	if plan := in.LatestPlan; plan == nil {
		add(findingStalePlan, health.SeverityWarning, fmt.Sprintf("No %s delivery retry plan has been recorded.", label))
	} else {
		age := ageOf(now, plan.CreatedAt)
		report.LatestRetryPlan = &HealthRetryPlan{RetryPlanID: plan.ID, CreatedAt: plan.CreatedAt, Age: age, RetryCount: plan.RetryCount}
		if !age.InFuture && now.Sub(plan.CreatedAt) > staleAfter {
			add(findingStalePlan, health.SeverityWarning, fmt.Sprintf(
				"The newest %s delivery retry plan %s is %s old, past the %d-minute stale threshold.",
				label, plan.ID, health.AgeText(now.Sub(plan.CreatedAt)), params.StaleMetadataMinutes))
		}
	}

	if n := c.FailedDeliveries; n > 0 {
		add(findingFailedDelivery, health.SeverityCritical, fmt.Sprintf(
			"Open failed deliveries: %s whose latest delivery failed.", countNoun(int(n), label+" and destination pair", label+" and destination pairs")))
	}
	if n := c.OpenFailedExecutions; n > 0 {
		add(findingFailedExecution, health.SeverityCritical, fmt.Sprintf(
			"Open failed retry executions: %s failed or skipped, and their destination still has a failed delivery.", countNoun(int(n), label+" retry execution", label+" retry executions")))
	}

	report.AlertLevel = levelOf(report.Findings)
	report.Fingerprint = health.Fingerprint(report.Findings)
	report.RecommendedActions = healthActions(report.Findings, word)
	return report
}

func ageOf(now, at time.Time) health.Age {
	if at.After(now) {
		return health.Age{InFuture: true}
	}
	minutes := int(now.Sub(at) / time.Minute)
	return health.Age{Minutes: &minutes}
}

func levelOf(findings []health.Finding) string {
	level := health.LevelHealthy
	for _, finding := range findings {
		if finding.Severity == health.SeverityCritical {
			return health.SeverityCritical
		}
		level = health.SeverityWarning
	}
	return level
}

var healthActionTexts = map[string]string{
	findingMissedWorker: "Run the delivery retry worker (a dry run first), and check that its schedule triggers it.",
	findingStalePlan:    "Plan the delivery retries again so the decisions reflect the current failures.",
	findingFailedDelivery: "Inspect the failed deliveries and fix the connector or destination. Then run the retry worker live for those a plan retries; " +
		"deliver again by hand those it suppresses (a permanent failure or the maximum attempts reached), because no retry run sends them.",
	findingFailedExecution: "Open the failed retry executions and fix their cause. The next live run delivers those a plan still retries; " +
		"deliver again by hand those it suppresses, because no retry run sends them.",
	findingDisabledSchedule: "Re-enable the delivery retry worker schedule, or record why it is paused.",
}

func healthActions(findings []health.Finding, word string) []string {
	if len(findings) == 0 {
		return []string{"No action needed: delivery retries are running on time and nothing is failing."}
	}
	out := make([]string, 0, len(findings))
	for _, finding := range findings {
		for format, text := range healthActionTexts {
			if fmt.Sprintf(format, word) == finding.Category {
				out = append(out, text)
			}
		}
	}
	return out
}

// Health evaluates delivery retry health for one subject kind and writes
// nothing.
func (s *Service) Health(ctx context.Context, kind string, params health.Params) (HealthReport, error) {
	if err := params.Validate(); err != nil {
		return HealthReport{}, err
	}
	in := HealthInputs{Now: s.Now()}
	var err error
	if in.LatestRun, err = models.LatestDeliveryRetryWorkerRun(ctx, s.DB, kind); err != nil {
		return HealthReport{}, err
	}
	if in.LatestPlan, err = models.LatestDeliveryRetryPlan(ctx, s.DB, kind); err != nil {
		return HealthReport{}, err
	}
	if in.Counts, err = models.CountRetries(ctx, s.DB, kind); err != nil {
		return HealthReport{}, err
	}
	return EvaluateHealth(kind, params, in), nil
}
