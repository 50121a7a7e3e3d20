// Command evidence-console runs the Evidence Console web application and its
// maintenance subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/config"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses the command line and runs the subcommand. It returns the
// process exit code: 0 on success, 1 on failure, 2 on bad usage.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	settings := config.NewSettings(os.LookupEnv)
	leading := newFlagSet("evidence-console", settings)
	if err := leading.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stdout)
			return 0
		}
		fmt.Fprintf(stderr, "evidence-console: %v\n%s", err, overallUsage)
		return 2
	}

	rest := leading.Args()
	if len(rest) > 0 && rest[0] == "help" {
		return runHelp(rest[1:], stdout, stderr)
	}
	cmd, rest, err := findCommand(rest)
	if err != nil {
		fmt.Fprintf(stderr, "evidence-console: %v\n", err)
		if errors.Is(err, errUnknownCommand) {
			fmt.Fprint(stderr, overallUsage)
		} else {
			printCommandUsage(stderr, cmd)
		}
		return 2
	}

	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	flags := newFlagSet(cmd.name(), settings)
	runCommand := cmd.define(a, flags)
	arguments, err := parseInterspersed(flags, rest)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(stdout)
		return 0
	}
	if err == nil {
		err = cmd.checkArguments(arguments)
	}
	if err != nil {
		fmt.Fprintf(stderr, "evidence-console: %s: %v\n", cmd.name(), err)
		printCommandUsage(stderr, cmd)
		return 2
	}

	cfg, err := settings.Config()
	if err != nil {
		fmt.Fprintf(stderr, "evidence-console: invalid configuration: %v\n", err)
		return 2
	}
	a.cfg = cfg
	a.logger = cfg.NewLogger(stderr)
	slog.SetDefault(a.logger)

	// Every command checks the connector configuration as serve does, and
	// commands that store text check it against the configured secrets.
	// Loading reads the secrets but sends nothing.
	a.registry, err = connectors.LoadRegistry(cfg.ConnectorConfig, os.LookupEnv, connectors.WithLogger(a.logger))
	if err != nil {
		fmt.Fprintf(stderr, "evidence-console: invalid configuration: CONNECTOR_CONFIG: %v\n", err)
		return 2
	}
	// Every later log line has the configured secrets removed.
	a.logger = slog.New(a.registry.Redactor().LogHandler(a.logger.Handler()))
	slog.SetDefault(a.logger)

	err = runCommand(ctx, arguments)
	var usage usageError
	if errors.As(err, &usage) {
		fmt.Fprintf(stderr, "evidence-console: %s: %v\n", cmd.name(), err)
		if usage.showUsage {
			printCommandUsage(stderr, cmd)
		}
		return 2
	}
	if err != nil {
		a.logger.Error("command failed", "command", cmd.name(), "error", err)
		return 1
	}
	return 0
}

// runHelp prints the full help for `help [COMMAND]`, which covers every
// command.
func runHelp(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if _, _, err := findCommand(args); errors.Is(err, errUnknownCommand) {
			fmt.Fprintf(stderr, "evidence-console: help: %v\n%s", err, overallUsage)
			return 2
		}
	}
	printHelp(stdout)
	return 0
}

// usageError is a mistake in the command line, reported with exit code 2.
// When showUsage is set, the command's usage follows the message.
type usageError struct {
	message   string
	showUsage bool
}

func (e usageError) Error() string { return e.message }

// app carries what every subcommand needs.
type app struct {
	cfg    config.Config
	logger *slog.Logger
	// registry contains the connectors of CONNECTOR_CONFIG, and none when
	// the setting is empty.
	registry *connectors.Registry
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	// migrationsApplied is the number of migrations openDatabase applied.
	migrationsApplied int
}

// undefinedDatabase is PostgreSQL's error code for a connection to a
// database that does not exist.
const undefinedDatabase = "3D000"

// openDatabase opens the configured database and, when migrate is true,
// applies pending migrations.
func (a *app) openDatabase(ctx context.Context, migrate bool) (*gorm.DB, func(), error) {
	db, dialect, err := models.Open(models.OpenOptions{URL: a.cfg.DatabaseURL, Logger: a.logger, Now: time.Now})
	if err != nil {
		return nil, nil, err
	}
	closeDB := func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	}
	if err := models.Ping(ctx, db); err != nil {
		closeDB()
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == undefinedDatabase {
			return nil, nil, fmt.Errorf("database %s: the server is reachable, but the database named in DATABASE_URL does not exist (%s); "+
				"create it first, for example with createdb, or correct DATABASE_URL", dialect, pgErr.Message)
		}
		return nil, nil, fmt.Errorf("database %s is unreachable: %w; check DATABASE_URL", dialect, err)
	}
	if migrate {
		applied, err := models.Migrate(ctx, db, a.logger)
		if err != nil {
			closeDB()
			return nil, nil, err
		}
		a.migrationsApplied = applied
		return db, closeDB, nil
	}

	// Without AUTO_MIGRATE, a database that lacks migrations would fail
	// later on a missing table or column, so stop with the fix instead.
	pending, err := models.PendingMigrations(ctx, db)
	if err != nil {
		closeDB()
		return nil, nil, err
	}
	if pending > 0 {
		closeDB()
		noun := "migrations"
		if pending == 1 {
			noun = "migration"
		}
		return nil, nil, fmt.Errorf("database %s has %d pending %s and AUTO_MIGRATE is false; "+
			"run evidence-console migrate first, or set AUTO_MIGRATE=true", dialect, pending, noun)
	}
	return db, closeDB, nil
}

func (a *app) migrate(ctx context.Context) error {
	_, closeDB, err := a.openDatabase(ctx, true)
	if err != nil {
		return err
	}
	defer closeDB()
	switch a.migrationsApplied {
	case 0:
		fmt.Fprintln(a.stdout, "no migration pending; the database is up to date")
	case 1:
		fmt.Fprintln(a.stdout, "1 migration applied")
	default:
		fmt.Fprintf(a.stdout, "%d migrations applied\n", a.migrationsApplied)
	}
	return nil
}
