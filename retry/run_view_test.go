package retry

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// missingSource rebuilds messages like fakeSource, except for the subjects
// in missing, whose messages are unavailable.
type missingSource struct {
	fakeSource
	missing map[string]bool
}

func (m *missingSource) Message(ctx context.Context, subjectID, connector string) (connectors.Message, error) {
	if m.missing[subjectID] {
		return connectors.Message{}, errors.New("report of " + subjectID + " not found")
	}
	return m.fakeSource.Message(ctx, subjectID, connector)
}

// utcTimes converts every time.Time reachable from v to UTC in place. Times
// read back from the database may carry another location than the UTC
// times that Run holds, so views are compared by instant.
func utcTimes(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			utcTimes(v.Elem())
		}
	case reflect.Struct:
		if t, ok := v.Addr().Interface().(*time.Time); ok {
			*t = t.UTC()
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				utcTimes(v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			utcTimes(v.Index(i))
		}
	}
}

// assertSameView fails unless got and want hold the same values, with
// times compared by instant.
func assertSameView(t *testing.T, got, want RunView) {
	t.Helper()
	utcTimes(reflect.ValueOf(&got))
	utcTimes(reflect.ValueOf(&want))
	if reflect.DeepEqual(got, want) {
		return
	}
	gotJSON, _ := json.MarshalIndent(got, "", "  ")
	wantJSON, _ := json.MarshalIndent(want, "", "  ")
	t.Errorf("view returned by Run differs from WorkerRun:\n got  %s\n want %s", gotJSON, wantJSON)
}

func TestRunViewEqualsWorkerRun(t *testing.T) {
	// After two failures this policy waits 7 × 1.23456789 minutes, which is
	// not a whole number of microseconds, but PostgreSQL keeps the waiting
	// group's next retry time only to the microsecond.
	policy := Policy{MaxRetryAttempts: 5, RetryDelayMinutes: 7, BackoffMultiplier: 1.23456789}
	cases := []struct {
		name    string
		request RunRequest
	}{
		{"live", liveRequest(policy)},
		{"dry run", RunRequest{MaxRetryDeliveries: 5, Policy: policy, Schedule: DefaultSchedule(), Actor: "viewer"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := dbtest.Open(t)
			server := startReceiver(t)
			registry := webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec", "failing": "/fail/503/webhook"})
			source := &missingSource{missing: map[string]bool{"run_missing": true}}
			service := newTestService(db, registry, time.Now, source)
			now := time.Now()
			insertDelivery(t, db, "run_delivered", "webhook", false, "server_error", 503, now.Add(-3*time.Hour), nil)
			insertDelivery(t, db, "run_failed", "failing", false, "server_error", 503, now.Add(-3*time.Hour), nil)
			insertDelivery(t, db, "run_missing", "webhook", false, "server_error", 503, now.Add(-3*time.Hour), nil)
			insertDelivery(t, db, "run_waiting", "webhook", false, "timeout", 0, now.Add(-2*time.Hour), nil)
			insertDelivery(t, db, "run_waiting", "webhook", false, "timeout", 0, now.Add(-time.Minute), nil)

			run, err := service.Run(context.Background(), models.SubjectExecutiveReport, tc.request)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			stored, err := service.WorkerRun(context.Background(), run.WorkerRunID)
			if err != nil {
				t.Fatalf("WorkerRun: %v", err)
			}
			assertSameView(t, run, stored)

			if run.OpenFailures.NextRetryAt == nil {
				t.Errorf("next_retry_at of the open failures: got nil, want the waiting group's time")
			}
			if len(run.SelectedDecisions) != 3 {
				t.Errorf("selected decisions: got %d, want 3", len(run.SelectedDecisions))
			}
			if tc.request.Live() {
				if run.Counts.DeliveredCount != 1 || run.Counts.FailedCount != 1 || run.Counts.SkippedCount != 1 {
					t.Errorf("counts: got %+v, want 1 delivered, 1 failed and 1 skipped", run.Counts)
				}
				retryAfterSet := false
				for _, execution := range run.Executions {
					if execution.Delivery != nil && execution.Delivery.RetryAfter != nil {
						retryAfterSet = true
					}
				}
				if !retryAfterSet {
					t.Errorf("executions: got no delivery with retry_after, want the failed one to carry the receiver's Retry-After")
				}
			} else if len(run.Executions) != 0 {
				t.Errorf("executions of the dry run: got %d, want 0", len(run.Executions))
			}
		})
	}
}

// settlingSender sends through inner, but first records the execution and
// the delivery of the message with settleKey as interrupted, as another
// run's reconcile would if this send outlived the in-flight timeout.
type settlingSender struct {
	inner     connectors.Sender
	db        *gorm.DB
	settleKey string
}

func (s settlingSender) Send(ctx context.Context, name string, msg connectors.Message, opts connectors.SendOptions) connectors.Result {
	if msg.IdempotencyKey == s.settleKey {
		var execution models.RetryExecution
		if err := s.db.Where("idempotency_key = ? AND outcome = ?", msg.IdempotencyKey, models.ExecutionInFlight).Take(&execution).Error; err == nil {
			now := models.UTC(time.Now())
			_, _ = models.ReconcileRetryExecution(ctx, s.db, execution.ID, models.ExecutionFailed, InterruptedReason, "", now)
			_ = s.db.Model(&models.Delivery{}).Where("id = ?", execution.DeliveryID).
				Updates(map[string]any{"state": models.DeliveryCompleted, "error_class": ClassInterrupted, "completed_at": now}).Error
		}
	}
	return s.inner.Send(ctx, name, msg, opts)
}

// An execution that another run recorded as interrupted during the send
// keeps that record, and the outcomes of the other executions of the run
// are still recorded.
func TestSettledExecutionKeepsOtherOutcomes(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), time.Now, &fakeSource{})
	recorded := insertDelivery(t, db, "run_recorded", "webhook", false, "server_error", 503, time.Now().Add(-time.Hour), nil)
	settled := insertDelivery(t, db, "run_settled", "webhook", false, "server_error", 503, time.Now().Add(-time.Hour), nil)
	service.Delivery.Sender = settlingSender{inner: service.Delivery.Sender, db: db, settleKey: settled.IdempotencyKey}

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := len(server.Requests()); got != 2 {
		t.Errorf("receiver requests: got %d, want 2", got)
	}
	if run.State != models.WorkerRunCompleted {
		t.Errorf("run state: got %q, want %q", run.State, models.WorkerRunCompleted)
	}
	if run.Counts.DeliveredCount != 1 || run.Counts.FailedCount != 1 {
		t.Errorf("run counts: got %+v, want 1 delivered and 1 failed (the one recorded as interrupted)", run.Counts)
	}
	stored, err := service.WorkerRun(context.Background(), run.WorkerRunID)
	if err != nil {
		t.Fatalf("WorkerRun: %v", err)
	}
	assertSameView(t, run, stored)

	outcomes := map[string]string{}
	for _, execution := range run.Executions {
		outcomes[execution.IdempotencyKey] = execution.Outcome
		if execution.IdempotencyKey == recorded.IdempotencyKey && (execution.Delivery == nil || !execution.Delivery.Success) {
			t.Errorf("delivery of the recorded execution: got %+v, want it completed with success", execution.Delivery)
		}
	}
	if outcomes[recorded.IdempotencyKey] != models.ExecutionDelivered {
		t.Errorf("outcome of the recorded execution: got %q, want %q", outcomes[recorded.IdempotencyKey], models.ExecutionDelivered)
	}
	if outcomes[settled.IdempotencyKey] != models.ExecutionFailed {
		t.Errorf("outcome of the execution settled during the send: got %q, want failed", outcomes[settled.IdempotencyKey])
	}
}
