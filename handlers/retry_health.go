package handlers

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"

	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/views"
)

func (h *Handler) registerRetryHealthRoutes(e *echo.Echo) {
	h.route(e, http.MethodGet, auditDelivery+"/recovery-escalations/retry-health", h.getRetryHealth, auth.PermissionReadConsole)
	h.route(e, http.MethodPost, "/console/retry-health", h.buildRetryHealth, auth.PermissionSendAlerts)
}

// thresholdParams are the query parameters of the health evaluations.
var thresholdParams = []string{"expected_interval_minutes", "stale_metadata_minutes"}

// healthParams reads the two thresholds strictly from the query or form.
func healthParams(c echo.Context) (health.Params, error) {
	params := health.DefaultParams()
	var err error
	if params.ExpectedIntervalMinutes, err = queryInt(c, "expected_interval_minutes",
		health.DefaultExpectedIntervalMinutes, 1, health.MaxThresholdMinutes); err != nil {
		return params, err
	}
	if params.StaleMetadataMinutes, err = queryInt(c, "stale_metadata_minutes",
		health.DefaultStaleMetadataMinutes, 1, health.MaxThresholdMinutes); err != nil {
		return params, err
	}
	return params, nil
}

// healthError maps a threshold validation error to a 400 naming the field.
func healthError(err error) error {
	var paramErr *health.ParamError
	if errors.As(err, &paramErr) {
		return fieldError(paramErr.Field, "%s", paramErr.Message)
	}
	return err
}

// getRetryHealth returns the current evaluation and writes nothing.
func (h *Handler) getRetryHealth(c echo.Context) error {
	if err := rejectUnknownQuery(c, thresholdParams...); err != nil {
		return err
	}
	params, err := healthParams(c)
	if err != nil {
		return err
	}
	report, err := h.Health.Evaluate(c.Request().Context(), params)
	if err != nil {
		return healthError(err)
	}
	return c.JSON(http.StatusOK, report)
}

// buildRetryHealth persists a snapshot ("Build recovery retry health") from
// the console form. htmx gets the refreshed panel, a client that accepts
// JSON gets the snapshot, and a plain form post is redirected to the
// console. The body must be a form: JSON clients read the evaluation with
// getRetryHealth, and the alert deliver endpoint builds a snapshot.
func (h *Handler) buildRetryHealth(c echo.Context) error {
	if _, err := readForm(c, thresholdParams); err != nil {
		return err
	}
	params, err := healthParams(c)
	if err != nil {
		return err
	}
	report, err := h.Health.Build(c.Request().Context(), params, actorName(c))
	if err != nil {
		return healthError(err)
	}

	if wantsJSON(c) {
		return c.JSON(http.StatusCreated, report)
	}
	if isHTMX(c) {
		return render(c, http.StatusOK, views.HealthPanel(h.healthPanelView(c, &report)))
	}
	return redirectAfterPost(c, "/console?health_id="+url.QueryEscape(report.HealthID)+"#retry-health")
}
