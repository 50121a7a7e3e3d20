package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/models"
)

// alertRetryPath is the JSON prefix of health alert delivery retries.
const alertRetryPath = auditDelivery + "/recovery-escalations/retry-health-alerts"

func (h *Handler) registerAlertRetryRoutes(e *echo.Echo) {
	h.route(e, http.MethodPost, alertRetryPath+"/retry-plan", h.planAlertRetry, auth.PermissionPlanRetries)
	h.route(e, http.MethodPost, alertRetryPath+"/retry-worker-run", h.runAlertRetry, auth.PermissionPlanRetries)
	h.route(e, http.MethodGet, alertRetryPath+"/retry-worker-runs", h.listAlertRetryRuns, auth.PermissionReadConsole)
	h.route(e, http.MethodGet, alertRetryPath+"/retry-worker-runs/:run_id", h.getAlertRetryRun, auth.PermissionReadConsole)
	h.route(e, http.MethodGet, alertRetryPath+"/retry-health", h.getAlertRetryHealth, auth.PermissionReadConsole)

	// The console forms need the permissions of the JSON endpoints above.
	h.route(e, http.MethodPost, "/console/alert-retry/plan", h.planAlertRetry, auth.PermissionPlanRetries)
	h.route(e, http.MethodPost, "/console/alert-retry/run", h.runAlertRetry, auth.PermissionPlanRetries)
	h.route(e, http.MethodPost, "/console/alert-retry/confirm", h.confirmAlertRetry, auth.PermissionPlanRetries)
	h.route(e, http.MethodGet, "/console/alert-retry/health", h.alertRetryHealthFragment, auth.PermissionReadConsole)
}

// listAlertRetryRuns lists the newest health alert delivery retry worker
// runs.
func (h *Handler) listAlertRetryRuns(c echo.Context) error {
	return h.listRetryRunsOf(c, models.SubjectHealthAlert)
}

// getAlertRetryRun returns one health alert delivery retry worker run.
func (h *Handler) getAlertRetryRun(c echo.Context) error {
	return h.getRetryRunOf(c, models.SubjectHealthAlert)
}

// getAlertRetryHealth evaluates health alert delivery retry health and
// writes nothing.
func (h *Handler) getAlertRetryHealth(c echo.Context) error {
	return h.getRetryHealthOf(c, models.SubjectHealthAlert)
}

// planAlertRetry persists a retry plan of failed health alert deliveries.
func (h *Handler) planAlertRetry(c echo.Context) error {
	return h.planRetry(c, models.SubjectHealthAlert)
}

// runAlertRetry runs the health alert delivery retry worker once, with the
// same rules as the executive report worker.
func (h *Handler) runAlertRetry(c echo.Context) error {
	return h.runRetry(c, models.SubjectHealthAlert)
}

// confirmAlertRetry shows what a live run of health alert retries would
// send and requests explicit confirmation. It writes nothing.
func (h *Handler) confirmAlertRetry(c echo.Context) error {
	return h.confirmRetry(c, models.SubjectHealthAlert)
}

// alertRetryHealthFragment renders the console's health alert retry health
// panel. It writes nothing.
func (h *Handler) alertRetryHealthFragment(c echo.Context) error {
	return h.retryHealthFragment(c, models.SubjectHealthAlert)
}
