package alerting_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/audit"
)

// A failed send of an alert is closed by a later successful send of the
// same alert (same fingerprint) to the same destination, whichever plan the
// later send belongs to. The alert dashboard counts it so. The rollback
// drill notification dashboard must agree, and must not stay critical for
// a failure that the destination has since received.
func TestCombinedDashboardLaterPlanClosesFailure(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/fail/503/alpha"})
	first := f.deliver(t, nil)
	if first.Success {
		t.Fatalf("first send: got success, want a failure from the failing destination")
	}

	f.configure(t, map[string]string{"alpha": "/webhook/alpha"})
	f.clock.Advance(time.Minute)
	second := f.deliver(t, nil)
	if second.Health.Fingerprint != first.Health.Fingerprint || !second.Success {
		t.Fatalf("second send: fingerprint %s (first %s), success %v; want the same alert delivered",
			second.Health.Fingerprint, first.Health.Fingerprint, second.Success)
	}

	alertDashboard, err := f.service.Dashboard(context.Background(), alerting.DefaultOutstandingQuery())
	if err != nil {
		t.Fatalf("alert Dashboard: %v", err)
	}
	if alertDashboard.FailedDeliveryCount != 0 {
		t.Errorf("alert dashboard failed_delivery_count: got %d, want 0", alertDashboard.FailedDeliveryCount)
	}

	service := &audit.Service{DB: f.db, Now: f.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	combined, err := service.Dashboard(context.Background())
	if err != nil {
		t.Fatalf("combined Dashboard: %v", err)
	}
	if got := combined.Alerts.Deliveries.OpenFailedCount; got != alertDashboard.FailedDeliveryCount {
		t.Errorf("combined dashboard open failed alert deliveries: got %d, want %d as on the alert dashboard, "+
			"because plan %s delivered alert %s to alpha after plan %s failed there",
			got, alertDashboard.FailedDeliveryCount, second.Plan.PlanID, first.Health.Fingerprint, first.Plan.PlanID)
	}
	for _, reason := range combined.AlertLevelReasons {
		if strings.Contains(reason, "health alert") {
			t.Errorf("combined dashboard alert_level reason: got %q, want none about health alert deliveries", reason)
		}
	}
}
