package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/releaseops/evidence-console/auth"
)

// defineTokenCreate defines the flags of `token create --username NAME
// [--name LABEL]` and returns the function that runs it. It prints the new
// personal API token as the last line of standard output.
func (a *app) defineTokenCreate(flags *flag.FlagSet) runFunc {
	username := flags.String("username", "", "user who owns the token")
	name := flags.String("name", "command line", "label that tells the token apart")
	return func(ctx context.Context, _ []string) error { return a.createToken(ctx, *username, *name) }
}

func (a *app) createToken(ctx context.Context, username, name string) error {
	if strings.TrimSpace(username) == "" {
		return usageError{message: "--username is required", showUsage: true}
	}

	db, closeDB, err := a.openDatabase(ctx, a.cfg.Migrate)
	if err != nil {
		return err
	}
	defer closeDB()
	service := &auth.Service{DB: db, Now: time.Now, Logger: a.logger, Secrets: a.registry.Redactor()}
	user, err := service.UserByUsername(ctx, username)
	if errors.Is(err, auth.ErrUserNotFound) {
		return usageError{message: fmt.Sprintf("no user named %s; create it first with `evidence-console user create`", auth.NormalizeUsername(username))}
	}
	if err != nil {
		return err
	}
	if user.Disabled {
		return usageError{message: fmt.Sprintf("user %s is disabled, so a token would not work", user.Username)}
	}
	secret, token, err := service.CreateToken(ctx, user.ID, name)
	var invalid *auth.ValidationError
	if errors.As(err, &invalid) {
		return usageError{message: "--" + invalid.Error(), showUsage: true}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "API token %s (%s…) created for %s; it is shown only now:\n", token.ID, token.Prefix, user.Username)
	fmt.Fprintln(a.stdout, secret)
	return nil
}
