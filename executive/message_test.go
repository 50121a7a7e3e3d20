package executive

import (
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
)

func TestBuildMessagePerKind(t *testing.T) {
	report := Build(DefaultParams(), Inputs{
		Now:        testNow,
		Executions: []models.ExecutionTally{{Provider: "jira", ExecutionStatus: ExecutionFailed, Count: 2}},
		Recoveries: []models.RecoveryTally{{Provider: "jira", RecoveryCount: 1, OpenCount: 1, BreachedCount: 1}},
	})
	report.ReportID = "xrpt_1"
	run := ScheduleRun{RunID: "xrun_1", ReportID: "xrpt_1", Schedule: Schedule{IntervalMinutes: 1440, Enabled: true, Cadence: "daily"},
		WindowStart: testNow.Truncate(24 * time.Hour), WindowEnd: testNow.Truncate(24 * time.Hour).Add(24 * time.Hour)}

	cases := []struct {
		kind      connectors.Kind
		wantTitle string
		wantFacts int
	}{
		{connectors.KindSlack, "Executive recovery report: critical", 8},
		{connectors.KindEmail, "Executive recovery report: critical", 8},
		{connectors.KindJira, "Executive recovery report: critical (1 past SLO, 2 failed)", 5},
		{connectors.KindPagerDuty, "Executive recovery report: critical (1 past SLO, 2 failed)", 5},
	}
	for _, tc := range cases {
		t.Run(string(tc.kind), func(t *testing.T) {
			msg := BuildMessage(report, run, connectors.Destination{Name: "Exec-" + string(tc.kind), Kind: tc.kind}, "http://127.0.0.1:8080/executive/reports/xrpt_1")
			if msg.Title != tc.wantTitle {
				t.Errorf("title: got %q, want %q", msg.Title, tc.wantTitle)
			}
			if len(msg.Facts) != tc.wantFacts {
				t.Errorf("facts: got %d, want %d", len(msg.Facts), tc.wantFacts)
			}
			if want := "xrun_1:exec-" + string(tc.kind); msg.IdempotencyKey != want {
				t.Errorf("idempotency key: got %q, want %q", msg.IdempotencyKey, want)
			}
			if msg.Level != StatusCritical || msg.Event != connectors.EventExecutiveRecoveryReport {
				t.Errorf("level and event: got %q %q, want critical and %q", msg.Level, msg.Event, connectors.EventExecutiveRecoveryReport)
			}
			if len(msg.Items) != 2 || msg.Items[0].Title != report.KeyRisks[0].Title {
				t.Errorf("items: got %+v, want the two key risks in order", msg.Items)
			}
			if !strings.Contains(msg.Summary, "need escalation") {
				t.Errorf("summary: got %q, want the business impact sentence", msg.Summary)
			}
			if msg.Payload["report_id"] != "xrpt_1" || msg.Payload["run_id"] != "xrun_1" {
				t.Errorf("payload ids: got %v and %v, want xrpt_1 and xrun_1", msg.Payload["report_id"], msg.Payload["run_id"])
			}
		})
	}
}
