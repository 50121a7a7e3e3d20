package retry

import (
	"context"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/metrics"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// runPhases lists the phases of a live run in order.
var runPhases = []string{metrics.PhaseReconcile, metrics.PhaseSelect, metrics.PhaseClaim, metrics.PhaseSend, metrics.PhaseRecord}

// phaseCounts returns how many observations the phase duration metric holds
// for each phase of executive report runs.
func phaseCounts(t *testing.T) map[string]uint64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	counts := map[string]uint64{}
	for _, family := range families {
		if family.GetName() != "evidence_console_retry_worker_phase_duration_seconds" {
			continue
		}
		for _, metric := range family.GetMetric() {
			labels := map[string]string{}
			for _, pair := range metric.GetLabel() {
				labels[pair.GetName()] = pair.GetValue()
			}
			if labels["kind"] == models.SubjectExecutiveReport {
				counts[labels["phase"]] = metric.GetHistogram().GetSampleCount()
			}
		}
	}
	return counts
}

func TestLiveRunObservesEachPhase(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)

	before := phaseCounts(t)
	dry, err := service.Run(context.Background(), models.SubjectExecutiveReport, RunRequest{MaxRetryDeliveries: DefaultMaxRetryDeliveries, Policy: DefaultPolicy(), Schedule: DefaultSchedule(), Actor: "release.manager"})
	if err != nil {
		t.Fatalf("dry Run: %v", err)
	}
	if dry.Mode != ModeDryRun || dry.Counts.SelectedCount != 1 {
		t.Fatalf("dry run: got mode %q with %d selected, want dry with 1", dry.Mode, dry.Counts.SelectedCount)
	}
	afterDry := phaseCounts(t)
	for _, phase := range runPhases {
		if afterDry[phase] != before[phase] {
			t.Errorf("%s observations after a dry run: got %d, want %d", phase, afterDry[phase], before[phase])
		}
	}

	live, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(DefaultPolicy()))
	if err != nil {
		t.Fatalf("live Run: %v", err)
	}
	if live.Counts.DeliveredCount != 1 {
		t.Fatalf("live run: got %d delivered, want 1", live.Counts.DeliveredCount)
	}
	afterLive := phaseCounts(t)
	for _, phase := range runPhases {
		if afterLive[phase] != afterDry[phase]+1 {
			t.Errorf("%s observations after a live run: got %d, want %d", phase, afterLive[phase], afterDry[phase]+1)
		}
	}
}
