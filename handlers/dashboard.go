package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/audit"
	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/views"
)

// AuditService counts, lists, traces and exports the stored records.
type AuditService interface {
	Dashboard(ctx context.Context) (audit.Dashboard, error)
	History(ctx context.Context, q audit.HistoryQuery) (audit.HistoryPage, error)
	Chain(ctx context.Context, kind, id string) (audit.Chain, error)
	Export(ctx context.Context, w io.Writer, q audit.ExportQuery) (audit.Manifest, error)
}

func (h *Handler) registerAuditRoutes(e *echo.Echo) {
	h.route(e, http.MethodGet, runtimePrefix+"/dashboard", h.getDashboard, auth.PermissionReadConsole)
	h.route(e, http.MethodGet, "/console/dashboard", h.dashboardFragment, auth.PermissionReadConsole)
	h.route(e, http.MethodGet, runtimePrefix, h.getHistory, auth.PermissionReadConsole)
	h.route(e, http.MethodGet, "/history", h.historyPage, auth.PermissionReadConsole)
	h.route(e, http.MethodGet, runtimePrefix+"/audit/export", h.exportEvidence, auth.PermissionExportAudit)
	h.route(e, http.MethodGet, "/history/export", h.exportEvidenceDays, auth.PermissionExportAudit)
	h.route(e, http.MethodGet, runtimePrefix+"/audit/:kind/:id", h.getAuditChain, auth.PermissionReadConsole)
	h.route(e, http.MethodGet, "/audit/:kind/:id", h.auditChainPage, auth.PermissionReadConsole)
	h.registerMetricsRoutes(e)
	h.registerOpenAPIRoutes(e)
}

// auditError maps the audit package's errors to the error model.
func auditError(err error) error {
	var fieldErr *audit.FieldError
	if errors.As(err, &fieldErr) {
		return fieldError(fieldErr.Field, "%s", fieldErr.Message)
	}
	return err
}

// getDashboard returns the exact counts of the record kinds the dashboard
// covers (see audit.Dashboard).
func (h *Handler) getDashboard(c echo.Context) error {
	if err := rejectUnknownQuery(c); err != nil {
		return err
	}
	dashboard, err := h.Audit.Dashboard(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, dashboard)
}

// dashboardFragment renders the console's dashboard section, which reloads
// itself after a console form changes stored records.
func (h *Handler) dashboardFragment(c echo.Context) error {
	if err := rejectUnknownQuery(c); err != nil {
		return err
	}
	dashboard, err := h.Audit.Dashboard(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Dashboard(dashboardView(dashboard)))
}

// recordsChangedEvent is the htmx event a successful console form post
// sends, so panels that count records, such as the dashboard, reload.
const recordsChangedEvent = "records-changed"

// announceChanges adds recordsChangedEvent to the HX-Trigger header of every
// successful htmx POST, next to any event the handler set.
func announceChanges(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method == http.MethodPost && isHTMX(c) {
			response := c.Response()
			response.Before(func() {
				if response.Status >= http.StatusBadRequest {
					return
				}
				events := recordsChangedEvent
				if current := response.Header().Get("HX-Trigger"); current != "" {
					events = current + ", " + events
				}
				response.Header().Set("HX-Trigger", events)
			})
		}
		return next(c)
	}
}

// outstandingCard links the outstanding acknowledgements to the console's
// list of them, whose page links reach every one.
func outstandingCard(count int64) views.DashboardCard {
	return views.DashboardCard{Key: "outstanding_acknowledgements", Label: "Outstanding acknowledgements",
		Value: strconv.FormatInt(count, 10), Href: "/console#outstanding-acknowledgements"}
}

// dashboardView maps the dashboard to its console cards. Each card links to
// the combined history filtered to the records it counts.
func dashboardView(d audit.Dashboard) views.DashboardView {
	history := func(params ...string) string {
		values := url.Values{}
		for i := 0; i+1 < len(params); i += 2 {
			values.Set(params[i], params[i+1])
		}
		return "/history?" + values.Encode()
	}
	const alertSource, executiveSource = "health_alert", "executive_report"
	card := func(key, label string, value int64, href string) views.DashboardCard {
		return views.DashboardCard{Key: key, Label: label, Value: strconv.FormatInt(value, 10), Href: href}
	}
	// broader is a card whose link opens more records than it counts, with
	// a note that names what it opens.
	broader := func(key, label string, value int64, href, note string) views.DashboardCard {
		c := card(key, label, value, href)
		c.Note = note
		return c
	}
	outcomes := d.ExecutiveRetries.ExecutionsByOutcome
	return views.DashboardView{
		AlertLevel: d.AlertLevel, Reasons: d.AlertLevelReasons, NoHealthEvaluation: d.Health.LatestHealthID == "",
		Groups: []views.DashboardGroup{
			{Title: "Recovery retry health", Cards: []views.DashboardCard{
				card("health_evaluations", "Evaluations", d.Health.EvaluationCount, history("metadata_kind", "health_snapshot")),
				broader("health_findings", "Findings", d.Health.FindingCount, history("metadata_kind", "health_snapshot"), "opens the snapshots"),
			}},
			{Title: "Retry health alerts", Cards: []views.DashboardCard{
				card("alert_plans", "Alert plans", d.Alerts.PlanCount, history("metadata_kind", "alert_plan")),
				card("alert_sent", "Deliveries sent", d.Alerts.Deliveries.SentCount,
					history("metadata_kind", "delivery", "connector_delivery_source", alertSource, "delivery_success", "true")),
				card("alert_failed", "Deliveries failed", d.Alerts.Deliveries.FailedCount,
					history("metadata_kind", "delivery", "connector_delivery_source", alertSource, "delivery_success", "false")),
				broader("alert_in_flight", "Deliveries in flight", d.Alerts.Deliveries.InFlightCount,
					history("metadata_kind", "delivery", "connector_delivery_source", alertSource), "opens every delivery"),
				broader("alert_open_failed", "Open delivery failures", d.Alerts.Deliveries.OpenFailedCount,
					history("metadata_kind", "delivery", "connector_delivery_source", alertSource, "delivery_success", "false"),
					"opens every failed delivery, repaired ones too"),
				broader("suppressions", "Suppressed destinations", d.Alerts.SuppressionCount, history("metadata_kind", "alert_plan"),
					"opens the alert plans"),
				card("acknowledgements", "Acknowledgements", d.Alerts.AcknowledgementCount, history("metadata_kind", "acknowledgement")),
				outstandingCard(d.Alerts.OutstandingAcknowledgementCount),
			}},
			{Title: "Executive reports", Cards: []views.DashboardCard{
				card("executive_reports", "Reports", d.Executive.ReportCount, history("metadata_kind", "executive_report")),
				card("schedule_runs", "Schedule runs", d.Executive.ScheduleRunCount, history("metadata_kind", "schedule_run")),
				card("executive_sent", "Deliveries sent", d.Executive.Deliveries.SentCount,
					history("metadata_kind", "delivery", "connector_delivery_source", executiveSource, "delivery_success", "true")),
				card("executive_failed", "Deliveries failed", d.Executive.Deliveries.FailedCount,
					history("metadata_kind", "delivery", "connector_delivery_source", executiveSource, "delivery_success", "false")),
				broader("executive_in_flight", "Deliveries in flight", d.Executive.Deliveries.InFlightCount,
					history("metadata_kind", "delivery", "connector_delivery_source", executiveSource), "opens every delivery"),
			}},
			{Title: "Executive delivery retries", Cards: []views.DashboardCard{
				card("retry_plans", "Retry plans", d.ExecutiveRetries.PlanCount,
					history("metadata_kind", "retry_plan", "connector_delivery_source", executiveSource)),
				broader("retryable_decisions", "Retryable decisions", d.ExecutiveRetries.RetryableDecisionCount,
					history("metadata_kind", "retry_plan", "connector_delivery_source", executiveSource), "opens the retry plans"),
				broader("dry_worker_runs", "Dry worker runs", d.ExecutiveRetries.DryWorkerRunCount,
					history("metadata_kind", "retry_worker_run", "connector_delivery_source", executiveSource), "opens every worker run"),
				broader("live_worker_runs", "Live worker runs", d.ExecutiveRetries.LiveWorkerRunCount,
					history("metadata_kind", "retry_worker_run", "connector_delivery_source", executiveSource), "opens every worker run"),
				card("executions_delivered", "Executions delivered", outcomes["delivered"],
					history("metadata_kind", "retry_execution", "connector_delivery_source", executiveSource, "delivery_success", "true")),
				card("executions_failed", "Executions failed", outcomes["failed"],
					history("metadata_kind", "retry_execution", "connector_delivery_source", executiveSource, "delivery_success", "false")),
				broader("executions_skipped", "Executions skipped", outcomes["skipped"],
					history("metadata_kind", "retry_execution", "connector_delivery_source", executiveSource), "opens every execution"),
				broader("executions_in_flight", "Executions in flight", outcomes["in_flight"],
					history("metadata_kind", "retry_execution", "connector_delivery_source", executiveSource), "opens every execution"),
			}},
		},
	}
}
