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

// userCommand runs `user create --username NAME --role ROLE`. The password
// is the first line of standard input; with no input, a strong password is
// generated and printed once.
func (a *app) userCommand(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{message: "use: evidence-console user create --username NAME --role ROLE (password on standard input, or empty to generate one)"}
	}
	flags := flag.NewFlagSet("user create", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	username := flags.String("username", "", "username of the new user")
	role := flags.String("role", "", "role of the new user: "+auth.RoleList())
	if err := flags.Parse(args[1:]); err != nil {
		return usageError{message: "user create: " + err.Error() + "; use --username NAME --role ROLE"}
	}
	if flags.NArg() > 0 {
		return usageError{message: fmt.Sprintf("user create: unexpected argument %q; use --username NAME --role ROLE", flags.Arg(0))}
	}
	if strings.TrimSpace(*username) == "" {
		return usageError{message: "user create: --username is required"}
	}
	if err := auth.ValidateUsername(*username); err != nil {
		return usageError{message: "user create: --username " + err.Error()}
	}
	if !auth.Role(*role).Valid() {
		return usageError{message: fmt.Sprintf("user create: --role %q is not a role; use one of %s", *role, auth.RoleList())}
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
		return usageError{message: fmt.Sprintf("user create: the password on standard input has fewer than %d characters", auth.MinPasswordLength)}
	}

	db, closeDB, err := a.openDatabase(ctx, a.cfg.Migrate)
	if err != nil {
		return err
	}
	defer closeDB()
	service := &auth.Service{DB: db, Now: time.Now, Logger: a.logger}
	user, err := service.CreateUser(ctx, auth.NewUser{Username: *username, Role: auth.Role(*role), Password: password, CreatedBy: "command line"})
	var invalid *auth.ValidationError
	if errors.As(err, &invalid) {
		return usageError{message: "user create: " + invalid.Error()}
	}
	if errors.Is(err, auth.ErrUserExists) {
		return usageError{message: fmt.Sprintf("user create: a user named %s already exists", auth.NormalizeUsername(*username))}
	}
	if err != nil {
		return err
	}

	fmt.Fprintf(a.stdout, "user %s created with role %s\n", user.Username, user.Role)
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
