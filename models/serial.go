package models

import (
	"slices"

	"gorm.io/gorm"
)

// lockNames takes a transaction-scoped lock on each name, in sorted order so
// two transactions that lock overlapping names cannot deadlock. On
// PostgreSQL it is an advisory lock, released at commit or rollback. SQLite
// needs none, because the DSN that Open builds sets _txlock=immediate: every
// transaction begins with the database's write lock.
func lockNames(tx *gorm.DB, names ...string) error {
	if DialectOf(tx) != DialectPostgres {
		return nil
	}
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	for _, name := range slices.Compact(sorted) {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", name).Error; err != nil {
			return err
		}
	}
	return nil
}
