package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/releaseops/evidence-console/models"
)

// Alert levels of the dashboard, the same words as a health evaluation's.
const (
	LevelHealthy  = "healthy"
	LevelWarning  = "warning"
	LevelCritical = "critical"
)

// Dashboard contains exact counts, over all stored rows (no sampling
// window), of health evaluations, retry health alerts, executive reports and
// executive delivery retries. It does not count health alert delivery
// retries or ingested evidence.
type Dashboard struct {
	AlertLevel string `json:"alert_level"`
	// AlertLevelReasons names each condition that raised AlertLevel above
	// healthy; it is empty when the level is healthy.
	AlertLevelReasons []string        `json:"alert_level_reasons"`
	Health            HealthCounts    `json:"health"`
	Alerts            AlertCounts     `json:"alerts"`
	Executive         ExecutiveCounts `json:"executive"`
	ExecutiveRetries  RetryCounts     `json:"executive_retries"`
	GeneratedAt       time.Time       `json:"generated_at"`
}

// HealthCounts are the persisted health evaluations.
type HealthCounts struct {
	EvaluationCount   int64      `json:"evaluation_count"`
	FindingCount      int64      `json:"finding_count"`
	LatestHealthID    string     `json:"latest_health_id"`
	LatestAlertLevel  string     `json:"latest_alert_level"`
	LatestEvaluatedAt *time.Time `json:"latest_evaluated_at"`
}

// DeliveryCounts are the delivery operations of one subject kind. FailedCount
// counts every failed operation. OpenFailedCount counts the pairs of subject
// and destination with a failure and no later success there: (schedule run,
// destination) for executive reports and (alert, destination) for health
// alerts, where an alert is its fingerprint, whichever plan sent it.
type DeliveryCounts struct {
	DeliveryCount   int64 `json:"delivery_count"`
	SentCount       int64 `json:"sent_count"`
	FailedCount     int64 `json:"failed_count"`
	InFlightCount   int64 `json:"in_flight_count"`
	OpenFailedCount int64 `json:"open_failed_count"`
}

// AlertCounts are the retry health alert records.
type AlertCounts struct {
	PlanCount                       int64          `json:"plan_count"`
	Deliveries                      DeliveryCounts `json:"deliveries"`
	SuppressionCount                int64          `json:"suppression_count"`
	AcknowledgementCount            int64          `json:"acknowledgement_count"`
	OutstandingAcknowledgementCount int64          `json:"outstanding_acknowledgement_count"`
}

// ExecutiveCounts are the executive report records.
type ExecutiveCounts struct {
	ReportCount      int64          `json:"report_count"`
	ScheduleRunCount int64          `json:"schedule_run_count"`
	Deliveries       DeliveryCounts `json:"deliveries"`
}

// RetryCounts are the executive delivery retry records. Executions are
// counted by outcome: delivered, failed, skipped and in_flight.
type RetryCounts struct {
	PlanCount int64 `json:"plan_count"`
	// RetryableDecisionCount sums the retry counts of every plan, including
	// the due groups that a worker run did not select, as retry health does.
	RetryableDecisionCount   int64            `json:"retryable_decision_count"`
	WorkerRunCount           int64            `json:"worker_run_count"`
	DryWorkerRunCount        int64            `json:"dry_worker_run_count"`
	LiveWorkerRunCount       int64            `json:"live_worker_run_count"`
	ExecutionCount           int64            `json:"execution_count"`
	ExecutionsByOutcome      map[string]int64 `json:"executions_by_outcome"`
	OpenFailedExecutionCount int64            `json:"open_failed_execution_count"`
}

// Dashboard counts the record kinds it covers and derives the overall alert
// level.
// The totals come from the running counts the database triggers maintain
// (see models.AuditCounts), so the cost does not grow with the number of
// stored records. The newest health snapshot is read through its index.
func (s *Service) Dashboard(ctx context.Context) (Dashboard, error) {
	d := Dashboard{GeneratedAt: models.UTC(s.Now()), AlertLevelReasons: []string{}}
	counts, err := models.AuditCounts(ctx, s.DB)
	if err != nil {
		return d, err
	}
	latest, err := models.LatestHealthSnapshot(ctx, s.DB)
	if err != nil {
		return d, err
	}

	d.Health = HealthCounts{EvaluationCount: counts["health_snapshot"], FindingCount: counts["health_finding"]}
	if latest != nil {
		at := models.UTC(latest.EvaluatedAt)
		d.Health.LatestHealthID, d.Health.LatestAlertLevel, d.Health.LatestEvaluatedAt = latest.ID, latest.AlertLevel, &at
	}
	d.Alerts = AlertCounts{
		PlanCount: counts["alert_plan"], Deliveries: deliveryCounts(counts, models.SubjectHealthAlert),
		SuppressionCount:                counts["alert_destination:"+models.DecisionSuppressed],
		AcknowledgementCount:            counts["acknowledgement"],
		OutstandingAcknowledgementCount: counts["acknowledgement_state:outstanding"],
	}
	// Alert failures are counted per (alert, destination), not per plan,
	// because a later plan's success to a destination closes an earlier
	// plan's failure of the same alert there.
	d.Alerts.Deliveries.OpenFailedCount = counts[models.OpenAlertDestinationCounter]
	d.Executive = ExecutiveCounts{
		ReportCount: counts["executive_report"], ScheduleRunCount: counts["schedule_run"],
		Deliveries: deliveryCounts(counts, models.SubjectExecutiveReport),
	}

	kind := models.SubjectExecutiveReport
	retries := RetryCounts{
		PlanCount:                counts["retry_plan:"+kind],
		RetryableDecisionCount:   counts[models.RetryableDecisionCounter(kind)],
		DryWorkerRunCount:        counts["retry_worker_run:"+kind+":dry"],
		LiveWorkerRunCount:       counts["retry_worker_run:"+kind+":live"],
		ExecutionsByOutcome:      map[string]int64{},
		OpenFailedExecutionCount: counts["open_failed_execution:"+kind],
	}
	retries.WorkerRunCount = retries.DryWorkerRunCount + retries.LiveWorkerRunCount
	for _, outcome := range []string{models.ExecutionDelivered, models.ExecutionFailed, models.ExecutionSkipped, models.ExecutionInFlight} {
		retries.ExecutionsByOutcome[outcome] = counts["retry_execution:"+kind+":"+outcome]
		retries.ExecutionCount += retries.ExecutionsByOutcome[outcome]
	}
	d.ExecutiveRetries = retries

	d.AlertLevel, d.AlertLevelReasons = dashboardLevel(d)
	return d, nil
}

// deliveryCounts reads one subject kind's delivery totals from counts.
func deliveryCounts(counts map[string]int64, subjectKind string) DeliveryCounts {
	prefix := "delivery:" + subjectKind + ":"
	d := DeliveryCounts{
		SentCount: counts[prefix+"sent"], FailedCount: counts[prefix+"failed"], InFlightCount: counts[prefix+"in_flight"],
		OpenFailedCount: counts["open_failed_delivery_group:"+subjectKind],
	}
	d.DeliveryCount = d.SentCount + d.FailedCount + d.InFlightCount
	return d
}

// dashboardLevel derives the overall alert level:
//
//   - critical when the newest health evaluation is critical, or any alert
//     or executive delivery has an open failure (no later success to the same
//     destination), or any executive retry execution failed or was skipped
//     with no later successful delivery;
//   - warning when the newest health evaluation is warning, or any
//     acknowledgement is outstanding;
//   - healthy otherwise, including when nothing has been stored yet.
//
// Failures that a later delivery repaired no longer raise the level, so the
// level describes the current state, not the past.
func dashboardLevel(d Dashboard) (string, []string) {
	var critical, warning []string
	switch d.Health.LatestAlertLevel {
	case LevelCritical:
		critical = append(critical, fmt.Sprintf("newest health evaluation %s is critical", d.Health.LatestHealthID))
	case LevelWarning:
		warning = append(warning, fmt.Sprintf("newest health evaluation %s is warning", d.Health.LatestHealthID))
	}
	if n := d.Alerts.Deliveries.OpenFailedCount; n > 0 {
		critical = append(critical, countWords(n, "health alert (alert, destination) pair", "health alert (alert, destination) pairs")+" with a failed delivery and no later success")
	}
	if n := d.Executive.Deliveries.OpenFailedCount; n > 0 {
		critical = append(critical, countWords(n, "executive report (schedule run, destination) pair", "executive report (schedule run, destination) pairs")+" with a failed delivery and no later success")
	}
	if n := d.ExecutiveRetries.OpenFailedExecutionCount; n > 0 {
		critical = append(critical, countWords(n, "failed or skipped executive retry execution", "failed or skipped executive retry executions")+" not yet repaired")
	}
	if n := d.Alerts.OutstandingAcknowledgementCount; n > 0 {
		warning = append(warning, countWords(n, "outstanding acknowledgement", "outstanding acknowledgements"))
	}
	switch {
	case len(critical) > 0:
		return LevelCritical, append(critical, warning...)
	case len(warning) > 0:
		return LevelWarning, warning
	default:
		return LevelHealthy, []string{}
	}
}
