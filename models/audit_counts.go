package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// AuditCounts returns the running totals that the migration's triggers
// maintain, keyed by counter name (such as delivery:health_alert:sent). A
// name without rows is absent, which reads as 0. It only reads: it sums the
// folded totals and the deltas still pending, which CompactAuditCounts folds
// in the background, so the number of pending rows stays small.
func AuditCounts(ctx context.Context, db *gorm.DB) (map[string]int64, error) {
	db = db.WithContext(ctx)
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

// CompactAuditCounts moves the pending deltas into audit_counts. On
// PostgreSQL one statement deletes exactly the deltas it adds, so a delta
// committed meanwhile is either moved or left pending, never lost. Totals
// are updated in name order, so two concurrent compactions cannot deadlock.
// On SQLite only deltas up to the id read first are moved and deleted, and a
// delta committed later has a larger id, so it stays pending.
func CompactAuditCounts(ctx context.Context, db *gorm.DB) error {
	db = db.WithContext(ctx)
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
