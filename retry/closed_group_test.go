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

// closingSource returns the message of a retry and, the first time, stores
// a successful delivery to the same destination first, as a person who
// delivers the report again while the run reads its messages would.
type closingSource struct {
	fakeSource
	once sync.Once
	db   *gorm.DB
	t    *testing.T
	at   time.Time
}

func (s *closingSource) Message(ctx context.Context, subjectID, connector string) (connectors.Message, error) {
	s.once.Do(func() { insertDelivery(s.t, s.db, subjectID, connector, true, "ok", 200, s.at, nil) })
	return s.fakeSource.Message(ctx, subjectID, connector)
}

// A retry whose group a successful delivery closed after the run selected
// it must not be sent: the destination already has the report.
func TestRunSkipsGroupClosedBeforeClaim(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 500, serviceStart.Add(-2*time.Hour), nil)
	source := &closingSource{db: db, t: t, at: serviceStart.Add(-time.Second)}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/webhook"}), clock.Now, source)

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := len(server.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0 because the group closed before the claim (run %s delivered %d)",
			got, run.WorkerRunID, run.Counts.DeliveredCount)
	}
	if len(run.Executions) != 1 {
		t.Fatalf("executions: got %d, want 1", len(run.Executions))
	}
	execution := run.Executions[0]
	if execution.Outcome != models.ExecutionSkipped {
		t.Errorf("execution outcome: got %q, want %q", execution.Outcome, models.ExecutionSkipped)
	}
	if execution.Reason != closedGroupReason {
		t.Errorf("execution reason: got %q, want %q", execution.Reason, closedGroupReason)
	}
}
