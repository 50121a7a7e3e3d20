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

// phaseSample is the sample count and the sum of seconds of one phase.
type phaseSample struct {
	count   uint64
	seconds float64
}

// phaseSamples returns the phase duration metric's samples of executive
// report runs by phase.
func phaseSamples(tb testing.TB) map[string]phaseSample {
	tb.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		tb.Fatalf("gather metrics: %v", err)
	}
	samples := map[string]phaseSample{}
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
				samples[labels["phase"]] = phaseSample{count: metric.GetHistogram().GetSampleCount(), seconds: metric.GetHistogram().GetSampleSum()}
			}
		}
	}
	return samples
}

func TestLiveRunObservesEachPhase(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)

	before := phaseSamples(t)
	dry, err := service.Run(context.Background(), models.SubjectExecutiveReport, RunRequest{MaxRetryDeliveries: DefaultMaxRetryDeliveries, Policy: DefaultPolicy(), Schedule: DefaultSchedule(), Actor: "release.manager"})
	if err != nil {
		t.Fatalf("dry Run: %v", err)
	}
	if dry.Mode != ModeDryRun || dry.Counts.SelectedCount != 1 {
		t.Fatalf("dry run: got mode %q with %d selected, want dry with 1", dry.Mode, dry.Counts.SelectedCount)
	}
	afterDry := phaseSamples(t)
	for _, phase := range runPhases {
		if afterDry[phase].count != before[phase].count {
			t.Errorf("%s observations after a dry run: got %d, want %d", phase, afterDry[phase].count, before[phase].count)
		}
	}

	live, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(DefaultPolicy()))
	if err != nil {
		t.Fatalf("live Run: %v", err)
	}
	if live.Counts.DeliveredCount != 1 {
		t.Fatalf("live run: got %d delivered, want 1", live.Counts.DeliveredCount)
	}
	afterLive := phaseSamples(t)
	for _, phase := range runPhases {
		if afterLive[phase].count != afterDry[phase].count+1 {
			t.Errorf("%s observations after a live run: got %d, want %d", phase, afterLive[phase].count, afterDry[phase].count+1)
		}
	}
}
