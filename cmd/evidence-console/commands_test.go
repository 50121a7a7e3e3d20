package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func TestSettingFlagAfterCommandChoosesDatabase(t *testing.T) {
	_, chosenURL := dbtest.OpenURL(t, dbtest.Options{})
	for _, args := range [][]string{
		{"user", "create", "--username", "erin", "--role", "viewer", "--database-url", chosenURL},
		{"user", "create", "--database-url", chosenURL, "--username", "frank", "--role", "viewer"},
		{"--database-url", chosenURL, "user", "create", "--username", "grace", "--role", "viewer"},
	} {
		code, _, stderr, environmentURL := runWith(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit code = %d, want 0; stderr: %s", args, code, stderr)
		}
		username := args[slices.Index(args, "--username")+1]

		chosen := &auth.Service{DB: dbtest.OpenExisting(t, chosenURL, dbtest.Options{})}
		if _, err := chosen.UserByUsername(context.Background(), username); err != nil {
			t.Errorf("%v: user %s is not in the database of --database-url: %v", args, username, err)
		}
		environment := &auth.Service{DB: dbtest.OpenExisting(t, environmentURL, dbtest.Options{})}
		if _, err := environment.UserByUsername(context.Background(), username); err == nil {
			t.Errorf("%v: user %s is in the database of DATABASE_URL, want it only in the flag's", args, username)
		}
	}
}

func TestSettingFlagsAroundImportFile(t *testing.T) {
	export := writeFile(t, `{"items": []}`)
	for _, args := range [][]string{
		{"import", export, "--log-format", "json"},
		{"import", "--log-format", "json", export},
		{"--log-format", "text", "import", export, "--log-format", "json"},
	} {
		code, _, stderr, _ := runWith(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit code = %d, want 0; stderr: %s", args, code, stderr)
		}
		if !strings.HasPrefix(stderr, `{"time":`) {
			t.Errorf("%v: stderr = %q, want JSON log lines", args, stderr)
		}
	}
}

// freePort returns a loopback address whose port was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	address := listener.Addr().String()
	listener.Close()
	return address
}

func TestServeListensOnFlagAfterCommand(t *testing.T) {
	cases := []struct {
		name string
		args func(chosen, other string) []string
	}{
		{"after", func(chosen, _ string) []string { return []string{"serve", "--listen-addr", chosen} }},
		{"before", func(chosen, _ string) []string { return []string{"--listen-addr", chosen, "serve"} }},
		{"both, later wins", func(chosen, other string) []string {
			return []string{"--listen-addr", other, "serve", "--listen-addr", chosen}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
			t.Setenv("DATABASE_URL", databaseURL)
			t.Setenv("SAMPLE_DATA", "false")
			t.Setenv("CONNECTOR_CONFIG", "")
			t.Setenv("LOCAL_RECEIVER", "")
			t.Setenv("LISTEN_ADDR", "")
			t.Setenv("PUBLIC_URL", "")
			t.Setenv("OIDC_ISSUER", "")
			t.Setenv("SESSION_KEYS", strings.Repeat("s", 32))
			chosen, other := freePort(t), freePort(t)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stdout, stderr bytes.Buffer
			exited := make(chan int, 1)
			go func() { exited <- run(ctx, tc.args(chosen, other), strings.NewReader(""), &stdout, &stderr) }()

			if err := waitForHealth(t, "http://"+chosen+"/healthz", exited); err != nil {
				cancel()
				<-exited
				t.Fatalf("server on %s: %v; stderr:\n%s", chosen, err, stderr.String())
			}
			if _, err := http.Get("http://" + other + "/healthz"); err == nil {
				t.Errorf("a server also responds on %s, want one only on %s", other, chosen)
			}
			cancel()
			if code := <-exited; code != 0 {
				t.Errorf("exit code = %d after shutdown, want 0; stderr:\n%s", code, stderr.String())
			}
		})
	}
}

// waitForHealth polls url until it returns 200, the server exits or ten
// seconds pass.
func waitForHealth(t *testing.T, url string, exited <-chan int) error {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-exited:
			return fmt.Errorf("run exited with code %d before the server responded", code)
		default:
		}
		response, err := client.Get(url)
		if err == nil {
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no 200 from %s within 10 seconds", url)
}

func TestCommandRejectsUnexpectedArguments(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		wants []string
	}{
		{"migrate with an argument", []string{"migrate", "extra-arg"},
			[]string{`migrate: unexpected argument "extra-arg"`, "Usage: evidence-console migrate [SETTING FLAGS]"}},
		{"serve with an argument", []string{"serve", "127.0.0.1:9080"},
			[]string{`serve: unexpected argument "127.0.0.1:9080"`, "Usage: evidence-console serve [SETTING FLAGS]"}},
		{"import with two files", []string{"import", "a.json", "b.json"},
			[]string{`import: unexpected argument "b.json"`, "Usage: evidence-console import FILE [SETTING FLAGS]"}},
		{"user create with an argument", []string{"user", "create", "--username", "ivy", "--role", "viewer", "admin"},
			[]string{`user create: unexpected argument "admin"`, "Usage: evidence-console user create --username NAME --role ROLE"}},
		{"token create with an argument", []string{"token", "create", "--username", "ivy", "extra"},
			[]string{`token create: unexpected argument "extra"`, "Usage: evidence-console token create --username NAME [--name LABEL]"}},
		{"user without create", []string{"user", "list"},
			[]string{`user: unknown subcommand "list"`, "Usage: evidence-console user create"}},
		{"unknown flag after the command", []string{"migrate", "--listen", "127.0.0.1:9080"},
			[]string{"migrate: flag provided but not defined: -listen", "Usage: evidence-console migrate"}},
		{"flag without value", []string{"migrate", "--listen-addr"},
			[]string{"migrate: flag needs an argument: -listen-addr", "Usage: evidence-console migrate"}},
		{"unknown flag before the command", []string{"--listen", "127.0.0.1:9080", "migrate"},
			[]string{"flag provided but not defined: -listen", "Usage: evidence-console"}},
		{"invalid setting after migrate", []string{"migrate", "--listen-addr", "nope"},
			[]string{`invalid configuration: LISTEN_ADDR: "nope" is not host:port`}},
		{"invalid setting after import", []string{"import", "export.json", "--log-format", "xml"},
			[]string{"invalid configuration: LOG_FORMAT"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr, _ := runWith(t, "", tc.args...)
			if code != 2 {
				t.Errorf("exit code = %d, want 2; stdout: %s stderr: %s", code, stdout, stderr)
			}
			for _, want := range tc.wants {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr = %q, want it to contain %q", stderr, want)
				}
			}
			if strings.Contains(stdout, "migrations applied") {
				t.Errorf("stdout = %q, want the command not to run", stdout)
			}
		})
	}
}

func TestHelpFormsPrintFullHelpToStdout(t *testing.T) {
	code, want, stderr, _ := runWith(t, "", "help")
	if code != 0 || stderr != "" {
		t.Fatalf("help: exit code %d, stderr %q; want 0 and nothing on stderr", code, stderr)
	}
	for _, part := range []string{
		"Usage: evidence-console [COMMAND [ARGUMENTS]] [SETTING FLAGS]",
		"user create --username NAME --role ROLE",
		"token create --username NAME [--name LABEL]",
		"import FILE",
		"Setting flags go before or after the command",
		"SESSION_COOKIE_SECURE",
		"--oidc-role-map",
	} {
		if !strings.Contains(want, part) {
			t.Errorf("help output does not contain %q:\n%s", part, want)
		}
	}

	for _, args := range [][]string{
		{"-h"}, {"--help"}, {"-help"}, {"--listen-addr", "127.0.0.1:9080", "--help"},
		{"serve", "--help"}, {"migrate", "-h"}, {"user", "create", "--username", "x", "-h"}, {"help", "user"},
		{"user", "--help"}, {"token", "-h"},
	} {
		code, stdout, stderr, _ := runWith(t, "", args...)
		if code != 0 {
			t.Errorf("%v: exit code = %d, want 0", args, code)
		}
		if stdout != want {
			t.Errorf("%v: stdout differs from the output of help:\n%s", args, stdout)
		}
		if stderr != "" {
			t.Errorf("%v: stderr = %q, want empty", args, stderr)
		}
	}
}

func TestHelpRejectsUnknownCommand(t *testing.T) {
	code, _, stderr, _ := runWith(t, "", "help", "launch")
	if code != 2 || !strings.Contains(stderr, `unknown command "launch"`) {
		t.Errorf("exit code %d, stderr %q; want 2 and the unknown command named", code, stderr)
	}
}

func TestEveryCommandRejectsInvalidSettings(t *testing.T) {
	commandLines := [][]string{
		{"serve"},
		{"migrate"},
		{"import", "export.json"},
		{"user", "create", "--username", "judy", "--role", "viewer"},
		{"token", "create", "--username", "judy"},
	}
	unknownKind := filepath.Join(t.TempDir(), "connectors.yaml")
	if err := os.WriteFile(unknownKind, []byte("connectors:\n  hook:\n    kind: no-such-kind\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	settings := []struct {
		flags   []string
		setting string
	}{
		{[]string{"--oidc-role-map", "bad"}, `OIDC_ROLE_MAP: "bad" is not group=role`},
		{[]string{"--oidc-role-map", "ops=root"}, `OIDC_ROLE_MAP: "ops=root": "root" is not a role`},
		{[]string{"--listen-addr", "999.1.1.1:80"}, `LISTEN_ADDR: the host "999.1.1.1" in "999.1.1.1:80" is neither an IP address nor a host name`},
		{[]string{"--local-receiver", "127.0.0.1:0"}, `LOCAL_RECEIVER: the port "0" in "127.0.0.1:0" is invalid`},
		{[]string{"--connector-config", unknownKind}, `CONNECTOR_CONFIG: `},
	}
	for _, commandLine := range commandLines {
		for _, s := range settings {
			args := append(append([]string{}, commandLine...), s.flags...)
			code, stdout, stderr, _ := runWith(t, "", args...)
			if code != 2 {
				t.Errorf("%v: exit code = %d, want 2; stdout: %s stderr: %s", args, code, stdout, stderr)
			}
			if !strings.Contains(stderr, "invalid configuration: "+s.setting) {
				t.Errorf("%v: stderr = %q, want it to contain %q", args, stderr, s.setting)
			}
		}
	}
}
