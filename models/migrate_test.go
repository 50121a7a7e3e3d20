package models_test

import (
	"context"
	"io/fs"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// TestMigrationsRollBackAndReapply takes a migrated database down to the
// audit counts migration, up again, and then down to nothing, so every
// Down section runs against the schema its Up section built.
func TestMigrationsRollBackAndReapply(t *testing.T) {
	db := dbtest.Open(t)
	files, err := models.RenderedMigrations(models.DialectOf(db))
	if err != nil {
		t.Fatalf("render migrations: %v", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("connection pool: %v", err)
	}

	dialect := goose.DialectSQLite3
	if models.DialectOf(db) == models.DialectPostgres {
		dialect = goose.DialectPostgres
	}
	provider, err := goose.NewProvider(dialect, sqlDB, files, goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true))
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}

	ctx := context.Background()
	if _, err := provider.DownTo(ctx, 50); err != nil {
		t.Fatalf("down to version 50: %v", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}

	current, err := provider.GetDBVersion(ctx)
	if err != nil {
		t.Fatalf("GetDBVersion: %v", err)
	}
	if current < 51 {
		t.Errorf("version after up: got %d, want at least 51", current)
	}

	if _, err := provider.DownTo(ctx, 0); err != nil {
		t.Fatalf("down to nothing: %v", err)
	}
}

// TestPendingMigrationsCounted counts the migrations a database lacks
// without creating goose's version table in an empty database.
func TestPendingMigrationsCounted(t *testing.T) {
	ctx := context.Background()
	db := dbtest.OpenExisting(t, dbtest.EmptyURL(t), dbtest.Options{})
	files, err := models.RenderedMigrations(models.DialectOf(db))
	if err != nil {
		t.Fatalf("render migrations: %v", err)
	}
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		t.Fatalf("list migrations: %v", err)
	}

	pending, err := models.PendingMigrations(ctx, db)
	if err != nil {
		t.Fatalf("PendingMigrations on an empty database: %v", err)
	}
	if pending != len(entries) {
		t.Errorf("pending on an empty database: got %d, want every migration (%d)", pending, len(entries))
	}
	if db.Migrator().HasTable(goose.DefaultTablename) {
		t.Errorf("%s: created by PendingMigrations, want the database left empty", goose.DefaultTablename)
	}

	if _, err := models.Migrate(ctx, db, nil); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if pending, err = models.PendingMigrations(ctx, db); err != nil || pending != 0 {
		t.Errorf("pending after migrating: got %d (error %v), want 0", pending, err)
	}

	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("connection pool: %v", err)
	}
	dialect := goose.DialectSQLite3
	if models.DialectOf(db) == models.DialectPostgres {
		dialect = goose.DialectPostgres
	}
	provider, err := goose.NewProvider(dialect, sqlDB, files, goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true))
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}
	if _, err := provider.Down(ctx); err != nil {
		t.Fatalf("roll back the newest migration: %v", err)
	}
	if pending, err = models.PendingMigrations(ctx, db); err != nil || pending != 1 {
		t.Errorf("pending after rolling back one: got %d (error %v), want 1", pending, err)
	}
}
