package main

import (
	"context"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func TestUserCreateWithPasswordOnStdin(t *testing.T) {
	code, stdout, stderr, databaseURL := runWith(t, "correct-horse-battery\n", "user", "create", "--username", "Alice", "--role", "release_manager")
	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	if strings.Contains(stdout, "correct-horse-battery") {
		t.Error("output repeats the password from standard input")
	}

	db := dbtest.OpenExisting(t, databaseURL, dbtest.Options{})
	service := &auth.Service{DB: db}
	user, err := service.CheckPassword(context.Background(), "alice", "correct-horse-battery", "127.0.0.1")
	if err != nil {
		t.Fatalf("sign in with the password from standard input: %v", err)
	}
	if user.Role != auth.RoleReleaseManager {
		t.Errorf("role = %q, want release_manager", user.Role)
	}
	if !strings.Contains(stdout, "user alice created") {
		t.Errorf("stdout = %q, want it to name the stored user alice", stdout)
	}
	wantNotice := `the username "Alice" is stored as "alice"`
	if !strings.Contains(stderr, wantNotice) {
		t.Errorf("stderr = %q, want the notice %q", stderr, wantNotice)
	}
}

func TestUserCreateLowerCaseNameHasNoNotice(t *testing.T) {
	code, _, stderr, _ := runWith(t, "", "user", "create", "--username", "heidi", "--role", "viewer")
	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	if strings.Contains(stderr, "is stored as") {
		t.Errorf("stderr = %q, want no notice for a name already in its stored form", stderr)
	}
}

func TestUserCreateGeneratesPassword(t *testing.T) {
	code, stdout, stderr, databaseURL := runWith(t, "", "user", "create", "--username", "bob", "--role", "viewer")
	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	password := lines[len(lines)-1]
	if len(password) < auth.MinPasswordLength {
		t.Fatalf("generated password %q is shorter than %d characters; output:\n%s", password, auth.MinPasswordLength, stdout)
	}
	db := dbtest.OpenExisting(t, databaseURL, dbtest.Options{})
	if _, err := (&auth.Service{DB: db}).CheckPassword(context.Background(), "bob", password, "127.0.0.1"); err != nil {
		t.Errorf("sign in with the generated password: %v", err)
	}
}

func TestUserAndTokenBadUsage(t *testing.T) {
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"unknown role", "", []string{"user", "create", "--username", "carol", "--role", "root"}, "not a role"},
		{"missing username", "", []string{"user", "create", "--role", "viewer"}, "--username is required"},
		{"missing role", "", []string{"user", "create", "--username", "carol"}, "--role is required; use one of"},
		{"bad username", "", []string{"user", "create", "--username", "x", "--role", "viewer"},
			`user create: --username "x" is not a valid username; use 2 to 64 lower-case letters`},
		{"username with a space", "", []string{"user", "create", "--username", "a b", "--role", "viewer"},
			`--username "a b" is not a valid username`},
		{"short password", "short\n", []string{"user", "create", "--username", "carol", "--role", "viewer"}, "fewer than 12"},
		{"unknown flag", "", []string{"user", "create", "--username", "carol", "--role", "viewer", "--admin"}, "-admin"},
		{"no subcommand", "", []string{"user"}, "user create"},
		{"token without username", "", []string{"token", "create"}, "--username is required"},
		{"token for unknown user", "", []string{"token", "create", "--username", "nobody"}, "no user named nobody"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr, _ := runWith(t, tc.stdin, tc.args...)
			if code != 2 {
				t.Fatalf("exit code = %d, want 2; stdout: %s stderr: %s", code, stdout, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr = %q, want it to mention %q", stderr, tc.want)
			}
		})
	}
}

func TestTokenCreatePrintsTokenLast(t *testing.T) {
	code, _, stderr, databaseURL := runWith(t, "", "user", "create", "--username", "dave", "--role", "auditor")
	if code != 0 {
		t.Fatalf("user create: exit code = %d; stderr: %s", code, stderr)
	}
	code, stdout, stderr, _ := runOn(t, databaseURL, "", "token", "create", "--username", "dave", "--name", "exporter")
	if code != 0 {
		t.Fatalf("token create: exit code = %d, want 0; stderr: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	token := lines[len(lines)-1]

	db := dbtest.OpenExisting(t, databaseURL, dbtest.Options{})
	user, err := (&auth.Service{DB: db}).TokenUser(context.Background(), token)
	if err != nil {
		t.Fatalf("the last output line %q is not a working token: %v", token, err)
	}
	if user.Username != "dave" {
		t.Errorf("token user = %q, want dave", user.Username)
	}
}

func TestUserCreateDuplicateLogsNoError(t *testing.T) {
	code, _, stderr, databaseURL := runWith(t, "", "user", "create", "--username", "ivan", "--role", "viewer")
	if code != 0 {
		t.Fatalf("first user create: exit code = %d, want 0; stderr: %s", code, stderr)
	}

	code, stdout, stderr, _ := runOn(t, databaseURL, "", "user", "create", "--username", "Ivan", "--role", "admin")
	if code != 2 {
		t.Errorf("exit code = %d, want 2; stdout: %s", code, stdout)
	}
	if !strings.Contains(stderr, "user create: a user named ivan already exists") {
		t.Errorf("stderr = %q, want it to name the existing user ivan", stderr)
	}
	if strings.Contains(stderr, "level=ERROR") {
		t.Errorf("stderr = %q, want no ERROR log line for a taken name", stderr)
	}
	if strings.Contains(stderr, "database statement failed") {
		t.Errorf("stderr = %q, want no failed database statement", stderr)
	}
}

func TestTokenCreateRejectsConfiguredSecretName(t *testing.T) {
	code, _, stderr, databaseURL := runWith(t, "", "user", "create", "--username", "erin", "--role", "auditor")
	if code != 0 {
		t.Fatalf("user create: exit code = %d; stderr: %s", code, stderr)
	}
	code, stdout, stderr, _ := runOn(t, databaseURL, "", "token", "create", "--username", "erin",
		"--name", "SEKRIThookpathA1b2C3", "--connector-config", writeConnectorConfig(t))

	if code != 2 {
		t.Errorf("exit code = %d, want 2; stdout: %s", code, stdout)
	}
	if !strings.Contains(stderr, "--name: looks like a credential") {
		t.Errorf("stderr = %q, want it to reject --name", stderr)
	}
	db := dbtest.OpenExisting(t, databaseURL, dbtest.Options{})
	if got := dbtest.CountRows(t, db)["api_tokens"]; got != 0 {
		t.Errorf("api_tokens rows = %d, want 0", got)
	}
}

func TestUserCreateRejectsConfiguredSecretName(t *testing.T) {
	for _, username := range []string{"SEKRIThookpathA1b2C3", "sekrithookpatha1b2c3"} {
		t.Run(username, func(t *testing.T) {
			code, stdout, stderr, databaseURL := runWith(t, "", "user", "create", "--username", username, "--role", "viewer",
				"--connector-config", writeConnectorConfig(t))

			if code != 2 {
				t.Errorf("exit code = %d, want 2; stdout: %s", code, stdout)
			}
			if !strings.Contains(stderr, "user create: --username: looks like a credential or a link") {
				t.Errorf("stderr = %q, want it to reject --username", stderr)
			}
			if strings.Contains(strings.ToLower(stdout+stderr), "sekrit") {
				t.Errorf("output repeats the secret: stdout %q, stderr %q", stdout, stderr)
			}
			db := dbtest.OpenExisting(t, databaseURL, dbtest.Options{})
			if got := dbtest.CountRows(t, db)["users"]; got != 0 {
				t.Errorf("users rows = %d, want 0", got)
			}
		})
	}
}

func TestUserCreateStopsWhenSecretsUnread(t *testing.T) {
	config := writeConnectorConfig(t)
	t.Setenv("EVIDENCE_TEST_HOOK_URL", "")

	code, stdout, stderr, databaseURL := runWith(t, "", "user", "create", "--username", "frank", "--role", "viewer",
		"--connector-config", config)

	if code != 2 {
		t.Errorf("exit code = %d, want 2; stdout: %s", code, stdout)
	}
	if !strings.Contains(stderr, "unable to check --username for the secrets of connectors that are not ready: hook") {
		t.Errorf("stderr = %q, want it to name the connector whose secret is unread", stderr)
	}
	db := dbtest.OpenExisting(t, databaseURL, dbtest.Options{})
	if got := dbtest.CountRows(t, db)["users"]; got != 0 {
		t.Errorf("users rows = %d, want 0", got)
	}
}
