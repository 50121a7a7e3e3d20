package models_test

import (
	"context"
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
