package alerting_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/retry"
)

// blockingSender sends through next, but its first send signals entered and
// waits for release, so a retry stays in flight as long as a test needs.
type blockingSender struct {
	next             connectors.Sender
	entered, release chan struct{}
	once             sync.Once
}

func (h *blockingSender) Send(ctx context.Context, name string, msg connectors.Message, opts connectors.SendOptions) connectors.Result {
	h.once.Do(func() {
		close(h.entered)
		<-h.release
	})
	return h.next.Send(ctx, name, msg, opts)
}

// alertRetryWorker returns a retry worker for health alerts over the
// fixture's database that sends through sender.
func alertRetryWorker(f *fixture, sender connectors.Sender) *retry.Service {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &retry.Service{
		DB: f.db, Delivery: &delivery.Service{DB: f.db, Sender: sender, Now: f.clock.Now, Logger: logger},
		Connectors:  f.registry,
		Sources:     map[string]retry.MessageSource{models.SubjectHealthAlert: retry.MessageSourceFunc(f.service.AlertMessage)},
		Now:         f.clock.Now,
		Logger:      logger,
		SendOptions: connectors.SendOptions{Timeout: 2 * time.Second},
	}
}

func liveAlertRetry() retry.RunRequest {
	return retry.RunRequest{
		Execute: true, MaxRetryDeliveries: 5, MayRunLive: true, Actor: "tester", Schedule: retry.DefaultSchedule(),
		Policy: retry.Policy{MaxRetryAttempts: 3, AllowImmediateRetry: true, BackoffMultiplier: 2},
	}
}

// While a send of an alert holds its send lease, a retry of the same alert
// is skipped without waiting and left to a later run.
func TestRetryYieldsToSendOfSameAlert(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/fail/500/alpha"})
	first := f.deliver(t, nil)
	if first.Success {
		t.Fatalf("first send: got success, want a failure from the failing destination")
	}
	f.configure(t, map[string]string{"alpha": "/webhook/alpha"})
	f.clock.Advance(time.Minute)
	received := len(f.receiver.Requests())

	now := f.clock.Now()
	acquired, err := models.AcquireAlertSendLease(context.Background(), f.db, first.Health.Fingerprint, "lse_send_under_way", now, now.Add(5*time.Minute))
	if err != nil || !acquired {
		t.Fatalf("take the send lease as a send under way: acquired %v, %v", acquired, err)
	}
	worker := alertRetryWorker(f, f.registry)
	run, err := worker.Run(context.Background(), models.SubjectHealthAlert, liveAlertRetry())
	if err != nil {
		t.Fatalf("retry Run during the send: %v", err)
	}
	if run.Counts.DeliveredCount != 0 || run.Counts.SkippedCount != 1 {
		t.Errorf("run during the send: got %d delivered and %d skipped, want 0 and 1", run.Counts.DeliveredCount, run.Counts.SkippedCount)
	}
	if len(run.Executions) == 1 && !strings.Contains(run.Executions[0].Reason, "a send of alert "+first.Health.Fingerprint+" is under way") {
		t.Errorf("skip reason: got %q, want it to name the send under way", run.Executions[0].Reason)
	}
	if got := len(f.receiver.Requests()) - received; got != 0 {
		t.Errorf("requests during the send: got %d, want 0", got)
	}

	if err := models.ReleaseAlertSendLease(context.Background(), f.db, first.Health.Fingerprint, "lse_send_under_way"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	run, err = worker.Run(context.Background(), models.SubjectHealthAlert, liveAlertRetry())
	if err != nil {
		t.Fatalf("retry Run after the send: %v", err)
	}
	if run.Counts.DeliveredCount != 1 {
		t.Errorf("run after the send: got %d delivered, want 1", run.Counts.DeliveredCount)
	}
}

// While another live run holds an alert's send lease to retry it at other
// destinations, a run that selected the alert's retry elsewhere skips it.
// The reason names the run that holds the alert, not a send under way.
func TestRetryYieldsToRunOfSameAlert(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/fail/500/alpha"})
	first := f.deliver(t, nil)
	if first.Success {
		t.Fatalf("first send: got success, want a failure from the failing destination")
	}
	f.configure(t, map[string]string{"alpha": "/webhook/alpha"})
	f.clock.Advance(time.Minute)

	now := f.clock.Now()
	acquired, err := models.AcquireAlertSendLease(context.Background(), f.db, first.Health.Fingerprint, "rwr_other_run", now, now.Add(5*time.Minute))
	if err != nil || !acquired {
		t.Fatalf("take the send lease as another worker run: acquired %v, %v", acquired, err)
	}
	run, err := alertRetryWorker(f, f.registry).Run(context.Background(), models.SubjectHealthAlert, liveAlertRetry())
	if err != nil {
		t.Fatalf("retry Run: %v", err)
	}
	if run.Counts.SkippedCount != 1 || len(run.Executions) != 1 {
		t.Fatalf("run: got %d skipped and %d executions, want 1 and 1", run.Counts.SkippedCount, len(run.Executions))
	}
	if want := "worker run rwr_other_run holds the send lease of alert " + first.Health.Fingerprint; !strings.Contains(run.Executions[0].Reason, want) {
		t.Errorf("skip reason: got %q, want it to contain %q", run.Executions[0].Reason, want)
	}
}

// A send of an alert that starts while a retry of it is in flight waits
// for the retry, then finds its success and suppresses the duplicate.
func TestSendWaitsForRetryOfSameAlert(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/fail/500/alpha"})
	first := f.deliver(t, nil)
	if first.Success {
		t.Fatalf("first send: got success, want a failure from the failing destination")
	}
	f.configure(t, map[string]string{"alpha": "/webhook/alpha"})
	f.clock.Advance(time.Minute)
	received := len(f.receiver.Requests())

	sender := &blockingSender{next: f.registry, entered: make(chan struct{}), release: make(chan struct{})}
	worker := alertRetryWorker(f, sender)
	var run retry.RunView
	var runErr error
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		run, runErr = worker.Run(context.Background(), models.SubjectHealthAlert, liveAlertRetry())
	}()
	select {
	case <-sender.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the retry never started sending")
	}

	var second alerting.DeliverResult
	var sendErr error
	sendDone := make(chan struct{})
	go func() {
		defer close(sendDone)
		req := alerting.DefaultDeliverRequest()
		req.Actor, req.TimeoutSeconds, req.Retries = "tester", 2, 0
		second, sendErr = f.service.Deliver(context.Background(), req)
	}()
	select {
	case <-sendDone:
		t.Error("the send finished while a retry of the same alert was in flight")
	case <-time.After(300 * time.Millisecond):
	}
	close(sender.release)
	<-runDone
	<-sendDone
	if runErr != nil || sendErr != nil {
		t.Fatalf("retry Run: %v; Deliver: %v", runErr, sendErr)
	}

	if run.Counts.DeliveredCount != 1 {
		t.Errorf("retry run: got %d delivered, want 1", run.Counts.DeliveredCount)
	}
	if second.Health.Fingerprint != first.Health.Fingerprint {
		t.Fatalf("second send: fingerprint %s, want the first send's %s", second.Health.Fingerprint, first.Health.Fingerprint)
	}
	suppressed := false
	for _, provider := range second.Plan.SuppressedProviders {
		suppressed = suppressed || provider.Provider == "alpha"
	}
	if !suppressed || len(second.Plan.SelectedProviders) != 0 {
		t.Errorf("second send: selected %v and suppressed %+v, want alpha suppressed by the retry's success",
			second.Plan.SelectedProviders, second.Plan.SuppressedProviders)
	}
	if got := len(f.receiver.Requests()) - received; got != 1 {
		t.Errorf("requests after the first send: got %d, want 1 (the retry's)", got)
	}
}
