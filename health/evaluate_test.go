package health

import (
	"slices"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func run(age time.Duration, pending int, scheduleEnabled bool) *models.EscalationWorkerRun {
	return &models.EscalationWorkerRun{ID: "run", CreatedAt: now.Add(-age), AcknowledgementPendingCount: pending, ScheduleEnabled: scheduleEnabled}
}

func plan(age time.Duration) *models.EscalationRetryPlan {
	return &models.EscalationRetryPlan{ID: "plan", CreatedAt: now.Add(-age)}
}

func categories(r Report) []string {
	out := []string{}
	for _, f := range r.Findings {
		out = append(out, f.Category)
	}
	slices.Sort(out)
	return out
}

func TestEvaluateRules(t *testing.T) {
	params := DefaultParams() // 30-minute interval, 120-minute stale threshold
	fresh := plan(10 * time.Minute)
	cases := []struct {
		name      string
		in        Inputs
		want      []string
		wantLevel string
	}{
		{
			// An age of exactly twice the interval is still on time.
			name: "worker age exactly twice the interval", wantLevel: LevelHealthy,
			in:   Inputs{LatestRun: run(60*time.Minute, 0, true), LatestPlan: fresh},
			want: []string{},
		},
		{
			name: "worker one minute past twice the interval", wantLevel: SeverityCritical,
			in:   Inputs{LatestRun: run(61*time.Minute, 0, true), LatestPlan: fresh},
			want: []string{CategoryMissedWorker},
		},
		{
			name: "plan age exactly at the threshold", wantLevel: LevelHealthy,
			in:   Inputs{LatestRun: run(time.Minute, 0, true), LatestPlan: plan(120 * time.Minute)},
			want: []string{},
		},
		{
			name: "plan one minute past the threshold", wantLevel: SeverityWarning,
			in:   Inputs{LatestRun: run(time.Minute, 0, true), LatestPlan: plan(121 * time.Minute)},
			want: []string{CategoryStaleRetryPlan},
		},
		{
			name: "no evidence at all", wantLevel: SeverityCritical,
			in:   Inputs{},
			want: []string{CategoryMissedWorker, CategoryStaleRetryPlan},
		},
		{
			// Clock skew: future timestamps have no age and are never missed or stale.
			name: "future timestamps", wantLevel: LevelHealthy,
			in:   Inputs{LatestRun: run(-90*time.Minute, 0, true), LatestPlan: plan(-300 * time.Minute)},
			want: []string{},
		},
		{
			name: "no pending acknowledgement on the newest run", wantLevel: LevelHealthy,
			in:   Inputs{LatestRun: run(time.Minute, 0, true), LatestPlan: fresh},
			want: []string{},
		},
		{
			name: "one pending acknowledgement on the newest run", wantLevel: SeverityWarning,
			in:   Inputs{LatestRun: run(time.Minute, 1, true), LatestPlan: fresh},
			want: []string{CategoryAckGap},
		},
		{
			name: "pending acknowledgements on the newest run", wantLevel: SeverityWarning,
			in:   Inputs{LatestRun: run(time.Minute, 3, true), LatestPlan: fresh},
			want: []string{CategoryAckGap},
		},
		{
			name: "schedule disabled on the newest run", wantLevel: SeverityWarning,
			in:   Inputs{LatestRun: run(time.Minute, 0, false), LatestPlan: fresh},
			want: []string{CategoryDisabledSchedule},
		},
		{
			// Only the newest run counts: an older disabled run is history.
			name: "schedule disabled only on an older run", wantLevel: LevelHealthy,
			in: Inputs{LatestRun: run(time.Minute, 0, true), LatestPlan: fresh,
				Counts: map[string]int64{models.CountWorkerRunsDisabled: 4}},
			want: []string{},
		},
		{
			name: "an open failed execution", wantLevel: SeverityCritical,
			in: Inputs{LatestRun: run(time.Minute, 0, true), LatestPlan: fresh,
				Counts: map[string]int64{models.CountOpenExecutionFailures: 1, models.CountExecutionsFailed: 1}},
			want: []string{CategoryFailedExecution},
		},
		{
			// A failure followed by a delivery for the same pair is closed:
			// the failed record still counts, but no pair is open.
			name: "a failed execution with a later delivery", wantLevel: LevelHealthy,
			in: Inputs{LatestRun: run(time.Minute, 0, true), LatestPlan: fresh,
				Counts: map[string]int64{models.CountOpenExecutionFailures: 0, models.CountExecutionsFailed: 1, models.CountExecutionsDelivered: 1}},
			want: []string{},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.Now = now
			report := Evaluate(params, c.in)
			if got := categories(report); !slices.Equal(got, c.want) {
				t.Errorf("findings = %v, want %v", got, c.want)
			}
			if report.AlertLevel != c.wantLevel {
				t.Errorf("alert level = %q, want %q", report.AlertLevel, c.wantLevel)
			}
		})
	}
}

func TestEvaluateFutureTimestampHasNoAge(t *testing.T) {
	report := Evaluate(DefaultParams(), Inputs{Now: now, LatestRun: run(-5*time.Minute, 0, true), LatestPlan: plan(30 * time.Minute)})
	if report.LatestWorkerRun == nil {
		t.Fatal("latest worker run missing from the report")
	}
	if !report.LatestWorkerRun.InFuture || report.LatestWorkerRun.Minutes != nil {
		t.Errorf("future run age = %+v, want in_future with no minutes", report.LatestWorkerRun.Age)
	}
	if report.LatestRetryPlan.Minutes == nil || *report.LatestRetryPlan.Minutes != 30 {
		t.Errorf("plan age = %+v, want 30 minutes", report.LatestRetryPlan.Age)
	}
}

func TestEvaluateAgesAreWholeMinutes(t *testing.T) {
	report := Evaluate(DefaultParams(), Inputs{Now: now, LatestRun: run(61*time.Minute+59*time.Second, 0, true), LatestPlan: plan(0)})
	if got := *report.LatestWorkerRun.Minutes; got != 61 {
		t.Errorf("age of a 61m59s-old run = %d minutes, want 61", got)
	}
}

func TestFingerprintStableWhileFindingsPersist(t *testing.T) {
	first := Evaluate(DefaultParams(), Inputs{Now: now, LatestRun: run(90*time.Minute, 2, true), LatestPlan: plan(10 * time.Minute)})
	// Later: ages and counts moved, the same problems remain.
	later := Evaluate(DefaultParams(), Inputs{Now: now.Add(time.Hour), LatestRun: run(90*time.Minute, 7, true), LatestPlan: plan(10 * time.Minute)})
	if first.Fingerprint != later.Fingerprint {
		t.Errorf("fingerprints differ for the same findings: %s and %s", first.Fingerprint, later.Fingerprint)
	}

	changed := Evaluate(DefaultParams(), Inputs{Now: now, LatestRun: run(90*time.Minute, 0, true), LatestPlan: plan(10 * time.Minute)})
	if changed.Fingerprint == first.Fingerprint {
		t.Errorf("fingerprint %s unchanged after the acknowledgement gap finding went away", changed.Fingerprint)
	}
	healthy := Evaluate(DefaultParams(), Inputs{Now: now, LatestRun: run(time.Minute, 0, true), LatestPlan: plan(time.Minute)})
	if healthy.Fingerprint == first.Fingerprint || healthy.Fingerprint == changed.Fingerprint {
		t.Errorf("healthy fingerprint %s equals a fingerprint with findings", healthy.Fingerprint)
	}
}

func TestFingerprintIgnoresFindingOrder(t *testing.T) {
	a := []Finding{{Category: CategoryMissedWorker, Severity: SeverityCritical}, {Category: CategoryAckGap, Severity: SeverityWarning}}
	b := []Finding{a[1], a[0]}
	if Fingerprint(a) != Fingerprint(b) {
		t.Errorf("Fingerprint depends on order: %s and %s", Fingerprint(a), Fingerprint(b))
	}
}

func TestParamsValidate(t *testing.T) {
	cases := []struct {
		params    Params
		wantField string
	}{
		{Params{30, 120}, ""},
		{Params{1, 10080}, ""},
		{Params{0, 120}, "expected_interval_minutes"},
		{Params{10081, 120}, "expected_interval_minutes"},
		{Params{30, 0}, "stale_metadata_minutes"},
		{Params{30, -5}, "stale_metadata_minutes"},
	}
	for _, c := range cases {
		err := c.params.Validate()
		field := ""
		if err != nil {
			field = err.(*ParamError).Field
		}
		if field != c.wantField {
			t.Errorf("Validate(%+v) field = %q, want %q", c.params, field, c.wantField)
		}
	}
}
