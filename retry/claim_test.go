package retry

import (
	"context"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// interleavingSource runs interleave once, when a run reads its first
// message. That run has chosen its due retries then and claimed none.
type interleavingSource struct {
	fakeSource
	once       sync.Once
	interleave func()
}

func (s *interleavingSource) Message(ctx context.Context, subjectID, connector string) (connectors.Message, error) {
	s.once.Do(s.interleave)
	return s.fakeSource.Message(ctx, subjectID, connector)
}

// TestClaimLostToEarlierRunSkips runs a second worker run in full between
// the planning and the claim of a first one, as two processes sharing one
// SQLite file can, because they share no selection lock. Both plan the same
// two due retries. The second run claims and delivers the older one, which
// closes its group, so the first run must skip it and send only the other.
// The second run here skips the selection lock to stand in for the other
// process.
func TestClaimLostToEarlierRunSkips(t *testing.T) {
	db, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	insertDelivery(t, db, "run_old", "webhook", false, "server_error", 503, serviceStart.Add(-3*time.Hour), nil)
	insertDelivery(t, db, "run_new", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	paths := map[string]string{"webhook": "/webhook/exec"}

	other := newTestService(dbtest.OpenExisting(t, databaseURL, dbtest.Options{}), webhookRegistry(t, server.URL, paths), clock.Now, &fakeSource{})
	other.lockSelection = func(context.Context, *gorm.DB, string) (func(), error) { return func() {}, nil }
	var otherRun RunView
	var otherErr error
	source := &interleavingSource{interleave: func() {
		request := liveRequest(immediatePolicy())
		request.MaxRetryDeliveries = 1
		otherRun, otherErr = other.Run(context.Background(), models.SubjectExecutiveReport, request)
	}}
	service := newTestService(db, webhookRegistry(t, server.URL, paths), clock.Now, source)

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if otherErr != nil {
		t.Fatalf("Run between planning and claim: %v", otherErr)
	}

	if got := otherRun.Counts.DeliveredCount; got != 1 {
		t.Errorf("delivered by the run in between: got %d, want 1", got)
	}
	if got := len(run.SelectedDecisions); got != 2 {
		t.Fatalf("selected by the first run: got %d, want 2 (both planned before the other run claimed)", got)
	}
	if got := run.Counts.DeliveredCount; got != 1 {
		t.Errorf("delivered by the first run: got %d, want 1", got)
	}
	if got := run.Counts.SkippedCount; got != 1 {
		t.Errorf("skipped by the first run: got %d, want 1", got)
	}
	outcomes := map[string]ExecutionView{}
	for _, execution := range run.Executions {
		outcomes[execution.ScheduleRunID] = execution
	}
	if got := outcomes["run_old"].Outcome; got != models.ExecutionSkipped {
		t.Errorf("first run's outcome for run_old: got %q (%s), want %q", got, outcomes["run_old"].Reason, models.ExecutionSkipped)
	}
	if got := outcomes["run_old"].Reason; got != closedGroupReason {
		t.Errorf("first run's reason for run_old: got %q, want %q", got, closedGroupReason)
	}
	if got := outcomes["run_new"].Outcome; got != models.ExecutionDelivered {
		t.Errorf("first run's outcome for run_new: got %q (%s), want %q", got, outcomes["run_new"].Reason, models.ExecutionDelivered)
	}

	keys := receivedKeys(server)
	if len(keys) != 2 {
		t.Errorf("distinct idempotency keys received: got %d, want 2 (%v)", len(keys), keys)
	}
	for key, n := range keys {
		if n != 1 {
			t.Errorf("requests with idempotency key %q: got %d, want 1", key, n)
		}
	}
	var delivered int64
	if err := db.Model(&models.RetryExecution{}).Where("outcome = ?", models.ExecutionDelivered).Count(&delivered).Error; err != nil {
		t.Fatal(err)
	}
	if delivered != 2 {
		t.Errorf("delivered executions: got %d, want 2 (one per due retry)", delivered)
	}
}
