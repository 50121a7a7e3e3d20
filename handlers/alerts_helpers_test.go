package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/connectors/receiver"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/health"
)

// alertsPath is the JSON prefix of the alert endpoints.
const alertsPath = auditDelivery + "/recovery-escalations/retry-health-alerts"

// alertServer is the real router with the alert service wired to
// connectors of the test's choosing, and every log line captured.
type alertServer struct {
	*testServer
	receiver *receiver.Server
	logs     *syncBuffer
	clock    *alertClock
}

// destination configures one connector for newAlertServer.
type destination struct {
	kind connectors.Kind
	// url is the endpoint; "{receiver}" is replaced by the receiver's URL.
	url string
	// token, when set, is sent as a bearer token read from the environment.
	token string
	// disabled turns the connector off in the configuration.
	disabled bool
}

func newAlertServer(t *testing.T, destinations map[string]destination) *alertServer {
	t.Helper()
	s := &alertServer{testServer: newTestServer(t), logs: &syncBuffer{}, clock: &alertClock{now: testNow}}
	rcv, err := receiver.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start receiver: %v", err)
	}
	t.Cleanup(func() { _ = rcv.Close() })
	s.receiver = rcv

	env := map[string]string{}
	cfg := connectors.FileConfig{Connectors: map[string]connectors.ConnectorConfig{}}
	for name, d := range destinations {
		urlVariable := "URL_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		env[urlVariable] = strings.ReplaceAll(d.url, "{receiver}", rcv.URL)
		connector := connectors.ConnectorConfig{Kind: d.kind, URLEnv: urlVariable}
		if d.disabled {
			enabled := false
			connector.Enabled = &enabled
		}
		if d.token != "" {
			connector.TokenEnv = "TOKEN_" + strings.TrimPrefix(urlVariable, "URL_")
			env[connector.TokenEnv] = d.token
		}
		cfg.Connectors[name] = connector
	}

	logger := slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	registry, err := connectors.NewRegistry(cfg, func(name string) (string, bool) {
		value, ok := env[name]
		return value, ok
	}, connectors.WithBackoff(time.Millisecond, time.Millisecond), connectors.WithLogger(logger))
	if err != nil {
		t.Fatalf("build registry: %v", err)
	}

	db := s.db
	s.handler.Logger = logger
	s.handler.Health = &health.Service{DB: db, Now: s.clock.Now, Logger: logger}
	s.handler.Alerts = &alerting.Service{
		DB: db, Health: &health.Service{DB: db, Now: s.clock.Now, Logger: logger}, Destinations: registry,
		Delivery:  &delivery.Service{DB: db, Sender: registry, Now: s.clock.Now, Logger: logger},
		PublicURL: "http://console.test", Now: s.clock.Now, Logger: logger,
	}
	s.e = NewServer(s.handler)
	return s
}

// deliver sends an alert through the JSON API and decodes the result.
func (s *alertServer) deliver(body string) (*httptest.ResponseRecorder, alerting.DeliverResult) {
	s.t.Helper()
	rec := s.postJSON(alertsPath+"/deliver", body)
	var result alerting.DeliverResult
	if rec.Code == 201 {
		if err := json.Unmarshal(rec.Body.Bytes(), &result); err != nil {
			s.t.Fatalf("decode deliver response: %v", err)
		}
	}
	return rec, result
}

// dumpTables returns every row of every table as text, for searching.
func (s *alertServer) dumpTables() string {
	s.t.Helper()
	tables, err := s.db.Migrator().GetTables()
	if err != nil {
		s.t.Fatalf("list tables: %v", err)
	}
	var out strings.Builder
	for _, table := range tables {
		var rows []map[string]any
		if err := s.db.Table(table).Find(&rows).Error; err != nil {
			s.t.Fatalf("read %s: %v", table, err)
		}
		fmt.Fprintf(&out, "%s: %v\n", table, rows)
	}
	return out.String()
}

// alertClock is a clock that tests advance by hand.
type alertClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *alertClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *alertClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncBuffer is a log output that concurrent senders may share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ io.Writer = (*syncBuffer)(nil)

// decodeObject decodes a JSON object response.
func decodeObject(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("decode response %q: %v", rec.Body.String(), err)
	}
	return out
}

// alertErrorField returns the field named by an error response.
func alertErrorField(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	body := decodeObject(t, rec)
	errObject, _ := body["error"].(map[string]any)
	field, _ := errObject["field"].(string)
	return field
}
