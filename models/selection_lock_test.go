package models_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func TestSelectionLockWaitsForHolder(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	release, err := models.LockRetrySelection(ctx, db, "selection_lock_test")
	if err != nil {
		t.Fatalf("LockRetrySelection: %v", err)
	}

	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := models.LockRetrySelection(short, db, "selection_lock_test"); !errors.Is(err, models.ErrSelectionLockBusy) {
		t.Errorf("second LockRetrySelection while held: got %v, want ErrSelectionLockBusy", err)
	}
	other, err := models.LockRetrySelection(ctx, db, "selection_lock_test_other")
	if err != nil {
		t.Fatalf("LockRetrySelection of another kind while the first is held: %v", err)
	}
	other()

	release()
	release()
	again, err := models.LockRetrySelection(ctx, db, "selection_lock_test")
	if err != nil {
		t.Fatalf("LockRetrySelection after release: %v", err)
	}
	again()
}

// Another server is another session of the same PostgreSQL database, so a
// second connection pool plays its part.
func TestSelectionLockExcludesOtherServers(t *testing.T) {
	if dbtest.Driver() != "postgres" {
		t.Skip("the lock between servers is a PostgreSQL advisory lock; the SQLite lock file has tests of its own")
	}
	db, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	otherServer := dbtest.OpenExisting(t, databaseURL, dbtest.Options{})
	ctx := context.Background()
	sqlDB, err := otherServer.DB()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const key = "hashtextextended('retry selection ' || 'selection_lock_server_test', 0)"

	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+key+")"); err != nil {
		t.Fatalf("take the lock on the other server: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := models.LockRetrySelection(short, db, "selection_lock_server_test"); !errors.Is(err, models.ErrSelectionLockBusy) {
		t.Errorf("LockRetrySelection while another server holds the lock: got %v, want ErrSelectionLockBusy", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock("+key+")"); err != nil {
		t.Fatalf("release the lock on the other server: %v", err)
	}

	release, err := models.LockRetrySelection(ctx, db, "selection_lock_server_test")
	if err != nil {
		t.Fatalf("LockRetrySelection after the other server released: %v", err)
	}
	var taken bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock("+key+")").Scan(&taken); err != nil {
		t.Fatal(err)
	}
	if taken {
		t.Error("the other server took the lock while this one held it")
		_, _ = conn.ExecContext(ctx, "SELECT pg_advisory_unlock("+key+")")
	}

	release()
	waitCtx, cancelWait := context.WithTimeout(ctx, 5*time.Second)
	defer cancelWait()
	if _, err := conn.ExecContext(waitCtx, "SELECT pg_advisory_lock("+key+")"); err != nil {
		t.Fatalf("the other server could not take the lock after release: %v", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock("+key+")"); err != nil {
		t.Fatal(err)
	}
}

// Another process is another open file description of the lock file, so a
// second connection pool on the same SQLite file plays its part. The
// semaphore of this process is left out, because it alone would make the
// second pool wait.
func TestSelectionFileLockExcludesOtherProcesses(t *testing.T) {
	if dbtest.Driver() != "sqlite" {
		t.Skip("the lock file guards SQLite databases; PostgreSQL uses an advisory lock")
	}
	db, databasePath := dbtest.OpenURL(t, dbtest.Options{})
	otherProcess := dbtest.OpenExisting(t, databasePath, dbtest.Options{})
	ctx := context.Background()
	const kind = "selection_file_lock_test"

	lockFile, err := models.HoldFileLock(ctx, db, kind)
	if err != nil {
		t.Fatalf("HoldFileLock: %v", err)
	}
	if lockFile == nil {
		t.Fatal("HoldFileLock on a database file returned no lock file")
	}
	if info, err := os.Stat(databasePath + "-retry-selection-" + kind + ".lock"); err != nil {
		t.Errorf("lock file beside the database: %v", err)
	} else if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("lock file mode: got %o, want 600", mode)
	}

	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := models.HoldFileLock(short, otherProcess, kind); !errors.Is(err, models.ErrSelectionLockBusy) {
		t.Errorf("HoldFileLock from another process while held: got %v, want ErrSelectionLockBusy", err)
	}
	otherKind, err := models.HoldFileLock(ctx, otherProcess, kind+"_other")
	if err != nil {
		t.Fatalf("HoldFileLock of another kind while the first is held: %v", err)
	}
	_ = otherKind.Close()

	if err := lockFile.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := models.HoldFileLock(ctx, otherProcess, kind)
	if err != nil {
		t.Fatalf("HoldFileLock from another process after release: %v", err)
	}
	_ = again.Close()
}

// The lock file takes the database file's permissions, so every user who
// can open the database can open the lock file, and flock needs only read
// access to it.
func TestSelectionFileLockFollowsDatabasePermissions(t *testing.T) {
	if dbtest.Driver() != "sqlite" {
		t.Skip("the lock file guards SQLite databases; PostgreSQL uses an advisory lock")
	}
	databasePath := filepath.Join(t.TempDir(), "shared.db")
	db := dbtest.OpenExisting(t, databasePath, dbtest.Options{})
	if err := db.Exec("CREATE TABLE touch (n INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(databasePath, 0o640); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	lockFile, err := models.HoldFileLock(ctx, db, "permissions_test")
	if err != nil {
		t.Fatalf("HoldFileLock: %v", err)
	}
	info, err := lockFile.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o640 {
		t.Errorf("lock file mode: got %o, want the database file's 640", mode)
	}
	_ = lockFile.Close()

	if err := os.Chmod(databasePath+"-retry-selection-permissions_test.lock", 0o400); err != nil {
		t.Fatal(err)
	}
	readOnly, err := models.HoldFileLock(ctx, db, "permissions_test")
	if err != nil {
		t.Fatalf("HoldFileLock on a read-only lock file: %v", err)
	}
	_ = readOnly.Close()
}

// A database file name too long to take the lock file's suffix gets a lock
// file named from a hash, so live runs still work, and one lock file per
// kind.
func TestSelectionFileLockLongDatabaseName(t *testing.T) {
	if dbtest.Driver() != "sqlite" {
		t.Skip("the lock file guards SQLite databases; PostgreSQL uses an advisory lock")
	}
	directory := t.TempDir()
	databasePath := filepath.Join(directory, strings.Repeat("n", 230)+".db")
	db := dbtest.OpenExisting(t, databasePath, dbtest.Options{})
	if err := db.Exec("CREATE TABLE touch (n INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	first, err := models.HoldFileLock(ctx, db, "executive_report")
	if err != nil {
		t.Fatalf("HoldFileLock with a long database name: %v", err)
	}
	defer first.Close()
	other, err := models.HoldFileLock(ctx, db, "health_alert")
	if err != nil {
		t.Fatalf("HoldFileLock of another kind: %v", err)
	}
	defer other.Close()
	if first.Name() == other.Name() || filepath.Dir(first.Name()) != directory || len(filepath.Base(first.Name())) > 255 {
		t.Errorf("lock files: got %s and %s, want two names beside the database of at most 255 bytes", first.Name(), other.Name())
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := models.HoldFileLock(short, dbtest.OpenExisting(t, databasePath, dbtest.Options{}), "executive_report"); !errors.Is(err, models.ErrSelectionLockBusy) {
		t.Errorf("HoldFileLock from another process while held: got %v, want ErrSelectionLockBusy", err)
	}
}
