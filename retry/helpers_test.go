package retry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/connectors/receiver"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/models"
)

// testClock is a settable clock shared by a service and its deliveries.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeSource rebuilds a fixed message per subject and counts its calls.
type fakeSource struct {
	calls atomic.Int64
	err   error
}

func (f *fakeSource) Message(_ context.Context, subjectID, connector string) (connectors.Message, error) {
	f.calls.Add(1)
	if f.err != nil {
		return connectors.Message{}, f.err
	}
	return connectors.Message{
		IdempotencyKey: "source-" + subjectID, Event: connectors.EventExecutiveRecoveryReport,
		Title: "Executive recovery report " + subjectID, Level: "warning", Summary: "Report for " + connector,
		OccurredAt: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC),
	}, nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// webhookRegistry configures one webhook connector per name, each posting
// to baseURL plus the given path on the loopback receiver.
func webhookRegistry(t testing.TB, baseURL string, paths map[string]string) *connectors.Registry {
	t.Helper()
	cfg := connectors.FileConfig{Connectors: map[string]connectors.ConnectorConfig{}}
	env := map[string]string{}
	for name, path := range paths {
		variable := fmt.Sprintf("RETRY_TEST_URL_%d", len(env))
		env[variable] = baseURL + path
		cfg.Connectors[name] = connectors.ConnectorConfig{Kind: connectors.KindWebhook, URLEnv: variable}
	}
	registry, err := connectors.NewRegistry(cfg, func(name string) (string, bool) {
		value, ok := env[name]
		return value, ok
	}, connectors.WithBackoff(time.Millisecond, 2*time.Millisecond), connectors.WithLogger(quietLogger()))
	if err != nil {
		t.Fatalf("NewRegistry: got error %v, want nil", err)
	}
	return registry
}

// newTestService returns a service on db that sends through registry. A nil
// registry leaves every destination unconfigured.
func newTestService(db *gorm.DB, registry *connectors.Registry, now func() time.Time, source MessageSource) *Service {
	var sender connectors.Sender
	var checker ConnectorChecker
	if registry != nil {
		sender, checker = registry, registry
	}
	return &Service{
		DB:              db,
		Delivery:        &delivery.Service{DB: db, Sender: sender, Now: now, Logger: quietLogger()},
		Connectors:      checker,
		Sources:         map[string]MessageSource{models.SubjectExecutiveReport: source, models.SubjectHealthAlert: source},
		Now:             now,
		Logger:          quietLogger(),
		SendOptions:     connectors.SendOptions{Retries: 0, Timeout: 2 * time.Second},
		InFlightTimeout: time.Minute,
	}
}

// insertDelivery stores one completed delivery of an executive report
// schedule run, as the executive package records it.
func insertDelivery(t testing.TB, db *gorm.DB, subjectID, connector string, success bool, class string, status int, at time.Time, retryAfter *time.Time) models.Delivery {
	t.Helper()
	return insertDeliveryOfKind(t, db, "webhook", subjectID, connector, success, class, status, at, retryAfter)
}

// insertDeliveryOfKind is insertDelivery through a connector of the given
// kind.
func insertDeliveryOfKind(t testing.TB, db *gorm.DB, kind, subjectID, connector string, success bool, class string, status int, at time.Time, retryAfter *time.Time) models.Delivery {
	t.Helper()
	record := models.Delivery{
		ID: models.NewID("dlv", at), SubjectKind: models.SubjectExecutiveReport, SubjectID: subjectID,
		SubjectKey: "rep_" + subjectID, Connector: connector, State: models.DeliveryInFlight, Attempts: "[]",
		RequestSummary: "{}", IdempotencyKey: "idem-" + subjectID + "-" + connector, Origin: models.OriginSend,
		Actor: "release.manager", StartedAt: at, CreatedAt: at,
	}
	if err := models.CreateDelivery(db, &record); err != nil {
		t.Fatalf("CreateDelivery: %v", err)
	}
	completed := at.Add(time.Second)
	record.Success = success
	record.ErrorClass = class
	record.StatusCode = status
	record.AttemptCount = 1
	record.ConnectorKind = kind
	record.CompletedAt = &completed
	record.RetryAfter = retryAfter
	if err := models.CompleteDelivery(context.Background(), db, &record); err != nil {
		t.Fatalf("CompleteDelivery: %v", err)
	}
	return record
}

// receivedKeys counts the requests the receiver got per webhook-id, the
// idempotency key of the generic webhook.
func receivedKeys(server *receiver.Server) map[string]int {
	counts := map[string]int{}
	for _, request := range server.Requests() {
		counts[request.Headers.Get("webhook-id")]++
	}
	return counts
}

func startReceiver(t testing.TB) *receiver.Server {
	t.Helper()
	server, err := receiver.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start receiver: %v", err)
	}
	t.Cleanup(func() { _ = server.Close() })
	return server
}

func boolPtr(b bool) *bool { return &b }

func countTable(t testing.TB, db *gorm.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Table(table).Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}
