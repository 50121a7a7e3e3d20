package retry

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// failStatementOnce makes the next raw statement that starts with prefix
// fail, as a transient database error would.
func failStatementOnce(t *testing.T, db *gorm.DB, prefix string) *atomic.Bool {
	t.Helper()
	armed := &atomic.Bool{}
	armed.Store(true)
	err := db.Callback().Raw().Before("gorm:raw").Register("test:fail_once", func(tx *gorm.DB) {
		if strings.HasPrefix(strings.TrimSpace(tx.Statement.SQL.String()), prefix) && armed.CompareAndSwap(true, false) {
			_ = tx.AddError(errors.New("injected transient database error"))
		}
	})
	if err != nil {
		t.Fatalf("register callback: %v", err)
	}
	return armed
}

// A retry the destination accepted must not be recorded as failed and
// sent again because one recording statement failed once.
func TestRecordFailureKeepsDeliveredOutcomes(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	insertDelivery(t, db, "run_1", "alpha", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	insertDelivery(t, db, "run_1", "beta", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	registry := webhookRegistry(t, server.URL, map[string]string{"alpha": "/webhook/alpha", "beta": "/webhook/beta"})
	service := newTestService(db, registry, clock.Now, &fakeSource{})

	failStatementOnce(t, db, "UPDATE deliveries SET state")
	first, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("first Run: %v", err)
	}
	if got := len(server.Requests()); got != 2 {
		t.Fatalf("receiver requests after the first run: got %d, want 2", got)
	}
	if first.State != models.WorkerRunCompleted {
		t.Errorf("first run state: got %q, want %q", first.State, models.WorkerRunCompleted)
	}
	for _, execution := range first.Executions {
		if execution.Outcome != models.ExecutionDelivered {
			t.Errorf("execution %s to %s: got outcome %q, want %q (the destination accepted it)",
				execution.ExecutionID, execution.Provider, execution.Outcome, models.ExecutionDelivered)
		}
	}

	clock.Advance(2 * time.Minute)
	if _, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy())); err != nil {
		t.Fatalf("second Run: %v", err)
	}
	var failed int64
	db.Model(&models.RetryExecution{}).Where("outcome = ? AND reason = ?", models.ExecutionFailed, InterruptedReason).Count(&failed)
	if failed != 0 {
		t.Errorf("executions recorded as interrupted failures: got %d, want 0", failed)
	}
	if got := len(server.Requests()); got != 2 {
		t.Errorf("receiver requests after the second run: got %d, want 2 (each retry sent once)", got)
	}
}
