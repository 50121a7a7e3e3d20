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

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/config"
	"github.com/releaseops/evidence-console/models"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses the configuration and dispatches to a subcommand. It returns
// the process exit code: 0 on success, 1 on failure, 2 on bad usage.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, rest, err := config.Load(args, os.LookupEnv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "evidence-console: invalid configuration: %v\n", err)
		return 2
	}
	logger := cfg.NewLogger(stderr)
	slog.SetDefault(logger)

	command := "serve"
	if len(rest) > 0 {
		command, rest = rest[0], rest[1:]
	}

	app := &app{cfg: cfg, logger: logger, stdin: stdin, stdout: stdout, stderr: stderr}
	switch command {
	case "serve":
		err = app.serve(ctx)
	case "migrate":
		err = app.migrate(ctx)
	case "import":
		err = app.importFile(ctx, rest)
	case "user":
		err = app.userCommand(ctx, rest)
	case "token":
		err = app.tokenCommand(ctx, rest)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "Usage: evidence-console [flags] [serve | migrate | import FILE | user create --username NAME --role ROLE | token create --username NAME]")
		config.Usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "evidence-console: unknown command %q; use serve, migrate, import FILE, user create or token create\n", command)
		return 2
	}

	var usage usageError
	if errors.As(err, &usage) {
		fmt.Fprintf(stderr, "evidence-console: %v\n", err)
		return 2
	}
	if err != nil {
		logger.Error("command failed", "command", command, "error", err)
		return 1
	}
	return 0
}

// usageError is a mistake in the command line, reported with exit code 2.
type usageError struct{ message string }

func (e usageError) Error() string { return e.message }

// app carries what every subcommand needs.
type app struct {
	cfg    config.Config
	logger *slog.Logger
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

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
		return nil, nil, fmt.Errorf("database %s is unreachable: %w; check DATABASE_URL", dialect, err)
	}
	if migrate {
		if err := models.Migrate(ctx, db, a.logger); err != nil {
			closeDB()
			return nil, nil, err
		}
	}
	return db, closeDB, nil
}

func (a *app) migrate(ctx context.Context) error {
	_, closeDB, err := a.openDatabase(ctx, true)
	if err != nil {
		return err
	}
	defer closeDB()
	fmt.Fprintln(a.stdout, "migrations applied")
	return nil
}
