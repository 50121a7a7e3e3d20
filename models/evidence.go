package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// EscalationRetryPlan is an ingested escalation delivery retry plan.
type EscalationRetryPlan struct {
	ID             string `gorm:"primaryKey"`
	SessionID      string
	RetryableCount int
	CreatedAt      time.Time `gorm:"autoCreateTime:false"`
	IngestedAt     time.Time
	Raw            string
}

// EscalationWorkerRun is an ingested escalation retry worker run.
type EscalationWorkerRun struct {
	ID                          string `gorm:"primaryKey"`
	SessionID                   string
	DryRun                      bool
	SelectedRetryCount          int
	AcknowledgementPendingCount int
	ScheduleEnabled             bool
	CreatedAt                   time.Time `gorm:"autoCreateTime:false"`
	IngestedAt                  time.Time
	Raw                         string
}

// EscalationRetryExecution is an ingested escalation retry execution.
type EscalationRetryExecution struct {
	ID              string `gorm:"primaryKey"`
	SessionID       string
	PlanID          string
	Provider        string
	ExecutionStatus string
	CreatedAt       time.Time `gorm:"autoCreateTime:false"`
	IngestedAt      time.Time
	Raw             string
}

// EscalationExecutionPair is the latest execution of one (escalation plan,
// provider) pair. OpenFailure is true while that latest execution failed or
// was skipped.
type EscalationExecutionPair struct {
	PlanID            string `gorm:"primaryKey"`
	Provider          string `gorm:"primaryKey"`
	LatestExecutionID string
	LatestStatus      string
	LatestAt          time.Time
	OpenFailure       bool
}

// EscalationDelivery is an ingested connector delivery of an escalation.
// Providers, FailedProviders and StatusCodes are JSON text.
type EscalationDelivery struct {
	ID              string `gorm:"primaryKey"`
	SessionID       string
	DeliverySuccess bool
	Providers       string
	FailedProviders string
	StatusCodes     string
	CreatedAt       time.Time `gorm:"autoCreateTime:false"`
	IngestedAt      time.Time
	Raw             string
}

// AuditRetryExecution is an ingested acknowledgement-audit retry execution.
type AuditRetryExecution struct {
	ID              string `gorm:"primaryKey"`
	SessionID       string
	Provider        string
	ExecutionStatus string
	ExecutedAt      time.Time
	IngestedAt      time.Time
	Raw             string
}

// RecoveryPlaybook is an ingested connector recovery playbook; its provider
// rows are in RecoveryPlaybookProvider.
type RecoveryPlaybook struct {
	ID          string `gorm:"primaryKey"`
	SessionID   string
	GeneratedAt time.Time
	IngestedAt  time.Time
	Raw         string
}

// RecoveryPlaybookProvider is one provider entry of a recovery playbook.
type RecoveryPlaybookProvider struct {
	PlaybookID   string `gorm:"primaryKey"`
	Provider     string `gorm:"primaryKey"`
	Category     string `gorm:"primaryKey"`
	FailureCount int
	GeneratedAt  time.Time
}

// RecoveryClosure is an ingested connector recovery closure.
type RecoveryClosure struct {
	ID           string `gorm:"primaryKey"`
	SessionID    string
	PlaybookID   string
	Provider     string
	ClosureState string
	ClosedAt     time.Time
	IngestedAt   time.Time
	Raw          string
}

// EvidenceCount is one exact running total of ingested evidence.
type EvidenceCount struct {
	Name  string `gorm:"primaryKey"`
	Value int64
}

// Names of the running totals kept in evidence_counts.
const (
	CountWorkerRuns               = "escalation_worker_runs"
	CountWorkerRunsDisabled       = "escalation_worker_runs_schedule_disabled"
	CountRetryPlans               = "escalation_retry_plans"
	CountRetryableRetries         = "escalation_retryable_retries"
	CountExecutions               = "escalation_retry_executions"
	CountExecutionsDelivered      = "escalation_retry_executions_delivered"
	CountExecutionsFailed         = "escalation_retry_executions_failed"
	CountExecutionsSkipped        = "escalation_retry_executions_skipped"
	CountOpenExecutionFailures    = "escalation_open_execution_failures"
	CountEscalationDeliveries     = "escalation_deliveries"
	CountEscalationDeliveryFailed = "escalation_deliveries_failed"
	CountAuditRetryExecutions     = "audit_retry_executions"
	CountRecoveryPlaybooks        = "recovery_playbooks"
	CountRecoveryClosures         = "recovery_closures"
)

// AddCounts adds deltas to the running totals inside tx.
func AddCounts(tx *gorm.DB, deltas map[string]int64) error {
	for name, delta := range deltas {
		if delta == 0 {
			continue
		}
		row := EvidenceCount{Name: name, Value: delta}
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "name"}},
			DoUpdates: clause.Assignments(map[string]any{"value": gorm.Expr("evidence_counts.value + ?", delta)}),
		}).Create(&row).Error
		if err != nil {
			return fmt.Errorf("models: unable to add to count %s: %w", name, err)
		}
	}
	return nil
}

// Counts returns every running total; a name never incremented is absent.
func Counts(ctx context.Context, db *gorm.DB) (map[string]int64, error) {
	var rows []EvidenceCount
	if err := db.WithContext(ctx).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: unable to read evidence counts: %w", err)
	}
	counts := make(map[string]int64, len(rows))
	for _, row := range rows {
		counts[row.Name] = row.Value
	}
	return counts, nil
}

// InsertIfAbsent inserts row unless a row with the same primary key exists,
// and reports whether it inserted.
func InsertIfAbsent(tx *gorm.DB, row any) (bool, error) {
	result := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(row)
	if result.Error != nil {
		return false, result.Error
	}
	return result.RowsAffected == 1, nil
}

// LockEvidence serialises evidence ingestion on PostgreSQL so running totals
// and latest-execution pairs are updated by one transaction at a time. SQLite
// already runs one write transaction at a time.
func LockEvidence(tx *gorm.DB) error {
	if DialectOf(tx) != DialectPostgres {
		return nil
	}
	return tx.Exec("SELECT pg_advisory_xact_lock(?)", evidenceLockKey).Error
}

const evidenceLockKey = 7426001

// LatestWorkerRun returns the newest escalation worker run, or nil.
func LatestWorkerRun(ctx context.Context, db *gorm.DB) (*EscalationWorkerRun, error) {
	var run EscalationWorkerRun
	err := db.WithContext(ctx).Order("created_at DESC, id DESC").Limit(1).Take(&run).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the newest worker run: %w", err)
	}
	return &run, nil
}

// LatestRetryPlan returns the newest escalation retry plan, or nil.
func LatestRetryPlan(ctx context.Context, db *gorm.DB) (*EscalationRetryPlan, error) {
	var plan EscalationRetryPlan
	err := db.WithContext(ctx).Order("created_at DESC, id DESC").Limit(1).Take(&plan).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the newest retry plan: %w", err)
	}
	return &plan, nil
}

// OpenExecutionFailures returns up to limit (plan, provider) pairs whose latest
// execution failed or was skipped, newest first.
func OpenExecutionFailures(ctx context.Context, db *gorm.DB, limit int) ([]EscalationExecutionPair, error) {
	var pairs []EscalationExecutionPair
	err := db.WithContext(ctx).Where("open_failure = ?", true).
		Order("latest_at DESC, plan_id, provider").Limit(limit).Find(&pairs).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read open execution failures: %w", err)
	}
	return pairs, nil
}

// UpsertExecutionPair records execution as the latest of its pair when it is
// newer than the stored one, and returns the change in open failures (-1, 0
// or +1). It must run inside the ingestion transaction, after LockEvidence.
func UpsertExecutionPair(tx *gorm.DB, execution EscalationRetryExecution) (int64, error) {
	open := execution.ExecutionStatus != "delivered"

	var current EscalationExecutionPair
	err := tx.Where("plan_id = ? AND provider = ?", execution.PlanID, execution.Provider).Take(&current).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		pair := EscalationExecutionPair{
			PlanID: execution.PlanID, Provider: execution.Provider,
			LatestExecutionID: execution.ID, LatestStatus: execution.ExecutionStatus,
			LatestAt: execution.CreatedAt, OpenFailure: open,
		}
		if err := tx.Create(&pair).Error; err != nil {
			return 0, fmt.Errorf("models: unable to store execution pair %s/%s: %w", execution.PlanID, execution.Provider, err)
		}
		if open {
			return 1, nil
		}
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("models: unable to read execution pair %s/%s: %w", execution.PlanID, execution.Provider, err)
	}

	// Ties on time are broken by execution id so the outcome does not depend
	// on the order in which records arrive.
	newer := execution.CreatedAt.After(current.LatestAt) ||
		(execution.CreatedAt.Equal(current.LatestAt) && execution.ID > current.LatestExecutionID)
	if !newer {
		return 0, nil
	}
	err = tx.Model(&EscalationExecutionPair{}).
		Where("plan_id = ? AND provider = ?", execution.PlanID, execution.Provider).
		Updates(map[string]any{
			"latest_execution_id": execution.ID,
			"latest_status":       execution.ExecutionStatus,
			"latest_at":           execution.CreatedAt,
			"open_failure":        open,
		}).Error
	if err != nil {
		return 0, fmt.Errorf("models: unable to update execution pair %s/%s: %w", execution.PlanID, execution.Provider, err)
	}
	switch {
	case open && !current.OpenFailure:
		return 1, nil
	case !open && current.OpenFailure:
		return -1, nil
	}
	return 0, nil
}
