package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models/dbtest"
	"github.com/releaseops/evidence-console/retry"
)

func TestWorkerRunDryRunFalseNeedsExecute(t *testing.T) {
	cases := []struct {
		name, path, body string
		wantStatus       int
		wantMode         string
		wantRequests     int
	}{
		{"dry_run false alone", executiveRetryRunPath, `{"dry_run":false}`, http.StatusUnprocessableEntity, "", 0},
		{"dry_run false with execute false", executiveRetryRunPath, `{"dry_run":false,"execute":false}`, http.StatusUnprocessableEntity, "", 0},
		{"alert run dry_run false alone", alertRetryPath + "/retry-worker-run", `{"dry_run":false}`, http.StatusUnprocessableEntity, "", 0},
		{"alert run dry_run false with execute false", alertRetryPath + "/retry-worker-run", `{"execute":false,"dry_run":false}`,
			http.StatusUnprocessableEntity, "", 0},
		{"execute false alone", executiveRetryRunPath, `{"execute":false}`, http.StatusCreated, retry.ModeDryRun, 0},
		{"dry_run true with execute false", executiveRetryRunPath, `{"dry_run":true,"execute":false}`, http.StatusCreated, retry.ModeDryRun, 0},
		{"alert run execute false alone", alertRetryPath + "/retry-worker-run", `{"execute":false}`, http.StatusCreated, retry.ModeDryRun, 0},
		{"dry_run false with execute true", executiveRetryRunPath, `{"dry_run":false,"execute":true}`, http.StatusCreated, retry.ModeLive, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
			s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
			before := dbtest.CountRows(t, s.db)

			rec := s.postJSON(tc.path, tc.body)

			if rec.Code != tc.wantStatus {
				t.Fatalf("status: got %d, want %d: %s", rec.Code, tc.wantStatus, rec.Body.String())
			}
			if got := len(s.receiver.Requests()); got != tc.wantRequests {
				t.Errorf("receiver requests: got %d, want %d", got, tc.wantRequests)
			}
			if tc.wantStatus != http.StatusUnprocessableEntity {
				if want := `"mode":"` + tc.wantMode + `"`; !strings.Contains(rec.Body.String(), want) {
					t.Errorf("body: got %.300s, want %s", rec.Body.String(), want)
				}
				return
			}
			apiErr := errorOf(t, rec.Body.String())
			if apiErr.Field != "dry_run" {
				t.Errorf("field: got %q, want dry_run", apiErr.Field)
			}
			if apiErr.Code != CodeUnprocessable {
				t.Errorf("code: got %q, want %q", apiErr.Code, CodeUnprocessable)
			}
			for _, part := range []string{"dry_run is false", "execute: true for a live run", "leave dry_run out (or send dry_run: true) for a dry run"} {
				if !strings.Contains(apiErr.Message, part) {
					t.Errorf("message: got %q, want it to contain %q", apiErr.Message, part)
				}
			}
			if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
				t.Errorf("row counts: got %v, want %v", after, before)
			}
		})
	}
}

// TestConsoleRetryFormsKeepWorking posts what the console's run form and
// its live run confirmation send, and a form that sets dry_run false alone.
func TestConsoleRetryFormsKeepWorking(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
	form := "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2&max_retry_deliveries=5&retries=1&timeout_seconds=10"

	rec := s.postForm("/console/executive-retry/run", "dry_run=true&"+form, "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("dry run form: got %d, want 200: %s", rec.Code, rec.Body.String())
	}
	if got := byTestID(document(t, rec), "retry-run").AttrOr("data-mode", ""); got != retry.ModeDryRun {
		t.Errorf("dry run form mode: got %q, want %q", got, retry.ModeDryRun)
	}

	// "Prepare live run…" posts the run form, dry_run=true included, to
	// the confirmation step.
	rec = s.postForm("/console/executive-retry/confirm", "dry_run=true&"+form, "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("confirmation step: got %d, want 200: %s", rec.Code, rec.Body.String())
	}
	if byTestID(document(t, rec), "retry-confirm-form").Length() != 1 {
		t.Error("confirmation step: no confirmation form")
	}

	rec = s.postForm("/console/executive-retry/run", "dry_run=false&"+form, "HX-Request", "true")
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("dry_run false form: got %d, want 422: %s", rec.Code, rec.Body.String())
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Fatalf("receiver requests before the confirmed live run: got %d, want 0", got)
	}

	rec = s.postForm("/console/executive-retry/run",
		"execute=true&"+form+"&allow_immediate_retry=false&confirmed_destinations=webhook&confirmed_count=1&confirm=true", "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("confirmed live run: got %d, want 200: %s", rec.Code, rec.Body.String())
	}
	if got := byTestID(document(t, rec), "retry-run").AttrOr("data-mode", ""); got != retry.ModeLive {
		t.Errorf("confirmed live run mode: got %q, want %q", got, retry.ModeLive)
	}
	if got := len(s.receiver.Requests()); got != 1 {
		t.Errorf("receiver requests after the confirmed live run: got %d, want 1", got)
	}
}
