// Package dbtest opens a freshly migrated database for a test.
//
// Tests run on SQLite by default. With TEST_DATABASE_DRIVER=postgres they run
// on PostgreSQL at TEST_DATABASE_URL instead, each test in a schema of its own
// that is dropped afterwards. `make test` runs the whole suite once per driver.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
)

// Driver returns the database driver the tests run on: "sqlite" or "postgres".
func Driver() string {
	if os.Getenv("TEST_DATABASE_DRIVER") == "postgres" {
		return "postgres"
	}
	return "sqlite"
}

// Options adjusts Open.
type Options struct {
	// Now is the clock GORM uses for automatic timestamps.
	Now func() time.Time
}

// Open returns a migrated, empty database that is closed when t ends.
func Open(t testing.TB) *gorm.DB {
	t.Helper()
	db, _ := OpenURL(t, Options{})
	return db
}

// OpenURL is Open that also returns the URL of the database, so a test can
// start a second process or connection pool against the same data.
func OpenURL(t testing.TB, opts Options) (*gorm.DB, string) {
	t.Helper()

	databaseURL := ""
	if Driver() == "postgres" {
		databaseURL = postgresSchemaURL(t)
	} else {
		databaseURL = filepath.Join(t.TempDir(), "test.db")
	}

	db := OpenExisting(t, databaseURL, opts)
	if _, err := models.Migrate(context.Background(), db, nil); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	return db, databaseURL
}

// EmptyURL returns the URL of a database without tables for t: an SQLite
// file that does not exist yet, or a new PostgreSQL schema that is dropped
// when t ends. Nothing migrates it.
func EmptyURL(t testing.TB) string {
	t.Helper()
	if Driver() == "postgres" {
		return postgresSchemaURL(t)
	}
	return filepath.Join(t.TempDir(), "empty.db")
}

// OpenExisting opens a further connection pool on a database that OpenURL
// created, without migrating it.
func OpenExisting(t testing.TB, databaseURL string, opts Options) *gorm.DB {
	t.Helper()
	db, _, err := models.Open(models.OpenOptions{
		URL:    databaseURL,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:    opts.Now,
	})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	return db
}

// postgresSchemaURL creates a schema of its own for t and returns a URL whose
// search_path points at it. The schema is dropped when t ends.
func postgresSchemaURL(t testing.TB) string {
	t.Helper()

	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		t.Fatal("TEST_DATABASE_DRIVER=postgres needs TEST_DATABASE_URL, for example postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	admin, _, err := models.Open(models.OpenOptions{URL: base, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("open TEST_DATABASE_URL: %v", err)
	}

	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	schema := "test_" + hex.EncodeToString(suffix)
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
		if sqlDB, err := admin.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})

	parsed, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	query := parsed.Query()
	query.Set("search_path", schema)
	parsed.RawQuery = query.Encode()
	return parsed.String()
}

// CountRows returns the number of rows in every table of db except the
// migration bookkeeping, keyed by table name. Tests use it to prove that a
// request wrote nothing.
func CountRows(t testing.TB, db *gorm.DB) map[string]int64 {
	t.Helper()
	tables, err := db.Migrator().GetTables()
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	counts := map[string]int64{}
	for _, table := range tables {
		if table == "goose_db_version" || table == "sqlite_sequence" {
			continue
		}
		var n int64
		if err := db.Table(table).Count(&n).Error; err != nil {
			t.Fatalf("count rows of %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}

// Describe names the database a test runs on, for failure messages.
func Describe() string {
	return fmt.Sprintf("driver=%s", Driver())
}
