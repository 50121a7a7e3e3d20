package connectors

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fixedTime is the clock of every test that needs stable output.
var fixedTime = time.Date(2026, 1, 2, 3, 4, 5, 123_000_000, time.UTC)

func fixedClock() time.Time { return fixedTime }

// sampleMessage returns a retry health alert with every field set.
func sampleMessage() Message {
	return Message{
		IdempotencyKey: "alert-2026-01-02-critical",
		Event:          EventRetryHealthAlert,
		Title:          "Retry health: critical",
		Level:          "critical",
		Summary:        "12 deliveries failed in the last hour & 3 destinations are rate limited.",
		Facts: []Fact{
			{Label: "Failed deliveries", Value: "12"},
			{Label: "Rate-limited destinations", Value: "3"},
			{Label: "Oldest pending retry", Value: "47 minutes"},
		},
		Items: []Item{
			{Severity: "critical", Title: "Slack exec channel returns 410", Detail: "The webhook was deleted <2 hours ago>."},
			{Severity: "warning", Title: "Jira responses slow", Detail: "p95 latency 8.2s."},
		},
		OmittedCount: 3,
		Link:         "https://console.example.test/alerts/42/ack",
		LinkText:     "Acknowledge alert",
		OccurredAt:   time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC),
		Payload:      map[string]any{"alert_id": 42, "failed": 12},
	}
}

// envMap returns a lookupEnv function backed by a map.
func envMap(values map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		value, ok := values[name]
		return value, ok
	}
}

// newTestRegistry builds a registry with a fixed clock, fast retries and a
// logger that writes to logs when it is not nil.
func newTestRegistry(t *testing.T, cfg FileConfig, env map[string]string, logs *bytes.Buffer, options ...Option) *Registry {
	t.Helper()
	var output io.Writer = io.Discard
	if logs != nil {
		output = logs
	}
	defaults := []Option{
		WithClock(fixedClock),
		WithBackoff(time.Millisecond, 5*time.Millisecond),
		WithLogger(slog.New(slog.NewJSONHandler(output, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}
	registry, err := NewRegistry(cfg, envMap(env), append(defaults, options...)...)
	if err != nil {
		t.Fatalf("NewRegistry: got error %v, want nil", err)
	}
	return registry
}

// oneConnector returns a configuration with one connector.
func oneConnector(name string, connector ConnectorConfig) FileConfig {
	return FileConfig{Connectors: map[string]ConnectorConfig{name: connector}}
}

// capturedRequest is a request as a test server received it.
type capturedRequest struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// recordingServer is a loopback test server that records requests and
// responds with the handler, or 200 "ok" when the handler is nil.
type recordingServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []capturedRequest
}

func newRecordingServer(t *testing.T, handler http.HandlerFunc) *recordingServer {
	t.Helper()
	server := &recordingServer{}
	server.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		server.mu.Lock()
		server.requests = append(server.requests, capturedRequest{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body,
		})
		server.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if handler == nil {
			_, _ = io.WriteString(w, "ok")
			return
		}
		handler(w, r)
	}))
	t.Cleanup(server.Close)
	return server
}

func (s *recordingServer) captured() []capturedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]capturedRequest(nil), s.requests...)
}

// closedPortURL returns a loopback URL on which nothing listens, by
// listening on a free port and closing the listener.
func closedPortURL(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	address := listener.Addr().String()
	if err := listener.Close(); err != nil {
		t.Fatalf("close listener: %v", err)
	}
	return "http://" + address
}
