package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/retry"
	"github.com/releaseops/evidence-console/views"
)

// failDeliveryWithRetryAfter stores a failed executive delivery of schedule
// run runID to connector that returned statusCode with Retry-After
// retryAfter.
func (s *retryTestServer) failDeliveryWithRetryAfter(runID, connector string, statusCode int, class string, at, retryAfter time.Time) {
	s.t.Helper()
	record := models.Delivery{
		ID: models.NewID("dlv", at), SubjectKind: models.SubjectExecutiveReport, SubjectID: runID, SubjectKey: "rep_" + runID,
		Connector: connector, State: models.DeliveryInFlight, Attempts: "[]", RequestSummary: "{}",
		IdempotencyKey: "idem-" + runID, Origin: models.OriginSend, Actor: "release.manager", StartedAt: at, CreatedAt: at,
	}
	if err := models.CreateDelivery(s.db, &record); err != nil {
		s.t.Fatal(err)
	}
	record.ErrorClass, record.StatusCode, record.ConnectorKind, record.CompletedAt = class, statusCode, "webhook", &at
	record.RetryAfter = &retryAfter
	if err := models.CompleteDelivery(context.Background(), s.db, &record); err != nil {
		s.t.Fatal(err)
	}
}

// newWaitingRetryServer stores two failures whose Retry-After is two
// minutes after testNow, and returns the server and that time.
func newWaitingRetryServer(t *testing.T) (*retryTestServer, time.Time) {
	t.Helper()
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec", "pager": "/webhook/pager"})
	retryAfter := testNow.Add(2 * time.Minute)
	s.failDeliveryWithRetryAfter("run_1", "webhook", 503, "server_error", testNow.Add(-time.Minute), retryAfter)
	s.failDeliveryWithRetryAfter("run_1", "pager", 503, "server_error", testNow.Add(-time.Minute), retryAfter.Add(time.Minute))
	return s, retryAfter
}

const immediatePolicyForm = "max_retry_attempts=3&retry_delay_minutes=0&allow_immediate_retry=true&backoff_multiplier=2&max_retry_deliveries=5"

func TestRetryDryRunNamesWaitingFailures(t *testing.T) {
	s, retryAfter := newWaitingRetryServer(t)

	rec := s.postForm("/console/executive-retry/run", "dry_run=true&"+immediatePolicyForm, "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	got := byTestID(document(t, rec), "retry-run-decisions-empty").Text()
	want := "2 failed deliveries are open (2 waiting, 0 suppressed); none is due before " + views.FormatTimeSeconds(retryAfter, time.UTC) + "."
	if got != want {
		t.Errorf("dry run text: got %q, want %q", got, want)
	}
	if strings.Contains(got, "No failed deliveries are open") {
		t.Errorf("dry run text: got %q, want no claim that nothing is open", got)
	}
}

func TestRetryWorkerRunJSONCountsWaitingFailures(t *testing.T) {
	s, retryAfter := newWaitingRetryServer(t)

	rec := s.postJSON(executiveRetryRunPath, `{"retry_policy":{"retry_delay_minutes":0,"allow_immediate_retry":true}}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	var run retry.RunView
	if err := json.Unmarshal(rec.Body.Bytes(), &run); err != nil {
		t.Fatalf("decode run: %v", err)
	}
	open := run.OpenFailures
	if open.DecisionCount != 2 {
		t.Errorf("open_failures.decision_count: got %d, want 2", open.DecisionCount)
	}
	if open.WaitCount != 2 {
		t.Errorf("open_failures.wait_count: got %d, want 2", open.WaitCount)
	}
	if open.SuppressCount != 0 {
		t.Errorf("open_failures.suppress_count: got %d, want 0", open.SuppressCount)
	}
	if open.NextRetryAt == nil || !open.NextRetryAt.Equal(retryAfter) {
		t.Errorf("open_failures.next_retry_at: got %v, want %v", open.NextRetryAt, retryAfter)
	}
	if !strings.Contains(rec.Body.String(), `"open_failures":{`) {
		t.Errorf("run JSON: got %s, want an open_failures object", rec.Body.String())
	}

	// The stored run reads back with the same facts.
	stored := s.do(http.MethodGet, executiveRetryRunsPath+"/"+run.WorkerRunID, "", "")
	var again retry.RunView
	if err := json.Unmarshal(stored.Body.Bytes(), &again); err != nil {
		t.Fatalf("decode stored run: %v", err)
	}
	if again.OpenFailures.NextRetryAt == nil || !again.OpenFailures.NextRetryAt.Equal(retryAfter) {
		t.Errorf("stored next_retry_at: got %v, want %v", again.OpenFailures.NextRetryAt, retryAfter)
	}
}

func TestRetryConfirmBlockedWhenNothingDue(t *testing.T) {
	s, retryAfter := newWaitingRetryServer(t)

	rec := s.postForm("/console/executive-retry/confirm", immediatePolicyForm, "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	doc := document(t, rec)
	if got := strings.TrimSpace(byTestID(doc, "retry-confirm-summary").Text()); got != "" {
		t.Errorf("confirmation summary: got %q, want none beside the blocked reason that says nothing is due", got)
	}
	blocked := byTestID(doc, "retry-confirm-blocked").Text()
	if want := "none is due before " + views.FormatTimeSeconds(retryAfter, time.UTC); !strings.Contains(blocked, want) {
		t.Errorf("blocked reason: got %q, want it to contain %q", blocked, want)
	}
	if !strings.Contains(blocked, "2 failed deliveries are open") {
		t.Errorf("blocked reason: got %q, want it to count 2 open failures", blocked)
	}
	if got := strings.Count(byTestID(doc, "retry-confirm").Text(), "2 failed deliveries are open"); got != 1 {
		t.Errorf("confirmation: says the open failures %d times, want once", got)
	}
	button := byTestID(doc, "run-live-retry")
	if _, disabled := button.Attr("disabled"); !disabled {
		t.Error("live run button: enabled, want disabled")
	}
	if got := describedText(t, doc, button); got != blocked {
		t.Errorf("live run button description: got %q, want the blocked reason %q", got, blocked)
	}
	if got := byTestID(doc, "retry-confirm-checkbox").Length(); got != 0 {
		t.Errorf("confirmation checkboxes: got %d, want 0", got)
	}
	if got := byTestID(doc, "retry-confirm-decisions-empty").Text(); strings.Contains(got, "No failed deliveries are open") {
		t.Errorf("confirmation decisions: got %q, want the waiting failures named", got)
	}
}
