package retry

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func intPtr(n int) *int { return &n }

func floatPtr(f float64) *float64 { return &f }

func TestRunRejectsSendOptionsOutOfRange(t *testing.T) {
	tests := []struct {
		name    string
		retries *int
		timeout *float64
		field   string
	}{
		{"negative retries", intPtr(-1), nil, "retries"},
		{"too many retries", intPtr(6), nil, "retries"},
		{"timeout below the minimum", nil, floatPtr(0.05), "timeout_seconds"},
		{"timeout above the maximum", nil, floatPtr(61), "timeout_seconds"},
		{"timeout not a number", nil, floatPtr(math.NaN()), "timeout_seconds"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			request := liveRequest(DefaultPolicy())
			request.Retries, request.TimeoutSeconds = test.retries, test.timeout
			var invalid *ValidationError
			if err := request.Validate(); !errors.As(err, &invalid) || invalid.Field != test.field || invalid.Unprocessable {
				t.Fatalf("Validate: got %v, want a 400 error naming %s", err, test.field)
			}
		})
	}

	request := liveRequest(DefaultPolicy())
	request.Retries, request.TimeoutSeconds = intPtr(0), floatPtr(0.1)
	if err := request.Validate(); err != nil {
		t.Errorf("Validate at the lower bounds: got %v, want nil", err)
	}
	request.Retries, request.TimeoutSeconds = intPtr(5), floatPtr(60)
	if err := request.Validate(); err != nil {
		t.Errorf("Validate at the upper bounds: got %v, want nil", err)
	}
}

func TestRunRejectsSendsOutlastingInFlight(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), (&testClock{now: serviceStart}).Now, &fakeSource{})
	service.Concurrency = 4
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)

	// Two attempts of 12 s with a 2 s pause take 26 s. Eight deliveries
	// four at a time take two rounds, so 52 s: more than the 48 s, four
	// fifths of the in-flight timeout, that a run may spend sending.
	request := liveRequest(immediatePolicy())
	request.MaxRetryDeliveries = 8
	request.Retries, request.TimeoutSeconds = intPtr(1), floatPtr(12)
	_, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
	var invalid *ValidationError
	if !errors.As(err, &invalid) || invalid.Field != "timeout_seconds" || !invalid.Unprocessable {
		t.Fatalf("Run: got %v, want a 422 error naming timeout_seconds", err)
	}
	for _, want := range []string{"1m0s", "max_retry_deliveries"} {
		if !strings.Contains(invalid.Message, want) {
			t.Errorf("message %q: want it to contain %q", invalid.Message, want)
		}
	}
	if got := countTable(t, db, "retry_worker_runs"); got != 0 {
		t.Errorf("worker runs: got %d, want 0", got)
	}
	if got := len(server.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}

	// One second less per attempt takes exactly 48 s, which fits.
	request.TimeoutSeconds = floatPtr(11)
	if _, err := service.Run(context.Background(), models.SubjectExecutiveReport, request); err != nil {
		t.Fatalf("Run with 11 s attempts: got %v, want nil", err)
	}
}

func TestRunSendsWithRequestedOptions(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{
		"webhook": "/fail/500/webhook", "slow": "/hang/slow",
	}), clock.Now, &fakeSource{})
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 500, serviceStart.Add(-2*time.Hour), nil)
	insertDelivery(t, db, "run_1", "slow", false, "server_error", 500, serviceStart.Add(-2*time.Hour), nil)

	request := liveRequest(immediatePolicy())
	request.Retries, request.TimeoutSeconds = intPtr(2), floatPtr(0.25)
	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if run.Retries != 2 || run.TimeoutSeconds != 0.25 {
		t.Errorf("run send options: got retries %d and timeout_seconds %g, want 2 and 0.25", run.Retries, run.TimeoutSeconds)
	}
	if len(run.Executions) != 2 {
		t.Fatalf("executions: got %d, want 2", len(run.Executions))
	}
	for _, execution := range run.Executions {
		got := execution.Delivery
		if got == nil {
			t.Fatalf("execution %s: no delivery", execution.ExecutionID)
		}
		wantClass := "server_error"
		if execution.Provider == "slow" {
			wantClass = "timeout"
		}
		if got.AttemptCount != 3 || got.ErrorClass != wantClass {
			t.Errorf("%s delivery: got %d attempts of class %s, want 3 of %s", execution.Provider, got.AttemptCount, got.ErrorClass, wantClass)
		}
	}
	if got := len(server.Requests()); got != 6 {
		t.Errorf("receiver requests: got %d, want 6", got)
	}

	stored, err := service.WorkerRun(context.Background(), run.WorkerRunID)
	if err != nil {
		t.Fatalf("WorkerRun: %v", err)
	}
	assertSameView(t, run, stored)
}

func TestRunRecordsDefaultSendOptions(t *testing.T) {
	db := dbtest.Open(t)
	service := newTestService(db, nil, (&testClock{now: serviceStart}).Now, &fakeSource{})
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, RunRequest{
		MaxRetryDeliveries: DefaultMaxRetryDeliveries, Policy: immediatePolicy(), Schedule: DefaultSchedule(), Actor: "release.manager",
	})
	if err != nil {
		t.Fatalf("dry Run: %v", err)
	}
	if run.Retries != service.SendOptions.Retries || run.TimeoutSeconds != service.SendOptions.Timeout.Seconds() {
		t.Errorf("dry run send options: got retries %d and timeout_seconds %g, want the service's %d and %g",
			run.Retries, run.TimeoutSeconds, service.SendOptions.Retries, service.SendOptions.Timeout.Seconds())
	}
}
