// Package models contains the storage structs, migrations and queries of the
// Evidence Console. It does not import HTTP or HTML packages.
package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the database engine behind a *gorm.DB.
type Dialect string

const (
	DialectSQLite   Dialect = "sqlite"
	DialectPostgres Dialect = "postgres"
)

// OpenOptions configures Open.
type OpenOptions struct {
	// URL is a postgres:// (or postgresql://) URL, or a path to an SQLite
	// file. An empty URL means the SQLite file data/evidence-console.db.
	URL    string
	Logger *slog.Logger
	// Now is the clock GORM uses for CreatedAt and UpdatedAt columns.
	Now func() time.Time
	// SlowQuery is the duration above which a query is logged at warn level.
	SlowQuery time.Duration
}

// DefaultSQLitePath is the embedded database file used when no URL is set.
const DefaultSQLitePath = "data/evidence-console.db"

// Open connects to PostgreSQL or to an embedded SQLite file, configures the
// pool and routes GORM's logger to slog. It does not migrate.
func Open(opts OpenOptions) (*gorm.DB, Dialect, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SlowQuery == 0 {
		opts.SlowQuery = 500 * time.Millisecond
	}

	dialect, dialector, err := dialectorFor(opts.URL)
	if err != nil {
		return nil, "", err
	}

	now := opts.Now
	db, err := gorm.Open(dialector, &gorm.Config{
		TranslateError: true,
		NowFunc:        func() time.Time { return UTC(now()) },
		Logger:         newGormLogger(opts.Logger, opts.SlowQuery),
		PrepareStmt:    false,
		// Callers ping with Ping, whose error names the setting to check. GORM's
		// own ping would log the same failure a second time.
		DisableAutomaticPing: true,
	})
	if err != nil {
		return nil, "", fmt.Errorf("models: unable to open %s database: %w", dialect, err)
	}

	sqlDB, err := db.DB()
	if err != nil {
		return nil, "", fmt.Errorf("models: unable to reach the connection pool: %w", err)
	}
	switch dialect {
	case DialectSQLite:
		// SQLite allows one writer at a time. Transactions start with BEGIN
		// IMMEDIATE (see the DSN) and wait on the busy timeout, so a few
		// connections can read concurrently without "database is locked".
		sqlDB.SetMaxOpenConns(4)
		sqlDB.SetMaxIdleConns(4)
	case DialectPostgres:
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(10)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}

	return db, dialect, nil
}

func dialectorFor(rawURL string) (Dialect, gorm.Dialector, error) {
	if strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://") {
		if _, err := url.Parse(rawURL); err != nil {
			return "", nil, errors.New("models: DATABASE_URL is not a valid postgres:// URL")
		}
		return DialectPostgres, postgres.New(postgres.Config{DSN: rawURL}), nil
	}
	if strings.Contains(rawURL, "://") {
		return "", nil, fmt.Errorf("models: DATABASE_URL scheme is not supported; use postgres://… or a file path for SQLite")
	}

	path := rawURL
	if path == "" {
		path = DefaultSQLitePath
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return "", nil, fmt.Errorf("models: unable to create the folder for %s: %w", path, err)
		}
		// The file holds password and token hashes, so a new one is
		// readable by its owner only. SQLite gives its WAL and shared
		// memory files the same mode. An existing file keeps its mode.
		file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		switch {
		case err == nil:
			_ = file.Close()
		case !errors.Is(err, fs.ErrExist):
			return "", nil, fmt.Errorf("models: unable to create the SQLite file %s: %w", path, err)
		}
	}
	dsn := path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"

	return DialectSQLite, sqlite.Open(dsn), nil
}

// DialectOf reports which engine a *gorm.DB talks to.
func DialectOf(db *gorm.DB) Dialect {
	if db.Dialector.Name() == "postgres" {
		return DialectPostgres
	}
	return DialectSQLite
}

// Ping checks that the database is reachable, for readiness probes.
func Ping(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// UTC converts t to UTC and truncates it to microseconds, the precision both
// PostgreSQL and the SQLite text format keep, so a value reads back equal.
func UTC(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

type gormLogger struct {
	log       *slog.Logger
	slowQuery time.Duration
	level     logger.LogLevel
}

func newGormLogger(log *slog.Logger, slow time.Duration) logger.Interface {
	return &gormLogger{log: log, slowQuery: slow, level: logger.Warn}
}

func (l *gormLogger) LogMode(level logger.LogLevel) logger.Interface {
	copied := *l
	copied.level = level
	return &copied
}

func (l *gormLogger) Info(ctx context.Context, msg string, args ...any) {
	if l.level >= logger.Info {
		l.log.InfoContext(ctx, fmt.Sprintf(msg, args...))
	}
}

func (l *gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	if l.level >= logger.Warn {
		l.log.WarnContext(ctx, fmt.Sprintf(msg, args...))
	}
}

func (l *gormLogger) Error(ctx context.Context, msg string, args ...any) {
	if l.level >= logger.Error {
		l.log.ErrorContext(ctx, fmt.Sprintf(msg, args...))
	}
}

// Trace logs failed and slow statements. The SQL text is logged without its
// bound values, which may carry record contents.
func (l *gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil && errors.Is(ctx.Err(), context.Canceled):
		// The caller stopped waiting, such as a browser that left: the
		// statement was cancelled, the database did not fail.
		l.log.InfoContext(ctx, "database statement cancelled", "error", err, "elapsed_ms", elapsed.Milliseconds())
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && l.level >= logger.Error:
		l.log.ErrorContext(ctx, "database statement failed", "error", err, "elapsed_ms", elapsed.Milliseconds())
	case elapsed > l.slowQuery && l.level >= logger.Warn:
		sql, rows := fc()
		l.log.WarnContext(ctx, "slow database statement", "sql", truncateSQL(sql), "rows", rows, "elapsed_ms", elapsed.Milliseconds())
	}
}

func truncateSQL(sql string) string {
	if i := strings.Index(sql, " VALUES "); i > 0 {
		sql = sql[:i] + " VALUES …"
	}
	if len(sql) > 300 {
		return sql[:300] + "…"
	}
	return sql
}

// ReadSnapshot runs read inside a read-only transaction whose statements all
// see one snapshot of the database. PostgreSQL needs REPEATABLE READ for
// that. On SQLite every transaction reads one snapshot.
func ReadSnapshot(ctx context.Context, db *gorm.DB, read func(tx *gorm.DB) error) error {
	var options []*sql.TxOptions
	if DialectOf(db) == DialectPostgres {
		options = append(options, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	}
	return db.WithContext(ctx).Transaction(read, options...)
}
