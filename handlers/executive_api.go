package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/executive"
	"github.com/releaseops/evidence-console/models"
)

const executiveReportPath = auditDelivery + "/recovery-executive-report"

func (h *Handler) registerExecutiveRoutes(e *echo.Echo) {
	h.route(e, http.MethodGet, executiveReportPath, h.getExecutiveReport, auth.PermissionReadExecutive)
	h.route(e, http.MethodPost, executiveReportPath+"/schedule-run", h.scheduleExecutiveReport, auth.PermissionSendAlerts)
	h.route(e, http.MethodGet, executiveReportPath+"/schedule-runs", h.listExecutiveRuns, auth.PermissionReadExecutive)
	h.route(e, http.MethodPost, executiveReportPath+"/schedule-runs/:run_id/deliver", h.deliverExecutiveReport, auth.PermissionSendAlerts)

	h.route(e, http.MethodGet, "/executive/report", h.executivePreviewPage, auth.PermissionReadExecutive)
	h.route(e, http.MethodGet, "/executive/reports/:report_id", h.executiveReportPage, auth.PermissionReadExecutive)
	h.route(e, http.MethodGet, "/executive/runs", h.executiveRunsPage, auth.PermissionReadExecutive)
	h.route(e, http.MethodGet, "/console/executive-report", h.executivePreviewFragment, auth.PermissionReadExecutive)
	h.route(e, http.MethodPost, "/console/executive-report/schedule", h.scheduleExecutiveReport, auth.PermissionSendAlerts)
	h.route(e, http.MethodPost, "/console/executive-report/deliver", h.deliverExecutiveReport, auth.PermissionSendAlerts)
}

// executiveError maps the executive service's errors to the error model.
func executiveError(err error) error {
	var conflictErr *executive.ConflictError
	if errors.As(err, &conflictErr) {
		return &APIError{Status: http.StatusConflict, Code: CodeConflict, Field: conflictErr.Field, Message: conflictErr.Message}
	}
	var paramErr *executive.ParamError
	if errors.As(err, &paramErr) {
		if paramErr.Unprocessable {
			apiErr := unprocessable(paramErr.Field, "%s", paramErr.Message)
			if paramErr.Configured != nil {
				apiErr.Details = map[string]any{"configured_providers": paramErr.Configured}
			}
			return apiErr
		}
		return fieldError(paramErr.Field, "%s", paramErr.Message)
	}
	return err
}

// executiveParams reads recovery_slo_minutes and period_days strictly from
// the query or form.
func executiveParams(c echo.Context) (executive.Params, error) {
	params := executive.DefaultParams()
	var err error
	if params.RecoverySLOMinutes, err = queryInt(c, "recovery_slo_minutes",
		executive.DefaultRecoverySLOMinutes, 1, executive.MaxRecoverySLOMinutes); err != nil {
		return params, err
	}
	if params.PeriodDays, err = queryInt(c, "period_days", executive.DefaultPeriodDays, 1, executive.MaxPeriodDays); err != nil {
		return params, err
	}
	return params, nil
}

// getExecutiveReport returns the report of the current evidence and writes nothing.
func (h *Handler) getExecutiveReport(c echo.Context) error {
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
	return c.JSON(http.StatusOK, report)
}

// scheduleRunRequest is the JSON body of a schedule run.
type scheduleRunRequest struct {
	Schedule *struct {
		IntervalMinutes *int    `json:"interval_minutes"`
		Enabled         *bool   `json:"enabled"`
		Cadence         *string `json:"cadence"`
	} `json:"schedule"`
	RecoverySLOMinutes *int `json:"recovery_slo_minutes"`
	PeriodDays         *int `json:"period_days"`
}

// values returns the report parameters and schedule of the body, with
// defaults for absent fields.
func (body scheduleRunRequest) values() (executive.Params, executive.ScheduleInput) {
	params := executive.DefaultParams()
	var input executive.ScheduleInput
	if body.RecoverySLOMinutes != nil {
		params.RecoverySLOMinutes = *body.RecoverySLOMinutes
	}
	if body.PeriodDays != nil {
		params.PeriodDays = *body.PeriodDays
	}
	if body.Schedule != nil {
		input = executive.ScheduleInput{IntervalMinutes: body.Schedule.IntervalMinutes, Enabled: body.Schedule.Enabled, Cadence: body.Schedule.Cadence}
	}
	return params, input
}

// checkRanges validates the report parameters and the schedule with the
// executive rules.
func (body scheduleRunRequest) checkRanges() error {
	params, input := body.values()
	if err := params.Validate(); err != nil {
		return executiveError(err)
	}
	_, err := executive.ResolveSchedule(input)
	return executiveError(err)
}

// parseScheduleRun reads a schedule run from a JSON body or from form fields
// of the same names (interval_minutes, enabled, cadence at the top level).
func parseScheduleRun(c echo.Context) (executive.Params, executive.ScheduleInput, error) {
	params := executive.DefaultParams()
	var input executive.ScheduleInput

	if hasJSONBody(c) {
		var body scheduleRunRequest
		if err := decodeJSONBody(c, &body); err != nil {
			return params, input, err
		}
		params, input = body.values()
		return params, input, params.Validate()
	}

	form, err := readForm(c, []string{"interval_minutes", "enabled", "cadence", "recovery_slo_minutes", "period_days"})
	if err != nil {
		return params, input, err
	}
	if params, err = executiveParams(c); err != nil {
		return params, input, err
	}
	// An empty interval field, as the console sends it, is left out, so a
	// named cadence or the default decides the interval.
	if form.Has("interval_minutes") && form.Get("interval_minutes") != "" {
		n, ok := formWholeNumber(form.Get("interval_minutes"))
		if !ok {
			return params, input, fieldError("schedule.interval_minutes", "schedule.interval_minutes must be a whole number of minutes from %d to %d; got %q",
				executive.MinIntervalMinutes, executive.MaxIntervalMinutes, form.Get("interval_minutes"))
		}
		input.IntervalMinutes = &n
	}
	if form.Has("enabled") {
		switch form.Get("enabled") {
		case "true":
			input.Enabled = boolPointer(true)
		case "false":
			input.Enabled = boolPointer(false)
		default:
			// The select shows the values true and false as enabled and
			// disabled, so the form's message names those.
			apiErr := fieldError("schedule.enabled", "schedule.enabled must be true or false; got %q", form.Get("enabled"))
			apiErr.FormMessage = fmt.Sprintf("‘Schedule’ must be enabled or disabled; got %q", form.Get("enabled"))
			return params, input, apiErr
		}
	}
	if form.Has("cadence") && strings.TrimSpace(form.Get("cadence")) != "" {
		cadence := form.Get("cadence")
		input.Cadence = &cadence
	}
	return params, input, nil
}

func boolPointer(value bool) *bool { return &value }

// scheduleExecutiveReport persists the report and a schedule run. JSON
// clients get both; htmx gets the result fragment; a plain form post is
// redirected to the new report's page.
func (h *Handler) scheduleExecutiveReport(c echo.Context) error {
	params, input, err := parseScheduleRun(c)
	if err != nil {
		return executiveError(err)
	}
	result, err := h.Executive.RunSchedule(c.Request().Context(), params, input, actorName(c))
	if err != nil {
		return executiveError(err)
	}

	if wantsJSON(c) {
		return c.JSON(http.StatusCreated, result)
	}
	if isHTMX(c) {
		return h.renderScheduleResult(c, result)
	}
	return redirectAfterPost(c, "/executive/reports/"+url.PathEscape(result.Report.ReportID))
}

// listExecutiveRuns returns a page of schedule runs, newest first.
func (h *Handler) listExecutiveRuns(c echo.Context) error {
	if err := rejectUnknownQuery(c, "limit", "offset"); err != nil {
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
	return c.JSON(http.StatusOK, list)
}

// pageParams reads limit (1 to maxPageLimit, default defaultPageLimit) and
// offset (0 to maxOffset, default 0), the paging bounds of every list.
func pageParams(c echo.Context) (int, int, error) {
	limit, err := queryInt(c, "limit", defaultPageLimit, 1, maxPageLimit)
	if err != nil {
		return 0, 0, err
	}
	offset, err := queryInt(c, "offset", 0, 0, maxOffset)
	if err != nil {
		return 0, 0, err
	}
	return limit, offset, nil
}

// deliverRequest is the JSON body of a delivery. Provider is a string of
// comma-separated names or a list of names.
type deliverRequest struct {
	Provider       json.RawMessage `json:"provider"`
	Retries        *int            `json:"retries"`
	TimeoutSeconds *float64        `json:"timeout_seconds"`
	RunID          *string         `json:"run_id"`
}

// parseDeliver reads a delivery request from a JSON body or a form. The run
// comes from the path, or from the run_id field of the console form.
func parseDeliver(c echo.Context) (executive.DeliverRequest, error) {
	req := executive.DeliverRequest{
		RunID: c.Param("run_id"), Retries: executive.DefaultRetries,
		Timeout: time.Duration(executive.DefaultTimeoutSeconds * float64(time.Second)),
	}
	timeoutSeconds := executive.DefaultTimeoutSeconds

	if hasJSONBody(c) {
		var body deliverRequest
		if err := decodeJSONBody(c, &body); err != nil {
			return req, err
		}
		providers, err := providerList(body.Provider)
		if err != nil {
			return req, err
		}
		req.Providers = providers
		if body.Retries != nil {
			req.Retries = *body.Retries
		}
		if body.TimeoutSeconds != nil {
			timeoutSeconds = *body.TimeoutSeconds
		}
		if err := rejectEmptyString("run_id", body.RunID); err != nil {
			return req, err
		}
		if body.RunID != nil {
			if req.RunID != "" && *body.RunID != req.RunID {
				return req, unprocessable("run_id", "run_id %q in the body differs from %q in the path; leave run_id out of the body or send the path's value",
					truncateForMessage(*body.RunID), req.RunID)
			}
			req.RunID = *body.RunID
		}
	} else {
		// Each ticked destination checkbox sends its own provider field.
		form, err := readForm(c, []string{"provider", "retries", "timeout_seconds", "run_id"}, "provider")
		if err != nil {
			return req, err
		}
		req.Providers = form["provider"]
		if req.Retries, err = queryInt(c, "retries", executive.DefaultRetries, 0, 5); err != nil {
			return req, err
		}
		if form.Has("timeout_seconds") {
			raw := form.Get("timeout_seconds")
			var ok bool
			if timeoutSeconds, ok = formNumber(raw); !ok {
				return req, fieldError("timeout_seconds", "timeout_seconds must be a number from %g to %g; got %q",
					executive.MinTimeoutSeconds, executive.MaxTimeoutSeconds, raw)
			}
		}
		if req.RunID == "" {
			req.RunID = strings.TrimSpace(form.Get("run_id"))
		}
	}

	if err := checkDeliverRanges(req.Retries, timeoutSeconds); err != nil {
		return req, err
	}
	req.Timeout = time.Duration(timeoutSeconds * float64(time.Second))
	if req.RunID == "" {
		req.RunID = executive.LatestRunID
	}
	req.Actor = actorName(c)
	return req, nil
}

// checkDeliverRanges checks the retries and timeout of a delivery.
func checkDeliverRanges(retries int, timeoutSeconds float64) error {
	if retries < 0 || retries > 5 {
		return fieldError("retries", "retries must be a whole number from 0 to 5; got %d", retries)
	}
	if math.IsNaN(timeoutSeconds) || timeoutSeconds < executive.MinTimeoutSeconds || timeoutSeconds > executive.MaxTimeoutSeconds {
		return fieldError("timeout_seconds", "timeout_seconds must be a number from %g to %g; got %g",
			executive.MinTimeoutSeconds, executive.MaxTimeoutSeconds, timeoutSeconds)
	}
	return nil
}

// checkRanges checks the retries and timeout of the body, with the defaults
// for absent fields.
func (body deliverRequest) checkRanges() error {
	retries, timeoutSeconds := executive.DefaultRetries, executive.DefaultTimeoutSeconds
	setIfPresent(&retries, body.Retries)
	setIfPresent(&timeoutSeconds, body.TimeoutSeconds)
	return checkDeliverRanges(retries, timeoutSeconds)
}

// providerList decodes provider as "a,b" or ["a", "b"]. A string is
// returned as one element, and connectors.ParseNames splits it, so both
// forms follow one rule for commas and "all".
func providerList(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var text string
	if err := json.Unmarshal(raw, &text); err == nil {
		return []string{text}, nil
	}
	var list []*string
	if err := json.Unmarshal(raw, &list); err == nil {
		names := make([]string, 0, len(list))
		for i, name := range list {
			if name == nil || strings.TrimSpace(*name) == "" {
				return nil, fieldError(fmt.Sprintf("provider[%d]", i), "provider[%d] is empty; name a configured destination or remove the element", i)
			}
			names = append(names, *name)
		}
		return names, nil
	}
	return nil, fieldError("provider", "provider must be a string of comma-separated destination names or a list of names; got %s", truncateForMessage(string(raw)))
}

// destinationNames is a provider field that accepts "a,b" or ["a", "b"],
// as providerList does, and keeps the names comma-separated.
type destinationNames string

// UnmarshalJSON decodes the names with providerList.
func (d *destinationNames) UnmarshalJSON(raw []byte) error {
	names, err := providerList(raw)
	if err != nil {
		return err
	}
	*d = destinationNames(strings.Join(names, ","))
	return nil
}

func truncateForMessage(text string) string {
	return cutRunes(text, 60)
}

// deliverExecutiveReport delivers a schedule run's report. The run "latest"
// is the newest run; an unknown run is a 404 and an unknown destination a 422.
func (h *Handler) deliverExecutiveReport(c echo.Context) error {
	if strings.Contains(c.Path(), ":run_id") && c.Param("run_id") == "" {
		// The console's form route has no run id in its path, but an
		// empty one in this path must not fall back to the newest run.
		return notFound("the schedule run id in the path is empty; use a run id from the schedule runs list, or latest for the newest run")
	}
	req, err := parseDeliver(c)
	if err != nil {
		return executiveError(err)
	}
	h.allowSlowSend(c, connectors.SendOptions{Retries: req.Retries, Timeout: req.Timeout})
	result, err := h.Executive.Deliver(c.Request().Context(), req)
	if errors.Is(err, models.ErrNotFound) {
		if req.RunID == executive.LatestRunID {
			return notFound("no schedule run exists yet; schedule an executive report first")
		}
		return notFound("schedule run %q not found", req.RunID)
	}
	if err != nil {
		return executiveError(err)
	}

	if wantsJSON(c) {
		return c.JSON(http.StatusOK, result)
	}
	if isHTMX(c) {
		return h.renderDeliverResult(c, result)
	}
	return redirectAfterPost(c, fmt.Sprintf("/executive/runs?delivered=%s#run-%s", url.QueryEscape(result.RunID), url.PathEscape(result.RunID)))
}
