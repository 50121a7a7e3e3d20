package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/auth"

	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/views"
)

func (h *Handler) registerConsoleRoutes(e *echo.Echo) {
	h.route(e, http.MethodGet, "/console", h.console, auth.PermissionReadConsole)
}

// consoleParams are the query parameters of the console: the records it
// shows (health_id, plan_id, retry_plan_id), the alert history filters,
// which include health_id, and the page of the outstanding acknowledgements.
var consoleParams = slices.Concat([]string{"plan_id", "retry_plan_id"}, alertHistoryParams, outstandingParams)

// consoleQuery reads the console's alert history filters and outstanding
// page strictly. An unknown or repeated parameter and an invalid filter are
// rejected with the parameter named.
func consoleQuery(c echo.Context) (alertsState, error) {
	state := defaultAlertsState()
	if err := rejectUnknownQuery(c, consoleParams...); err != nil {
		return state, err
	}
	if err := rejectLongFilters(c, "plan_id", "retry_plan_id"); err != nil {
		return state, err
	}
	q, err := historyQuery(c)
	if err != nil {
		return state, err
	}
	if err := q.Validate(); err != nil {
		apiErr := alertError(err)
		var invalid *APIError
		if errors.As(apiErr, &invalid) && invalid.Field == "metadata_kind" {
			// The JSON message lists the stored kind names as well, which
			// the form's select does not show.
			invalid.FormMessage = fmt.Sprintf("‘Kind’ %q is not a history kind; choose %s", q.MetadataKind, alertHistoryKindChoices)
		}
		return state, apiErr
	}
	outstanding, err := outstandingQuery(c)
	if err != nil {
		return state, err
	}
	state.History, state.Outstanding = q, outstanding
	for name, list := range c.QueryParams() {
		if list[0] != "" {
			state.Query.Set(name, list[0])
		}
	}
	return state, nil
}

// alertHistoryKindChoices are the options of the alert history's Kind
// select, as it shows them.
const alertHistoryKindChoices = "any, plan, delivery or acknowledgement"

// console shows the requested health snapshot (health_id), else the newest
// one, else a preview of the current evaluation that writes nothing.
//
// A browser whose query is rejected gets the console back with a 400, as
// with /history, and with a 404 for an unknown health_id. The alert history keeps the filters as typed and shows the
// message instead of rows, and the other sections are shown as usual. JSON
// and htmx clients get the usual error response.
func (h *Handler) console(c echo.Context) error {
	ctx := c.Request().Context()

	showsRejection := h.Alerts != nil && !wantsJSON(c) && !isHTMX(c)
	state, err := consoleQuery(c)
	var rejected *APIError
	if errors.As(err, &rejected) && rejected.Status == http.StatusBadRequest && showsRejection {
		rejected = shortened(rejected, h.Secrets)
		logRejected(h.Logger, h.Secrets, c, rejected)
		state = defaultAlertsState()
	} else if err != nil {
		return err
	}

	var report *health.Report
	if id := consoleID(c, "health_id"); id != "" {
		snapshot, err := h.Health.Snapshot(ctx, id)
		switch {
		case errors.Is(err, models.ErrNotFound):
			apiErr := notFound("no health snapshot has health_id %q; check the id, or clear the Health id filter to see the newest snapshot", id)
			apiErr.Field = "health_id"
			if !showsRejection {
				return apiErr
			}
			// A browser gets the console with the newest snapshot and the
			// message at the filters, as with a rejected filter.
			if rejected == nil {
				rejected = shortened(apiErr, h.Secrets)
				logRejected(h.Logger, h.Secrets, c, rejected)
				state = defaultAlertsState()
			}
		case err != nil:
			return err
		default:
			report = &snapshot
		}
	}
	if report == nil {
		latest, err := h.Health.Latest(ctx)
		if err != nil {
			return err
		}
		report = latest
	}
	if report == nil {
		preview, err := h.Health.Evaluate(ctx, health.DefaultParams())
		if err != nil {
			return err
		}
		report = &preview
	}

	executiveView, err := h.executiveConsoleView(c)
	if err != nil {
		return err
	}
	page := views.ConsolePage{Health: h.healthPanelView(c, report), Executive: executiveView}
	if h.Alerts != nil {
		if page.Alerts, err = h.alertsSection(c, state); err != nil {
			return err
		}
		if rejected != nil {
			page.Alerts.History = rejectedAlertHistoryView(c, page.Alerts.History.Kinds, rejected)
		}
		if showsRejection {
			page.Alerts.Recorded = h.takeRecordedNote(c)
		}
	}
	if page.Retry, err = h.retryConsoleView(ctx, c, models.SubjectExecutiveReport); err != nil {
		return err
	}
	if page.AlertRetry, err = h.retryConsoleView(ctx, c, models.SubjectHealthAlert); err != nil {
		return err
	}
	if h.Audit != nil {
		dashboard, err := h.Audit.Dashboard(ctx)
		if err != nil {
			return err
		}
		v := dashboardView(dashboard)
		page.Dashboard = &v
	}
	status := http.StatusOK
	if rejected != nil {
		status = rejected.Status
	}
	return render(c, status, views.Console(pageContext(c), page))
}

// rejectedAlertHistoryView keeps the alert history filters as they were
// typed, up to maxFilterLength characters each, with the error, so a rejected filter can be corrected in place. It
// shows no rows. The hidden limit field carries the default, so submitting
// the form does not send a rejected limit again.
func rejectedAlertHistoryView(c echo.Context, kinds []views.OptionView, invalid *APIError) views.AlertHistoryView {
	values := c.QueryParams()
	return views.AlertHistoryView{
		Limit: alerting.DefaultHistoryLimit, Kinds: kinds,
		Filter: views.AlertHistoryFilterView{
			HealthID: typedFilter(values, "health_id"), Provider: typedFilter(values, "provider"), MetadataKind: typedFilter(values, "metadata_kind"),
			AcknowledgementState: typedFilter(values, "acknowledgement_state"), Suppressed: typedFilter(values, "suppressed"),
		},
		Error: rejectedFilterMessage(invalid), ErrorField: invalid.Field,
	}
}

// rejectedFilterMessage returns the message that the alert history shows
// for invalid. A rejected filter is named by its label, as /history names
// its filters. Other errors, such as an unknown health_id, keep their text,
// which already names the filter to clear.
func rejectedFilterMessage(invalid *APIError) string {
	if invalid.Status != http.StatusBadRequest {
		return invalid.Message
	}
	message, _ := formMessage("/console", invalid)
	return message
}

// healthPanelView maps an evaluation to its view model. The build form is
// disabled for roles without alert.send, the permission of its route.
func (h *Handler) healthPanelView(c echo.Context, r *health.Report) views.HealthPanelView {
	v := views.HealthPanelView{
		Persisted: r.HealthID != "", HealthID: r.HealthID, Fingerprint: r.Fingerprint,
		AlertLevel: r.AlertLevel, EvaluatedAt: views.FormatTime(r.EvaluatedAt, h.TimeZone), Actor: r.Actor,
		ExpectedIntervalMinutes: r.ExpectedIntervalMinutes, StaleMetadataMinutes: r.StaleMetadataMinutes,
		RecommendedActions: r.RecommendedActions,
		BuildBlockedReason: formBlockedReason(c, auth.PermissionSendAlerts, "build health snapshots"),
	}
	for _, f := range r.Findings {
		v.Findings = append(v.Findings, views.FindingView{Category: f.Category, Severity: f.Severity, Message: f.Message})
	}
	counts := r.Counts
	// Most counts cover every stored record. The labels of the others name
	// their scope, so a reader does not compare them with their neighbours.
	// The retryable retries add up every retry plan, and the selected
	// retries and pending acknowledgements are the newest worker run's.
	v.Counts = []views.CountView{
		{Key: "worker_run_count", Label: "Worker runs", Value: counts.WorkerRunCount},
		{Key: "retry_plan_count", Label: "Retry plans", Value: counts.RetryPlanCount},
		{Key: "execution_record_count", Label: "Execution records", Value: counts.ExecutionRecordCount},
		{Key: "retryable_retry_count", Label: "Retryable retries, all plans", Value: counts.RetryableRetryCount},
		{Key: "selected_retry_count", Label: "Selected retries, newest run", Value: counts.SelectedRetryCount},
		{Key: "acknowledgement_pending_count", Label: "Pending acknowledgements, newest run", Value: counts.AcknowledgementPendingCount},
		{Key: "failed_execution_count", Label: "Open failed executions", Value: counts.FailedExecutionCount},
		{Key: "delivered_execution_count", Label: "Delivered executions", Value: counts.DeliveredExecutionCount},
		{Key: "failed_escalation_delivery_count", Label: "Failed escalation deliveries", Value: counts.FailedEscalationDeliveryCount},
		{Key: "disabled_schedule_count", Label: "Runs with schedule disabled", Value: counts.DisabledScheduleCount},
	}
	if run := r.LatestWorkerRun; run != nil {
		detail := "schedule enabled"
		if !run.ScheduleEnabled {
			detail = "schedule disabled"
		}
		if run.DryRun {
			detail += ", dry run"
		}
		v.LatestWorkerRun = &views.RecordAgeView{
			ID: run.RunID, CreatedAt: views.FormatTime(run.CreatedAt, h.TimeZone),
			Age: views.FormatAge(run.Minutes, run.InFuture), Detail: detail,
		}
	}
	if plan := r.LatestRetryPlan; plan != nil {
		v.LatestRetryPlan = &views.RecordAgeView{
			ID: plan.RetryPlanID, CreatedAt: views.FormatTime(plan.CreatedAt, h.TimeZone),
			Age: views.FormatAge(plan.Minutes, plan.InFuture),
		}
	}
	for _, f := range r.OpenFailedExecutions {
		v.OpenFailures = append(v.OpenFailures, views.OpenFailureView{
			PlanID: f.PlanID, Provider: f.Provider, ExecutionID: f.ExecutionID, Status: f.ExecutionStatus,
			At: views.FormatTime(f.CreatedAt, h.TimeZone),
		})
	}
	return v
}
