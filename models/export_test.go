package models

import (
	"context"
	"testing"

	"gorm.io/gorm"
)

// RenderedMigrations exposes the migrations rendered for a dialect to the
// tests of this package.
var RenderedMigrations = renderedMigrations

// HoldFileLock exposes the SQLite selection lock file to the tests of this
// package, so they can take it as another process would.
var HoldFileLock = holdFileLock

// MigrateUpTo applies the migrations up to and including version, so a
// test can store rows in an older schema before the later migrations run.
func MigrateUpTo(t testing.TB, db *gorm.DB, version int64) {
	t.Helper()
	provider, err := newMigrationProvider(db, false)
	if err != nil {
		t.Fatalf("migration provider: %v", err)
	}
	if _, err := provider.UpTo(context.Background(), version); err != nil {
		t.Fatalf("migrate up to %d: %v", version, err)
	}
}
