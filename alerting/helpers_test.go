package alerting_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/connectors/receiver"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/evidence"
	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// startTime is the fake clock's first reading.
var startTime = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is a fake clock that tests advance by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is an alert service over a fresh database and a local receiver.
type fixture struct {
	db       *gorm.DB
	url      string
	clock    *clock
	receiver *receiver.Server
	registry *connectors.Registry
	logs     *bytes.Buffer
	output   *lockedWriter
	service  *alerting.Service
}

// newFixture configures one webhook connector per entry of paths (name to
// receiver path) and one disabled connector named "disabled".
func newFixture(t *testing.T, paths map[string]string) *fixture {
	t.Helper()
	db, url := dbtest.OpenURL(t, dbtest.Options{})
	rcv, err := receiver.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start receiver: %v", err)
	}
	t.Cleanup(func() { _ = rcv.Close() })

	f := &fixture{db: db, url: url, clock: &clock{now: startTime}, receiver: rcv, logs: &bytes.Buffer{}}
	f.output = &lockedWriter{w: f.logs}
	f.configure(t, paths)
	return f
}

// configure builds the registry from paths and a service over the fixture's
// database, as an application restarted with a changed configuration would.
func (f *fixture) configure(t *testing.T, paths map[string]string) {
	t.Helper()
	env := map[string]string{}
	cfg := connectors.FileConfig{Connectors: map[string]connectors.ConnectorConfig{}}
	for name, path := range paths {
		variable := "URL_" + name
		env[variable] = f.receiver.URL + path
		cfg.Connectors[name] = connectors.ConnectorConfig{Kind: connectors.KindWebhook, URLEnv: variable}
	}
	disabled := false
	env["URL_DISABLED"] = f.receiver.URL + "/webhook/disabled"
	cfg.Connectors["disabled"] = connectors.ConnectorConfig{Kind: connectors.KindWebhook, URLEnv: "URL_DISABLED", Enabled: &disabled}

	logger := slog.New(slog.NewTextHandler(f.output, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	f.registry, err = connectors.NewRegistry(cfg, func(name string) (string, bool) {
		value, ok := env[name]
		return value, ok
	}, connectors.WithBackoff(time.Millisecond, time.Millisecond), connectors.WithLogger(logger))
	if err != nil {
		t.Fatalf("build registry: %v", err)
	}
	f.service = f.newService(f.db, logger)
}

// newService builds a service over db the way the application does, so a
// second call stands for a restarted application.
func (f *fixture) newService(db *gorm.DB, logger *slog.Logger) *alerting.Service {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &alerting.Service{
		DB:           db,
		Health:       &health.Service{DB: db, Now: f.clock.Now, Logger: logger},
		Destinations: f.registry,
		Delivery:     &delivery.Service{DB: db, Sender: f.registry, Now: f.clock.Now, Logger: logger},
		PublicURL:    "http://console.test",
		Now:          f.clock.Now,
		Logger:       logger,
	}
}

// deliver sends an alert with the defaults and the given changes.
func (f *fixture) deliver(t *testing.T, change func(*alerting.DeliverRequest)) alerting.DeliverResult {
	t.Helper()
	req := alerting.DefaultDeliverRequest()
	req.Actor = "tester"
	req.TimeoutSeconds = 2
	req.Retries = 0
	if change != nil {
		change(&req)
	}
	result, err := f.service.Deliver(context.Background(), req)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	return result
}

// ingestFreshRetryPlan stores a retry plan stamped now, which removes the
// stale retry plan finding and so changes the alert fingerprint.
func (f *fixture) ingestFreshRetryPlan(t *testing.T, id string) {
	t.Helper()
	f.ingest(t, map[string]any{
		"metadata_kind": evidence.KindEscalationRetryPlan, "session_id": "test", "retry_plan_id": id,
		"retryable_count": 1, "created_at": f.clock.Now().Format(time.RFC3339),
	})
}

// lockedWriter serialises writes of concurrent loggers into one buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func suppressedProviders(result alerting.DeliverResult) map[string]alerting.SuppressedProvider {
	out := map[string]alerting.SuppressedProvider{}
	for _, s := range result.Plan.SuppressedProviders {
		out[s.Provider] = s
	}
	return out
}

// ingestFreshWorkerRun stores a worker run stamped now with its schedule
// enabled and nothing pending, which removes every worker finding.
func ingestFreshWorkerRun(t *testing.T, f *fixture, id string) {
	t.Helper()
	f.ingest(t, map[string]any{
		"metadata_kind": evidence.KindEscalationWorkerRun, "session_id": "test", "run_id": id, "dry_run": false,
		"created_at": f.clock.Now().Format(time.RFC3339),
		"recovery_escalation_retry_worker_run": map[string]any{
			"summary":  map[string]any{"selected_retry_count": 0, "acknowledgement_pending_count": 0},
			"schedule": map[string]any{"enabled": true},
		},
	})
}

// ingest stores one evidence record through the ingestion service.
func (f *fixture) ingest(t *testing.T, item map[string]any) {
	t.Helper()
	raw, err := json.Marshal(item)
	if err != nil {
		t.Fatalf("encode record: %v", err)
	}
	service := &evidence.Service{DB: f.db, Now: f.clock.Now}
	result, err := service.Ingest(context.Background(), []json.RawMessage{raw})
	if err != nil || result.Inserted != 1 {
		t.Fatalf("ingest %v: inserted %d, err %v, rejected %v", item["metadata_kind"], result.Inserted, err, result.Rejected)
	}
}
