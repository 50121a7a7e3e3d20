package alerting_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/retry"
)

// A destination that received an alert from a later plan must not get it
// again from a retry of the earlier plan whose send to it failed.
func TestRetrySkipsAlertDeliveredLater(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/fail/500/alpha"})
	first := f.deliver(t, nil)
	if first.Success {
		t.Fatalf("first send: got success, want a failure from the failing destination")
	}

	// The destination recovers, and the same alert is sent again: it is
	// not suppressed, because the first delivery failed.
	f.configure(t, map[string]string{"alpha": "/webhook/alpha"})
	f.clock.Advance(time.Minute)
	second := f.deliver(t, nil)
	if second.Health.Fingerprint != first.Health.Fingerprint || !second.Success {
		t.Fatalf("second send: fingerprint %s (first %s), success %v; want the same alert delivered",
			second.Health.Fingerprint, first.Health.Fingerprint, second.Success)
	}
	received := len(f.receiver.Requests())

	f.clock.Advance(time.Minute)
	worker := &retry.Service{
		DB: f.db, Delivery: f.service.Delivery, Connectors: f.registry,
		Sources:     map[string]retry.MessageSource{models.SubjectHealthAlert: retry.MessageSourceFunc(f.service.AlertMessage)},
		Now:         f.clock.Now,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		SendOptions: connectors.SendOptions{Timeout: 2 * time.Second},
	}
	run, err := worker.Run(context.Background(), models.SubjectHealthAlert, retry.RunRequest{
		Execute: true, MaxRetryDeliveries: 5, MayRunLive: true, Actor: "tester", Schedule: retry.DefaultSchedule(),
		Policy: retry.Policy{MaxRetryAttempts: 3, AllowImmediateRetry: true, BackoffMultiplier: 2},
	})
	if err != nil {
		t.Fatalf("retry Run: %v", err)
	}
	if got := len(f.receiver.Requests()) - received; got != 0 {
		t.Errorf("alert %s sent again to alpha by retry run %s (%d delivered): got %d more requests, want 0, because plan %s delivered it %s earlier",
			first.Health.Fingerprint, run.WorkerRunID, run.Counts.DeliveredCount, got, second.Plan.PlanID, time.Minute)
	}
	// The run suppresses the group instead of selecting and skipping it, so
	// it takes no slot of this or any later run.
	if run.Counts.SelectedCount != 0 {
		t.Errorf("selected decisions: got %d, want 0", run.Counts.SelectedCount)
	}
	if run.OpenFailures.SuppressCount != 1 {
		t.Errorf("suppressed groups in the run tally: got %d, want 1", run.OpenFailures.SuppressCount)
	}

	plan, err := worker.Plan(context.Background(), models.SubjectHealthAlert, retry.Policy{MaxRetryAttempts: 3, AllowImmediateRetry: true, BackoffMultiplier: 2}, "tester")
	if err != nil {
		t.Fatalf("retry Plan: %v", err)
	}
	if len(plan.Decisions) != 1 {
		t.Fatalf("plan decisions: got %d, want 1", len(plan.Decisions))
	}
	if got := plan.Decisions[0].Action; got != retry.ActionSuppress {
		t.Errorf("plan decision: got %q (%s), want %q", got, plan.Decisions[0].Reason, retry.ActionSuppress)
	}
	if reason := plan.Decisions[0].Reason; !strings.Contains(reason, first.Health.Fingerprint) {
		t.Errorf("plan decision reason: got %q, want it to name alert %s", reason, first.Health.Fingerprint)
	}
}

// Two plans of one alert that both failed to a destination are retried
// once there, not once per plan.
func TestRetrySendsAlertOncePerDestination(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/fail/500/alpha"})
	first := f.deliver(t, nil)
	f.clock.Advance(time.Minute)
	second := f.deliver(t, nil)
	if first.Success || second.Success || second.Health.Fingerprint != first.Health.Fingerprint {
		t.Fatalf("sends: success %v and %v, fingerprints %s and %s; want two failed sends of one alert",
			first.Success, second.Success, first.Health.Fingerprint, second.Health.Fingerprint)
	}

	f.configure(t, map[string]string{"alpha": "/webhook/alpha"})
	f.clock.Advance(time.Minute)
	received := len(f.receiver.Requests())
	worker := &retry.Service{
		DB: f.db, Delivery: f.service.Delivery, Connectors: f.registry,
		Sources:     map[string]retry.MessageSource{models.SubjectHealthAlert: retry.MessageSourceFunc(f.service.AlertMessage)},
		Now:         f.clock.Now,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		SendOptions: connectors.SendOptions{Timeout: 2 * time.Second},
	}
	request := retry.RunRequest{
		Execute: true, MaxRetryDeliveries: 5, MayRunLive: true, Actor: "tester", Schedule: retry.DefaultSchedule(),
		Policy: retry.Policy{MaxRetryAttempts: 3, AllowImmediateRetry: true, BackoffMultiplier: 2},
	}

	run, err := worker.Run(context.Background(), models.SubjectHealthAlert, request)
	if err != nil {
		t.Fatalf("first retry Run: %v", err)
	}
	if run.Counts.DeliveredCount != 1 {
		t.Errorf("first run delivered: got %d, want 1", run.Counts.DeliveredCount)
	}
	f.clock.Advance(time.Minute)
	later, err := worker.Run(context.Background(), models.SubjectHealthAlert, request)
	if err != nil {
		t.Fatalf("second retry Run: %v", err)
	}
	if later.Counts.SelectedCount != 0 {
		t.Errorf("second run selected: got %d, want 0 once the alert was delivered", later.Counts.SelectedCount)
	}
	if got := len(f.receiver.Requests()) - received; got != 1 {
		t.Errorf("requests to alpha from both runs: got %d, want 1", got)
	}
}
