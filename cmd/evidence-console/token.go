package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/releaseops/evidence-console/auth"
)

// tokenCommand runs `token create --username NAME [--name LABEL]` and prints
// the new personal API token as the last line of standard output.
func (a *app) tokenCommand(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{message: "use: evidence-console token create --username NAME [--name LABEL]"}
	}
	flags := flag.NewFlagSet("token create", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	username := flags.String("username", "", "user who owns the token")
	name := flags.String("name", "command line", "label that tells the token apart")
	if err := flags.Parse(args[1:]); err != nil {
		return usageError{message: "token create: " + err.Error() + "; use --username NAME [--name LABEL]"}
	}
	if flags.NArg() > 0 {
		return usageError{message: fmt.Sprintf("token create: unexpected argument %q; use --username NAME [--name LABEL]", flags.Arg(0))}
	}
	if strings.TrimSpace(*username) == "" {
		return usageError{message: "token create: --username is required"}
	}

	db, closeDB, err := a.openDatabase(ctx, a.cfg.Migrate)
	if err != nil {
		return err
	}
	defer closeDB()
	service := &auth.Service{DB: db, Now: time.Now, Logger: a.logger}
	user, err := service.UserByUsername(ctx, *username)
	if errors.Is(err, auth.ErrUserNotFound) {
		return usageError{message: fmt.Sprintf("token create: no user named %s; create it first with `evidence-console user create`", auth.NormalizeUsername(*username))}
	}
	if err != nil {
		return err
	}
	if user.Disabled {
		return usageError{message: fmt.Sprintf("token create: user %s is disabled, so a token would not work", user.Username)}
	}
	secret, token, err := service.CreateToken(ctx, user.ID, *name)
	var invalid *auth.ValidationError
	if errors.As(err, &invalid) {
		return usageError{message: "token create: --" + invalid.Error()}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "API token %s (%s…) created for %s; it is shown only now:\n", token.ID, token.Prefix, user.Username)
	fmt.Fprintln(a.stdout, secret)
	return nil
}
