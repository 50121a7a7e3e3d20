package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/views"
)

// AlertService sends retry health alerts, records acknowledgements and
// reads the alert history, dashboard and connector status.
type AlertService interface {
	Deliver(ctx context.Context, req alerting.DeliverRequest) (alerting.DeliverResult, error)
	Acknowledge(ctx context.Context, req alerting.AcknowledgeRequest) (alerting.AcknowledgeResult, error)
	CheckAcknowledgement(req alerting.AcknowledgeRequest) error
	History(ctx context.Context, q alerting.HistoryQuery) (alerting.HistoryPage, error)
	Dashboard(ctx context.Context, q alerting.OutstandingQuery) (alerting.Dashboard, error)
	Console(ctx context.Context, q alerting.HistoryQuery, outstanding alerting.OutstandingQuery, planID string) (alerting.ConsoleData, error)
	AcknowledgementPage(ctx context.Context, healthID, provider string) (alerting.AcknowledgementPage, error)
	Connectors(ctx context.Context) ([]alerting.ConnectorStatus, error)
}

func (h *Handler) registerRetryHealthAlertRoutes(e *echo.Echo) {
	alerts := auditDelivery + "/recovery-escalations/retry-health-alerts"
	h.route(e, http.MethodPost, alerts+"/deliver", h.deliverRetryHealthAlert, auth.PermissionSendAlerts)
	h.route(e, http.MethodGet, alerts, h.retryHealthAlertHistory, auth.PermissionReadConsole)
	h.route(e, http.MethodGet, auditDelivery+"/recovery-escalations/retry-health-alert-dashboard", h.retryHealthAlertDashboard, auth.PermissionReadConsole)
	h.route(e, http.MethodPost, "/console/retry-health-alerts", h.sendRetryHealthAlertForm, auth.PermissionSendAlerts)

	h.registerAcknowledgementRoutes(e)
	h.registerConnectorRoutes(e)
}

// deliverBody is the JSON request of the deliver endpoint. Pointers tell a
// missing field (the default) from a zero value, which is range-checked.
type deliverBody struct {
	Provider                 *destinationNames `json:"provider"`
	Force                    *bool             `json:"force"`
	ExpectedIntervalMinutes  *int              `json:"expected_interval_minutes"`
	StaleMetadataMinutes     *int              `json:"stale_metadata_minutes"`
	SuppressionWindowMinutes *int              `json:"suppression_window_minutes"`
	MaxAlerts                *int              `json:"max_alerts"`
	Retries                  *int              `json:"retries"`
	TimeoutSeconds           *float64          `json:"timeout_seconds"`
}

// request returns the alert request of the body, with defaults for absent
// fields and no actor.
func (body deliverBody) request() alerting.DeliverRequest {
	req := alerting.DefaultDeliverRequest()
	if body.Provider != nil {
		req.Provider = string(*body.Provider)
	}
	setIfPresent(&req.Force, body.Force)
	setIfPresent(&req.Health.ExpectedIntervalMinutes, body.ExpectedIntervalMinutes)
	setIfPresent(&req.Health.StaleMetadataMinutes, body.StaleMetadataMinutes)
	setIfPresent(&req.SuppressionWindowMinutes, body.SuppressionWindowMinutes)
	setIfPresent(&req.MaxAlerts, body.MaxAlerts)
	setIfPresent(&req.Retries, body.Retries)
	setIfPresent(&req.TimeoutSeconds, body.TimeoutSeconds)
	return req
}

// checkRanges validates the alert request with the alerting rules.
func (body deliverBody) checkRanges() error {
	return alertError(body.request().Validate())
}

// deliverRetryHealthAlert is "Send Retry Health Alert" for JSON clients.
// The sends run inside the request, so the response may come after the
// server's usual write timeout.
func (h *Handler) deliverRetryHealthAlert(c echo.Context) error {
	var body deliverBody
	if err := decodeStrictJSON(c, &body); err != nil {
		return err
	}
	req := body.request()
	req.Actor = actorName(c)
	h.allowSlowAlert(c, req)

	result, err := h.Alerts.Deliver(c.Request().Context(), req)
	if err != nil {
		return alertError(err)
	}
	return c.JSON(http.StatusCreated, result)
}

// sendRetryHealthAlertForm is "Send Retry Health Alert" from the console.
// htmx gets the refreshed alert section with the result; a plain post is
// redirected to the console showing the plan.
func (h *Handler) sendRetryHealthAlertForm(c echo.Context) error {
	req, err := deliverRequestFromForm(c)
	if err != nil {
		return err
	}
	req.Actor = actorName(c)
	h.allowSlowAlert(c, req)

	result, err := h.Alerts.Deliver(c.Request().Context(), req)
	if err != nil {
		return alertError(err)
	}

	if wantsJSON(c) {
		return c.JSON(http.StatusCreated, result)
	}
	if isHTMX(c) {
		query := defaultAlertsState()
		if result.Health.HealthID == "" {
			return h.renderAlertsSection(c, query, result.Plan.PlanID)
		}
		// The send built its own snapshot, so the health panel above the
		// alerts shows that one instead of an older build or a preview.
		alerts, err := h.loadAlertsSection(c, query, result.Plan.PlanID)
		if err != nil {
			return err
		}
		panel := h.healthPanelView(c, &result.Health)
		panel.OutOfBand = true
		return render(c, http.StatusOK, views.AlertsSendResponse(alerts, panel))
	}
	return redirectAfterPost(c, "/console?plan_id="+url.QueryEscape(result.Plan.PlanID)+"#retry-health-alerts")
}

// sendAlertFormFields are the fields of the send form, which has the names
// of the deliver endpoint's JSON fields.
var sendAlertFormFields = []string{"provider", "force", "expected_interval_minutes", "stale_metadata_minutes",
	"suppression_window_minutes", "max_alerts", "retries", "timeout_seconds"}

// deliverRequestFromForm reads the send form strictly. The force checkbox
// sends "true" when ticked and nothing otherwise.
func deliverRequestFromForm(c echo.Context) (alerting.DeliverRequest, error) {
	req := alerting.DefaultDeliverRequest()
	form, err := readForm(c, sendAlertFormFields)
	if err != nil {
		return req, err
	}
	if form.Has("provider") {
		req.Provider = form.Get("provider")
	}
	if form.Has("force") {
		switch strings.TrimSpace(form.Get("force")) {
		case "true", "on":
			req.Force = true
		case "false":
		default:
			return req, fieldError("force", "force must be true or false; got %q", form.Get("force"))
		}
	}

	ints := []struct {
		name     string
		target   *int
		min, max int
	}{
		{"expected_interval_minutes", &req.Health.ExpectedIntervalMinutes, 1, health.MaxThresholdMinutes},
		{"stale_metadata_minutes", &req.Health.StaleMetadataMinutes, 1, health.MaxThresholdMinutes},
		{"suppression_window_minutes", &req.SuppressionWindowMinutes, 1, alerting.MaxSuppressionWindowMinutes},
		{"max_alerts", &req.MaxAlerts, 1, alerting.MaxMaxAlerts},
		{"retries", &req.Retries, 0, 5},
	}
	for _, field := range ints {
		if *field.target, err = queryInt(c, field.name, *field.target, field.min, field.max); err != nil {
			return req, err
		}
	}
	if form.Has("timeout_seconds") {
		raw := form.Get("timeout_seconds")
		seconds, ok := formNumber(raw)
		if !ok {
			return req, fieldError("timeout_seconds", "timeout_seconds must be a number of seconds from %g to %g; got %q",
				alerting.MinTimeoutSeconds, alerting.MaxTimeoutSeconds, raw)
		}
		req.TimeoutSeconds = seconds
	}
	return req, nil
}

// retryHealthAlertHistory returns plans, deliveries and acknowledgements,
// newest first.
func (h *Handler) retryHealthAlertHistory(c echo.Context) error {
	if err := rejectUnknownQuery(c, alertHistoryParams...); err != nil {
		return err
	}
	q, err := historyQuery(c)
	if err != nil {
		return err
	}
	page, err := h.Alerts.History(c.Request().Context(), q)
	if err != nil {
		return alertError(err)
	}
	return c.JSON(http.StatusOK, page)
}

// retryHealthAlertDashboard returns the exact alert counts and one page of
// the outstanding acknowledgements.
func (h *Handler) retryHealthAlertDashboard(c echo.Context) error {
	if err := rejectUnknownQuery(c, outstandingParams...); err != nil {
		return err
	}
	q, err := outstandingQuery(c)
	if err != nil {
		return err
	}
	dashboard, err := h.Alerts.Dashboard(c.Request().Context(), q)
	if err != nil {
		return alertError(err)
	}
	return c.JSON(http.StatusOK, dashboard)
}

// alertHistoryParams are the query parameters of the alert history.
var alertHistoryParams = []string{"health_id", "provider", "metadata_kind", "acknowledgement_state", "suppressed", "limit", "offset"}

// historyQuery reads the history filters and paging strictly from the query.
// The console's alert section reads them too, next to parameters of its own,
// so each caller rejects unknown parameters with its own list.
func historyQuery(c echo.Context) (alerting.HistoryQuery, error) {
	if err := rejectLongFilters(c, "health_id", "provider", "metadata_kind", "acknowledgement_state"); err != nil {
		return alerting.HistoryQuery{}, err
	}
	q := alerting.HistoryQuery{
		HealthID: strings.TrimSpace(c.QueryParam("health_id")), Provider: c.QueryParam("provider"),
		MetadataKind: strings.TrimSpace(c.QueryParam("metadata_kind")), AcknowledgementState: strings.TrimSpace(c.QueryParam("acknowledgement_state")),
	}
	var err error
	if q.Limit, err = queryInt(c, "limit", alerting.DefaultHistoryLimit, 1, alerting.MaxHistoryLimit); err != nil {
		return q, err
	}
	if q.Offset, err = queryInt(c, "offset", 0, 0, maxOffset); err != nil {
		return q, err
	}
	if c.QueryParams().Has("suppressed") {
		raw := strings.TrimSpace(c.QueryParam("suppressed"))
		switch raw {
		case "true":
			q.Suppressed = new(true)
		case "false":
			q.Suppressed = new(false)
		case "":
			// An empty select option means "any".
		default:
			return q, fieldError("suppressed", "suppressed must be true or false; got %q", raw)
		}
	}
	return q, nil
}

// alertError maps the alerting errors to the one error model.
func alertError(err error) error {
	var fieldErr *alerting.FieldError
	if errors.As(err, &fieldErr) {
		return fieldError(fieldErr.Field, "%s", fieldErr.Message)
	}
	var unprocessableErr *alerting.UnprocessableError
	if errors.As(err, &unprocessableErr) {
		apiErr := unprocessable(unprocessableErr.Field, "%s", unprocessableErr.Message)
		if unprocessableErr.Configured != nil {
			apiErr.Details = map[string]any{"configured_providers": unprocessableErr.Configured}
		}
		return apiErr
	}
	var notFoundErr *alerting.NotFoundError
	if errors.As(err, &notFoundErr) {
		return notFound("%s", notFoundErr.Message)
	}
	var busyErr *alerting.BusyError
	if errors.As(err, &busyErr) {
		return &APIError{Status: http.StatusConflict, Code: CodeConflict, Message: busyErr.Message}
	}
	var paramErr *health.ParamError
	if errors.As(err, &paramErr) {
		return fieldError(paramErr.Field, "%s", paramErr.Message)
	}
	return err
}

// decodeStrictJSON is decodeJSONBody that also rejects null values, so a
// field is either absent (its default) or of its JSON type.
func decodeStrictJSON(c echo.Context, dst any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return bodyReadError(err)
	}
	c.Request().Body = io.NopCloser(bytes.NewReader(body))
	if err := decodeJSONBody(c, dst); err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: CodeMalformedBody, Message: "request body must be a JSON object"}
	}
	for name, value := range fields {
		if string(bytes.TrimSpace(value)) == "null" {
			return fieldError(name, "%s is null; send a value or leave the field out if it has a default", name)
		}
	}
	return nil
}

func setIfPresent[T any](target *T, value *T) {
	if value != nil {
		*target = *value
	}
}

// allowSlowAlert extends the response write deadline for the sends of a
// valid alert request, and for the wait for another send of the same alert.
// An invalid request is rejected before sending.
func (h *Handler) allowSlowAlert(c echo.Context, req alerting.DeliverRequest) {
	if req.Validate() == nil {
		options := connectors.SendOptions{Retries: req.Retries, Timeout: time.Duration(req.TimeoutSeconds * float64(time.Second))}
		h.allowSlowResponse(c, options.MaxDuration()+alerting.MaxLeaseWait)
	}
}
