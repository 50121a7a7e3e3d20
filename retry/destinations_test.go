package retry

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// registryWithUnready configures "webhook" on the receiver and "broken",
// whose URL variable is not set, so it cannot send.
func registryWithUnready(t *testing.T, baseURL string) *connectors.Registry {
	t.Helper()
	cfg := connectors.FileConfig{Connectors: map[string]connectors.ConnectorConfig{
		"webhook": {Kind: connectors.KindWebhook, URLEnv: "RETRY_TEST_WEBHOOK_URL"},
		"broken":  {Kind: connectors.KindWebhook, URLEnv: "RETRY_TEST_BROKEN_URL"},
	}}
	registry, err := connectors.NewRegistry(cfg, func(name string) (string, bool) {
		if name == "RETRY_TEST_WEBHOOK_URL" {
			return baseURL + "/webhook/ok", true
		}
		return "", false
	}, connectors.WithLogger(quietLogger()))
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	return registry
}

// A destination that cannot send blocks a live run that would retry to it,
// and a run limited to the other destinations sends their retries and
// leaves its retry waiting.
func TestLiveRunLeavesOutUnreadyDestination(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	service := newTestService(db, registryWithUnready(t, server.URL), (&testClock{now: serviceStart}).Now, &fakeSource{})
	insertDelivery(t, db, "run_1", "broken", false, "server_error", 503, serviceStart.Add(-3*time.Hour), nil)
	insertDelivery(t, db, "run_2", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)

	_, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(DefaultPolicy()))
	var guard *GuardError
	if !errors.As(err, &guard) {
		t.Fatalf("live run to every destination: got error %v, want a guard error", err)
	}

	preview, err := service.Preview(context.Background(), models.SubjectExecutiveReport, DefaultPolicy(), DefaultMaxRetryDeliveries, nil)
	if err != nil {
		t.Fatalf("Preview: %v", err)
	}
	if !slices.Equal(preview.ReadyDestinations, []string{"webhook"}) {
		t.Errorf("ready destinations: got %v, want [webhook]", preview.ReadyDestinations)
	}

	// A limit that names the destination itself points at the limit.
	request := liveRequest(DefaultPolicy())
	request.Destinations = []string{"broken", "webhook"}
	_, err = service.Run(context.Background(), models.SubjectExecutiveReport, request)
	if !errors.As(err, &guard) || guard.Field != "destinations" {
		t.Fatalf("live run limited to broken and webhook: got error %v, want a guard error on destinations", err)
	}

	request.Destinations = preview.ReadyDestinations
	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
	if err != nil {
		t.Fatalf("live run limited to webhook: %v", err)
	}
	if run.Counts.DeliveredCount != 1 || len(run.SelectedDecisions) != 1 || run.SelectedDecisions[0].Provider != "webhook" {
		t.Errorf("limited run: got counts %+v and %d selected, want 1 delivered to webhook", run.Counts, len(run.SelectedDecisions))
	}
	if got := len(server.Requests()); got != 1 {
		t.Errorf("requests to the receiver: got %d, want 1", got)
	}
	if got := countTable(t, db, "retry_executions"); got != 1 {
		t.Errorf("executions: got %d, want 1 (none to broken)", got)
	}
}

// A live run limited to a destination that cannot send is rejected even
// when none of its retries is due, and writes nothing.
func TestLiveRunRejectsUnreadyLimitWithoutDueRetry(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	service := newTestService(db, registryWithUnready(t, server.URL), (&testClock{now: serviceStart}).Now, &fakeSource{})
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)

	request := liveRequest(DefaultPolicy())
	request.Destinations = []string{"webhook", "broken"}
	_, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
	var guard *GuardError
	if !errors.As(err, &guard) || guard.Field != "destinations" {
		t.Fatalf("live run limited to webhook and broken: got error %v, want a guard error on destinations", err)
	}
	if got := countTable(t, db, "retry_worker_runs"); got != 0 {
		t.Errorf("worker runs stored: got %d, want 0", got)
	}
	if got := len(server.Requests()); got != 0 {
		t.Errorf("requests to the receiver: got %d, want 0", got)
	}

	// A dry run may name it, and shows that a live run would be rejected.
	request.Execute = false
	dry, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
	if err != nil {
		t.Fatalf("dry run limited to webhook and broken: %v", err)
	}
	if _, ok := dry.NotReady["broken"]; !ok {
		t.Errorf("dry run not_ready: got %v, want broken named", dry.NotReady)
	}
	preview, err := service.Preview(context.Background(), models.SubjectExecutiveReport, DefaultPolicy(), DefaultMaxRetryDeliveries, request.Destinations)
	if err != nil {
		t.Fatalf("Preview: %v", err)
	}
	if _, ok := preview.NotReady["broken"]; !ok {
		t.Errorf("preview not_ready: got %v, want broken named", preview.NotReady)
	}
}

func TestRunRejectsUnknownDestination(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	service := newTestService(db, registryWithUnready(t, server.URL), (&testClock{now: serviceStart}).Now, &fakeSource{})
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)

	request := liveRequest(DefaultPolicy())
	request.Destinations = []string{"webhok"}
	_, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
	var validation *ValidationError
	if !errors.As(err, &validation) || validation.Field != "destinations" || !validation.Unprocessable {
		t.Fatalf("run with an unknown destination: got %v, want a 422 on destinations", err)
	}
	if got := countTable(t, db, "retry_worker_runs"); got != 0 {
		t.Errorf("worker runs stored: got %d, want 0", got)
	}
	if got := len(server.Requests()); got != 0 {
		t.Errorf("requests to the receiver: got %d, want 0", got)
	}
}

func TestNormalizeDestinations(t *testing.T) {
	got, err := NormalizeDestinations([]string{" Webhook", "slack", "webhook"})
	if err != nil || !slices.Equal(got, []string{"webhook", "slack"}) {
		t.Errorf("NormalizeDestinations: got %v, %v; want [webhook slack]", got, err)
	}
	for _, names := range [][]string{{""}, {"all"}, {"slack", " "}} {
		if _, err := NormalizeDestinations(names); err == nil {
			t.Errorf("NormalizeDestinations(%q): got no error, want one", names)
		}
	}
}
