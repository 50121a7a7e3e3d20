package models

import (
	"slices"
	"strings"

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
	if len(names) == 0 {
		return nil
	}
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	// One statement takes every lock, in byte order of the names, as the
	// sorted subquery feeds them to the outer select one row at a time.
	rows := strings.TrimSuffix(strings.Repeat("(?::text),", len(sorted)), ",")
	args := make([]any, len(sorted))
	for i, name := range sorted {
		args[i] = name
	}
	return tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(n, 0)) `+
		`FROM (SELECT n FROM (VALUES `+rows+`) AS v(n) ORDER BY n COLLATE "C") AS sorted`, args...).Error
}
