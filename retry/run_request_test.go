package retry

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func TestRunRequestValidateRunMode(t *testing.T) {
	cases := []struct {
		name     string
		dryRun   *bool
		execute  bool
		wantLive bool
		// wantField is the field of the expected 422, or "" when the
		// request is valid.
		wantField string
	}{
		{"neither flag", nil, false, false, ""},
		{"dry run", boolPtr(true), false, false, ""},
		{"execute", nil, true, true, ""},
		{"execute with dry_run false", boolPtr(false), true, true, ""},
		{"dry_run false alone", boolPtr(false), false, false, "dry_run"},
		{"both true", boolPtr(true), true, false, "execute"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			request := RunRequest{DryRun: tc.dryRun, Execute: tc.execute, MaxRetryDeliveries: DefaultMaxRetryDeliveries,
				Policy: DefaultPolicy(), Schedule: DefaultSchedule()}

			err := request.Validate()

			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("Validate: got %v, want nil", err)
				}
				if got := request.Live(); got != tc.wantLive {
					t.Errorf("Live: got %v, want %v", got, tc.wantLive)
				}
				return
			}
			var validation *ValidationError
			if !errors.As(err, &validation) {
				t.Fatalf("Validate: got %v, want a *ValidationError", err)
			}
			if validation.Field != tc.wantField {
				t.Errorf("field: got %q, want %q", validation.Field, tc.wantField)
			}
			if !validation.Unprocessable {
				t.Error("unprocessable: got false, want true (a 422)")
			}
		})
	}
}

func TestRunRequestMaxRetryDeliveriesRange(t *testing.T) {
	cases := []struct {
		name      string
		max       int
		wantValid bool
	}{
		{"zero", 0, false},
		{"minimum", 1, true},
		{"maximum", 25, true},
		{"above maximum", 26, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			request := RunRequest{MaxRetryDeliveries: tc.max, Policy: DefaultPolicy(), Schedule: DefaultSchedule()}

			err := request.Validate()

			if tc.wantValid {
				if err != nil {
					t.Fatalf("Validate: got %v, want nil", err)
				}
				return
			}
			var validation *ValidationError
			if !errors.As(err, &validation) {
				t.Fatalf("Validate: got %v, want a *ValidationError", err)
			}
			if validation.Field != "max_retry_deliveries" {
				t.Errorf("field: got %q, want %q", validation.Field, "max_retry_deliveries")
			}
			if validation.Unprocessable {
				t.Error("unprocessable: got true, want false (a 400)")
			}
		})
	}
}

func TestRunRequestDryRunFalseMessage(t *testing.T) {
	request := RunRequest{DryRun: boolPtr(false), MaxRetryDeliveries: DefaultMaxRetryDeliveries, Policy: DefaultPolicy(), Schedule: DefaultSchedule()}

	err := request.Validate()

	if err == nil {
		t.Fatal("Validate: got nil, want an error")
	}
	for _, part := range []string{"dry_run is false", "send execute: true for a live run", "leave dry_run out (or send dry_run: true) for a dry run"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("message: got %q, want it to contain %q", err, part)
		}
	}
}

// TestDryRunFalseWithoutExecuteRunsNothing checks that the service rejects
// the request before it plans, records or sends anything.
func TestDryRunFalseWithoutExecuteRunsNothing(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	registry := webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"})
	service := newTestService(db, registry, clock.Now, &fakeSource{})
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	before := dbtest.CountRows(t, db)

	request := liveRequest(DefaultPolicy())
	request.Execute = false
	request.DryRun = boolPtr(false)
	_, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)

	var validation *ValidationError
	if !errors.As(err, &validation) || validation.Field != "dry_run" || !validation.Unprocessable {
		t.Fatalf("Run: got %v, want an unprocessable *ValidationError on dry_run", err)
	}
	if got := len(server.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
	after := dbtest.CountRows(t, db)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("rows of %s: got %d, want %d", table, after[table], n)
		}
	}
}

func TestRunLengthLeavesRoomToRecord(t *testing.T) {
	service := newTestService(nil, nil, time.Now, &fakeSource{})
	service.InFlightTimeout = DefaultInFlightTimeout
	cases := []struct {
		name       string
		deliveries int
		timeout    float64
		wantValid  bool
	}{
		// Four sends at a time, no quick retry: one round per four
		// deliveries, each as long as the timeout.
		{"four rounds of 60 seconds", 16, 60, true},
		{"five rounds just under 60 seconds", 20, 59.999, false},
		{"five rounds of 48 seconds", 20, 48, true},
		{"five rounds just over 48 seconds", 20, 48.001, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			retries, timeout := 0, tc.timeout
			request := RunRequest{MaxRetryDeliveries: tc.deliveries, Policy: DefaultPolicy(), Schedule: DefaultSchedule(),
				Retries: &retries, TimeoutSeconds: &timeout}

			_, err := service.ResolveSendOptions(request)

			if tc.wantValid && err != nil {
				t.Errorf("ResolveSendOptions: got %v, want nil", err)
			}
			if !tc.wantValid && err == nil {
				t.Errorf("ResolveSendOptions: got nil, want an error about the run's length")
			}
		})
	}
}
