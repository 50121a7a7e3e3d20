package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
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
// use up the connections the holder needs. It returns the function that
// releases the lock, which may be called more than once, or
// ErrSelectionLockBusy when ctx ends first.
//
// NOTE: two processes that share one SQLite file do not see each other's
// semaphore, so their runs can still select the same retries. The claims
// then send each retry once, and the later run records skips.
func LockRetrySelection(ctx context.Context, db *gorm.DB, subjectKind string) (func(), error) {
	value, _ := selectionSemaphores.LoadOrStore(subjectKind, make(chan struct{}, 1))
	semaphore := value.(chan struct{})
	select {
	case semaphore <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w (%s)", ErrSelectionLockBusy, subjectKind)
	}
	var conn *sql.Conn
	if DialectOf(db) == DialectPostgres {
		var err error
		if conn, err = holdAdvisoryLock(ctx, db, subjectKind); err != nil {
			<-semaphore
			return nil, err
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if conn != nil {
				releaseAdvisoryLock(ctx, conn, subjectKind)
			}
			<-semaphore
		})
	}, nil
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
	for {
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%w (%s)", ErrSelectionLockBusy, subjectKind)
			}
			return nil, fmt.Errorf("models: unable to take a connection for the %s selection lock: %w", subjectKind, err)
		}
		var acquired bool
		query := "SELECT pg_try_advisory_lock(" + selectionLockKey + ")"
		if err := conn.QueryRowContext(ctx, query, subjectKind).Scan(&acquired); err != nil {
			_ = conn.Close()
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%w (%s)", ErrSelectionLockBusy, subjectKind)
			}
			return nil, fmt.Errorf("models: unable to take the %s selection lock: %w", subjectKind, err)
		}
		if acquired {
			return conn, nil
		}
		_ = conn.Close()
		// Jitter keeps waiting servers from trying in step.
		wait := selectionLockPoll/2 + rand.N(selectionLockPoll)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (%s)", ErrSelectionLockBusy, subjectKind)
		}
	}
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
