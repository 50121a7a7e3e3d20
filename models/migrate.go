package models

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"testing/fstest"
	"text/template"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/gorm"
)

// Migrations are numbered, append-only SQL files. Each file is a text/template
// rendered per dialect, so one file serves SQLite and PostgreSQL; see
// migrationTypes for the placeholders. Never edit a migration that has been
// released: add a new one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationTypes holds the column types that differ between the dialects.
type migrationTypes struct {
	// Timestamp is a point in time stored in UTC.
	Timestamp string
	// PostgreSQL reports whether the statement runs on PostgreSQL, for the
	// rare statement (such as a partial index) that needs its own form.
	PostgreSQL bool
}

func renderedMigrations(dialect Dialect) (fs.FS, error) {
	types := migrationTypes{Timestamp: "TIMESTAMP"}
	if dialect == DialectPostgres {
		types = migrationTypes{Timestamp: "TIMESTAMPTZ", PostgreSQL: true}
	}

	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("models: unable to list migrations: %w", err)
	}
	rendered := fstest.MapFS{}
	for _, entry := range entries {
		name := path.Join("migrations", entry.Name())
		text, err := fs.ReadFile(migrationFiles, name)
		if err != nil {
			return nil, fmt.Errorf("models: unable to read migration %s: %w", name, err)
		}
		tmpl, err := template.New(entry.Name()).Option("missingkey=error").Parse(string(text))
		if err != nil {
			return nil, fmt.Errorf("models: unable to parse migration %s: %w", name, err)
		}
		var out bytes.Buffer
		if err := tmpl.Execute(&out, types); err != nil {
			return nil, fmt.Errorf("models: unable to render migration %s: %w", name, err)
		}
		rendered[entry.Name()] = &fstest.MapFile{Data: out.Bytes()}
	}
	return rendered, nil
}

// Migrate applies every pending migration. On PostgreSQL a session advisory
// lock makes concurrent instances wait for each other instead of racing.
func Migrate(ctx context.Context, db *gorm.DB, log *slog.Logger) (int, error) {
	provider, err := newMigrationProvider(db, true)
	if err != nil {
		return 0, err
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("models: migration failed: %w", err)
	}
	for _, result := range results {
		if log != nil {
			log.Info("migration applied", "version", result.Source.Version, "file", result.Source.Path, "elapsed_ms", result.Duration.Milliseconds())
		}
	}
	return len(results), nil
}

// PendingMigrations returns the number of migrations that db has not
// applied. It only reads: a database without goose's version table, such
// as a new one, has every migration pending, and the table is not created.
func PendingMigrations(ctx context.Context, db *gorm.DB) (int, error) {
	provider, err := newMigrationProvider(db, false)
	if err != nil {
		return 0, err
	}
	if !db.WithContext(ctx).Migrator().HasTable(goose.DefaultTablename) {
		return len(provider.ListSources()), nil
	}
	statuses, err := provider.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("models: unable to read the applied migrations: %w", err)
	}
	pending := 0
	for _, status := range statuses {
		if status.State == goose.StatePending {
			pending++
		}
	}
	return pending, nil
}

// newMigrationProvider returns a goose provider over the migrations rendered
// for db's dialect. With locked, a PostgreSQL provider takes a session
// advisory lock around the migrations it applies.
func newMigrationProvider(db *gorm.DB, locked bool) (*goose.Provider, error) {
	dialect := DialectOf(db)
	files, err := renderedMigrations(dialect)
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("models: unable to reach the connection pool: %w", err)
	}

	// Features own separate version ranges and may land in any order, so a
	// database can be at version 30 when version 10 arrives. Every migration
	// only adds tables and indexes of its own feature, which makes applying a
	// lower version late safe.
	options := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true)}
	gooseDialect := goose.DialectSQLite3
	if dialect == DialectPostgres {
		gooseDialect = goose.DialectPostgres
		if locked {
			locker, err := lock.NewPostgresSessionLocker()
			if err != nil {
				return nil, fmt.Errorf("models: unable to create the migration lock: %w", err)
			}
			options = append(options, goose.WithSessionLocker(locker))
		}
	}

	provider, err := goose.NewProvider(gooseDialect, sqlDB, files, options...)
	if err != nil {
		return nil, fmt.Errorf("models: unable to prepare migrations: %w", err)
	}
	return provider, nil
}
