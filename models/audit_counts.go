package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// auditCompactThreshold is the number of pending deltas above which
// AuditCounts folds them into audit_counts first, so a read sums at most
// about this many delta rows.
const auditCompactThreshold = 1000

// AuditCounts returns the running totals that the migration's triggers
// maintain, keyed by counter name (such as delivery:health_alert:sent). A
// name without rows is absent, which reads as 0. When many deltas are
// pending, it first folds them into audit_counts, so this read may write.
func AuditCounts(ctx context.Context, db *gorm.DB) (map[string]int64, error) {
	db = db.WithContext(ctx)
	var pending int64
	if err := db.Raw("SELECT COUNT(*) FROM (SELECT 1 FROM audit_count_deltas LIMIT ?) pending", auditCompactThreshold+1).
		Scan(&pending).Error; err != nil {
		return nil, fmt.Errorf("models: unable to count pending audit count deltas: %w", err)
	}
	if pending > auditCompactThreshold {
		if err := compactAuditCounts(db); err != nil {
			return nil, err
		}
	}

	var rows []struct {
		Name  string
		Value int64
	}
	err := db.Raw(`SELECT name, SUM(value) AS value FROM (
		SELECT name, value FROM audit_counts UNION ALL SELECT name, delta FROM audit_count_deltas) totals
		GROUP BY name`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read audit counts: %w", err)
	}
	counts := make(map[string]int64, len(rows))
	for _, row := range rows {
		counts[row.Name] = row.Value
	}
	return counts, nil
}

// compactAuditCounts moves the pending deltas into audit_counts. On
// PostgreSQL one statement deletes exactly the deltas it adds, so a delta
// committed meanwhile is either moved or left pending, never lost. Totals
// are updated in name order, so two concurrent compactions cannot deadlock.
// On SQLite only deltas up to the id read first are moved and deleted, and a
// delta committed later has a larger id, so it stays pending.
func compactAuditCounts(db *gorm.DB) error {
	if DialectOf(db) == DialectPostgres {
		err := db.Exec(`WITH moved AS (DELETE FROM audit_count_deltas RETURNING name, delta)
			INSERT INTO audit_counts (name, value)
			SELECT name, SUM(delta) FROM moved GROUP BY name ORDER BY name
			ON CONFLICT (name) DO UPDATE SET value = audit_counts.value + EXCLUDED.value`).Error
		if err != nil {
			return fmt.Errorf("models: unable to compact audit counts: %w", err)
		}
		return nil
	}
	return db.Transaction(func(tx *gorm.DB) error {
		var last int64
		if err := tx.Raw("SELECT COALESCE(MAX(id), 0) FROM audit_count_deltas").Scan(&last).Error; err != nil {
			return fmt.Errorf("models: unable to compact audit counts: %w", err)
		}
		err := tx.Exec(`INSERT INTO audit_counts (name, value)
			SELECT name, SUM(delta) FROM audit_count_deltas WHERE id <= ? GROUP BY name
			ON CONFLICT (name) DO UPDATE SET value = audit_counts.value + excluded.value`, last).Error
		if err != nil {
			return fmt.Errorf("models: unable to compact audit counts: %w", err)
		}
		if err := tx.Exec("DELETE FROM audit_count_deltas WHERE id <= ?", last).Error; err != nil {
			return fmt.Errorf("models: unable to compact audit counts: %w", err)
		}
		return nil
	})
}
