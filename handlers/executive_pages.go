package handlers

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/executive"
	"github.com/releaseops/evidence-console/views"
)

// executivePreviewPage shows the report of the current evidence without
// saving it.
func (h *Handler) executivePreviewPage(c echo.Context) error {
	if err := rejectUnknownQuery(c, "recovery_slo_minutes", "period_days"); err != nil {
		return err
	}
	params, err := executiveParams(c)
	if err != nil {
		return err
	}
	report, err := h.Executive.Current(c.Request().Context(), params)
	if err != nil {
		return executiveError(err)
	}
	return render(c, http.StatusOK, views.ExecutiveReportPage(pageContext(c), h.executiveReportView(report)))
}

// executiveReportPage shows a persisted report.
func (h *Handler) executiveReportPage(c echo.Context) error {
	reportID := c.Param("report_id")
	report, err := h.Executive.Report(c.Request().Context(), reportID)
	if executive.IsNotFound(err) {
		return notFound("executive report %q not found", reportID)
	}
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ExecutiveReportPage(pageContext(c), h.executiveReportView(report)))
}

// executivePreviewFragment returns the console's preview of the current
// report for htmx, or redirects a plain request to the full preview page.
func (h *Handler) executivePreviewFragment(c echo.Context) error {
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, "/executive/report")
	}
	report, err := h.Executive.Current(c.Request().Context(), executive.DefaultParams())
	if err != nil {
		return executiveError(err)
	}
	return render(c, http.StatusOK, views.ExecutivePreviewResult(h.executiveReportView(report)))
}

// executiveRunsPage lists schedule runs with links to their reports.
func (h *Handler) executiveRunsPage(c echo.Context) error {
	if err := rejectUnknownQuery(c, "limit", "offset", "delivered"); err != nil {
		return err
	}
	limit, offset, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := h.Executive.ListRuns(c.Request().Context(), limit, offset)
	if err != nil {
		return err
	}
	page := views.ExecutiveRunsPage{Total: list.Total, Limit: limit, Offset: offset}
	for _, run := range list.Items {
		page.Runs = append(page.Runs, h.executiveRunView(run))
	}
	page.PageLinks = pageLinks(list.Total, offset, limit, limitOffsetLink("/executive/runs", limit))
	return render(c, http.StatusOK, views.ExecutiveRuns(pageContext(c), page))
}

func (h *Handler) renderScheduleResult(c echo.Context, result executive.RunResult) error {
	run := h.executiveRunView(executive.RunSummary{
		ScheduleRun: result.ScheduleRun, Status: result.Report.ExecutiveSummary.Status,
		KeyRiskCount: len(result.Report.KeyRisks), SLOBreachCount: result.Report.ExecutiveSummary.SLOBreachCount,
		GeneratedAt: result.Report.GeneratedAt,
	})
	return render(c, http.StatusOK, views.ExecutiveScheduleResponse(run))
}

func (h *Handler) renderDeliverResult(c echo.Context, result executive.DeliverResult) error {
	v := views.ExecutiveDeliverResultView{RunID: result.RunID, ReportID: result.ReportID, Success: result.Success}
	for _, d := range result.Delivery {
		v.Deliveries = append(v.Deliveries, views.ExecutiveDeliveryView{
			DeliveryID: d.DeliveryID, Provider: d.Provider, Kind: d.ConnectorKind, Success: d.Success,
			StatusCode: d.StatusCode, Class: d.ErrorClass, Attempts: d.AttemptCount, Error: cmp.Or(d.RecordError, d.Error),
			ExistingRecord: d.ExistingRecord(),
		})
	}
	return render(c, http.StatusOK, views.ExecutiveDeliverResult(v))
}

// executiveConsoleView gathers the console's executive report section. A
// role that may not read reports gets a note instead of the section, and
// the forms a role may not submit are disabled with the reason.
func (h *Handler) executiveConsoleView(c echo.Context) (views.ExecutiveConsoleView, error) {
	ctx := c.Request().Context()
	role := auth.Role(pageContext(c).UserRole)
	v := views.ExecutiveConsoleView{
		MayRead:               role.Can(auth.PermissionReadExecutive),
		ScheduleBlockedReason: formBlockedReason(c, auth.PermissionSendAlerts, "schedule executive reports"),
		DeliverBlockedReason:  formBlockedReason(c, auth.PermissionSendAlerts, "deliver executive reports"),
		DeliverRetries:        executive.DefaultRetries,
		DeliverTimeoutSeconds: strconv.FormatFloat(executive.DefaultTimeoutSeconds, 'f', -1, 64),
		DeliverMaxDuration:    sendDuration(executive.DefaultRetries, executive.DefaultTimeoutSeconds),
	}
	if h.Executive == nil || !v.MayRead {
		return v, nil
	}
	for _, destination := range h.Executive.EnabledDestinations() {
		v.Destinations = append(v.Destinations, destination.Name)
		if problem := h.Executive.DestinationProblem(destination.Name); problem != "" {
			if v.NotReady == nil {
				v.NotReady = map[string]string{}
			}
			v.NotReady[destination.Name] = problem
		}
	}
	v.CanSend = len(v.Destinations) > 0
	list, err := h.Executive.ListRuns(ctx, 1, 0)
	if err != nil {
		return v, err
	}
	if len(list.Items) > 0 {
		run := h.executiveRunView(list.Items[0])
		v.LatestRun = &run
	}
	return v, nil
}

func (h *Handler) executiveRunView(run executive.RunSummary) views.ExecutiveRunView {
	return views.ExecutiveRunView{
		RunID: run.RunID, ReportID: run.ReportID, Status: run.Status, Cadence: run.Schedule.Cadence,
		Interval: fmt.Sprintf("%d min", run.Schedule.IntervalMinutes), Enabled: run.Schedule.Enabled,
		Window:    views.FormatTime(run.WindowStart, h.TimeZone) + " – " + views.FormatTime(run.WindowEnd, h.TimeZone),
		CreatedAt: views.FormatTime(run.CreatedAt, h.TimeZone), Actor: run.Actor,
		KeyRiskCount: run.KeyRiskCount, Breaches: run.SLOBreachCount, Sent: run.SentCount, Failed: run.FailedCount,
	}
}

// executiveReportView maps a report to its view model.
func (h *Handler) executiveReportView(r executive.Report) views.ExecutiveReportView {
	s := r.ExecutiveSummary
	v := views.ExecutiveReportView{
		ReportID: r.ReportID, Status: s.Status, BusinessImpact: s.BusinessImpact,
		GeneratedAt: views.FormatTime(r.GeneratedAt, h.TimeZone), PeriodDays: r.Period.PeriodDays,
		PeriodLabel: views.FormatTime(r.Period.Start, h.TimeZone) + " – " + views.FormatTime(r.Period.End, h.TimeZone),
		SLOMinutes:  r.RecoverySLOMinutes, Actor: r.Actor, Actions: r.RecommendedActions,
		Summary: []views.CountView{
			{Key: "execution_count", Label: "Retry executions", Value: int64(s.ExecutionCount)},
			{Key: "failed_execution_count", Label: "Failed or skipped", Value: int64(s.FailedExecutionCount)},
			{Key: "open_recovery_count", Label: "Open recoveries", Value: int64(s.OpenRecoveryCount)},
			{Key: "slo_breach_count", Label: "Past the SLO", Value: int64(s.SLOBreachCount)},
			{Key: "escalation_count", Label: "Providers to escalate", Value: int64(s.EscalationCount)},
			{Key: "closed_recovery_count", Label: "Closed recoveries", Value: int64(s.ClosedRecoveryCount)},
		},
		Evidence: []views.CountView{
			{Key: "audit_retry_executions_in_period", Label: "Retry executions in the period", Value: int64(r.Evidence.AuditRetryExecutionsInPeriod)},
			{Key: "recovery_playbooks", Label: "Recovery playbooks", Value: r.Evidence.RecoveryPlaybooks},
			{Key: "recovery_rows", Label: "Recoveries (playbook and provider)", Value: int64(r.Evidence.RecoveryRows)},
			{Key: "recovery_closures", Label: "Recovery closures", Value: r.Evidence.RecoveryClosures},
			{Key: "recovery_closures_in_period", Label: "Closures in the period", Value: int64(r.Evidence.RecoveryClosuresInPeriod)},
		},
	}
	for _, risk := range r.KeyRisks {
		v.Risks = append(v.Risks, views.RiskView{
			Category: risk.Category, Severity: risk.Severity, Title: risk.Title, Detail: risk.Detail,
			Providers: strings.Join(risk.Providers, ", "),
		})
	}
	for _, p := range r.ProviderSummary {
		v.Providers = append(v.Providers, views.ProviderRowView{
			Provider: p.Provider, Status: p.Status, Executions: p.ExecutionCount, Delivered: p.DeliveredCount,
			Failed: p.FailedExecutionCount, Skipped: p.SkippedCount, Recoveries: p.RecoveryCount,
			Closed: p.ClosedRecoveryCount, Open: p.OpenRecoveryCount, Breached: p.SLOBreachCount,
		})
	}
	days := make([]views.TrendDay, 0, len(r.ClosureTrends))
	for _, trend := range r.ClosureTrends {
		days = append(days, views.TrendDay{Date: trend.Date, Closed: trend.ClosedCount, Other: trend.OtherCount})
	}
	v.Trend = views.NewTrendChart(days)
	return v
}
