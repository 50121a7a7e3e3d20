package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"gorm.io/gorm"
)

// selectionLockPoll is how long a live run waits between two tries of the
// PostgreSQL selection lock held by another server.
const selectionLockPoll = 10 * time.Millisecond

// selectionSemaphores holds one semaphore per subject kind, shared by every
// worker run of this process.
var selectionSemaphores sync.Map

// ErrSelectionLockBusy reports that the selection lock of a subject kind
// stayed held until the caller's context ended.
var ErrSelectionLockBusy = errors.New("models: another live worker run is still selecting and claiming retries")

// LockRetrySelection acquires the lock under which a live worker run of one
// subject kind selects and claims its retries. A run that starts while
// another holds it waits, then reads that run's claims as retries in flight
// and selects other due groups. A semaphore per kind serialises the runs of
// this process. On PostgreSQL a session advisory lock, tried every 10 ms on
// a borrowed connection, extends that to every server of the database. The
// connection goes back to the pool between tries, so waiting runs cannot
// use up the connections the holder needs. On SQLite an exclusive flock on
// a lock file next to the database file, tried every 10 ms, extends it to
// every process that opens that file. It returns the function that releases
// the lock, which may be called more than once, or ErrSelectionLockBusy when
// ctx ends first.
func LockRetrySelection(ctx context.Context, db *gorm.DB, subjectKind string) (func(), error) {
	value, _ := selectionSemaphores.LoadOrStore(subjectKind, make(chan struct{}, 1))
	semaphore := value.(chan struct{})
	select {
	case semaphore <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w (%s)", ErrSelectionLockBusy, subjectKind)
	}
	var conn *sql.Conn
	var file *os.File
	var err error
	if DialectOf(db) == DialectPostgres {
		conn, err = holdAdvisoryLock(ctx, db, subjectKind)
	} else {
		file, err = holdFileLock(ctx, db, subjectKind)
	}
	if err != nil {
		<-semaphore
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if conn != nil {
				releaseAdvisoryLock(ctx, conn, subjectKind)
			}
			if file != nil {
				// Closing the only descriptor of the lock file releases its flock.
				_ = file.Close()
			}
			<-semaphore
		})
	}, nil
}

// pollLock calls try until it reports the lock taken, fails, or ctx ends,
// waiting about selectionLockPoll between two calls.
func pollLock(ctx context.Context, subjectKind string, try func() (bool, error)) error {
	for {
		acquired, err := try()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w (%s)", ErrSelectionLockBusy, subjectKind)
			}
			return err
		}
		if acquired {
			return nil
		}
		// Jitter keeps waiting runs from trying in step.
		wait := selectionLockPoll/2 + rand.N(selectionLockPoll)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("%w (%s)", ErrSelectionLockBusy, subjectKind)
		}
	}
}

// selectionLockKey is the advisory lock key of the subject kind in $1. The
// prefix keeps it apart from the transaction locks that lockNames takes.
const selectionLockKey = "hashtextextended('retry selection ' || $1::text, 0)"

// holdAdvisoryLock returns a connection that holds the session advisory
// lock of subjectKind, trying again until ctx ends.
func holdAdvisoryLock(ctx context.Context, db *gorm.DB, subjectKind string) (*sql.Conn, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("models: unable to reach the connection pool: %w", err)
	}
	var lockedConn *sql.Conn
	err = pollLock(ctx, subjectKind, func() (bool, error) {
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			return false, fmt.Errorf("models: unable to take a connection for the %s selection lock: %w", subjectKind, err)
		}
		var acquired bool
		query := "SELECT pg_try_advisory_lock(" + selectionLockKey + ")"
		if err := conn.QueryRowContext(ctx, query, subjectKind).Scan(&acquired); err != nil {
			_ = conn.Close()
			return false, fmt.Errorf("models: unable to take the %s selection lock: %w", subjectKind, err)
		}
		if !acquired {
			_ = conn.Close()
			return false, nil
		}
		lockedConn = conn
		return true, nil
	})
	return lockedConn, err
}

// releaseAdvisoryLock unlocks the session advisory lock that conn holds and
// returns conn to the pool. If the unlock fails, the connection is closed
// instead, which ends its session and so releases the lock, because a
// pooled session that still held it would block every later run.
func releaseAdvisoryLock(ctx context.Context, conn *sql.Conn, subjectKind string) {
	unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	query := "SELECT pg_advisory_unlock(" + selectionLockKey + ")"
	var released bool
	if err := conn.QueryRowContext(unlockCtx, query, subjectKind).Scan(&released); err != nil || !released {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = conn.Close()
}
