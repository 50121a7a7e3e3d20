package models

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Retry decision states.
const (
	DecisionPending = "pending" // a retry decision a live run may claim
	DecisionClaimed = "claimed" // claimed by a live worker run
	DecisionNone    = "none"    // wait, suppress, or selected by a dry run only
)

// Retry execution outcomes.
const (
	ExecutionInFlight  = "in_flight"
	ExecutionDelivered = "delivered"
	ExecutionFailed    = "failed"
	ExecutionSkipped   = "skipped"
)

// Worker run states.
const (
	WorkerRunRunning   = "running"
	WorkerRunCompleted = "completed"
	// WorkerRunInterrupted is a run whose worker stopped before finishing
	// it. A later live run recorded its open executions and closed it.
	WorkerRunInterrupted = "interrupted"
)

// RetryPlan is one persisted delivery retry plan.
type RetryPlan struct {
	ID                  string `gorm:"primaryKey"`
	SubjectKind         string
	MaxRetryAttempts    int
	RetryDelayMinutes   int
	AllowImmediateRetry bool
	BackoffMultiplier   float64
	DecisionCount       int
	RetryCount          int
	WaitCount           int
	SuppressCount       int
	// NextRetryAt is the earliest next retry time of the wait decisions, or
	// nil when no decision waits.
	NextRetryAt *time.Time
	WorkerRunID string
	Actor       string
	CreatedAt   time.Time
}

// RetryDecision is one decision of a plan for one (subject, destination).
type RetryDecision struct {
	ID             string `gorm:"primaryKey"`
	PlanID         string
	Position       int
	SubjectKind    string
	SubjectID      string
	SubjectKey     string
	Connector      string
	Action         string
	Reason         string
	FailureCount   int
	LastFailureAt  *time.Time
	LastErrorClass string
	NextRetryAt    *time.Time
	LastDeliveryID string
	IdempotencyKey string
	Selected       bool
	State          string
	ClaimedBy      string
}

// RetryWorkerRun is one run of the retry worker, dry or live.
type RetryWorkerRun struct {
	ID                      string `gorm:"primaryKey"`
	SubjectKind             string
	PlanID                  string
	DryRun                  bool
	Actor                   string
	MaxRetryDeliveries      int
	ScheduleEnabled         bool
	ScheduleIntervalMinutes int
	ScheduleCadence         string
	WindowStart             time.Time
	WindowEnd               time.Time
	RetryableCount          int
	SelectedCount           int
	DeliveredCount          int
	FailedCount             int
	SkippedCount            int
	ReconciledCount         int
	// WouldInterruptCount and WouldInterruptSendCount are set on a dry run:
	// the retry executions and plain sends left in flight that a live run
	// started then would have recorded as interrupted first.
	WouldInterruptCount     int
	WouldInterruptSendCount int
	// SendRetries and SendTimeoutMS are the quick retries and the
	// per-attempt timeout, in milliseconds, of each live retry delivery.
	SendRetries   int
	SendTimeoutMS int64 `gorm:"column:send_timeout_ms"`
	// OnlyDestinations is the comma-separated destination limit of the
	// run, or empty for a run over every destination.
	OnlyDestinations string
	// ConfirmedNotSent is the JSON array of the confirmed retries that a
	// live run left out, with their causes, or empty when it left none out.
	ConfirmedNotSent string
	State            string
	CreatedAt        time.Time
	CompletedAt      *time.Time
}

// RetryExecution is the record of one selected decision executed by a live
// worker run. ClaimKey is nil for a skipped execution that sent nothing.
type RetryExecution struct {
	ID             string `gorm:"primaryKey"`
	DecisionID     string
	ClaimKey       *string
	WorkerRunID    string
	PlanID         string
	SubjectKind    string
	SubjectID      string
	SubjectKey     string
	Connector      string
	Outcome        string
	Reason         string
	DeliveryID     string
	IdempotencyKey string
	StartedAt      time.Time
	CompletedAt    *time.Time
	// Yielded is true for a skipped execution whose retry went to another
	// sender: another worker run claimed it first, or a delivery to its
	// destination was under way. It did not fail, so it never counts as a
	// retry execution not yet repaired.
	Yielded bool
	// ReconciledByRunID is the live worker run that recorded the outcome of
	// this execution, which a stopped worker left in flight. It is empty
	// for every other execution.
	ReconciledByRunID string
}

// CreateRetryPlan stores a plan and its decisions inside tx.
func CreateRetryPlan(tx *gorm.DB, plan *RetryPlan, decisions []RetryDecision) error {
	if err := tx.Create(plan).Error; err != nil {
		return fmt.Errorf("models: unable to store retry plan %s: %w", plan.ID, err)
	}
	if len(decisions) == 0 {
		return nil
	}
	if err := tx.CreateInBatches(decisions, 200).Error; err != nil {
		return fmt.Errorf("models: unable to store the decisions of retry plan %s: %w", plan.ID, err)
	}
	return nil
}

// CreateRetryWorkerRun stores a worker run inside tx.
func CreateRetryWorkerRun(tx *gorm.DB, run *RetryWorkerRun) error {
	if err := tx.Create(run).Error; err != nil {
		return fmt.Errorf("models: unable to store retry worker run %s: %w", run.ID, err)
	}
	return nil
}

// RetryableDecisionCounter returns the name of the running total of the
// retry counts of every plan of subjectKind, which triggers on retry_plans
// keep. The total equals RetryCounts.RetryableDecisions.
func RetryableDecisionCounter(subjectKind string) string {
	return "retryable_decision:" + subjectKind
}

// OpenAlertDestinationCounter names the running total of (health alert,
// destination) pairs with an open failure, which triggers keep in
// audit_alert_destinations.
const OpenAlertDestinationCounter = "open_alert_destination"

// CountOpenFailureGroups counts the (subject, destination) groups of one
// subject kind whose latest completed delivery failed. A health alert's
// subject is the alert, its fingerprint. As in the retry rules, a success
// of the alert to that destination that completed at or after a failure
// closes it, whichever plan sent it, so overlapping sends count as the
// retry worker decides. An executive report's subject is its schedule run,
// whose deliveries are ordered by creation.
func CountOpenFailureGroups(ctx context.Context, db *gorm.DB, subjectKind string) (int64, error) {
	query := `SELECT COUNT(*) FROM (SELECT DISTINCT subject_id, connector FROM deliveries d
		WHERE d.subject_kind = ? AND d.state = ? AND d.success = ?
		AND NOT EXISTS (SELECT 1 FROM deliveries later
			WHERE later.subject_kind = d.subject_kind AND later.subject_id = d.subject_id
			AND later.connector = d.connector AND later.success = ?
			AND (later.created_at > d.created_at OR (later.created_at = d.created_at AND later.id > d.id)))) open_groups`
	args := []any{subjectKind, DeliveryCompleted, false, true}
	if subjectKind == SubjectHealthAlert {
		// Triggers keep the newest failure and success time of each
		// (alert, destination) pair from its completed deliveries.
		query = `SELECT COUNT(*) FROM audit_alert_destinations
		WHERE last_failure_at IS NOT NULL AND (last_success_at IS NULL OR last_success_at < last_failure_at)`
		args = nil
	}
	var count int64
	if err := db.WithContext(ctx).Raw(query, args...).Scan(&count).Error; err != nil {
		return 0, fmt.Errorf("models: unable to count open failed %s deliveries: %w", subjectKind, err)
	}
	return count, nil
}

// ClaimRetryDecisions claims the selected decisions of one live worker run
// inside tx. The run stores those decisions already claimed by runID, and
// this stores each in-flight execution unless another execution already
// holds its claim key. The decision of an execution that was not stored
// goes back to pending. It returns the IDs of the executions it stored. The
// insert skips conflicting rows instead of failing, so tx stays usable on
// PostgreSQL, and it takes claim keys in sorted order, so two runs claiming
// the same retries wait for each other instead of deadlocking.
func ClaimRetryDecisions(tx *gorm.DB, runID string, executions []RetryExecution) (map[string]bool, error) {
	claimed := map[string]bool{}
	if len(executions) == 0 {
		return claimed, nil
	}
	sorted := append([]RetryExecution(nil), executions...)
	sort.Slice(sorted, func(i, j int) bool { return claimKeyOf(sorted[i]) < claimKeyOf(sorted[j]) })
	result := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&sorted)
	if result.Error != nil {
		return nil, fmt.Errorf("models: unable to store the executions of retry worker run %s: %w", runID, result.Error)
	}
	ids := make([]string, 0, len(sorted))
	for _, execution := range sorted {
		ids = append(ids, execution.ID)
		claimed[execution.ID] = true
	}
	if result.RowsAffected == int64(len(sorted)) {
		return claimed, nil
	}

	// Another run holds some claim keys, so read which executions were
	// stored and release the decisions of the others.
	var stored []string
	if err := tx.Model(&RetryExecution{}).Where("id IN ?", ids).Pluck("id", &stored).Error; err != nil {
		return nil, fmt.Errorf("models: unable to read the claims of retry worker run %s: %w", runID, err)
	}
	claimed = make(map[string]bool, len(stored))
	for _, id := range stored {
		claimed[id] = true
	}
	var lost []string
	for _, execution := range sorted {
		if !claimed[execution.ID] {
			lost = append(lost, execution.DecisionID)
		}
	}
	released := tx.Model(&RetryDecision{}).Where("id IN ? AND state = ? AND claimed_by = ?", lost, DecisionClaimed, runID).
		Updates(map[string]any{"state": DecisionPending, "claimed_by": ""})
	if released.Error != nil {
		return nil, fmt.Errorf("models: unable to release the unclaimed decisions of retry worker run %s: %w", runID, released.Error)
	}
	// Each of these decisions belongs to this run's own plan and was stored
	// claimed, so a lower count means the plan rows are wrong.
	if released.RowsAffected != int64(len(lost)) {
		return nil, fmt.Errorf("models: released %d of %d unclaimed decisions of retry worker run %s",
			released.RowsAffected, len(lost), runID)
	}
	return claimed, nil
}

func claimKeyOf(execution RetryExecution) string {
	if execution.ClaimKey == nil {
		return ""
	}
	return *execution.ClaimKey
}

// CreateRetryExecutions stores executions that need no claim, such as
// skipped ones, inside tx.
func CreateRetryExecutions(tx *gorm.DB, executions []RetryExecution) error {
	if len(executions) == 0 {
		return nil
	}
	if err := tx.CreateInBatches(executions, createBatchSize).Error; err != nil {
		return fmt.Errorf("models: unable to store %d retry executions: %w", len(executions), err)
	}
	return nil
}

// ReconcileRetryExecution records the outcome of an execution that a stopped
// worker left in flight, and the live run that recorded it. Only an
// in-flight row changes, so an execution is completed once.
func ReconcileRetryExecution(ctx context.Context, db *gorm.DB, executionID, outcome, reason, runID string, completedAt time.Time) (bool, error) {
	result := db.WithContext(ctx).Model(&RetryExecution{}).
		Where("id = ? AND outcome = ?", executionID, ExecutionInFlight).
		Updates(map[string]any{"outcome": outcome, "reason": reason, "completed_at": completedAt, "reconciled_by_run_id": runID})
	if result.Error != nil {
		return false, fmt.Errorf("models: unable to complete retry execution %s: %w", executionID, result.Error)
	}
	return result.RowsAffected == 1, nil
}

// ExecutionOutcome is the recorded outcome of one in-flight execution.
type ExecutionOutcome struct {
	ExecutionID string
	Outcome     string
	Reason      string
	// CompletedAt is when the execution's send returned.
	CompletedAt time.Time
}

// CompleteRetryExecutions records the outcomes of in-flight executions in
// one statement. Only in-flight rows change, so an execution is completed
// once. It returns the number of rows changed.
func CompleteRetryExecutions(ctx context.Context, db *gorm.DB, outcomes []ExecutionOutcome) (int64, error) {
	if len(outcomes) == 0 {
		return 0, nil
	}
	sorted := append([]ExecutionOutcome(nil), outcomes...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ExecutionID < sorted[j].ExecutionID })
	ids := make([]string, 0, len(sorted))
	for _, item := range sorted {
		ids = append(ids, item.ExecutionID)
	}

	var builder strings.Builder
	args := make([]any, 0, 4*len(sorted)+1)
	writeUpdateFromValues(&builder, &args, "retry_executions", "", nil, ids, []rowColumn{
		{"outcome", "?", func(i int) any { return sorted[i].Outcome }},
		{"reason", "?", func(i int) any { return sorted[i].Reason }},
		{"completed_at", typedParam(db, "TIMESTAMPTZ"), func(i int) any { return UTC(sorted[i].CompletedAt) }},
	})
	// The VALUES list names an outcome column too, so this one names its
	// table.
	builder.WriteString(" AND retry_executions.outcome = ?")
	args = append(args, ExecutionInFlight)
	query := builder.String()
	result := db.WithContext(ctx).Exec(query, args...)
	if result.Error != nil {
		return 0, fmt.Errorf("models: unable to complete %d retry executions: %w", len(sorted), result.Error)
	}
	return result.RowsAffected, nil
}

// StaleRetryExecutions returns the in-flight executions of one subject kind
// started before the given time.
func StaleRetryExecutions(ctx context.Context, db *gorm.DB, subjectKind string, startedBefore time.Time) ([]RetryExecution, error) {
	var executions []RetryExecution
	err := db.WithContext(ctx).Where("subject_kind = ? AND outcome = ? AND started_at < ?", subjectKind, ExecutionInFlight, startedBefore).
		Order("started_at, id").Find(&executions).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read in-flight %s retry executions: %w", subjectKind, err)
	}
	return executions, nil
}

// FinishRetryWorkerRun stores the tally of a worker run and marks it completed.
func FinishRetryWorkerRun(ctx context.Context, db *gorm.DB, run *RetryWorkerRun) error {
	err := db.WithContext(ctx).Model(&RetryWorkerRun{}).Where("id = ?", run.ID).Updates(map[string]any{
		"delivered_count": run.DeliveredCount, "failed_count": run.FailedCount, "skipped_count": run.SkippedCount,
		"reconciled_count": run.ReconciledCount, "state": run.State, "completed_at": run.CompletedAt,
	}).Error
	if err != nil {
		return fmt.Errorf("models: unable to finish retry worker run %s: %w", run.ID, err)
	}
	return nil
}

// CompleteStoppedWorkerRuns marks interrupted the running worker runs of
// one subject kind that were created before createdBefore and have no
// execution in flight. A worker that stopped between sending and recording,
// or whose recording failed, leaves such a run once its executions are
// reconciled. Any later live run calls this, so a run whose completion
// failed once is completed by the next. It returns the number of runs.
func CompleteStoppedWorkerRuns(ctx context.Context, db *gorm.DB, subjectKind string, createdBefore, completedAt time.Time) (int64, error) {
	result := completeSettledRuns(ctx, db, WorkerRunInterrupted, completedAt, "subject_kind = ? AND created_at < ?", subjectKind, UTC(createdBefore))
	if result.Error != nil {
		return 0, fmt.Errorf("models: unable to complete stopped %s retry worker runs: %w", subjectKind, result.Error)
	}
	return result.RowsAffected, nil
}

// CompleteSettledWorkerRun completes one running worker run when none of
// its executions is in flight, and reports whether it did.
func CompleteSettledWorkerRun(ctx context.Context, db *gorm.DB, runID string, completedAt time.Time) (bool, error) {
	result := completeSettledRuns(ctx, db, WorkerRunCompleted, completedAt, "id = ?", runID)
	if result.Error != nil {
		return false, fmt.Errorf("models: unable to complete retry worker run %s: %w", runID, result.Error)
	}
	return result.RowsAffected == 1, nil
}

// completeSettledRuns gives state to the running worker runs that match
// the condition where and have no execution in flight. Each run's
// delivered, failed and skipped counts are taken from its executions.
func completeSettledRuns(ctx context.Context, db *gorm.DB, state string, completedAt time.Time, where string, whereArgs ...any) *gorm.DB {
	count := func(outcome string) string {
		return "(SELECT COUNT(*) FROM retry_executions x WHERE x.worker_run_id = retry_worker_runs.id AND x.outcome = '" + outcome + "')"
	}
	args := append([]any{state, UTC(completedAt)}, whereArgs...)
	args = append(args, WorkerRunRunning, ExecutionInFlight)
	return db.WithContext(ctx).Exec(`UPDATE retry_worker_runs SET state = ?, completed_at = ?,
		delivered_count = `+count(ExecutionDelivered)+`, failed_count = `+count(ExecutionFailed)+`,
		skipped_count = `+count(ExecutionSkipped)+`
		WHERE `+where+` AND state = ?
		AND NOT EXISTS (SELECT 1 FROM retry_executions x WHERE x.worker_run_id = retry_worker_runs.id AND x.outcome = ?)`, args...)
}

// RetryWorkerRuns returns the newest worker runs of one subject kind, or of
// every kind when subjectKind is empty.
func RetryWorkerRuns(ctx context.Context, db *gorm.DB, subjectKind string, limit, offset int) ([]RetryWorkerRun, error) {
	var runs []RetryWorkerRun
	query := db.WithContext(ctx).Order("created_at DESC, id DESC").Limit(limit).Offset(offset)
	if subjectKind != "" {
		query = query.Where("subject_kind = ?", subjectKind)
	}
	if err := query.Find(&runs).Error; err != nil {
		return nil, fmt.Errorf("models: unable to list retry worker runs: %w", err)
	}
	return runs, nil
}

// NewestLiveRetryWorkerRun returns the newest live worker run of one
// subject kind, or nil when there is none.
func NewestLiveRetryWorkerRun(ctx context.Context, db *gorm.DB, subjectKind string) (*RetryWorkerRun, error) {
	var runs []RetryWorkerRun
	err := db.WithContext(ctx).Where("subject_kind = ? AND dry_run = ?", subjectKind, false).
		Order("created_at DESC, id DESC").Limit(1).Find(&runs).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the newest live retry worker run: %w", err)
	}
	if len(runs) == 0 {
		return nil, nil
	}
	return &runs[0], nil
}

// CountRetryWorkerRuns returns the number of worker runs of one subject
// kind, or of every kind when subjectKind is empty, from the running totals.
func CountRetryWorkerRuns(ctx context.Context, db *gorm.DB, subjectKind string) (int64, error) {
	counts, err := AuditCounts(ctx, db)
	if err != nil {
		return 0, err
	}
	prefix := "retry_worker_run:"
	if subjectKind != "" {
		prefix += subjectKind + ":"
	}
	var total int64
	for name, value := range counts {
		if strings.HasPrefix(name, prefix) {
			total += value
		}
	}
	return total, nil
}

// RetryWorkerRunByID returns one worker run or ErrNotFound.
func RetryWorkerRunByID(ctx context.Context, db *gorm.DB, id string) (*RetryWorkerRun, error) {
	var run RetryWorkerRun
	err := db.WithContext(ctx).Where("id = ?", id).Take(&run).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read retry worker run %s: %w", id, err)
	}
	return &run, nil
}

// RetryPlanByID returns one plan or ErrNotFound.
func RetryPlanByID(ctx context.Context, db *gorm.DB, id string) (*RetryPlan, error) {
	var plan RetryPlan
	err := db.WithContext(ctx).Where("id = ?", id).Take(&plan).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read retry plan %s: %w", id, err)
	}
	return &plan, nil
}

// RetryDecisionsOf returns the decisions of a plan in plan order.
func RetryDecisionsOf(ctx context.Context, db *gorm.DB, planID string) ([]RetryDecision, error) {
	var decisions []RetryDecision
	if err := db.WithContext(ctx).Where("plan_id = ?", planID).Order("position").Find(&decisions).Error; err != nil {
		return nil, fmt.Errorf("models: unable to read the decisions of retry plan %s: %w", planID, err)
	}
	return decisions, nil
}

// SelectedRetryDecisionsOf returns the decisions of a plan that its worker
// run selected, in plan order.
func SelectedRetryDecisionsOf(ctx context.Context, db *gorm.DB, planID string) ([]RetryDecision, error) {
	var decisions []RetryDecision
	err := db.WithContext(ctx).Where("plan_id = ? AND selected = ?", planID, true).Order("position").Find(&decisions).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the selected decisions of retry plan %s: %w", planID, err)
	}
	return decisions, nil
}

// RetryExecutionsOf returns the executions of a worker run, oldest first.
func RetryExecutionsOf(ctx context.Context, db *gorm.DB, runID string) ([]RetryExecution, error) {
	var executions []RetryExecution
	if err := db.WithContext(ctx).Where("worker_run_id = ?", runID).Order("started_at, id").Find(&executions).Error; err != nil {
		return nil, fmt.Errorf("models: unable to read the executions of retry worker run %s: %w", runID, err)
	}
	return executions, nil
}

// NewestRetryExecutionTo returns the newest retry execution of one subject
// kind to one of connectors that started at or after since and was not
// yielded, or nil. When failedDeliveryIDs is not empty, only executions
// that retried one of those failed deliveries count.
func NewestRetryExecutionTo(ctx context.Context, db *gorm.DB, subjectKind string, connectors, failedDeliveryIDs []string, since time.Time) (*RetryExecution, error) {
	query := db.WithContext(ctx).Table("retry_executions").Select("retry_executions.*").
		Where("retry_executions.subject_kind = ? AND retry_executions.connector IN ? AND retry_executions.started_at >= ? AND retry_executions.yielded = ?",
			subjectKind, connectors, since, false)
	if len(failedDeliveryIDs) > 0 {
		query = query.Joins("JOIN retry_decisions ON retry_decisions.id = retry_executions.decision_id").
			Where("retry_decisions.last_delivery_id IN ?", failedDeliveryIDs)
	}
	var executions []RetryExecution
	err := query.Order("retry_executions.started_at DESC, retry_executions.id DESC").Limit(1).Find(&executions).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the newest retry execution to %s: %w", strings.Join(connectors, ", "), err)
	}
	if len(executions) == 0 {
		return nil, nil
	}
	return &executions[0], nil
}

// RetriedConnectorsOf returns, sorted and each once, the connectors of the
// executions of worker run runID that were not yielded, went to one of
// connectors and, when failedDeliveryIDs is not empty, retried one of those
// failed deliveries.
func RetriedConnectorsOf(ctx context.Context, db *gorm.DB, runID string, connectors, failedDeliveryIDs []string) ([]string, error) {
	query := db.WithContext(ctx).Table("retry_executions").
		Where("retry_executions.worker_run_id = ? AND retry_executions.connector IN ? AND retry_executions.yielded = ?", runID, connectors, false)
	if len(failedDeliveryIDs) > 0 {
		query = query.Joins("JOIN retry_decisions ON retry_decisions.id = retry_executions.decision_id").
			Where("retry_decisions.last_delivery_id IN ?", failedDeliveryIDs)
	}
	var names []string
	if err := query.Distinct("retry_executions.connector").Order("retry_executions.connector").Pluck("retry_executions.connector", &names).Error; err != nil {
		return nil, fmt.Errorf("models: unable to read the destinations retried by worker run %s: %w", runID, err)
	}
	return names, nil
}

// LatestDeliveryRetryWorkerRun returns the newest worker run of one subject kind, or nil.
func LatestDeliveryRetryWorkerRun(ctx context.Context, db *gorm.DB, subjectKind string) (*RetryWorkerRun, error) {
	runs, err := RetryWorkerRuns(ctx, db, subjectKind, 1, 0)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return &runs[0], nil
}

// LatestDeliveryRetryPlan returns the newest delivery retry plan of one subject kind, or nil.
func LatestDeliveryRetryPlan(ctx context.Context, db *gorm.DB, subjectKind string) (*RetryPlan, error) {
	var plan RetryPlan
	err := db.WithContext(ctx).Where("subject_kind = ?", subjectKind).Order("created_at DESC, id DESC").Limit(1).Take(&plan).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the newest %s retry plan: %w", subjectKind, err)
	}
	return &plan, nil
}

// LatestPlannedRetryPlan returns the newest plan of one subject kind made
// on its own, not by a worker run, or nil. Such a plan keeps every decision.
func LatestPlannedRetryPlan(ctx context.Context, db *gorm.DB, subjectKind string) (*RetryPlan, error) {
	var plan RetryPlan
	err := db.WithContext(ctx).Where("subject_kind = ? AND worker_run_id = ?", subjectKind, "").
		Order("created_at DESC, id DESC").Limit(1).Take(&plan).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the newest planned %s retry plan: %w", subjectKind, err)
	}
	return &plan, nil
}

// RetryCounts are exact totals of one subject kind's retry records.
type RetryCounts struct {
	WorkerRuns     int64
	DryWorkerRuns  int64
	LiveWorkerRuns int64
	RetryPlans     int64
	// RetryableDecisions sums the retry counts of every plan: the groups
	// each plan found due, including those a worker run found due but did
	// not select, whose decisions its plan does not store.
	RetryableDecisions int64
	Executions         int64
	Delivered          int64
	Failed             int64
	Skipped            int64
	InFlight           int64
	// OpenFailedExecutions counts failed or skipped executions that no
	// success followed and whose subject and destination still have an open
	// failed delivery. A skip because another worker claimed the retry
	// stops counting once that retry succeeds.
	OpenFailedExecutions int64
	FailedDeliveries     int64
	DisabledSchedules    int64
}

// CountRetries returns the exact retry totals of one subject kind.
func CountRetries(ctx context.Context, db *gorm.DB, subjectKind string) (RetryCounts, error) {
	var counts RetryCounts
	db = db.WithContext(ctx)
	steps := []struct {
		target *int64
		query  *gorm.DB
	}{
		{&counts.WorkerRuns, db.Model(&RetryWorkerRun{}).Where("subject_kind = ?", subjectKind)},
		{&counts.DryWorkerRuns, db.Model(&RetryWorkerRun{}).Where("subject_kind = ? AND dry_run = ?", subjectKind, true)},
		{&counts.LiveWorkerRuns, db.Model(&RetryWorkerRun{}).Where("subject_kind = ? AND dry_run = ?", subjectKind, false)},
		{&counts.DisabledSchedules, db.Model(&RetryWorkerRun{}).Where("subject_kind = ? AND schedule_enabled = ?", subjectKind, false)},
		{&counts.RetryPlans, db.Model(&RetryPlan{}).Where("subject_kind = ?", subjectKind)},
		{&counts.Executions, db.Model(&RetryExecution{}).Where("subject_kind = ?", subjectKind)},
		{&counts.Delivered, db.Model(&RetryExecution{}).Where("subject_kind = ? AND outcome = ?", subjectKind, ExecutionDelivered)},
		{&counts.Failed, db.Model(&RetryExecution{}).Where("subject_kind = ? AND outcome = ?", subjectKind, ExecutionFailed)},
		{&counts.Skipped, db.Model(&RetryExecution{}).Where("subject_kind = ? AND outcome = ?", subjectKind, ExecutionSkipped)},
		{&counts.InFlight, db.Model(&RetryExecution{}).Where("subject_kind = ? AND outcome = ?", subjectKind, ExecutionInFlight)},
		{&counts.OpenFailedExecutions, openFailedExecutions(db, subjectKind)},
	}
	for _, step := range steps {
		if err := step.query.Count(step.target).Error; err != nil {
			return counts, fmt.Errorf("models: unable to count %s retry records: %w", subjectKind, err)
		}
	}
	// Worker run plans store only their selected decisions, so retryable
	// decisions are summed from the plans' own tallies.
	if err := db.Model(&RetryPlan{}).Where("subject_kind = ?", subjectKind).
		Select("COALESCE(SUM(retry_count), 0)").Scan(&counts.RetryableDecisions).Error; err != nil {
		return counts, fmt.Errorf("models: unable to count retryable %s decisions: %w", subjectKind, err)
	}
	failed, err := CountOpenFailureGroups(ctx, db, subjectKind)
	if err != nil {
		return counts, err
	}
	counts.FailedDeliveries = failed
	return counts, nil
}

// openFailedExecutions selects the failed or skipped executions of one
// subject kind that no success followed and whose destination still has an
// open failure of the same subject. A health alert is its fingerprint
// (subject_key), so a success of another plan of the alert repairs it, as
// the alert retry rules close its failures.
func openFailedExecutions(db *gorm.DB, subjectKind string) *gorm.DB {
	query := db.Model(&RetryExecution{}).
		Where("subject_kind = ? AND (outcome = ? OR (outcome = ? AND yielded = ?))", subjectKind, ExecutionFailed, ExecutionSkipped, false)
	if subjectKind == SubjectHealthAlert {
		return query.
			Where(`NOT EXISTS (SELECT 1 FROM deliveries repaired
				WHERE repaired.subject_kind = retry_executions.subject_kind AND repaired.subject_key = retry_executions.subject_key
				AND repaired.connector = retry_executions.connector AND repaired.success = ?
				AND repaired.completed_at >= COALESCE(retry_executions.completed_at, retry_executions.started_at))`, true).
			Where(`EXISTS (SELECT 1 FROM audit_alert_destinations pair
				WHERE pair.subject_key = retry_executions.subject_key AND pair.connector = retry_executions.connector
				AND pair.last_failure_at IS NOT NULL AND (pair.last_success_at IS NULL OR pair.last_success_at < pair.last_failure_at))`)
	}
	return query.
		Where(`NOT EXISTS (SELECT 1 FROM deliveries repaired
			WHERE repaired.subject_kind = retry_executions.subject_kind AND repaired.subject_id = retry_executions.subject_id
			AND repaired.connector = retry_executions.connector AND repaired.success = ? AND repaired.created_at > retry_executions.started_at)`, true).
		Where(`EXISTS (SELECT 1 FROM deliveries failed
			WHERE failed.subject_kind = retry_executions.subject_kind AND failed.subject_id = retry_executions.subject_id
			AND failed.connector = retry_executions.connector AND failed.state = ? AND failed.success = ?
			AND NOT EXISTS (SELECT 1 FROM deliveries later
				WHERE later.subject_kind = failed.subject_kind AND later.subject_id = failed.subject_id
				AND later.connector = failed.connector AND later.success = ?
				AND (later.created_at > failed.created_at OR (later.created_at = failed.created_at AND later.id > failed.id))))`,
			DeliveryCompleted, false, true)
}

// DeliveriesByID returns the deliveries with the given IDs, keyed by ID. IDs
// with no delivery are missing from the map.
func DeliveriesByID(ctx context.Context, db *gorm.DB, ids []string) (map[string]Delivery, error) {
	found := map[string]Delivery{}
	if len(ids) == 0 {
		return found, nil
	}
	var deliveries []Delivery
	if err := db.WithContext(ctx).Where("id IN ?", ids).Find(&deliveries).Error; err != nil {
		return nil, fmt.Errorf("models: unable to read %d deliveries: %w", len(ids), err)
	}
	for _, record := range deliveries {
		found[record.ID] = record
	}
	return found, nil
}

// RetryExecutionsReconciledBy returns the executions whose outcome the live
// worker run recorded after a stopped worker left them in flight, oldest
// first.
func RetryExecutionsReconciledBy(ctx context.Context, db *gorm.DB, runID string) ([]RetryExecution, error) {
	var executions []RetryExecution
	err := db.WithContext(ctx).Where("reconciled_by_run_id = ?", runID).Order("started_at, id").Find(&executions).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the executions worker run %s reconciled: %w", runID, err)
	}
	return executions, nil
}

// ClearReconciledBy removes the link from the executions that runID
// reconciled to that run, for a run that was rejected and never stored.
func ClearReconciledBy(ctx context.Context, db *gorm.DB, runID string) error {
	err := db.WithContext(ctx).Model(&RetryExecution{}).Where("reconciled_by_run_id = ?", runID).
		Update("reconciled_by_run_id", "").Error
	if err != nil {
		return fmt.Errorf("models: unable to unlink the executions worker run %s reconciled: %w", runID, err)
	}
	err = db.WithContext(ctx).Model(&Delivery{}).Where("reconciled_by_run_id = ?", runID).
		Update("reconciled_by_run_id", "").Error
	if err != nil {
		return fmt.Errorf("models: unable to unlink the deliveries worker run %s recorded: %w", runID, err)
	}
	return nil
}

// SendsReconciledBy returns the IDs of the plain sends, not retries, that
// worker run runID recorded as interrupted, oldest first.
func SendsReconciledBy(ctx context.Context, db *gorm.DB, runID string) ([]string, error) {
	ids := []string{}
	err := db.WithContext(ctx).Model(&Delivery{}).Where("reconciled_by_run_id = ? AND origin <> ?", runID, OriginRetry).
		Order("created_at, id").Pluck("id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the sends worker run %s recorded: %w", runID, err)
	}
	return ids, nil
}
