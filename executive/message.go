package executive

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/releaseops/evidence-console/connectors"
)

// IdempotencyKey identifies the delivery of a run's report to one
// destination across the first send and every retry.
func IdempotencyKey(runID, provider string) string {
	return runID + ":" + strings.ToLower(strings.TrimSpace(provider))
}

// BuildMessage renders a report as a connector message for one destination.
// Chat and e-mail destinations get every fact. Ticket and paging
// destinations (Jira, ServiceNow, PagerDuty) get a title that carries the
// counts and only the facts an on-call reader acts on. Log destinations
// read the machine-readable payload.
func BuildMessage(report Report, run ScheduleRun, destination connectors.Destination, link string) connectors.Message {
	summary := report.ExecutiveSummary
	title := "Executive recovery report: " + summary.Status
	facts := []connectors.Fact{
		{Label: "Status", Value: summary.Status},
		{Label: "Recovery SLO breaches", Value: strconv.Itoa(summary.SLOBreachCount)},
		{Label: "Failed or skipped executions", Value: fmt.Sprintf("%d of %d", summary.FailedExecutionCount, summary.ExecutionCount)},
		{Label: "Open recoveries", Value: strconv.Itoa(summary.OpenRecoveryCount)},
		{Label: "Providers needing escalation", Value: strconv.Itoa(summary.EscalationCount)},
		{Label: "Period", Value: fmt.Sprintf("%s to %s (%s)", report.Period.Start.Format("2006-01-02"),
			report.Period.End.Format("2006-01-02 15:04 UTC"), plural(report.Period.PeriodDays, "day", "days"))},
		{Label: "Recovery SLO", Value: fmt.Sprintf("%d minutes", report.RecoverySLOMinutes)},
		{Label: "Schedule", Value: fmt.Sprintf("%s, window %s to %s", run.Schedule.Cadence,
			run.WindowStart.Format("2006-01-02 15:04"), run.WindowEnd.Format("2006-01-02 15:04 UTC"))},
	}
	switch destination.Kind {
	case connectors.KindJira, connectors.KindServiceNow, connectors.KindPagerDuty:
		title = fmt.Sprintf("Executive recovery report: %s (%s past SLO, %s failed)", summary.Status,
			strconv.Itoa(summary.SLOBreachCount), strconv.Itoa(summary.FailedExecutionCount))
		facts = facts[:5]
	}

	items := make([]connectors.Item, 0, len(report.KeyRisks))
	for _, risk := range report.KeyRisks {
		items = append(items, connectors.Item{Severity: risk.Severity, Title: risk.Title, Detail: risk.Detail})
	}

	return connectors.Message{
		IdempotencyKey: IdempotencyKey(run.RunID, destination.Name),
		Event:          connectors.EventExecutiveRecoveryReport,
		Title:          title,
		Level:          summary.Status,
		Summary:        summary.BusinessImpact,
		Facts:          facts,
		Items:          items,
		Link:           link,
		LinkText:       "Open the executive recovery report",
		OccurredAt:     report.GeneratedAt,
		Payload: map[string]any{
			"report_id":              report.ReportID,
			"run_id":                 run.RunID,
			"status":                 summary.Status,
			"execution_count":        summary.ExecutionCount,
			"failed_execution_count": summary.FailedExecutionCount,
			"open_recovery_count":    summary.OpenRecoveryCount,
			"slo_breach_count":       summary.SLOBreachCount,
			"escalation_count":       summary.EscalationCount,
			"recovery_slo_minutes":   report.RecoverySLOMinutes,
			"period_days":            report.Period.PeriodDays,
			"window_start":           run.WindowStart,
			"window_end":             run.WindowEnd,
			"key_risks":              riskCategories(report.KeyRisks),
		},
	}
}

func riskCategories(risks []KeyRisk) []string {
	categories := make([]string, 0, len(risks))
	for _, risk := range risks {
		categories = append(categories, risk.Category)
	}
	return categories
}
