package retry

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// TestRunSkipsRetryWhileSendUnderWay starts a live run while a delivery
// from the console to a failed destination is still in flight. The retry
// of that destination waits for its outcome; one whose send stopped longer
// ago than StaleSendAfter does not block.
func TestRunSkipsRetryWhileSendUnderWay(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"busy": "/webhook/busy", "stale": "/webhook/stale"}), clock.Now, &fakeSource{})
	for _, connector := range []string{"busy", "stale"} {
		insertDelivery(t, db, "run_1", connector, false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	}
	underWay := func(connector string, startedAt time.Time) {
		record := models.Delivery{
			ID: models.NewID("dlv", startedAt), SubjectKind: models.SubjectExecutiveReport, SubjectID: "run_1", SubjectKey: "rep_run_1",
			Connector: connector, State: models.DeliveryInFlight, Attempts: "[]", RequestSummary: "{}",
			IdempotencyKey: "idem-run_1-" + connector, Origin: models.OriginSend, Actor: "release.manager",
			StartedAt: startedAt, CreatedAt: startedAt,
		}
		if err := models.CreateDelivery(db, &record); err != nil {
			t.Fatalf("CreateDelivery: %v", err)
		}
	}
	underWay("busy", serviceStart.Add(-30*time.Second))
	underWay("stale", serviceStart.Add(-StaleSendAfter-time.Minute))

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	outcomes := map[string]ExecutionView{}
	for _, execution := range run.Executions {
		outcomes[execution.Provider] = execution
	}
	if got := outcomes["busy"]; got.Outcome != models.ExecutionSkipped || !strings.Contains(got.Reason, "still under way") {
		t.Errorf("busy: got %s (%q), want skipped because a delivery is under way", got.Outcome, got.Reason)
	}
	if got := outcomes["stale"]; got.Outcome != models.ExecutionDelivered {
		t.Errorf("stale: got %s (%q), want delivered", got.Outcome, got.Reason)
	}
	requests := server.Requests()
	if len(requests) != 1 || requests[0].Path != "/webhook/stale" {
		t.Errorf("receiver requests: got %d, want 1 to /webhook/stale", len(requests))
	}

	// The skip left the retry to the send under way. Nothing failed, so
	// neither the group state nor the health counts it as unrepaired.
	var openExecutions int64
	if err := db.Table("audit_delivery_groups").Where("connector = ?", "busy").Select("open_executions").Scan(&openExecutions).Error; err != nil {
		t.Fatalf("read group: %v", err)
	}
	if openExecutions != 0 {
		t.Errorf("busy group's open executions: got %d, want 0", openExecutions)
	}
	counts, err := models.CountRetries(context.Background(), db, models.SubjectExecutiveReport)
	if err != nil {
		t.Fatalf("CountRetries: %v", err)
	}
	if counts.OpenFailedExecutions != 0 || counts.Skipped != 1 {
		t.Errorf("counts: got %d open failed executions and %d skipped, want 0 and 1", counts.OpenFailedExecutions, counts.Skipped)
	}
}

// TestRunYieldsToLateSend checks that a delivery that
// starts after a live run looked for sends under way, but before it claims,
// still makes the run skip that destination.
func TestRunYieldsToLateSend(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	inner := &fakeSource{}
	source := MessageSourceFunc(func(ctx context.Context, subjectID, connector string) (connectors.Message, error) {
		// A report delivery to the same destination commits now.
		record := models.Delivery{
			ID: models.NewID("dlv", serviceStart), SubjectKind: models.SubjectExecutiveReport, SubjectID: subjectID,
			SubjectKey: "rep_" + subjectID, Connector: connector, State: models.DeliveryInFlight, Attempts: "[]",
			RequestSummary: "{}", IdempotencyKey: "idem-send-" + subjectID, Origin: models.OriginSend,
			Actor: "release.manager", StartedAt: serviceStart, CreatedAt: serviceStart,
		}
		if err := models.CreateDelivery(db, &record); err != nil {
			t.Errorf("CreateDelivery: %v", err)
		}
		return inner.Message(ctx, subjectID, connector)
	})
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/webhook"}), clock.Now, source)

	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	if len(run.Executions) != 1 || run.Executions[0].Outcome != models.ExecutionSkipped {
		t.Fatalf("executions: got %+v, want one skipped", run.Executions)
	}
	if got := run.Executions[0].Reason; !strings.Contains(got, "still under way") {
		t.Errorf("reason: got %q, want it to name the delivery under way", got)
	}
	if got := len(server.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
	var claimed int64
	if err := db.Model(&models.RetryDecision{}).Where("state = ?", models.DecisionClaimed).Count(&claimed).Error; err != nil {
		t.Fatal(err)
	}
	if claimed != 0 {
		t.Errorf("claimed decisions: got %d, want 0 for a yielded retry", claimed)
	}
}
