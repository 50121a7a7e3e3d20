package retry

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func hasFinding(report HealthReport, category string) bool {
	for _, finding := range report.Findings {
		if finding.Category == category {
			return true
		}
	}
	return false
}

func TestEvaluateHealthBoundaries(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	params := DefaultHealthParams()
	run := func(age time.Duration, enabled bool) *models.RetryWorkerRun {
		return &models.RetryWorkerRun{ID: "rwr_1", CreatedAt: now.Add(-age), ScheduleEnabled: enabled, DryRun: true}
	}
	plan := func(age time.Duration) *models.RetryPlan {
		return &models.RetryPlan{ID: "rtp_1", CreatedAt: now.Add(-age)}
	}
	const (
		missed   = "missed_executive_delivery_retry_worker"
		stale    = "stale_executive_delivery_retry_plan"
		disabled = "disabled_executive_delivery_retry_schedule"
		failed   = "failed_executive_delivery"
		failedEx = "failed_executive_delivery_retry_execution"
	)
	cases := []struct {
		name      string
		in        HealthInputs
		want      []string
		wantLevel string
	}{
		{"nothing recorded", HealthInputs{}, []string{missed, stale}, health.SeverityCritical},
		// An age of exactly 2 × 60 minutes is not missed; one minute more is.
		{"worker age exactly twice the interval", HealthInputs{LatestRun: run(120*time.Minute, true), LatestPlan: plan(time.Minute)}, nil, health.LevelHealthy},
		{"worker age one minute past", HealthInputs{LatestRun: run(121*time.Minute, true), LatestPlan: plan(time.Minute)}, []string{missed}, health.SeverityCritical},
		{"plan age at the stale threshold", HealthInputs{LatestRun: run(time.Minute, true), LatestPlan: plan(180 * time.Minute)}, nil, health.LevelHealthy},
		{"plan age past the stale threshold", HealthInputs{LatestRun: run(time.Minute, true), LatestPlan: plan(181 * time.Minute)}, []string{stale}, health.SeverityWarning},
		{"timestamps in the future", HealthInputs{LatestRun: run(-time.Hour, true), LatestPlan: plan(-time.Hour)}, nil, health.LevelHealthy},
		{"schedule disabled", HealthInputs{LatestRun: run(time.Minute, false), LatestPlan: plan(time.Minute)}, []string{disabled}, health.SeverityWarning},
		{"open failures", HealthInputs{LatestRun: run(time.Minute, true), LatestPlan: plan(time.Minute),
			Counts: models.RetryCounts{FailedDeliveries: 2, OpenFailedExecutions: 1}}, []string{failed, failedEx}, health.SeverityCritical},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Now = now
			report := EvaluateHealth(models.SubjectExecutiveReport, params, tc.in)
			if len(report.Findings) != len(tc.want) {
				t.Errorf("findings: got %+v, want categories %v", report.Findings, tc.want)
			}
			for _, category := range tc.want {
				if !hasFinding(report, category) {
					t.Errorf("finding %q: missing from %+v", category, report.Findings)
				}
			}
			if report.AlertLevel != tc.wantLevel {
				t.Errorf("alert_level: got %q, want %q", report.AlertLevel, tc.wantLevel)
			}
			if len(report.RecommendedActions) == 0 {
				t.Error("recommended_actions: got none, want at least one")
			}
		})
	}
}

func TestHealthIsReadOnlyAndCountsOpenFailures(t *testing.T) {
	db := dbtest.Open(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, nil, clock.Now, &fakeSource{})
	insertDelivery(t, db, "run_open", "slack", false, "server_error", 503, serviceStart.Add(-3*time.Hour), nil)
	insertDelivery(t, db, "run_closed", "slack", false, "server_error", 503, serviceStart.Add(-3*time.Hour), nil)
	insertDelivery(t, db, "run_closed", "slack", true, "ok", 200, serviceStart.Add(-2*time.Hour), nil)
	if _, err := service.Run(context.Background(), models.SubjectExecutiveReport, RunRequest{
		MaxRetryDeliveries: 5, Policy: DefaultPolicy(), Schedule: Schedule{IntervalMinutes: 60, Enabled: false, Cadence: "hourly"}, Actor: "viewer",
	}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	before := dbtest.CountRows(t, db)

	report, err := service.Health(context.Background(), models.SubjectExecutiveReport, DefaultHealthParams())
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if report.Counts.FailedDeliveryCount != 1 {
		t.Errorf("failed_delivery_count: got %d, want 1 (the closed failure does not count)", report.Counts.FailedDeliveryCount)
	}
	if !hasFinding(report, "failed_executive_delivery") || !hasFinding(report, "disabled_executive_delivery_retry_schedule") {
		t.Errorf("findings: got %+v, want failed delivery and disabled schedule", report.Findings)
	}
	if report.Counts.WorkerRunCount != 1 || report.Counts.DryRunCount != 1 || report.LatestWorkerRun == nil {
		t.Errorf("worker runs: got counts %+v latest %+v, want one dry run", report.Counts, report.LatestWorkerRun)
	}

	after := dbtest.CountRows(t, db)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("rows of %s: got %d, want %d", table, after[table], n)
		}
	}

	if _, err := service.Health(context.Background(), models.SubjectExecutiveReport, health.Params{ExpectedIntervalMinutes: 0, StaleMetadataMinutes: 180}); err == nil {
		t.Error("Health with expected_interval_minutes 0: got nil error, want a validation error")
	}
}

// An age just past a threshold reads as past it, not as equal to it.
func TestEvaluateHealthSaysOverWhenRounded(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	params := health.Params{ExpectedIntervalMinutes: 1, StaleMetadataMinutes: 2}
	at := now.Add(-(2*time.Minute + 5*time.Second))
	report := EvaluateHealth(models.SubjectExecutiveReport, params, HealthInputs{
		Now:        now,
		LatestRun:  &models.RetryWorkerRun{ID: "rwr_1", CreatedAt: at, ScheduleEnabled: true},
		LatestPlan: &models.RetryPlan{ID: "rtp_1", CreatedAt: at},
	})
	if len(report.Findings) != 2 {
		t.Fatalf("findings: got %+v, want the missed worker and the stale plan", report.Findings)
	}
	for _, finding := range report.Findings {
		if !strings.Contains(finding.Message, "is over 2 minutes old") {
			t.Errorf("message %q: want it to say the age is over 2 minutes", finding.Message)
		}
	}
}

// Health alert retries use the same rules under their own categories. A
// worker run records the schedule it ran under, so a disabled schedule is
// reported only from a run that recorded one, never when no run exists.
func TestEvaluateHealthOfHealthAlerts(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	params := DefaultHealthParams()

	report := EvaluateHealth(models.SubjectHealthAlert, params, HealthInputs{Now: now})
	if report.SubjectKind != models.SubjectHealthAlert {
		t.Errorf("subject_kind: got %q, want %q", report.SubjectKind, models.SubjectHealthAlert)
	}
	if len(report.Findings) != 2 || !hasFinding(report, "missed_health_alert_delivery_retry_worker") ||
		!hasFinding(report, "stale_health_alert_delivery_retry_plan") {
		t.Errorf("nothing recorded: got %+v, want the missed worker and the stale plan only", report.Findings)
	}
	for _, finding := range report.Findings {
		if !strings.Contains(finding.Message, "health alert delivery retry") {
			t.Errorf("finding %s: message %q does not name health alert delivery retries", finding.Category, finding.Message)
		}
	}

	report = EvaluateHealth(models.SubjectHealthAlert, params, HealthInputs{
		Now:        now,
		LatestRun:  &models.RetryWorkerRun{ID: "rwr_1", CreatedAt: now.Add(-time.Minute), ScheduleEnabled: false},
		LatestPlan: &models.RetryPlan{ID: "rtp_1", CreatedAt: now.Add(-time.Minute)},
		Counts:     models.RetryCounts{FailedDeliveries: 1, OpenFailedExecutions: 1},
	})
	for _, category := range []string{
		"disabled_health_alert_delivery_retry_schedule", "failed_health_alert_delivery", "failed_health_alert_delivery_retry_execution",
	} {
		if !hasFinding(report, category) {
			t.Errorf("finding %q: missing from %+v", category, report.Findings)
		}
	}
	if len(report.RecommendedActions) != len(report.Findings) {
		t.Errorf("recommended_actions: got %d, want one per finding (%d)", len(report.RecommendedActions), len(report.Findings))
	}
}

// The fingerprint depends on the findings' categories and severities only,
// as the recovery retry health fingerprint does, so ages and counts that
// move leave it unchanged and a new finding changes it.
func TestEvaluateHealthFingerprint(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	params := DefaultHealthParams()
	evaluate := func(runAge time.Duration, failed int64) HealthReport {
		return EvaluateHealth(models.SubjectExecutiveReport, params, HealthInputs{
			Now:        now,
			LatestRun:  &models.RetryWorkerRun{ID: "rwr_1", CreatedAt: now.Add(-runAge), ScheduleEnabled: true},
			LatestPlan: &models.RetryPlan{ID: "rtp_1", CreatedAt: now.Add(-time.Minute)},
			Counts:     models.RetryCounts{FailedDeliveries: failed},
		})
	}

	first := evaluate(3*time.Hour, 1)
	if first.Fingerprint != health.Fingerprint(first.Findings) {
		t.Errorf("fingerprint: got %q, want %q, the fingerprint of the findings", first.Fingerprint, health.Fingerprint(first.Findings))
	}
	if later := evaluate(5*time.Hour, 4); later.Fingerprint != first.Fingerprint {
		t.Errorf("fingerprint with older run and more failures: got %q, want %q", later.Fingerprint, first.Fingerprint)
	}
	if fewer := evaluate(time.Minute, 1); fewer.Fingerprint == first.Fingerprint {
		t.Errorf("fingerprint without the missed worker: got %q, the same as with it", fewer.Fingerprint)
	}

	encoded, err := json.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(encoded, &fields); err != nil {
		t.Fatal(err)
	}
	if fields["fingerprint"] != first.Fingerprint {
		t.Errorf("JSON fingerprint: got %v, want %q", fields["fingerprint"], first.Fingerprint)
	}
}
