package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// ExecutiveReport is a persisted executive recovery report. Report is the
// report as JSON, exactly as it was returned when it was built. The other
// columns repeat its key figures for lists and counts.
type ExecutiveReport struct {
	ID                   string `gorm:"primaryKey"`
	Status               string
	RecoverySLOMinutes   int `gorm:"column:recovery_slo_minutes"`
	PeriodDays           int
	PeriodStart          time.Time
	PeriodEnd            time.Time
	ExecutionCount       int
	FailedExecutionCount int
	OpenRecoveryCount    int
	SLOBreachCount       int `gorm:"column:slo_breach_count"`
	EscalationCount      int
	KeyRiskCount         int
	Actor                string
	GeneratedAt          time.Time
	Report               string
}

// ExecutiveScheduleRun is one scheduled production of an executive report,
// with the interval-aligned window [WindowStart, WindowEnd) it ran in.
type ExecutiveScheduleRun struct {
	ID              string `gorm:"primaryKey"`
	ReportID        string
	IntervalMinutes int
	Enabled         bool
	Cadence         string
	WindowStart     time.Time
	WindowEnd       time.Time
	Actor           string
	CreatedAt       time.Time `gorm:"autoCreateTime:false"`
}

// CreateExecutiveScheduleRun stores a report and the schedule run that
// produced it in one transaction.
func CreateExecutiveScheduleRun(ctx context.Context, db *gorm.DB, report *ExecutiveReport, run *ExecutiveScheduleRun) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(report).Error; err != nil {
			return fmt.Errorf("models: unable to store executive report %s: %w", report.ID, err)
		}
		if err := tx.Create(run).Error; err != nil {
			return fmt.Errorf("models: unable to store schedule run %s: %w", run.ID, err)
		}
		return nil
	})
}

// ExecutiveReportByID returns one report or ErrNotFound.
func ExecutiveReportByID(ctx context.Context, db *gorm.DB, id string) (*ExecutiveReport, error) {
	var report ExecutiveReport
	err := db.WithContext(ctx).Where("id = ?", id).Take(&report).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read executive report %s: %w", id, err)
	}
	return &report, nil
}

// ExecutiveScheduleRunByID returns one schedule run or ErrNotFound.
func ExecutiveScheduleRunByID(ctx context.Context, db *gorm.DB, id string) (*ExecutiveScheduleRun, error) {
	var run ExecutiveScheduleRun
	err := db.WithContext(ctx).Where("id = ?", id).Take(&run).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read schedule run %s: %w", id, err)
	}
	return &run, nil
}

// LatestExecutiveScheduleRun returns the newest schedule run or ErrNotFound.
func LatestExecutiveScheduleRun(ctx context.Context, db *gorm.DB) (*ExecutiveScheduleRun, error) {
	var run ExecutiveScheduleRun
	err := db.WithContext(ctx).Order("created_at DESC, id DESC").Limit(1).Take(&run).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the newest schedule run: %w", err)
	}
	return &run, nil
}

// ExecutiveScheduleRunRow is a schedule run with its report's key figures
// and the outcome counts of its deliveries.
type ExecutiveScheduleRunRow struct {
	ExecutiveScheduleRun
	Status         string
	KeyRiskCount   int
	SLOBreachCount int `gorm:"column:slo_breach_count"`
	GeneratedAt    time.Time
	// SentCount and FailedCount count completed deliveries of the run that
	// succeeded and failed; deliveries still in flight are in neither.
	SentCount   int
	FailedCount int
}

// ListExecutiveScheduleRuns returns a page of schedule runs, newest first,
// and the total number of runs.
func ListExecutiveScheduleRuns(ctx context.Context, db *gorm.DB, limit, offset int) ([]ExecutiveScheduleRunRow, int64, error) {
	var total int64
	if err := db.WithContext(ctx).Model(&ExecutiveScheduleRun{}).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("models: unable to count schedule runs: %w", err)
	}
	var rows []ExecutiveScheduleRunRow
	err := db.WithContext(ctx).Table("executive_schedule_runs AS r").
		Select(`r.*, e.status, e.key_risk_count, e.slo_breach_count, e.generated_at,
			(SELECT COUNT(*) FROM deliveries d WHERE d.subject_kind = ? AND d.subject_id = r.id
			   AND d.state = ? AND d.success) AS sent_count,
			(SELECT COUNT(*) FROM deliveries d WHERE d.subject_kind = ? AND d.subject_id = r.id
			   AND d.state = ? AND NOT d.success) AS failed_count`,
			SubjectExecutiveReport, DeliveryCompleted, SubjectExecutiveReport, DeliveryCompleted).
		Joins("JOIN executive_reports e ON e.id = r.report_id").
		Order("r.created_at DESC, r.id DESC").Limit(limit).Offset(offset).
		Scan(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("models: unable to list schedule runs: %w", err)
	}
	return rows, total, nil
}

// ExecutionTally is the number of acknowledgement-audit retry executions of
// one provider with one status.
type ExecutionTally struct {
	Provider        string
	ExecutionStatus string
	Count           int
}

// AuditExecutionTallies counts acknowledgement-audit retry executions with
// executed_at in [from, to], per provider and status.
func AuditExecutionTallies(ctx context.Context, db *gorm.DB, from, to time.Time) ([]ExecutionTally, error) {
	var tallies []ExecutionTally
	err := db.WithContext(ctx).Model(&AuditRetryExecution{}).
		Select("provider, execution_status, COUNT(*) AS count").
		Where("executed_at >= ? AND executed_at <= ?", from, to).
		Group("provider, execution_status").Order("provider, execution_status").
		Scan(&tallies).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to count audit retry executions: %w", err)
	}
	return tallies, nil
}

// recoveryPairsSQL selects one row per (playbook, provider) recovery with its
// total failure count and latest closure state ("" when it has no closure). The latest closure is the one with the newest closed_at, ties
// broken by the larger closure id, found through the
// recovery_closures_pair index.
// NOTE: every recovery row is visited, because open ones count whatever
// their age, so the cost grows with stored playbooks (about 40 ms for 5 000
// rows in BenchmarkCurrentReport). A latest-closure table maintained at
// ingestion would make it constant.
const recoveryPairsSQL = `
SELECT p.playbook_id, p.provider, SUM(p.failure_count) AS failure_count,
       COALESCE(MAX(c.closure_state), '') AS closure_state
FROM recovery_playbook_providers p
LEFT JOIN recovery_closures c
  ON c.playbook_id = p.playbook_id AND c.provider = p.provider
 AND NOT EXISTS (
     SELECT 1 FROM recovery_closures n
     WHERE n.playbook_id = c.playbook_id AND n.provider = c.provider
       AND (n.closed_at > c.closed_at OR (n.closed_at = c.closed_at AND n.id > c.id)))
GROUP BY p.playbook_id, p.provider`

// RecoveryTally counts the recoveries of one provider. A recovery is open
// unless its latest closure state is one of the closing states. An open
// recovery is breached when its playbook was generated before the cut-off.
type RecoveryTally struct {
	Provider      string
	RecoveryCount int
	ClosedCount   int
	OpenCount     int
	BreachedCount int
	// OpenFailureCount sums the playbook failure counts of open recoveries.
	OpenFailureCount int
}

// RecoveryTallies counts recoveries per provider, whatever their age.
// closingStates are the closure states that close a recovery; breachedBefore
// is now minus the recovery SLO.
func RecoveryTallies(ctx context.Context, db *gorm.DB, closingStates []string, breachedBefore time.Time) ([]RecoveryTally, error) {
	var tallies []RecoveryTally
	query := `
SELECT r.provider,
       COUNT(*) AS recovery_count,
       SUM(CASE WHEN r.closure_state IN ? THEN 1 ELSE 0 END) AS closed_count,
       SUM(CASE WHEN r.closure_state IN ? THEN 0 ELSE 1 END) AS open_count,
       SUM(CASE WHEN r.closure_state NOT IN ? AND b.generated_at < ? THEN 1 ELSE 0 END) AS breached_count,
       SUM(CASE WHEN r.closure_state IN ? THEN 0 ELSE r.failure_count END) AS open_failure_count
FROM (` + recoveryPairsSQL + `) r
JOIN recovery_playbooks b ON b.id = r.playbook_id
GROUP BY r.provider
ORDER BY r.provider`
	err := db.WithContext(ctx).
		Raw(query, closingStates, closingStates, closingStates, breachedBefore, closingStates).
		Scan(&tallies).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to count recoveries: %w", err)
	}
	return tallies, nil
}

// OpenRecovery is one recovery that is not closed.
type OpenRecovery struct {
	PlaybookID   string
	Provider     string
	GeneratedAt  time.Time
	FailureCount int
	ClosureState string
}

// OldestOpenRecoveries returns up to limit open recoveries, oldest playbook
// first, so those past the recovery SLO come first.
func OldestOpenRecoveries(ctx context.Context, db *gorm.DB, closingStates []string, limit int) ([]OpenRecovery, error) {
	var open []OpenRecovery
	// The playbook time is read from the playbook row in the outer query, so
	// SQLite reports its column type and the driver returns a time.
	query := `SELECT r.playbook_id, r.provider, r.failure_count, r.closure_state, b.generated_at
FROM (` + recoveryPairsSQL + `) r
JOIN recovery_playbooks b ON b.id = r.playbook_id
WHERE r.closure_state NOT IN ?
ORDER BY b.generated_at, r.playbook_id, r.provider
LIMIT ?`
	if err := db.WithContext(ctx).Raw(query, closingStates, limit).Scan(&open).Error; err != nil {
		return nil, fmt.Errorf("models: unable to read open recoveries: %w", err)
	}
	for i := range open {
		open[i].GeneratedAt = open[i].GeneratedAt.UTC()
	}
	return open, nil
}

// ClosureDayTally counts the closures of one UTC day with one state.
type ClosureDayTally struct {
	Day          string // YYYY-MM-DD
	ClosureState string
	Count        int
}

// ClosureTalliesByDay counts recovery closures with closed_at in [from, to]
// per UTC day and closure state.
func ClosureTalliesByDay(ctx context.Context, db *gorm.DB, from, to time.Time) ([]ClosureDayTally, error) {
	// Both databases store times in UTC; SQLite keeps them as text that
	// starts with the date.
	day := "substr(closed_at, 1, 10)"
	if DialectOf(db) == DialectPostgres {
		day = "to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	var tallies []ClosureDayTally
	err := db.WithContext(ctx).Model(&RecoveryClosure{}).
		Select(day+" AS day, closure_state, COUNT(*) AS count").
		Where("closed_at >= ? AND closed_at <= ?", from, to).
		Group(day + ", closure_state").Order("day, closure_state").
		Scan(&tallies).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to count recovery closures by day: %w", err)
	}
	return tallies, nil
}

// RecoveryEvidenceCounts are the sizes of the recovery evidence a report
// reads, for the record of what it was built from.
type RecoveryEvidenceCounts struct {
	Playbooks       int64
	PlaybookEntries int64
	Closures        int64
	LatestIngestAt  *time.Time
}

// CountRecoveryEvidence counts the stored playbooks, playbook provider
// entries and closures, and finds the newest ingestion time among
// executions, playbooks and closures.
func CountRecoveryEvidence(ctx context.Context, db *gorm.DB) (RecoveryEvidenceCounts, error) {
	var counts RecoveryEvidenceCounts
	db = db.WithContext(ctx)
	if err := db.Model(&RecoveryPlaybook{}).Count(&counts.Playbooks).Error; err != nil {
		return counts, fmt.Errorf("models: unable to count recovery playbooks: %w", err)
	}
	if err := db.Model(&RecoveryPlaybookProvider{}).Count(&counts.PlaybookEntries).Error; err != nil {
		return counts, fmt.Errorf("models: unable to count playbook entries: %w", err)
	}
	if err := db.Model(&RecoveryClosure{}).Count(&counts.Closures).Error; err != nil {
		return counts, fmt.Errorf("models: unable to count recovery closures: %w", err)
	}
	for _, model := range []any{&AuditRetryExecution{}, &RecoveryPlaybook{}, &RecoveryClosure{}} {
		var newest RecoveryEvidenceNewest
		if err := db.Model(model).Select("ingested_at").Order("ingested_at DESC").Limit(1).Scan(&newest).Error; err != nil {
			return counts, fmt.Errorf("models: unable to read the newest ingestion time: %w", err)
		}
		if newest.IngestedAt != nil && (counts.LatestIngestAt == nil || newest.IngestedAt.After(*counts.LatestIngestAt)) {
			at := newest.IngestedAt.UTC()
			counts.LatestIngestAt = &at
		}
	}
	return counts, nil
}

// RecoveryEvidenceNewest receives one ingestion time.
type RecoveryEvidenceNewest struct {
	IngestedAt *time.Time
}
