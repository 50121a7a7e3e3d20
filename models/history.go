package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Record kinds of the combined history, one name per stored record type.
const (
	HistoryHealthSnapshot  = "health_snapshot"
	HistoryAlertPlan       = "alert_plan"
	HistoryDelivery        = "delivery"
	HistoryAcknowledgement = "acknowledgement"
	HistoryExecutiveReport = "executive_report"
	HistoryScheduleRun     = "schedule_run"
	HistoryRetryPlan       = "retry_plan"
	HistoryRetryWorkerRun  = "retry_worker_run"
	HistoryRetryExecution  = "retry_execution"
)

// HistoryKinds lists every combined history kind in chain order.
var HistoryKinds = []string{
	HistoryHealthSnapshot, HistoryAlertPlan, HistoryDelivery, HistoryAcknowledgement,
	HistoryExecutiveReport, HistoryScheduleRun, HistoryRetryPlan, HistoryRetryWorkerRun, HistoryRetryExecution,
}

// HistoryFilter selects combined history rows; empty strings and nil match
// everything. A filter on an attribute that a kind does not carry excludes
// that kind:
//   - Provider keeps deliveries, acknowledgements and retry executions to
//     that destination, and alert and retry plans that include it. A plan
//     row's Provider lists the destinations it includes, so it names the
//     destination that matched.
//   - AlertLevel keeps health snapshots, alert plans and executive reports.
//   - AcknowledgementState keeps acknowledgement actions.
//   - DeliverySuccess keeps completed deliveries and finished retry
//     executions (delivered is a success, failed is not).
//   - Source (health_alert or executive_report) keeps every record of that
//     delivery subject kind, which excludes health snapshots.
type HistoryFilter struct {
	Kinds                []string
	Provider             string
	AlertLevel           string
	AcknowledgementState string
	Source               string
	DeliverySuccess      *bool
	Limit                int
	Offset               int
}

// HistoryRow is one combined history item. Success is nil for records
// without a delivery outcome; ParentID is the record one step up the chain.
// Provider is the destination of a delivery, acknowledgement or retry
// execution, and the destinations of an alert or retry plan, comma-separated
// in name order.
type HistoryRow struct {
	Kind                 string
	ID                   string
	CreatedAt            time.Time
	Provider             string
	AlertLevel           string
	AcknowledgementState string
	Source               string
	Success              *bool
	Status               string
	// Repeat marks an acknowledgement action that sent the state that was
	// already current; it is false for every other kind.
	Repeat   bool
	Actor    string
	ParentID string
}

// historyBranch describes how one table maps onto the history columns. An
// empty expression means the kind does not carry that attribute.
type historyBranch struct {
	kind, from                            string
	id, createdAt, provider, level, state string
	source, success, status, actor        string
	parent                                string
	// repeat is the expression of HistoryRow.Repeat, or empty for false.
	repeat string
	// providerExists matches a provider through a child table, with one ?.
	// HistoryPage reads such a row's provider from that table after the
	// page (fillPlanDestinations), so the union aggregates nothing.
	providerExists string
}

var historyBranches = []historyBranch{
	{kind: HistoryHealthSnapshot, from: "health_snapshots h", id: "h.id", createdAt: "h.evaluated_at",
		level: "h.alert_level", status: "h.alert_level", actor: "h.actor"},
	{kind: HistoryAlertPlan, from: "alert_plans p", id: "p.id", createdAt: "p.created_at", level: "p.alert_level",
		source: "'" + SubjectHealthAlert + "'", status: "p.alert_level", actor: "p.actor", parent: "p.health_id",
		providerExists: "EXISTS (SELECT 1 FROM alert_plan_destinations pd WHERE pd.plan_id = p.id AND pd.provider = ?)"},
	{kind: HistoryDelivery, from: "deliveries d", id: "d.id", createdAt: "d.created_at", provider: "d.connector",
		source: "d.subject_kind", success: "CASE WHEN d.state = 'completed' THEN d.success END",
		status: "CASE WHEN d.state = 'completed' THEN d.error_class ELSE d.state END", actor: "d.actor", parent: "d.subject_id"},
	{kind: HistoryAcknowledgement, from: "alert_acknowledgements a", id: "a.id", createdAt: "a.created_at",
		provider: "a.provider", state: "a.acknowledgement_state", source: "'" + SubjectHealthAlert + "'",
		status: "a.acknowledgement_state", repeat: "a.repeat", actor: "a.actor", parent: "a.health_id"},
	// A report's status is its level: critical, warning or healthy.
	{kind: HistoryExecutiveReport, from: "executive_reports r", id: "r.id", createdAt: "r.generated_at",
		level: "r.status", source: "'" + SubjectExecutiveReport + "'", status: "r.status", actor: "r.actor"},
	{kind: HistoryScheduleRun, from: "executive_schedule_runs sr", id: "sr.id", createdAt: "sr.created_at",
		source: "'" + SubjectExecutiveReport + "'", status: "sr.cadence", actor: "sr.actor", parent: "sr.report_id"},
	{kind: HistoryRetryPlan, from: "retry_plans rp", id: "rp.id", createdAt: "rp.created_at", source: "rp.subject_kind",
		status: "'planned'", actor: "rp.actor",
		providerExists: "EXISTS (SELECT 1 FROM retry_decisions rd WHERE rd.plan_id = rp.id AND rd.connector = ?)"},
	{kind: HistoryRetryWorkerRun, from: "retry_worker_runs w", id: "w.id", createdAt: "w.created_at", source: "w.subject_kind",
		// A worker run's status is its mode and state, such as "live running"
		// or "dry completed", so a running run differs from an interrupted one.
		status: "CASE WHEN w.dry_run THEN 'dry ' ELSE 'live ' END || w.state", actor: "w.actor", parent: "w.plan_id"},
	{kind: HistoryRetryExecution, from: "retry_executions x", id: "x.id", createdAt: "x.started_at", provider: "x.connector",
		source: "x.subject_kind", success: "CASE x.outcome WHEN 'delivered' THEN TRUE WHEN 'failed' THEN FALSE END",
		status: "x.outcome", actor: "COALESCE((SELECT w2.actor FROM retry_worker_runs w2 WHERE w2.id = x.worker_run_id), '')",
		parent: "x.worker_run_id"},
}

// History returns one page of the combined history, newest first (created
// time, then id, both descending), and the exact number of matching rows.
func History(ctx context.Context, db *gorm.DB, filter HistoryFilter) ([]HistoryRow, int64, error) {
	total, err := CountHistory(ctx, db, filter)
	if err != nil {
		return nil, 0, err
	}
	rows, err := HistoryPage(ctx, db, filter)
	return rows, total, err
}

// CountHistory returns the exact number of rows that match filter. It reads
// every matching row's index entry, so its cost grows with the match count.
func CountHistory(ctx context.Context, db *gorm.DB, filter HistoryFilter) (int64, error) {
	union, args := historyUnion(filter)
	if union == "" {
		return 0, nil
	}
	var total int64
	if err := db.WithContext(ctx).Raw("SELECT COUNT(*) FROM ("+union+") history", args...).Scan(&total).Error; err != nil {
		return 0, fmt.Errorf("models: unable to count the combined history: %w", err)
	}
	return total, nil
}

// HistoryPage returns one page of the rows that match filter, newest first
// (created time, then id, both descending).
func HistoryPage(ctx context.Context, db *gorm.DB, filter HistoryFilter) ([]HistoryRow, error) {
	rows := []HistoryRow{}
	union, args := historyUnion(filter)
	if union == "" {
		return rows, nil
	}
	pageArgs := append(append([]any{}, args...), filter.Limit, filter.Offset)
	err := db.WithContext(ctx).Raw("SELECT * FROM ("+union+") history ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", pageArgs...).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the combined history: %w", err)
	}
	for i := range rows {
		rows[i].CreatedAt = UTC(rows[i].CreatedAt)
	}
	if err := fillPlanDestinations(ctx, db, rows); err != nil {
		return nil, err
	}
	return rows, nil
}

// planDestinationQueries read the destinations of alert and retry plans,
// from the tables the provider filter matches plans through.
var planDestinationQueries = map[string]string{
	HistoryAlertPlan: "SELECT DISTINCT plan_id, provider FROM alert_plan_destinations WHERE plan_id IN ? ORDER BY plan_id, provider",
	HistoryRetryPlan: "SELECT DISTINCT plan_id, connector AS provider FROM retry_decisions WHERE plan_id IN ? ORDER BY plan_id, provider",
}

// fillPlanDestinations sets the Provider of each alert and retry plan row
// to the plan's destinations, comma-separated in name order, with one query
// per plan kind on the page.
func fillPlanDestinations(ctx context.Context, db *gorm.DB, rows []HistoryRow) error {
	for kind, query := range planDestinationQueries {
		var ids []string
		for _, row := range rows {
			if row.Kind == kind {
				ids = append(ids, row.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		var destinations []struct{ PlanID, Provider string }
		if err := db.WithContext(ctx).Raw(query, ids).Scan(&destinations).Error; err != nil {
			return fmt.Errorf("models: unable to read the destinations of %s history rows: %w", kind, err)
		}
		byPlan := map[string][]string{}
		for _, destination := range destinations {
			byPlan[destination.PlanID] = append(byPlan[destination.PlanID], destination.Provider)
		}
		for i := range rows {
			if rows[i].Kind == kind {
				rows[i].Provider = strings.Join(byPlan[rows[i].ID], ",")
			}
		}
	}
	return nil
}

// historyUnion builds the UNION ALL of the branches the filter can match,
// with its arguments, or "" when no branch can match.
func historyUnion(f HistoryFilter) (string, []any) {
	var parts []string
	var args []any
	for _, b := range historyBranches {
		if len(f.Kinds) > 0 && !slices.Contains(f.Kinds, b.kind) {
			continue
		}
		var where []string
		var branchArgs []any
		if f.Provider != "" {
			switch {
			case b.provider != "":
				where = append(where, b.provider+" = ?")
			case b.providerExists != "":
				where = append(where, b.providerExists)
			default:
				continue
			}
			branchArgs = append(branchArgs, f.Provider)
		}
		if !addCondition(&where, &branchArgs, b.level, f.AlertLevel) ||
			!addCondition(&where, &branchArgs, b.state, f.AcknowledgementState) ||
			!addCondition(&where, &branchArgs, b.source, f.Source) {
			continue
		}
		if f.DeliverySuccess != nil {
			if b.success == "" {
				continue
			}
			where = append(where, "("+b.success+") = ?")
			branchArgs = append(branchArgs, *f.DeliverySuccess)
		}

		sql := fmt.Sprintf("SELECT '%s' AS kind, %s AS id, %s AS created_at, %s AS provider, %s AS alert_level, "+
			"%s AS acknowledgement_state, %s AS source, %s AS success, %s AS status, %s AS repeat, %s AS actor, %s AS parent_id FROM %s",
			b.kind, b.id, b.createdAt, orEmpty(b.provider), orEmpty(b.level), orEmpty(b.state), orEmpty(b.source),
			orNullBool(b.success), orEmpty(b.status), orFalse(b.repeat), orEmpty(b.actor), orEmpty(b.parent), b.from)
		if len(where) > 0 {
			sql += " WHERE " + strings.Join(where, " AND ")
		}
		parts = append(parts, sql)
		args = append(args, branchArgs...)
	}
	return strings.Join(parts, " UNION ALL "), args
}

// addCondition adds "expr = value" when value is set. It returns false when
// value is set but the branch has no such attribute, so the branch is left
// out.
func addCondition(where *[]string, args *[]any, expr, value string) bool {
	if value == "" {
		return true
	}
	if expr == "" {
		return false
	}
	*where = append(*where, expr+" = ?")
	*args = append(*args, value)
	return true
}

func orEmpty(expr string) string {
	if expr == "" {
		return "''"
	}
	return expr
}

func orFalse(expr string) string {
	if expr == "" {
		return "FALSE"
	}
	return expr
}

func orNullBool(expr string) string {
	if expr == "" {
		return "CAST(NULL AS BOOLEAN)"
	}
	return expr
}
