// Package health evaluates recovery retry health: whether the escalation retry
// worker runs on time, its retry plans are fresh, acknowledgements are
// pending, executions are failing, or its schedule is disabled.
package health

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/releaseops/evidence-console/models"
)

// Finding categories.
const (
	CategoryMissedWorker     = "missed_recovery_escalation_retry_worker"
	CategoryStaleRetryPlan   = "stale_recovery_escalation_retry_plan"
	CategoryAckGap           = "recovery_escalation_acknowledgement_gap"
	CategoryFailedExecution  = "failed_recovery_escalation_retry_execution"
	CategoryDisabledSchedule = "disabled_recovery_escalation_retry_schedule"
)

// Severities and alert levels.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	LevelHealthy     = "healthy"
)

// Inputs are the stored facts an evaluation reads.
type Inputs struct {
	Now          time.Time
	LatestRun    *models.EscalationWorkerRun
	LatestPlan   *models.EscalationRetryPlan
	Counts       map[string]int64
	OpenFailures []models.EscalationExecutionPair
}

// Evaluate applies the recovery retry health rules to inputs. It is pure: the
// same params and inputs always give the same report.
func Evaluate(params Params, in Inputs) Report {
	now := models.UTC(in.Now)
	report := Report{
		EvaluatedAt:             now,
		ExpectedIntervalMinutes: params.ExpectedIntervalMinutes,
		StaleMetadataMinutes:    params.StaleMetadataMinutes,
		Findings:                []Finding{},
		OpenFailedExecutions:    []OpenFailure{},
		Counts: Counts{
			WorkerRunCount:                in.Counts[models.CountWorkerRuns],
			RetryPlanCount:                in.Counts[models.CountRetryPlans],
			ExecutionRecordCount:          in.Counts[models.CountExecutions],
			RetryableRetryCount:           in.Counts[models.CountRetryableRetries],
			FailedExecutionCount:          in.Counts[models.CountOpenExecutionFailures],
			FailedExecutionRecordCount:    in.Counts[models.CountExecutionsFailed] + in.Counts[models.CountExecutionsSkipped],
			DeliveredExecutionCount:       in.Counts[models.CountExecutionsDelivered],
			EscalationDeliveryCount:       in.Counts[models.CountEscalationDeliveries],
			FailedEscalationDeliveryCount: in.Counts[models.CountEscalationDeliveryFailed],
			DisabledScheduleCount:         in.Counts[models.CountWorkerRunsDisabled],
		},
	}

	missedAfter := 2 * time.Duration(params.ExpectedIntervalMinutes) * time.Minute
	staleAfter := time.Duration(params.StaleMetadataMinutes) * time.Minute

	if run := in.LatestRun; run == nil {
		report.add(CategoryMissedWorker, SeverityCritical, "No escalation retry worker run has been recorded.")
	} else {
		age := ageOf(now, run.CreatedAt)
		report.LatestWorkerRun = &WorkerRunView{
			RunID: run.ID, CreatedAt: run.CreatedAt, Age: age, DryRun: run.DryRun,
			SelectedRetryCount: run.SelectedRetryCount, AcknowledgementPendingCount: run.AcknowledgementPendingCount,
			ScheduleEnabled: run.ScheduleEnabled,
		}
		report.Counts.SelectedRetryCount = int64(run.SelectedRetryCount)
		report.Counts.AcknowledgementPendingCount = int64(run.AcknowledgementPendingCount)

		// An age of exactly twice the interval is still on time. A run stamped
		// in the future (clock skew) has no age and is never missed.
		if !age.InFuture && now.Sub(run.CreatedAt) > missedAfter {
			report.add(CategoryMissedWorker, SeverityCritical, fmt.Sprintf(
				"The newest escalation retry worker run %s is %s old, more than twice the expected %d-minute interval.",
				run.ID, AgeText(now.Sub(run.CreatedAt)), params.ExpectedIntervalMinutes))
		}
		if run.AcknowledgementPendingCount > 0 {
			report.add(CategoryAckGap, SeverityWarning, fmt.Sprintf(
				"The newest worker run %s reports %d acknowledgements pending.", run.ID, run.AcknowledgementPendingCount))
		}
		if !run.ScheduleEnabled {
			report.add(CategoryDisabledSchedule, SeverityWarning, fmt.Sprintf(
				"The newest worker run %s reports its retry schedule disabled.", run.ID))
		}
	}

	if plan := in.LatestPlan; plan == nil {
		report.add(CategoryStaleRetryPlan, SeverityWarning, "No escalation delivery retry plan has been recorded.")
	} else {
		age := ageOf(now, plan.CreatedAt)
		report.LatestRetryPlan = &RetryPlanView{RetryPlanID: plan.ID, CreatedAt: plan.CreatedAt, Age: age, RetryableCount: plan.RetryableCount}
		if !age.InFuture && now.Sub(plan.CreatedAt) > staleAfter {
			report.add(CategoryStaleRetryPlan, SeverityWarning, fmt.Sprintf(
				"The newest escalation retry plan %s is %s old, past the %d-minute stale threshold.",
				plan.ID, AgeText(now.Sub(plan.CreatedAt)), params.StaleMetadataMinutes))
		}
	}

	if open := report.Counts.FailedExecutionCount; open > 0 {
		pairs := "escalation plan and provider pairs have"
		if open == 1 {
			pairs = "escalation plan and provider pair has"
		}
		report.add(CategoryFailedExecution, SeverityCritical, fmt.Sprintf(
			"%d %s a failed or skipped retry execution with no later delivery.", open, pairs))
	}
	for _, pair := range in.OpenFailures {
		report.OpenFailedExecutions = append(report.OpenFailedExecutions, OpenFailure{
			PlanID: pair.PlanID, Provider: pair.Provider, ExecutionID: pair.LatestExecutionID,
			ExecutionStatus: pair.LatestStatus, CreatedAt: pair.LatestAt,
		})
	}

	report.AlertLevel = levelOf(report.Findings)
	report.Fingerprint = Fingerprint(report.Findings)
	report.RecommendedActions = recommendedActions(report.Findings)
	return report
}

func (r *Report) add(category, severity, message string) {
	r.Findings = append(r.Findings, Finding{Category: category, Severity: severity, Message: message})
}

func ageOf(now, at time.Time) Age {
	if at.After(now) {
		return Age{InFuture: true}
	}
	minutes := int(now.Sub(at) / time.Minute)
	return Age{Minutes: &minutes}
}

func levelOf(findings []Finding) string {
	level := LevelHealthy
	for _, finding := range findings {
		if finding.Severity == SeverityCritical {
			return SeverityCritical
		}
		level = SeverityWarning
	}
	return level
}

// Fingerprint identifies a set of findings by category and severity only, so
// it stays the same while the same problems persist even as ages and counts
// move. Duplicate suppression and acknowledgements key on it.
func Fingerprint(findings []Finding) string {
	keys := make([]string, 0, len(findings))
	for _, finding := range findings {
		keys = append(keys, finding.Category+":"+finding.Severity)
	}
	sort.Strings(keys)
	sum := sha256.Sum256([]byte(strings.Join(keys, "\n")))
	return "fp_" + hex.EncodeToString(sum[:16])
}

var actions = map[string]string{
	CategoryMissedWorker:     "Check that the escalation retry worker is running and can reach its metadata store; restart it or its scheduler if it is stuck.",
	CategoryStaleRetryPlan:   "Regenerate the escalation delivery retry plan so the worker retries the current failures.",
	CategoryAckGap:           "Ask the platform owners of the pending destinations to acknowledge their escalations.",
	CategoryFailedExecution:  "Inspect the open failed executions, fix the connector or destination, and let the next retry deliver them.",
	CategoryDisabledSchedule: "Re-enable the retry worker schedule, or record why it is paused.",
}

func recommendedActions(findings []Finding) []string {
	if len(findings) == 0 {
		return []string{"No action needed: recovery retries are running on time and nothing is failing."}
	}
	out := make([]string, 0, len(findings))
	for _, finding := range findings {
		out = append(out, actions[finding.Category])
	}
	return out
}

// AgeText writes an age in whole minutes, with "over" when part of a minute
// is left out, so an age just past a threshold never reads as equal to it.
func AgeText(age time.Duration) string {
	minutes := int(age / time.Minute)
	text := fmt.Sprintf("%d minutes", minutes)
	if minutes == 1 {
		text = "1 minute"
	}
	if age > time.Duration(minutes)*time.Minute {
		return "over " + text
	}
	return text
}
