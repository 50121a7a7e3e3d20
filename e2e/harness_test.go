// Package e2e drives the real Evidence Console binary in Debian's Chromium.
//
// TestMain builds the binary once. startApp runs it on a free loopback port
// against a fresh test database (SQLite, or a PostgreSQL schema when
// TEST_DATABASE_DRIVER=postgres) with connectors pointing at a local
// receiver; newBrowser opens a headless Chromium tab. Without Chromium the
// tests skip, except in CI (CI=true), where they fail.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors/receiver"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// binaryPath is the evidence-console binary built by TestMain.
var binaryPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "evidence-console-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "create build folder:", err)
		os.Exit(1)
	}
	binaryPath = filepath.Join(dir, "evidence-console")
	build := exec.Command("go", "build", "-o", binaryPath, "../cmd/evidence-console")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build evidence-console:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// appOptions adjusts startApp.
type appOptions struct {
	// SampleData loads the sample evidence at start.
	SampleData bool
	// ConnectorConfig replaces the default YAML configuration; %s in it is
	// replaced by the receiver's base URL.
	ConnectorConfig string
	// Env adds environment variables for the server process; %s in a value
	// is replaced by the receiver's base URL.
	Env map[string]string
}

// app is a running server with its receiver and database.
type app struct {
	BaseURL     string
	Receiver    *receiver.Server
	DB          *gorm.DB
	DatabaseURL string
	env         []string
	logs        *bytes.Buffer
	// users records the usernames signIn created in this app's database.
	// It lives on the app because a later app can get the same port.
	users sync.Map
}

// defaultConnectorConfig points slack, teams and webhook at the receiver;
// their URLs come from environment variables set by startApp.
const defaultConnectorConfig = `connectors:
  slack:
    url_env: E2E_SLACK_URL
  teams:
    url_env: E2E_TEAMS_URL
  webhook:
    url_env: E2E_WEBHOOK_URL
    signing_secret_env: E2E_WEBHOOK_SECRET
`

// startApp runs the binary and waits until /readyz returns 200. Everything is
// stopped when t ends; the server log is printed when t fails.
func startApp(t *testing.T, opts appOptions) *app {
	t.Helper()

	db, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	rcv, err := receiver.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start receiver: %v", err)
	}
	t.Cleanup(func() { _ = rcv.Close() })

	config := opts.ConnectorConfig
	if config == "" {
		config = defaultConnectorConfig
	}
	configPath := filepath.Join(t.TempDir(), "connectors.yaml")
	if err := os.WriteFile(configPath, []byte(strings.ReplaceAll(config, "%s", rcv.URL)), 0o600); err != nil {
		t.Fatalf("write connector config: %v", err)
	}

	addr := freeAddr(t)
	env := append(os.Environ(),
		"DATABASE_URL="+databaseURL,
		"LISTEN_ADDR="+addr,
		"PUBLIC_URL=http://"+addr,
		"CONNECTOR_CONFIG="+configPath,
		fmt.Sprintf("SAMPLE_DATA=%t", opts.SampleData),
		"LOCAL_RECEIVER=",
		// A fixed session key keeps the server from writing data/session.key
		// into the test's working folder.
		"SESSION_KEYS=e2e-session-key-of-at-least-32-characters",
		"LOG_LEVEL=debug",
		"E2E_SLACK_URL="+rcv.URL+"/slack/services/T0/B0/e2e-secret-path",
		"E2E_TEAMS_URL="+rcv.URL+"/teams/workflows/e2e",
		"E2E_WEBHOOK_URL="+rcv.URL+"/webhook/e2e",
		"E2E_WEBHOOK_SECRET=whsec_ZTJlLXNpZ25pbmctc2VjcmV0LXZhbHVl",
	)
	for key, value := range opts.Env {
		env = append(env, key+"="+strings.ReplaceAll(value, "%s", rcv.URL))
	}

	logs := &bytes.Buffer{}
	cmd := exec.Command(binaryPath, "serve")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})

	a := &app{BaseURL: "http://" + addr, Receiver: rcv, DB: db, DatabaseURL: databaseURL, env: env, logs: logs}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(a.BaseURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not become ready at %s; log:\n%s", a.BaseURL, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runCLI runs a subcommand of the binary against the app's database and
// returns its standard output.
func (a *app) runCLI(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binaryPath, args...)
	cmd.Env = a.env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("evidence-console %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := listener.Addr().String()
	_ = listener.Close()
	return addr
}

// chromiumPath returns Debian's Chromium, or skips the test when it is
// missing outside CI.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, candidate := range []string{os.Getenv("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if candidate == "" {
			continue
		}
		if _, err := os.Stat(candidate); err == nil {
			return candidate
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is not installed; CI must install the chromium package (see .ci/run)")
	}
	t.Skip("Chromium is not installed: install Debian's chromium package to run browser tests")
	return ""
}

// newBrowser opens a headless Chromium tab that is closed when t ends. Each
// call has its own profile, so cookies do not leak between tests.
//
// This chromedp version has a generic API: chromedp.Do(ctx, steps...) runs
// actions that return nothing, chromedp.Run(ctx, action) returns one value
// (for example chromedp.Text(chromedp.CSS(sel))). Select elements with
// chromedp.CSS; a plain string is a DOM search. The returned context has a
// 90-second limit, derived after the browser started, because a limit on the
// first call would stop the whole browser.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	options := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocatorCtx, cancelAllocator := chromedp.NewExecAllocator(context.Background(), options...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocatorCtx)
	if err := chromedp.Do(browserCtx); err != nil {
		cancelBrowser()
		cancelAllocator()
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(browserCtx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelBrowser()
		cancelAllocator()
	})
	return ctx
}

// textOf returns the visible text of the first element matching css.
func textOf(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("read text of %s: %v", css, err)
	}
	return strings.TrimSpace(text)
}

// attributeOf returns an attribute of the first element matching css.
func attributeOf(t *testing.T, ctx context.Context, css, name string) string {
	t.Helper()
	result, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(css), name))
	if err != nil {
		t.Fatalf("read attribute %s of %s: %v", name, css, err)
	}
	return result.Value
}
