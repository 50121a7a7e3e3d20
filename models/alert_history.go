package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Kinds of alert history rows.
const (
	AlertHistoryPlan            = "plan"
	AlertHistoryDelivery        = "delivery"
	AlertHistoryAcknowledgement = "acknowledgement"
)

// AlertHistoryFilter selects alert history rows. Empty strings and a nil
// Suppressed match everything. A filter on an attribute that a kind does not
// carry leaves that kind out:
//   - Provider keeps deliveries and acknowledgement actions of that
//     destination and plans that include it, selected or suppressed.
//   - AcknowledgementState keeps acknowledgement actions in that state.
//   - Suppressed keeps plans only: true those that suppressed a destination
//     (the Provider, when set), false those that did not.
type AlertHistoryFilter struct {
	HealthID             string
	Provider             string
	Kind                 string
	AcknowledgementState string
	Suppressed           *bool
	Limit                int
	Offset               int
}

// AlertHistoryRow identifies one history item.
type AlertHistoryRow struct {
	Kind      string
	ID        string
	HealthID  string
	CreatedAt time.Time
}

// AlertHistory returns one page of plans, deliveries and acknowledgement
// actions, newest first, and the exact number of rows that match.
func AlertHistory(ctx context.Context, db *gorm.DB, filter AlertHistoryFilter) ([]AlertHistoryRow, int64, error) {
	union, args := alertHistoryUnion(filter)
	db = db.WithContext(ctx)
	if union == "" {
		return nil, 0, nil
	}

	var total int64
	if err := db.Raw("SELECT COUNT(*) FROM ("+union+") history", args...).Scan(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("models: unable to count alert history: %w", err)
	}
	var rows []AlertHistoryRow
	pageArgs := append(append([]any{}, args...), filter.Limit, filter.Offset)
	err := db.Raw("SELECT kind, id, health_id, created_at FROM ("+union+") history ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", pageArgs...).
		Scan(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("models: unable to read alert history: %w", err)
	}
	return rows, total, nil
}

// planIncludesProvider matches a plan p that has a destination row for a
// provider or lists it as eligible. A healthy evaluation's plan stores no
// destination row, so only its eligible_providers name the destinations.
// Its arguments are the provider and eligiblePattern of it.
const planIncludesProvider = "(EXISTS (SELECT 1 FROM alert_plan_destinations d WHERE d.plan_id = p.id AND d.provider = ?) " +
	"OR ',' || p.eligible_providers || ',' LIKE ? ESCAPE '\\')"

// eligiblePattern returns the LIKE pattern that finds provider as one name
// of a comma-separated eligible_providers list, with LIKE's wildcards in
// the name escaped.
func eligiblePattern(provider string) string {
	escaped := strings.NewReplacer("\\", "\\\\", "%", "\\%", "_", "\\_").Replace(provider)
	return "%," + escaped + ",%"
}

// alertHistoryUnion builds the UNION ALL of the row kinds the filter can
// match, with its arguments. It returns "" when no kind can match.
func alertHistoryUnion(f AlertHistoryFilter) (string, []any) {
	var parts []string
	var args []any
	wants := func(kind string) bool { return f.Kind == "" || f.Kind == kind }

	if wants(AlertHistoryPlan) && f.AcknowledgementState == "" {
		sql := "SELECT 'plan' AS kind, p.id AS id, p.health_id AS health_id, p.created_at AS created_at FROM alert_plans p WHERE 1 = 1"
		if f.HealthID != "" {
			sql += " AND p.health_id = ?"
			args = append(args, f.HealthID)
		}
		if f.Provider != "" && f.Suppressed == nil {
			sql += " AND " + planIncludesProvider
			args = append(args, f.Provider, eligiblePattern(f.Provider))
		}
		if f.Suppressed != nil {
			suppressed := "SELECT 1 FROM alert_plan_destinations d WHERE d.plan_id = p.id AND d.decision = ?"
			args = append(args, DecisionSuppressed)
			if f.Provider != "" {
				suppressed += " AND d.provider = ?"
				args = append(args, f.Provider)
			}
			if *f.Suppressed {
				sql += " AND EXISTS (" + suppressed + ")"
			} else {
				sql += " AND NOT EXISTS (" + suppressed + ")"
				if f.Provider != "" {
					sql += " AND " + planIncludesProvider
					args = append(args, f.Provider, eligiblePattern(f.Provider))
				}
			}
		}
		parts = append(parts, sql)
	}

	if wants(AlertHistoryDelivery) && f.AcknowledgementState == "" && f.Suppressed == nil {
		sql := "SELECT 'delivery' AS kind, dl.id AS id, p.health_id AS health_id, dl.created_at AS created_at " +
			"FROM deliveries dl JOIN alert_plans p ON p.id = dl.subject_id WHERE dl.subject_kind = ?"
		args = append(args, SubjectHealthAlert)
		if f.HealthID != "" {
			sql += " AND p.health_id = ?"
			args = append(args, f.HealthID)
		}
		if f.Provider != "" {
			sql += " AND dl.connector = ?"
			args = append(args, f.Provider)
		}
		parts = append(parts, sql)
	}

	if wants(AlertHistoryAcknowledgement) && f.Suppressed == nil {
		sql := "SELECT 'acknowledgement' AS kind, a.id AS id, a.health_id AS health_id, a.created_at AS created_at " +
			"FROM alert_acknowledgements a WHERE 1 = 1"
		if f.HealthID != "" {
			sql += " AND a.health_id = ?"
			args = append(args, f.HealthID)
		}
		if f.Provider != "" {
			sql += " AND a.provider = ?"
			args = append(args, f.Provider)
		}
		if f.AcknowledgementState != "" {
			sql += " AND a.acknowledgement_state = ?"
			args = append(args, f.AcknowledgementState)
		}
		parts = append(parts, sql)
	}

	return strings.Join(parts, " UNION ALL "), args
}
