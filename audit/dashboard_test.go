package audit

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/models/dbtest"
)

func TestDashboardCountsFixture(t *testing.T) {
	_, service := openFixture(t)
	d, err := service.Dashboard(context.Background())
	if err != nil {
		t.Fatalf("Dashboard: %v", err)
	}

	checks := []struct {
		name      string
		got, want int64
	}{
		{"health evaluations", d.Health.EvaluationCount, 3},
		{"health findings", d.Health.FindingCount, 5},
		{"alert plans", d.Alerts.PlanCount, 2},
		{"alert deliveries", d.Alerts.Deliveries.DeliveryCount, 5},
		{"alert deliveries sent", d.Alerts.Deliveries.SentCount, 2},
		{"alert deliveries failed", d.Alerts.Deliveries.FailedCount, 3},
		{"alert deliveries in flight", d.Alerts.Deliveries.InFlightCount, 0},
		{"alert deliveries open failed", d.Alerts.Deliveries.OpenFailedCount, 1},
		{"suppressions", d.Alerts.SuppressionCount, 1},
		{"acknowledgements", d.Alerts.AcknowledgementCount, 3},
		{"outstanding acknowledgements", d.Alerts.OutstandingAcknowledgementCount, 2},
		{"executive reports", d.Executive.ReportCount, 2},
		{"schedule runs", d.Executive.ScheduleRunCount, 3},
		{"executive deliveries", d.Executive.Deliveries.DeliveryCount, 6},
		{"executive deliveries sent", d.Executive.Deliveries.SentCount, 2},
		{"executive deliveries failed", d.Executive.Deliveries.FailedCount, 3},
		{"executive deliveries in flight", d.Executive.Deliveries.InFlightCount, 1},
		{"executive deliveries open failed", d.Executive.Deliveries.OpenFailedCount, 1},
		{"executive retry plans", d.ExecutiveRetries.PlanCount, 2},
		{"retryable decisions", d.ExecutiveRetries.RetryableDecisionCount, 3},
		{"worker runs", d.ExecutiveRetries.WorkerRunCount, 3},
		{"dry worker runs", d.ExecutiveRetries.DryWorkerRunCount, 2},
		{"live worker runs", d.ExecutiveRetries.LiveWorkerRunCount, 1},
		{"executions", d.ExecutiveRetries.ExecutionCount, 3},
		{"executions delivered", d.ExecutiveRetries.ExecutionsByOutcome["delivered"], 1},
		{"executions failed", d.ExecutiveRetries.ExecutionsByOutcome["failed"], 1},
		{"executions skipped", d.ExecutiveRetries.ExecutionsByOutcome["skipped"], 1},
		{"executions in flight", d.ExecutiveRetries.ExecutionsByOutcome["in_flight"], 0},
		{"open failed executions", d.ExecutiveRetries.OpenFailedExecutionCount, 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s (%s): got %d, want %d", c.name, dbtest.Describe(), c.got, c.want)
		}
	}
	if d.Health.LatestHealthID != "h3" || d.Health.LatestAlertLevel != LevelCritical {
		t.Errorf("latest health: got %s %s, want h3 critical", d.Health.LatestHealthID, d.Health.LatestAlertLevel)
	}
	if d.AlertLevel != LevelCritical {
		t.Errorf("alert_level: got %s, want critical", d.AlertLevel)
	}
	if len(d.AlertLevelReasons) != 5 {
		t.Errorf("alert_level_reasons: got %d %q, want 5", len(d.AlertLevelReasons), d.AlertLevelReasons)
	}
}

func TestDashboardEmptyIsHealthy(t *testing.T) {
	service := newTestService(dbtest.Open(t))
	d, err := service.Dashboard(context.Background())
	if err != nil {
		t.Fatalf("Dashboard: %v", err)
	}
	if d.AlertLevel != LevelHealthy || len(d.AlertLevelReasons) != 0 {
		t.Errorf("alert_level: got %s %q, want healthy with no reasons", d.AlertLevel, d.AlertLevelReasons)
	}
	if d.Health.EvaluationCount != 0 || d.Health.LatestEvaluatedAt != nil {
		t.Errorf("health: got %+v, want zero counts and no latest evaluation", d.Health)
	}
}

func TestDashboardLevelRule(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Dashboard)
		want    string
		reasons int
	}{
		{"nothing stored", func(*Dashboard) {}, LevelHealthy, 0},
		{"healthy evaluation", func(d *Dashboard) { d.Health.LatestAlertLevel = LevelHealthy }, LevelHealthy, 0},
		{"warning evaluation", func(d *Dashboard) { d.Health.LatestAlertLevel = LevelWarning }, LevelWarning, 1},
		{"outstanding acknowledgement", func(d *Dashboard) { d.Alerts.OutstandingAcknowledgementCount = 1 }, LevelWarning, 1},
		{"critical evaluation", func(d *Dashboard) { d.Health.LatestAlertLevel = LevelCritical }, LevelCritical, 1},
		{"open alert delivery failure", func(d *Dashboard) { d.Alerts.Deliveries.OpenFailedCount = 2 }, LevelCritical, 1},
		{"repaired failures only", func(d *Dashboard) { d.Alerts.Deliveries.FailedCount = 4 }, LevelHealthy, 0},
		{"open executive delivery failure", func(d *Dashboard) { d.Executive.Deliveries.OpenFailedCount = 1 }, LevelCritical, 1},
		{"open failed execution with warning", func(d *Dashboard) {
			d.ExecutiveRetries.OpenFailedExecutionCount = 1
			d.Alerts.OutstandingAcknowledgementCount = 3
		}, LevelCritical, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d Dashboard
			tc.mutate(&d)
			level, reasons := dashboardLevel(d)
			if level != tc.want {
				t.Errorf("level: got %s, want %s", level, tc.want)
			}
			if len(reasons) != tc.reasons || slices.Contains(reasons, "") {
				t.Errorf("reasons: got %q, want %d non-empty", reasons, tc.reasons)
			}
		})
	}
}

func TestDashboardReasonsCountSingular(t *testing.T) {
	var d Dashboard
	d.ExecutiveRetries.OpenFailedExecutionCount = 1
	d.Alerts.OutstandingAcknowledgementCount = 2
	_, reasons := dashboardLevel(d)
	want := []string{"1 failed or skipped executive retry execution not yet repaired", "2 outstanding acknowledgements"}
	if strings.Join(reasons, "|") != strings.Join(want, "|") {
		t.Errorf("reasons: got %q, want %q", reasons, want)
	}
}
