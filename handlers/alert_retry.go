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
