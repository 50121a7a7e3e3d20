package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// runWith runs the command line against a fresh test database.
func runWith(t *testing.T, stdin string, args ...string) (int, string, string, string) {
	t.Helper()
	_, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	return runOn(t, databaseURL, stdin, args...)
}

func runOn(t *testing.T, databaseURL, stdin string, args ...string) (int, string, string, string) {
	t.Helper()
	t.Setenv("DATABASE_URL", databaseURL)
	t.Setenv("SAMPLE_DATA", "false")
	t.Setenv("CONNECTOR_CONFIG", "")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String(), databaseURL
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "export.json")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatalf("write export: %v", err)
	}
	return path
}

func TestImportStoresValidRecordsAndReportsBadOnes(t *testing.T) {
	export := writeFile(t, `{"items": [
	 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-delivery-retry-plan",
	  "retry_plan_id": "plan-1", "retryable_count": 1, "created_at": "2026-05-01T11:00:00Z"},
	 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-delivery-retry-plan",
	  "retry_plan_id": "plan-2", "retryable_count": -1, "created_at": "2026-05-01T11:00:00Z"}
	]}`)
	code, stdout, stderr, databaseURL := runWith(t, "", "import", export)
	if code != 1 {
		t.Errorf("exit code = %d, want 1 because a record was rejected", code)
	}
	if !strings.Contains(stderr, "1 of 2 records rejected, 1 stored;") {
		t.Errorf("stderr = %q, want it to count 1 of 2 rejected and 1 stored", stderr)
	}
	if !strings.Contains(stdout, `"inserted": 1`) || !strings.Contains(stdout, `"field": "retryable_count"`) {
		t.Errorf("summary does not show 1 inserted and the rejected field:\n%s", stdout)
	}

	db := dbtest.OpenExisting(t, databaseURL, dbtest.Options{})
	var plans int64
	db.Model(&models.EscalationRetryPlan{}).Count(&plans)
	if plans != 1 {
		t.Errorf("stored plans = %d, want 1", plans)
	}

	// Importing the same file again stores nothing new.
	code, stdout, stderr, _ = runOn(t, databaseURL, "", "import", export)
	if code != 1 || !strings.Contains(stdout, `"duplicates": 1`) {
		t.Errorf("second import: exit %d, output:\n%s\nwant exit 1 and 1 duplicate", code, stdout)
	}
	if !strings.Contains(stderr, "1 of 2 records rejected, none stored, 1 already stored;") {
		t.Errorf("second import: stderr = %q, want it to count none stored and 1 already stored", stderr)
	}
}

func TestCommandLineErrors(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		wantCode int
		wantText string
	}{
		{"unknown command", []string{"launch"}, 2, `unknown command "launch"`},
		{"import without file", []string{"import"}, 2, "import: missing argument FILE"},
		{"import missing file", []string{"import", "/nonexistent/export.json"}, 2, "unable to open"},
		{"invalid flag value", []string{"--log-format", "xml", "migrate"}, 2, "LOG_FORMAT"},
	}
	for _, c := range cases {
		code, _, stderr, _ := runWith(t, "", c.args...)
		if code != c.wantCode {
			t.Errorf("%s: exit code = %d, want %d", c.name, code, c.wantCode)
		}
		if !strings.Contains(stderr, c.wantText) {
			t.Errorf("%s: stderr %q does not contain %q", c.name, stderr, c.wantText)
		}
	}
}

func TestImportRejectsFileWithoutItems(t *testing.T) {
	code, _, stderr, _ := runWith(t, "", "import", writeFile(t, `{"things": []}`))
	if code != 1 || !strings.Contains(stderr, "things") || !strings.Contains(stderr, "items") {
		t.Errorf("exit %d, stderr %q; want 1 and a message naming the unknown key and the items list", code, stderr)
	}
}

func TestMigrateSucceeds(t *testing.T) {
	code, stdout, stderr, _ := runWith(t, "", "migrate")
	if code != 0 {
		t.Fatalf("migrate exit code = %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "migrations applied") && !strings.Contains(stdout, "no migration pending") {
		t.Errorf("stdout = %q, want a confirmation", stdout)
	}
}

// migrate reports how many migrations it applied, and that none was
// pending when it runs again.
func TestMigrateReportsApplied(t *testing.T) {
	databaseURL := dbtest.EmptyURL(t)
	code, first, stderr, _ := runOn(t, databaseURL, "", "migrate")
	if code != 0 {
		t.Fatalf("first migrate exit code = %d, stderr:\n%s", code, stderr)
	}
	if !strings.HasSuffix(strings.TrimSpace(first), "migrations applied") || strings.HasPrefix(first, "0 ") {
		t.Errorf("first migrate stdout = %q, want the number of migrations applied", first)
	}
	code, second, stderr, _ := runOn(t, databaseURL, "", "migrate")
	if code != 0 {
		t.Fatalf("second migrate exit code = %d, stderr:\n%s", code, stderr)
	}
	if want := "no migration pending; the database is up to date\n"; second != want {
		t.Errorf("second migrate stdout = %q, want %q", second, want)
	}
}

// A reachable PostgreSQL server without the named database gets a message
// that names the missing database, not one that blames the network.
func TestMissingPostgresDatabaseNamed(t *testing.T) {
	if dbtest.Driver() != "postgres" {
		t.Skip("a missing database is a PostgreSQL error; a SQLite file is created when missing")
	}
	parsed, err := url.Parse(os.Getenv("TEST_DATABASE_URL"))
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	parsed.Path = "/evidence_console_missing_database"
	code, _, stderr, _ := runOn(t, parsed.String(), "", "migrate")
	if code != 1 {
		t.Errorf("exit code: got %d, want 1", code)
	}
	for _, want := range []string{"does not exist", "createdb", "DATABASE_URL"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q: want it to contain %q", stderr, want)
		}
	}
	if strings.Contains(stderr, "unreachable") {
		t.Errorf("stderr %q: want no claim that the server is unreachable", stderr)
	}
}

// With AUTO_MIGRATE=false a command on a database that lacks migrations
// stops with the fix, before it reads or writes a table.
func TestAutoMigrateOffStopsOnPendingMigrations(t *testing.T) {
	databaseURL := dbtest.EmptyURL(t)
	for _, args := range [][]string{
		{"serve", "--auto-migrate", "false"},
		{"token", "create", "--username", "ada", "--auto-migrate", "false"},
	} {
		code, _, stderr, _ := runOn(t, databaseURL, "", args...)
		if code != 1 {
			t.Errorf("%v: exit code: got %d, want 1", args, code)
		}
		for _, want := range []string{"pending migrations and AUTO_MIGRATE is false", "run evidence-console migrate first"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%v: stderr %q: want it to contain %q", args, stderr, want)
			}
		}
		if strings.Contains(stderr, "no such table") || strings.Contains(stderr, "does not exist") {
			t.Errorf("%v: stderr %q: want no missing-table error", args, stderr)
		}
	}

	db := dbtest.OpenExisting(t, databaseURL, dbtest.Options{})
	if tables, err := db.Migrator().GetTables(); err != nil || len(tables) != 0 {
		t.Errorf("tables after the rejected commands: got %v (error %v), want none", tables, err)
	}

	// Once migrated, the check passes: migrate, then a command without
	// AUTO_MIGRATE gets past it to its own work.
	if code, _, stderr, _ := runOn(t, databaseURL, "", "migrate"); code != 0 {
		t.Fatalf("migrate: exit code %d, stderr %q", code, stderr)
	}
	code, _, stderr, _ := runOn(t, databaseURL, "", "token", "create", "--username", "ada", "--auto-migrate", "false")
	if strings.Contains(stderr, "pending migration") {
		t.Errorf("token create after migrate: exit %d, stderr %q; want no pending migrations", code, stderr)
	}
}
