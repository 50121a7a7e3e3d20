package executive

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// testNow is the clock of every report test: a Friday afternoon in UTC.
var testNow = time.Date(2026, 3, 6, 15, 30, 0, 0, time.UTC)

type execution struct {
	id, provider, status string
	age                  time.Duration
}

type playbook struct {
	id, provider string
	age          time.Duration
}

type closure struct {
	id, playbook, provider, state string
	at                            time.Time
}

type evidenceSet struct {
	executions []execution
	playbooks  []playbook
	closures   []closure
}

// seed stores the evidence directly, as ingestion would.
func seed(t *testing.T, db *gorm.DB, set evidenceSet) {
	t.Helper()
	for _, e := range set.executions {
		row := models.AuditRetryExecution{ID: e.id, Provider: e.provider, ExecutionStatus: e.status,
			ExecutedAt: models.UTC(testNow.Add(-e.age)), IngestedAt: testNow, Raw: "{}"}
		if err := db.Create(&row).Error; err != nil {
			t.Fatalf("store execution %s: %v", e.id, err)
		}
	}
	for _, p := range set.playbooks {
		generated := models.UTC(testNow.Add(-p.age))
		var existing int64
		db.Model(&models.RecoveryPlaybook{}).Where("id = ?", p.id).Count(&existing)
		if existing == 0 {
			if err := db.Create(&models.RecoveryPlaybook{ID: p.id, GeneratedAt: generated, IngestedAt: testNow, Raw: "{}"}).Error; err != nil {
				t.Fatalf("store playbook %s: %v", p.id, err)
			}
		}
		entry := models.RecoveryPlaybookProvider{PlaybookID: p.id, Provider: p.provider, Category: "server_error", FailureCount: 2, GeneratedAt: generated}
		if err := db.Create(&entry).Error; err != nil {
			t.Fatalf("store playbook entry %s/%s: %v", p.id, p.provider, err)
		}
	}
	for _, c := range set.closures {
		row := models.RecoveryClosure{ID: c.id, PlaybookID: c.playbook, Provider: c.provider, ClosureState: c.state,
			ClosedAt: models.UTC(c.at), IngestedAt: testNow, Raw: "{}"}
		if err := db.Create(&row).Error; err != nil {
			t.Fatalf("store closure %s: %v", c.id, err)
		}
	}
}

func newTestService(t *testing.T) (*Service, *gorm.DB) {
	t.Helper()
	db := dbtest.Open(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &Service{DB: db, Now: func() time.Time { return testNow }, Logger: logger}, db
}

func categories(report Report) []string {
	var out []string
	for _, risk := range report.KeyRisks {
		out = append(out, risk.Category+"/"+risk.Severity)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReportRules(t *testing.T) {
	cases := []struct {
		name       string
		set        evidenceSet
		wantRisks  []string
		wantStatus string
		wantOpen   int
		wantClosed int
		wantBreach int
	}{
		{
			// One delivered execution and a resolved recovery: nothing to report.
			name: "delivered and resolved",
			set: evidenceSet{
				executions: []execution{{"e1", "slack", ExecutionDelivered, time.Hour}},
				playbooks:  []playbook{{"pb1", "slack", 10 * time.Hour}},
				closures:   []closure{{"c1", "pb1", "slack", ClosureStateResolved, testNow.Add(-time.Hour)}},
			},
			wantRisks: nil, wantStatus: StatusHealthy, wantClosed: 1,
		},
		{
			// A recovery older than the SLO without closure is breached.
			name:      "breached without failures",
			set:       evidenceSet{playbooks: []playbook{{"pb1", "jira", 5 * time.Hour}}},
			wantRisks: []string{RiskRecoverySLOBreach + "/critical"}, wantStatus: StatusCritical, wantOpen: 1, wantBreach: 1,
		},
		{
			// A failed execution comes before the SLO breach, then the open recovery.
			name: "failed before breach before open",
			set: evidenceSet{
				executions: []execution{{"e1", "teams", ExecutionFailed, time.Hour}, {"e2", "teams", ExecutionDelivered, 2 * time.Hour}},
				playbooks:  []playbook{{"pb1", "jira", 5 * time.Hour}, {"pb2", "teams", time.Hour}},
			},
			wantRisks:  []string{RiskFailedExecutions + "/critical", RiskRecoverySLOBreach + "/critical", RiskRecoveryStillOpen + "/warning"},
			wantStatus: StatusCritical, wantOpen: 2, wantBreach: 1,
		},
		{
			// A skipped execution counts as failed.
			name:      "skipped execution",
			set:       evidenceSet{executions: []execution{{"e1", "teams", ExecutionSkipped, time.Hour}}},
			wantRisks: []string{RiskFailedExecutions + "/critical"}, wantStatus: StatusCritical,
		},
		{
			// Executions before the period are not counted.
			name:      "failure before the period",
			set:       evidenceSet{executions: []execution{{"e1", "teams", ExecutionFailed, 8 * 24 * time.Hour}}},
			wantRisks: nil, wantStatus: StatusHealthy,
		},
		{
			// Mitigated closes a recovery; deferred leaves it open.
			name: "mitigated closes, deferred does not",
			set: evidenceSet{
				playbooks: []playbook{{"pb1", "slack", 2 * time.Hour}, {"pb1", "jira", 2 * time.Hour}},
				closures: []closure{
					{"c1", "pb1", "slack", ClosureStateMitigated, testNow.Add(-time.Hour)},
					{"c2", "pb1", "jira", "deferred", testNow.Add(-time.Hour)},
				},
			},
			wantRisks: []string{RiskRecoveryStillOpen + "/warning"}, wantStatus: StatusWarning, wantOpen: 1, wantClosed: 1,
		},
		{
			// The latest closure decides: resolved then deferred is open again.
			name: "latest closure wins",
			set: evidenceSet{
				playbooks: []playbook{{"pb1", "slack", 30 * 24 * time.Hour}},
				closures: []closure{
					{"c1", "pb1", "slack", ClosureStateResolved, testNow.Add(-48 * time.Hour)},
					{"c2", "pb1", "slack", "deferred", testNow.Add(-24 * time.Hour)},
				},
			},
			wantRisks: []string{RiskRecoverySLOBreach + "/critical"}, wantStatus: StatusCritical, wantOpen: 1, wantBreach: 1,
		},
		{
			// An age of exactly the SLO is not a breach.
			name:      "age equal to the SLO",
			set:       evidenceSet{playbooks: []playbook{{"pb1", "jira", 4 * time.Hour}}},
			wantRisks: []string{RiskRecoveryStillOpen + "/warning"}, wantStatus: StatusWarning, wantOpen: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			service, db := newTestService(t)
			seed(t, db, tc.set)

			report, err := service.Current(context.Background(), DefaultParams())
			if err != nil {
				t.Fatalf("Current: %v (%s)", err, dbtest.Describe())
			}
			if got := categories(report); !equalStrings(got, tc.wantRisks) {
				t.Errorf("key risks: got %v, want %v", got, tc.wantRisks)
			}
			summary := report.ExecutiveSummary
			if summary.Status != tc.wantStatus {
				t.Errorf("status: got %q, want %q", summary.Status, tc.wantStatus)
			}
			if summary.OpenRecoveryCount != tc.wantOpen {
				t.Errorf("open recoveries: got %d, want %d", summary.OpenRecoveryCount, tc.wantOpen)
			}
			if summary.ClosedRecoveryCount != tc.wantClosed {
				t.Errorf("closed recoveries: got %d, want %d", summary.ClosedRecoveryCount, tc.wantClosed)
			}
			if summary.SLOBreachCount != tc.wantBreach {
				t.Errorf("SLO breaches: got %d, want %d", summary.SLOBreachCount, tc.wantBreach)
			}
			if summary.BusinessImpact == "" {
				t.Errorf("business impact: got empty, want a sentence")
			}
			if len(report.RecommendedActions) == 0 {
				t.Errorf("recommended actions: got none, want at least one")
			}
		})
	}
}

func TestReportSummaryCounts(t *testing.T) {
	service, db := newTestService(t)
	seed(t, db, evidenceSet{
		executions: []execution{
			{"e1", "slack", ExecutionDelivered, time.Hour},
			{"e2", "jira", ExecutionFailed, 2 * time.Hour},
			{"e3", "servicenow", ExecutionSkipped, 3 * time.Hour},
			{"e4", "jira", ExecutionDelivered, 30 * 24 * time.Hour},
		},
		playbooks: []playbook{{"pb1", "servicenow", 72 * time.Hour}, {"pb2", "slack", time.Hour}},
	})

	report, err := service.Current(context.Background(), DefaultParams())
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	summary := report.ExecutiveSummary
	checks := []struct {
		name      string
		got, want int
	}{
		{"execution_count", summary.ExecutionCount, 3},
		{"failed_execution_count", summary.FailedExecutionCount, 2},
		{"open_recovery_count", summary.OpenRecoveryCount, 2},
		{"slo_breach_count", summary.SLOBreachCount, 1},
		// jira and servicenow failed; servicenow is also breached.
		{"escalation_count", summary.EscalationCount, 2},
		{"provider rows", len(report.ProviderSummary), 3},
		{"evidence executions in period", report.Evidence.AuditRetryExecutionsInPeriod, 3},
		{"evidence recovery rows", report.Evidence.RecoveryRows, 2},
	}
	for _, check := range checks {
		if check.got != check.want {
			t.Errorf("%s: got %d, want %d", check.name, check.got, check.want)
		}
	}
	if got := report.ProviderSummary[0].Provider; got != "jira" {
		t.Errorf("first provider: got %q, want jira (sorted by name)", got)
	}
	if got := report.Evidence.OpenRecoveries; len(got) != 2 || got[0].PlaybookID != "pb1" || !got[0].Breached || got[1].Breached {
		t.Errorf("evidence open recoveries: got %+v, want pb1 breached then pb2 within the SLO", got)
	}
}

// A provider whose only problem is a recovery past the SLO needs escalation
// as much as one with failed executions.
func TestReportEscalatesBreachOnlyProvider(t *testing.T) {
	service, db := newTestService(t)
	seed(t, db, evidenceSet{
		executions: []execution{{"e1", "slack", ExecutionDelivered, time.Hour}},
		playbooks:  []playbook{{"pb1", "jira", 5 * time.Hour}},
	})

	report, err := service.Current(context.Background(), DefaultParams())
	if err != nil {
		t.Fatalf("Current: %v (%s)", err, dbtest.Describe())
	}
	summary := report.ExecutiveSummary
	if summary.FailedExecutionCount != 0 {
		t.Fatalf("failed_execution_count: got %d, want 0 (this case has no failed execution)", summary.FailedExecutionCount)
	}
	if summary.EscalationCount != 1 {
		t.Errorf("escalation_count: got %d, want 1 (jira is past the SLO)", summary.EscalationCount)
	}
	if want := "so notifications to jira need escalation."; !strings.HasSuffix(summary.BusinessImpact, want) {
		t.Errorf("business impact: got %q, want it to end %q", summary.BusinessImpact, want)
	}
}

// The still-open risk names only providers with a recovery within the SLO.
// A provider whose open recoveries are all past the SLO belongs to the
// SLO-breach risk alone.
func TestReportStillOpenRiskLeavesOutBreachedOnly(t *testing.T) {
	service, db := newTestService(t)
	seed(t, db, evidenceSet{playbooks: []playbook{
		{"pb1", "jira", 5 * time.Hour},
		{"pb2", "slack", time.Hour},
		{"pb3", "teams", 6 * time.Hour},
		{"pb4", "teams", time.Hour},
	}})

	report, err := service.Current(context.Background(), DefaultParams())
	if err != nil {
		t.Fatalf("Current: %v (%s)", err, dbtest.Describe())
	}
	risks := map[string]KeyRisk{}
	for _, risk := range report.KeyRisks {
		risks[risk.Category] = risk
	}
	breach, ok := risks[RiskRecoverySLOBreach]
	if !ok {
		t.Fatalf("key risks: got %v, want a %s risk", categories(report), RiskRecoverySLOBreach)
	}
	if want := []string{"jira", "teams"}; !equalStrings(breach.Providers, want) {
		t.Errorf("SLO breach risk providers: got %v, want %v", breach.Providers, want)
	}
	if breach.Severity != StatusCritical {
		t.Errorf("SLO breach risk severity: got %q, want %q", breach.Severity, StatusCritical)
	}
	open, ok := risks[RiskRecoveryStillOpen]
	if !ok {
		t.Fatalf("key risks: got %v, want a %s risk", categories(report), RiskRecoveryStillOpen)
	}
	if want := []string{"slack", "teams"}; !equalStrings(open.Providers, want) {
		t.Errorf("still open risk providers: got %v, want %v (jira has no recovery within the SLO)", open.Providers, want)
	}
	if open.Count != 2 {
		t.Errorf("still open risk count: got %d, want 2", open.Count)
	}
	for _, action := range report.RecommendedActions {
		if strings.HasPrefix(action, "Follow up the open recoveries") && strings.Contains(action, "jira") {
			t.Errorf("recommended action: got %q, want no follow-up for jira", action)
		}
	}
}

func TestClosureTrendsBucketByUTCDay(t *testing.T) {
	service, db := newTestService(t)
	// 23:59:59 and 00:00:00 UTC fall on different days, whatever the local zone.
	dayBefore := time.Date(2026, 3, 4, 23, 59, 59, 0, time.UTC)
	midnight := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	seed(t, db, evidenceSet{
		playbooks: []playbook{{"pb1", "slack", 100 * time.Hour}, {"pb1", "jira", 100 * time.Hour}, {"pb1", "teams", 100 * time.Hour}},
		closures: []closure{
			{"c1", "pb1", "slack", ClosureStateResolved, dayBefore},
			{"c2", "pb1", "jira", "deferred", midnight},
			{"c3", "pb1", "teams", ClosureStateMitigated, midnight.Add(time.Hour)},
			// Before the period: 2026-02-27 is the eighth day back.
			{"c4", "pb1", "teams", "deferred", time.Date(2026, 2, 27, 12, 0, 0, 0, time.UTC)},
		},
	})

	report, err := service.Current(context.Background(), DefaultParams())
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	trends := report.ClosureTrends
	if len(trends) != DefaultPeriodDays {
		t.Fatalf("trend days: got %d, want %d", len(trends), DefaultPeriodDays)
	}
	if trends[0].Date != "2026-02-28" || trends[len(trends)-1].Date != "2026-03-06" {
		t.Errorf("trend range: got %s..%s, want 2026-02-28..2026-03-06", trends[0].Date, trends[len(trends)-1].Date)
	}
	byDate := map[string]ClosureTrend{}
	for _, trend := range trends {
		byDate[trend.Date] = trend
	}
	if got := byDate["2026-03-04"]; got.ClosureCount != 1 || got.ClosedCount != 1 {
		t.Errorf("2026-03-04: got %+v, want 1 closure, 1 closed", got)
	}
	if got := byDate["2026-03-05"]; got.ClosureCount != 2 || got.ClosedCount != 1 || got.OtherCount != 1 || got.ByState["deferred"] != 1 {
		t.Errorf("2026-03-05: got %+v, want 2 closures: 1 closed (mitigated), 1 other (deferred)", got)
	}
	if got := report.Evidence.RecoveryClosuresInPeriod; got != 3 {
		t.Errorf("closures in period: got %d, want 3", got)
	}
	if got := report.Period.Start; !got.Equal(time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("period start: got %s, want 2026-02-28T00:00:00Z", got)
	}
}

func TestParamsValidate(t *testing.T) {
	cases := []struct {
		params    Params
		wantField string
	}{
		{Params{RecoverySLOMinutes: 0, PeriodDays: 7}, "recovery_slo_minutes"},
		{Params{RecoverySLOMinutes: MaxRecoverySLOMinutes + 1, PeriodDays: 7}, "recovery_slo_minutes"},
		{Params{RecoverySLOMinutes: 240, PeriodDays: 0}, "period_days"},
		{Params{RecoverySLOMinutes: 240, PeriodDays: 367}, "period_days"},
		{Params{RecoverySLOMinutes: 1, PeriodDays: 366}, ""},
	}
	for _, tc := range cases {
		err := tc.params.Validate()
		field := ""
		if paramErr, ok := err.(*ParamError); ok {
			field = paramErr.Field
		}
		if field != tc.wantField {
			t.Errorf("Validate(%+v): got field %q, want %q", tc.params, field, tc.wantField)
		}
	}
}

// A sentence names at most maxNamesInSentences destinations and counts the
// rest, so a report with many destinations stays short.
func TestJoinNamesCountsTheRest(t *testing.T) {
	names := make([]string, 0, maxNamesInSentences+3)
	for i := range maxNamesInSentences + 3 {
		names = append(names, fmt.Sprintf("d%02d", i))
	}
	cases := []struct {
		name  string
		names []string
		want  string
	}{
		{"one", names[:1], "d00"},
		{"two", names[:2], "d00 and d01"},
		{"at the limit", names[:maxNamesInSentences], strings.Join(names[:maxNamesInSentences-1], ", ") + " and d09"},
		{"over the limit", names, strings.Join(names[:maxNamesInSentences], ", ") + " and 3 more"},
	}
	for _, tc := range cases {
		if got := joinNames(tc.names); got != tc.want {
			t.Errorf("%s: joinNames = %q, want %q", tc.name, got, tc.want)
		}
	}
}
