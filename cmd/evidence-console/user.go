package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/releaseops/evidence-console/auth"
)

// defineUserCreate defines the flags of `user create --username NAME
// --role ROLE` and returns the function that runs it. The password is the
// first line of standard input; with no input, a strong password is
// generated and printed once.
func (a *app) defineUserCreate(flags *flag.FlagSet) runFunc {
	username := flags.String("username", "", "username of the new user")
	role := flags.String("role", "", "role of the new user: "+auth.RoleList())
	return func(ctx context.Context, _ []string) error { return a.createUser(ctx, *username, *role) }
}

func (a *app) createUser(ctx context.Context, username, role string) error {
	if strings.TrimSpace(username) == "" {
		return usageError{message: "--username is required", showUsage: true}
	}
	// The name is checked against the configured secrets, so a secret that
	// cannot be read would let a name holding it through unnoticed.
	if unread := a.unreadSecrets(); len(unread) > 0 {
		return usageError{message: "unable to check --username for the secrets of connectors that are not ready: " +
			strings.Join(unread, "; ") + ". Give user create the same secrets as the server, or disable those connectors in CONNECTOR_CONFIG"}
	}
	var invalid *auth.ValidationError
	if err := auth.ValidateNewUsername(username, a.registry.Redactor()); errors.As(err, &invalid) {
		// A name that looks like a credential is not repeated.
		if invalid.Credential {
			return usageError{message: "--username: " + invalid.Message}
		}
		return usageError{message: fmt.Sprintf("--username %q is not a valid username; %s", username, invalid.Message), showUsage: true}
	}
	if role == "" {
		return usageError{message: fmt.Sprintf("--role is required; use one of %s", auth.RoleList()), showUsage: true}
	}
	if !auth.Role(role).Valid() {
		return usageError{message: fmt.Sprintf("--role %q is not a role; use one of %s", role, auth.RoleList()), showUsage: true}
	}

	password, err := a.readSecretLine()
	if err != nil {
		return err
	}
	generated := password == ""
	if generated {
		if password, err = auth.GeneratePassword(); err != nil {
			return err
		}
	} else if len([]rune(password)) < auth.MinPasswordLength {
		return usageError{message: fmt.Sprintf("the password on standard input has fewer than %d characters", auth.MinPasswordLength)}
	}

	db, closeDB, err := a.openDatabase(ctx, a.cfg.Migrate)
	if err != nil {
		return err
	}
	defer closeDB()
	service := &auth.Service{DB: db, Now: time.Now, Logger: a.logger, Secrets: a.registry.Redactor()}
	// A taken name is the caller's mistake, so look it up first, because a
	// failed INSERT would log an ERROR line. ErrUserExists below still
	// covers a user created in between.
	_, err = service.UserByUsername(ctx, username)
	if err == nil {
		return usageError{message: fmt.Sprintf("a user named %s already exists", auth.NormalizeUsername(username))}
	}
	if !errors.Is(err, auth.ErrUserNotFound) {
		return err
	}
	user, err := service.CreateUser(ctx, auth.NewUser{Username: username, Role: auth.Role(role), Password: password, CreatedBy: "command line"})
	if errors.As(err, &invalid) {
		return usageError{message: invalid.Error()}
	}
	if errors.Is(err, auth.ErrUserExists) {
		return usageError{message: fmt.Sprintf("a user named %s already exists", auth.NormalizeUsername(username))}
	}
	if err != nil {
		return err
	}

	fmt.Fprintf(a.stdout, "user %s created with role %s\n", user.Username, user.Role)
	if user.Username != username {
		fmt.Fprintf(a.stderr, "evidence-console: user create: the username %q is stored as %q, trimmed and in lower case; sign-in accepts either form\n", username, user.Username)
	}
	if generated {
		fmt.Fprintln(a.stdout, "generated password (shown only now):")
		fmt.Fprintln(a.stdout, password)
	}
	return nil
}

// readSecretLine returns the first line of standard input without its line
// ending, or "" when standard input is a terminal or empty.
func (a *app) readSecretLine() (string, error) {
	if file, ok := a.stdin.(*os.File); ok {
		info, err := file.Stat()
		if err != nil || info.Mode()&os.ModeCharDevice != 0 {
			return "", nil
		}
	}
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
