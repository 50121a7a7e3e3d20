package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// DeliveryOutcomeCounts are the exact totals of one subject kind's delivery
// operations. FailedCount counts every completed failed operation;
// OpenFailureCount counts the (subject, destination) groups whose failures
// no later successful delivery followed.
type DeliveryOutcomeCounts struct {
	DeliveryCount    int64
	SentCount        int64
	FailedCount      int64
	InFlightCount    int64
	OpenFailureCount int64
}

// CountDeliveryOutcomes returns the delivery totals of one subject kind.
func CountDeliveryOutcomes(ctx context.Context, db *gorm.DB, subjectKind string) (DeliveryOutcomeCounts, error) {
	db = db.WithContext(ctx)
	var counts DeliveryOutcomeCounts
	steps := []struct {
		target *int64
		query  *gorm.DB
	}{
		{&counts.DeliveryCount, db.Model(&Delivery{}).Where("subject_kind = ?", subjectKind)},
		{&counts.SentCount, db.Model(&Delivery{}).Where("subject_kind = ? AND state = ? AND success = ?", subjectKind, DeliveryCompleted, true)},
		{&counts.FailedCount, db.Model(&Delivery{}).Where("subject_kind = ? AND state = ? AND success = ?", subjectKind, DeliveryCompleted, false)},
		{&counts.InFlightCount, db.Model(&Delivery{}).Where("subject_kind = ? AND state = ?", subjectKind, DeliveryInFlight)},
	}
	for _, step := range steps {
		if err := step.query.Count(step.target).Error; err != nil {
			return counts, fmt.Errorf("models: unable to count %s deliveries: %w", subjectKind, err)
		}
	}
	open, err := CountOpenFailureGroups(ctx, db, subjectKind)
	if err != nil {
		return counts, err
	}
	counts.OpenFailureCount = open
	return counts, nil
}

// HealthTotals are the exact totals of persisted health evaluations and the
// newest one, which is nil when none exists.
type HealthTotals struct {
	EvaluationCount int64
	FindingCount    int64
	Latest          *HealthSnapshot
}

// CountHealthSnapshots returns the number of persisted evaluations, the sum
// of their findings and the newest evaluation.
func CountHealthSnapshots(ctx context.Context, db *gorm.DB) (HealthTotals, error) {
	db = db.WithContext(ctx)
	var totals struct {
		Evaluations int64
		Findings    int64
	}
	err := db.Raw("SELECT COUNT(*) AS evaluations, COALESCE(SUM(finding_count), 0) AS findings FROM health_snapshots").
		Scan(&totals).Error
	if err != nil {
		return HealthTotals{}, fmt.Errorf("models: unable to count health snapshots: %w", err)
	}
	latest, err := LatestHealthSnapshot(ctx, db)
	if err != nil {
		return HealthTotals{}, err
	}
	return HealthTotals{EvaluationCount: totals.Evaluations, FindingCount: totals.Findings, Latest: latest}, nil
}

// ExecutiveTotals are the exact totals of executive reports and schedule runs.
type ExecutiveTotals struct {
	ReportCount      int64
	ScheduleRunCount int64
}

// CountExecutiveRecords returns the executive report and schedule run totals.
func CountExecutiveRecords(ctx context.Context, db *gorm.DB) (ExecutiveTotals, error) {
	db = db.WithContext(ctx)
	var totals ExecutiveTotals
	if err := db.Model(&ExecutiveReport{}).Count(&totals.ReportCount).Error; err != nil {
		return totals, fmt.Errorf("models: unable to count executive reports: %w", err)
	}
	if err := db.Model(&ExecutiveScheduleRun{}).Count(&totals.ScheduleRunCount).Error; err != nil {
		return totals, fmt.Errorf("models: unable to count schedule runs: %w", err)
	}
	return totals, nil
}

// CountOutstandingAcknowledgements counts the (occurrence, destination)
// pairs whose current acknowledgement state does not close them.
func CountOutstandingAcknowledgements(ctx context.Context, db *gorm.DB) (int64, error) {
	var count int64
	err := db.WithContext(ctx).Raw("SELECT COUNT(*) FROM alert_acknowledgement_states s WHERE " + outstandingWhere).Scan(&count).Error
	if err != nil {
		return 0, fmt.Errorf("models: unable to count outstanding acknowledgements: %w", err)
	}
	return count, nil
}
