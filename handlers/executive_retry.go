package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/executive"
	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/retry"
	"github.com/releaseops/evidence-console/views"
)

// RetryService plans and runs delivery retries of executive reports and
// health alerts, and evaluates their health.
type RetryService interface {
	Plan(ctx context.Context, kind string, policy retry.Policy, actor string) (retry.PlanView, error)
	PlanByID(ctx context.Context, planID string) (retry.PlanView, error)
	LatestPlan(ctx context.Context, kind string) (*retry.PlanView, error)
	Preview(ctx context.Context, kind string, policy retry.Policy, maxDeliveries int, destinations []string) (retry.Preview, error)
	Run(ctx context.Context, kind string, req retry.RunRequest) (retry.RunView, error)
	ResolveSendOptions(req retry.RunRequest) (connectors.SendOptions, error)
	MaxRunDuration() time.Duration
	MaxSendTime(deliveries int, options connectors.SendOptions) time.Duration
	WorkerRun(ctx context.Context, runID string) (retry.RunView, error)
	WorkerRuns(ctx context.Context, kind string, limit, offset int) ([]retry.RunSummary, error)
	NewestLiveRun(ctx context.Context, kind string) (*retry.RunSummary, error)
	WorkerRunCount(ctx context.Context, kind string) (int64, error)
	Health(ctx context.Context, kind string, params health.Params) (retry.HealthReport, error)
}

// executiveRetryPath is the JSON prefix of executive delivery retries.
const executiveRetryPath = auditDelivery + "/recovery-executive-report"

func (h *Handler) registerExecutiveRetryRoutes(e *echo.Echo) {
	h.route(e, http.MethodPost, executiveRetryPath+"/delivery-retry-plan", h.planExecutiveRetry, auth.PermissionPlanRetries)
	h.route(e, http.MethodGet, executiveRetryPath+"/delivery-retry-plans/:plan_id", h.getRetryPlan, auth.PermissionReadConsole)
	h.route(e, http.MethodPost, executiveRetryPath+"/delivery-retry-worker-run", h.runExecutiveRetry, auth.PermissionPlanRetries)
	h.route(e, http.MethodGet, executiveRetryPath+"/delivery-retry-worker-runs", h.listRetryRuns, auth.PermissionReadConsole)
	h.route(e, http.MethodGet, executiveRetryPath+"/delivery-retry-worker-runs/:run_id", h.getRetryRun, auth.PermissionReadConsole)
	h.route(e, http.MethodGet, executiveRetryPath+"/delivery-retry-health", h.getExecutiveRetryHealth, auth.PermissionReadConsole)

	h.route(e, http.MethodGet, "/retries/runs", h.retryRunsPage, auth.PermissionReadConsole)
	h.route(e, http.MethodGet, "/retries/runs/:run_id", h.retryRunPage, auth.PermissionReadConsole)
	h.route(e, http.MethodGet, "/retries/plans/:plan_id", h.retryPlanPage, auth.PermissionReadConsole)
	h.route(e, http.MethodPost, "/console/executive-retry/plan", h.planExecutiveRetry, auth.PermissionPlanRetries)
	h.route(e, http.MethodPost, "/console/executive-retry/run", h.runExecutiveRetry, auth.PermissionPlanRetries)
	h.route(e, http.MethodPost, "/console/executive-retry/confirm", h.confirmExecutiveRetry, auth.PermissionPlanRetries)
	h.route(e, http.MethodGet, "/console/executive-retry/health", h.executiveRetryHealthFragment, auth.PermissionReadConsole)

	h.registerAlertRetryRoutes(e)
}

// mayRunLiveRetries reports whether the verified actor's role grants live
// retries. The authentication middleware puts the role in the page context.
func mayRunLiveRetries(c echo.Context) bool {
	return auth.Role(pageContext(c).UserRole).Can(auth.PermissionRunLiveRetries)
}

// retryError maps the retry service's errors to the error model.
// runLengthFormMessage words a run that is too long for the run form,
// with the form's labels and in short sentences.
func runLengthFormMessage(length retry.RunLength) string {
	deliveries := fmt.Sprintf("%d deliveries, sent %d at a time,", length.Deliveries, length.Concurrency)
	if length.Deliveries == 1 {
		deliveries = "1 delivery"
	}
	message := fmt.Sprintf("With ‘%s’ %d and ‘%s’ %g, one retry delivery can take up to %s. "+
		"So %s can take up to %s. "+
		"A run may send for at most %s, four fifths of the %s after which an unrecorded retry counts as interrupted. "+
		"Lower ‘%s’, ‘%s’ or ‘%s’.",
		retryRunLabels["retries"], length.Retries, retryRunLabels["timeout_seconds"], length.TimeoutSeconds, length.PerDelivery,
		deliveries, length.Longest,
		length.Limit, length.InFlightTimeout,
		retryRunLabels["timeout_seconds"], retryRunLabels["retries"], retryRunLabels["max_retry_deliveries"])
	if length.DryRun {
		message += " A dry run checks the same limit, because it shows what a live run would do."
	}
	return message
}

func retryError(err error) error {
	var validation *retry.ValidationError
	if errors.As(err, &validation) {
		if validation.Unprocessable && validation.Field == "retry_policy.retry_delay_minutes" {
			// A delay of 0 is rejected only while immediate retries are
			// not allowed. A user who enters 0 usually means to allow them,
			// so the form marks the checkbox and names it first.
			apiErr := unprocessable(validation.Field, "%s", validation.Message)
			apiErr.FormField = "retry_policy.allow_immediate_retry"
			apiErr.FormMessage = "Tick ‘Allow immediate retry (delay 0)’, or set ‘Retry delay (minutes)’ to at least 1."
			return apiErr
		}
		if validation.Unprocessable && validation.WorkerRunID != "" {
			apiErr := unprocessable(validation.Field, "%s", validation.Message)
			apiErr.FormLink = "/retries/runs/" + validation.WorkerRunID
			return apiErr
		}
		if validation.Unprocessable && validation.RunLength != nil {
			apiErr := unprocessable(validation.Field, "%s", validation.Message)
			apiErr.FormMessage = runLengthFormMessage(*validation.RunLength)
			return apiErr
		}
		if validation.Unprocessable {
			return unprocessable(validation.Field, "%s", validation.Message)
		}
		return fieldError(validation.Field, "%s", validation.Message)
	}
	var guard *retry.GuardError
	if errors.As(err, &guard) {
		if guard.Forbidden {
			return &APIError{Status: http.StatusForbidden, Code: CodeForbidden, Message: guard.Message}
		}
		field := guard.Field
		if field == "" {
			field = "execute"
		}
		return unprocessable(field, "%s", guard.Message)
	}
	var busy *retry.BusyError
	if errors.As(err, &busy) {
		return &APIError{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: busy.Message}
	}
	var paramErr *health.ParamError
	if errors.As(err, &paramErr) {
		return fieldError(paramErr.Field, "%s", paramErr.Message)
	}
	return err
}

// retryPolicyInput is the JSON retry_policy; absent fields take defaults.
type retryPolicyInput struct {
	MaxRetryAttempts    *int     `json:"max_retry_attempts"`
	RetryDelayMinutes   *int     `json:"retry_delay_minutes"`
	AllowImmediateRetry *bool    `json:"allow_immediate_retry"`
	BackoffMultiplier   *float64 `json:"backoff_multiplier"`
}

func (in *retryPolicyInput) policy() retry.Policy {
	policy := retry.DefaultPolicy()
	if in == nil {
		return policy
	}
	if in.MaxRetryAttempts != nil {
		policy.MaxRetryAttempts = *in.MaxRetryAttempts
	}
	if in.RetryDelayMinutes != nil {
		policy.RetryDelayMinutes = *in.RetryDelayMinutes
	}
	if in.AllowImmediateRetry != nil {
		policy.AllowImmediateRetry = *in.AllowImmediateRetry
	}
	if in.BackoffMultiplier != nil {
		policy.BackoffMultiplier = *in.BackoffMultiplier
	}
	return policy
}

type scheduleInput struct {
	IntervalMinutes *int    `json:"interval_minutes"`
	Enabled         *bool   `json:"enabled"`
	Cadence         *string `json:"cadence"`
}

type retryPlanInput struct {
	RetryPolicy *retryPolicyInput `json:"retry_policy"`
}

type retryRunInput struct {
	DryRun             *bool             `json:"dry_run"`
	Execute            *bool             `json:"execute"`
	MaxRetryDeliveries *int              `json:"max_retry_deliveries"`
	RetryPolicy        *retryPolicyInput `json:"retry_policy"`
	Schedule           *scheduleInput    `json:"schedule"`
	Retries            *int              `json:"retries"`
	TimeoutSeconds     *float64          `json:"timeout_seconds"`
	Destinations       []string          `json:"destinations"`
	// Confirm is the browser's explicit consent to a live run, and
	// Confirmed what the confirmation named.
	Confirm   bool                `json:"-"`
	Confirmed *retry.Confirmation `json:"-"`
}

// request builds the worker run request for the verified actor. It fails
// when the schedule breaks the rules of executive schedule runs, or its
// cadence contains a secret of secrets.
func (in retryRunInput) request(c echo.Context, secrets *connectors.Redactor) (retry.RunRequest, error) {
	request, err := in.runRequest(secrets)
	request.Actor = actorName(c)
	request.MayRunLive = mayRunLiveRetries(c)
	return request, err
}

// runRequest builds the worker run request without an actor.
func (in retryRunInput) runRequest(secrets *connectors.Redactor) (retry.RunRequest, error) {
	request := retry.RunRequest{
		DryRun: in.DryRun, Execute: in.Execute != nil && *in.Execute, MaxRetryDeliveries: retry.DefaultMaxRetryDeliveries,
		Policy: in.RetryPolicy.policy(), Schedule: retry.DefaultSchedule(), Retries: in.Retries, TimeoutSeconds: in.TimeoutSeconds,
	}
	if in.Destinations != nil {
		if len(in.Destinations) == 0 {
			return request, &retry.ValidationError{Field: "destinations",
				Message: "destinations is an empty list; name at least one configured destination, or leave destinations out to retry to every destination"}
		}
		destinations, err := retry.NormalizeDestinations(in.Destinations)
		if err != nil {
			return request, err
		}
		request.Destinations = destinations
	}
	if in.MaxRetryDeliveries != nil {
		request.MaxRetryDeliveries = *in.MaxRetryDeliveries
	}
	if s := in.Schedule; s != nil {
		schedule, err := retry.ResolveSchedule(executive.ScheduleInput{
			IntervalMinutes: s.IntervalMinutes, Enabled: s.Enabled, Cadence: s.Cadence, Secrets: secrets,
		})
		if err != nil {
			return request, err
		}
		request.Schedule = schedule
	}
	return request, nil
}

// checkRanges validates the run request with the retry rules.
func (in retryRunInput) checkRanges() error {
	request, err := in.runRequest(nil)
	if err == nil {
		err = request.Validate()
	}
	return retryError(err)
}

// checkRanges validates the retry policy with the retry rules.
func (in retryPlanInput) checkRanges() error {
	return retryError(in.RetryPolicy.policy().Validate())
}

// formInt reads an optional whole number from a form. A present field must
// be valid; it is never replaced by the default.
func formInt(c echo.Context, name string) (*int, error) {
	if !formHas(c, name) {
		return nil, nil
	}
	raw := c.FormValue(name)
	n, ok := formWholeNumber(raw)
	if !ok {
		return nil, fieldError(name, "%s must be a whole number; got %q", name, raw)
	}
	return &n, nil
}

func formFloat(c echo.Context, name string) (*float64, error) {
	if !formHas(c, name) {
		return nil, nil
	}
	raw := c.FormValue(name)
	f, ok := formNumber(raw)
	if !ok {
		return nil, fieldError(name, "%s must be a number written in digits, such as 2 or 1.5; got %q", name, raw)
	}
	return &f, nil
}

// formBool reads an optional boolean: "true" or "on" (a ticked checkbox) is
// true and "false" is false; anything else is rejected.
func formBool(c echo.Context, name string) (*bool, error) {
	if !formHas(c, name) {
		return nil, nil
	}
	switch raw := strings.TrimSpace(c.FormValue(name)); raw {
	case "true", "on":
		value := true
		return &value, nil
	case "false":
		value := false
		return &value, nil
	default:
		return nil, fieldError(name, "%s must be true or false; got %q", name, raw)
	}
}

func formHas(c echo.Context, name string) bool {
	form, err := c.FormParams()
	return err == nil && form.Has(name)
}

// formPolicy reads the retry policy fields of a console form. A value that
// is not a number is rejected under the same field name, and with the same
// range, as the retry rules reject a number out of range.
func formPolicy(c echo.Context) (*retryPolicyInput, error) {
	in := &retryPolicyInput{}
	var err error
	if in.MaxRetryAttempts, err = formInt(c, "max_retry_attempts"); err != nil {
		return nil, policyFieldError("max_retry_attempts", fmt.Sprintf("a whole number from %d to %d", retry.MinMaxRetryAttempts, retry.MaxMaxRetryAttempts), c)
	}
	if in.RetryDelayMinutes, err = formInt(c, "retry_delay_minutes"); err != nil {
		return nil, policyFieldError("retry_delay_minutes", fmt.Sprintf("a whole number from 0 to %d", retry.MaxRetryDelayMinutes), c)
	}
	if in.AllowImmediateRetry, err = formBool(c, "allow_immediate_retry"); err != nil {
		return nil, err
	}
	if in.AllowImmediateRetry == nil {
		// An unticked checkbox is not sent at all.
		value := false
		in.AllowImmediateRetry = &value
	}
	if in.BackoffMultiplier, err = formFloat(c, "backoff_multiplier"); err != nil {
		return nil, policyFieldError("backoff_multiplier", fmt.Sprintf("a number from %.1f to %.1f", retry.MinBackoffMultiplier, retry.MaxBackoffMultiplier), c)
	}
	return in, nil
}

// policyFieldError rejects the retry policy form field name, which should
// hold want.
func policyFieldError(name, want string, c echo.Context) error {
	return numberFieldError("retry_policy."+name, name, want, c)
}

// numberFieldError rejects the form input name, which should contain want, and
// names it as field, its path in the JSON API. The message states the
// accepted range, so that one correction fixes the value.
func numberFieldError(field, name, want string, c echo.Context) error {
	raw := c.FormValue(name)
	if strings.TrimSpace(raw) == "" {
		return fieldError(field, "%s is empty; enter %s", field, want)
	}
	return fieldError(field, "%s must be %s; got %q", field, want, raw)
}

// retryPolicyFormFields are the fields of the console's retry policy.
var retryPolicyFormFields = []string{"max_retry_attempts", "retry_delay_minutes", "allow_immediate_retry", "backoff_multiplier"}

// retryRunFormFields are the fields of the console's run form and of its
// live run confirmation.
var retryRunFormFields = append(slices.Clone(retryPolicyFormFields), "dry_run", "execute", "max_retry_deliveries",
	"retries", "timeout_seconds", "confirm", "confirmed_count", "confirmed_destinations", "confirmed_retries", "destinations")

// parseRetryPlan reads a plan request from JSON or a form.
func parseRetryPlan(c echo.Context) (retry.Policy, error) {
	var in retryPlanInput
	if hasJSONBody(c) {
		if err := decodeJSONBody(c, &in); err != nil {
			return retry.Policy{}, err
		}
		return in.RetryPolicy.policy(), nil
	}
	if _, err := readForm(c, retryPolicyFormFields); err != nil {
		return retry.Policy{}, err
	}
	policy, err := formPolicy(c)
	if err != nil {
		return retry.Policy{}, err
	}
	return policy.policy(), nil
}

// parseRetryRun reads a worker run request from JSON or a form. secrets
// are the configured secrets that a listed confirmed retry must not contain.
func parseRetryRun(c echo.Context, secrets *connectors.Redactor) (retryRunInput, error) {
	var in retryRunInput
	if hasJSONBody(c) {
		err := decodeJSONBody(c, &in)
		return in, err
	}
	if _, err := readForm(c, retryRunFormFields); err != nil {
		return in, err
	}
	var err error
	if in.RetryPolicy, err = formPolicy(c); err != nil {
		return in, err
	}
	if in.DryRun, err = formBool(c, "dry_run"); err != nil {
		return in, err
	}
	if in.Execute, err = formBool(c, "execute"); err != nil {
		return in, err
	}
	if in.MaxRetryDeliveries, err = formInt(c, "max_retry_deliveries"); err != nil {
		return in, numberFieldError("max_retry_deliveries", "max_retry_deliveries",
			fmt.Sprintf("a whole number from 1 to %d", retry.MaxRetryDeliveriesLimit), c)
	}
	if in.Retries, err = formInt(c, "retries"); err != nil {
		return in, numberFieldError("retries", "retries", fmt.Sprintf("a whole number from 0 to %d", connectors.MaxRetries), c)
	}
	if in.TimeoutSeconds, err = formFloat(c, "timeout_seconds"); err != nil {
		return in, numberFieldError("timeout_seconds", "timeout_seconds",
			fmt.Sprintf("a number from %g to %g", retry.MinSendTimeoutSeconds, retry.MaxSendTimeoutSeconds), c)
	}
	if formHas(c, "destinations") {
		in.Destinations = strings.Split(c.FormValue("destinations"), ",")
	}
	confirm, err := formBool(c, "confirm")
	if err != nil {
		return in, err
	}
	in.Confirm = confirm != nil && *confirm
	if in.Confirm {
		count, err := formInt(c, "confirmed_count")
		if err != nil {
			return in, err
		}
		destinations := strings.TrimSpace(c.FormValue("confirmed_destinations"))
		// A count of 0 confirms a run that only records interrupted
		// executions, so it names no destination.
		if count == nil || (destinations == "" && *count != 0) {
			return in, unprocessable("confirm", "the confirmation does not name its destinations and count; open the live run confirmation again and confirm there")
		}
		if *count < 0 || *count > retry.MaxRetryDeliveriesLimit {
			return in, fieldError("confirmed_count", "confirmed_count must be a whole number from 0 to %d; got %d; open the live run confirmation again",
				retry.MaxRetryDeliveriesLimit, *count)
		}
		if *count == 0 && destinations != "" {
			return in, fieldError("confirmed_count", "confirmed_count is 0 but the confirmation names destinations %q; open the live run confirmation again",
				truncateForMessage(destinations))
		}
		in.Confirmed = &retry.Confirmation{Count: *count}
		if destinations != "" {
			in.Confirmed.Destinations = strings.Split(destinations, ",")
		}
		if in.Confirmed.Retries, err = formConfirmedRetries(c, *count, secrets); err != nil {
			return in, err
		}
	}
	return in, nil
}

// formConfirmedRetries reads the failed delivery ids that a live run
// confirmation lists, one for each of its count retries. A form without
// them confirms by destination and count alone. An id that contains a
// credential or a configured secret is rejected.
func formConfirmedRetries(c echo.Context, count int, secrets *connectors.Redactor) ([]string, error) {
	raw := strings.TrimSpace(c.FormValue("confirmed_retries"))
	if raw == "" {
		return nil, nil
	}
	ids := strings.Split(raw, ",")
	if len(ids) != count {
		return nil, fieldError("confirmed_retries", "confirmed_retries lists %d retries but confirmed_count is %d; open the live run confirmation again",
			len(ids), count)
	}
	for i, id := range ids {
		// Spaces after the commas, as a person may type them, are not part
		// of an id.
		id = strings.TrimSpace(id)
		ids[i] = id
		if id == "" || len(id) > maxFilterLength {
			return nil, fieldError("confirmed_retries", "confirmed_retries must list delivery ids of at most %d characters, separated by commas; "+
				"open the live run confirmation again", maxFilterLength)
		}
		// The run stores an id that names no delivery as typed, with its
		// reason, so the id must be plain and free of credentials.
		if !deliveryIDPattern.MatchString(id) {
			return nil, fieldError("confirmed_retries", "confirmed_retries must list delivery ids made of letters, digits, "+
				"'_' and '-', separated by commas; open the live run confirmation again")
		}
		if secrets.FindCredential(id) != "" {
			return nil, fieldError("confirmed_retries", "confirmed_retries contains a credential or a secret of a configured "+
				"destination, which the run would store; open the live run confirmation again")
		}
	}
	return ids, nil
}

// deliveryIDPattern matches the characters of a delivery id, such as
// dlv_01m94hvk01rk9v00rqfgs1t2ek.
var deliveryIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// planExecutiveRetry persists a retry plan of failed executive deliveries.
func (h *Handler) planExecutiveRetry(c echo.Context) error {
	return h.planRetry(c, models.SubjectExecutiveReport)
}

func (h *Handler) planRetry(c echo.Context, kind string) error {
	policy, err := parseRetryPlan(c)
	if err != nil {
		return err
	}
	if err := policy.Validate(); err != nil {
		return retryError(err)
	}

	plan, err := h.Retry.Plan(c.Request().Context(), kind, policy, actorName(c))
	if err != nil {
		return retryError(err)
	}

	section := retryKindView(kind)
	switch {
	case wantsJSON(c):
		return c.JSON(http.StatusCreated, plan)
	case isHTMX(c):
		c.Response().Header().Set("HX-Trigger", section.ChangedEvent)
		return render(c, http.StatusOK, views.RetryPlanPanel(section, h.retryPlanView(&plan)))
	}
	return redirectAfterPost(c, "/console?retry_plan_id="+plan.RetryPlanID+"#"+section.Section)
}

// runExecutiveRetry runs the executive delivery retry worker once: a dry
// run unless execute is true, and live only with permission, configured
// connectors and, from the browser, an explicit confirmation.
func (h *Handler) runExecutiveRetry(c echo.Context) error {
	return h.runRetry(c, models.SubjectExecutiveReport)
}

func (h *Handler) runRetry(c echo.Context, kind string) error {
	in, err := parseRetryRun(c, h.Secrets)
	if err != nil {
		return err
	}
	request, err := in.request(c, h.Secrets)
	if err != nil {
		return retryError(err)
	}
	if err := request.Validate(); err != nil {
		return retryError(err)
	}
	if request.Live() && !hasJSONBody(c) && !in.Confirm {
		return unprocessable("confirm", "a live run from the browser needs the confirmation box ticked; review the destinations and confirm")
	}
	request.Confirmed = in.Confirmed
	if request.Live() {
		h.allowSlowResponse(c, h.Retry.MaxRunDuration())
	}

	run, err := h.Retry.Run(c.Request().Context(), kind, request)
	if err != nil {
		return retryError(err)
	}

	switch {
	case wantsJSON(c):
		return c.JSON(http.StatusCreated, run)
	case isHTMX(c):
		section := retryKindView(kind)
		c.Response().Header().Set("HX-Trigger", section.ChangedEvent)
		return render(c, http.StatusOK, views.RetryRunResponse(section, h.retryRunView(run)))
	}
	return redirectAfterPost(c, "/retries/runs/"+run.WorkerRunID)
}

// confirmExecutiveRetry shows what a live run of executive report retries
// would send and requests explicit confirmation. It writes nothing.
func (h *Handler) confirmExecutiveRetry(c echo.Context) error {
	return h.confirmRetry(c, models.SubjectExecutiveReport)
}

// confirmRetry shows what a live run of the subject kind's retries would
// send and requests explicit confirmation. It writes nothing.
func (h *Handler) confirmRetry(c echo.Context, kind string) error {
	in, err := parseRetryRun(c, h.Secrets)
	if err != nil {
		return err
	}
	request, err := in.request(c, h.Secrets)
	if err != nil {
		return retryError(err)
	}
	if err := request.Validate(); err != nil {
		return retryError(err)
	}
	options, err := h.Retry.ResolveSendOptions(request)
	if err != nil {
		return retryError(err)
	}

	preview, err := h.Retry.Preview(c.Request().Context(), kind, request.Policy, request.MaxRetryDeliveries, request.Destinations)
	if err != nil {
		return retryError(err)
	}

	view := h.retryConfirmView(preview, options, request.MayRunLive)
	if view.LeaveOut != nil {
		// Leaving the destinations out is offered only when the others
		// have a retry due, so it never leads to a run that sends nothing.
		limited, err := h.Retry.Preview(c.Request().Context(), kind, request.Policy, request.MaxRetryDeliveries, view.LeaveOut.Ready)
		if err != nil {
			return retryError(err)
		}
		if len(limited.SelectedDecisions) == 0 {
			view.LeaveOut = nil
		} else {
			view.LeaveOut.Due = limited.Destinations
		}
	}
	if view.Count > 0 {
		view.MaxDuration = "up to " + h.Retry.MaxSendTime(view.Count, options).String()
	}
	section := retryKindView(kind)
	if isHTMX(c) {
		return render(c, http.StatusOK, views.RetryConfirm(section, view))
	}
	return render(c, http.StatusOK, views.RetryConfirmPage(pageContext(c), section, view))
}

func (h *Handler) getRetryPlan(c echo.Context) error {
	if err := rejectUnknownQuery(c); err != nil {
		return err
	}
	plan, err := h.Retry.PlanByID(c.Request().Context(), c.Param("plan_id"))
	if errors.Is(err, models.ErrNotFound) {
		return notFound("retry plan %q not found", c.Param("plan_id"))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, plan)
}

// retryListParams reads limit and offset strictly, as pageParams does.
func retryListParams(c echo.Context) (int, int, error) {
	if err := rejectUnknownQuery(c, "limit", "offset"); err != nil {
		return 0, 0, err
	}
	return pageParams(c)
}

func (h *Handler) listRetryRuns(c echo.Context) error {
	return h.listRetryRunsOf(c, models.SubjectExecutiveReport)
}

// listRetryRunsOf lists the newest worker runs of one subject kind.
func (h *Handler) listRetryRunsOf(c echo.Context, kind string) error {
	limit, offset, err := retryListParams(c)
	if err != nil {
		return err
	}
	runs, err := h.Retry.WorkerRuns(c.Request().Context(), kind, limit, offset)
	if err != nil {
		return err
	}
	total, err := h.Retry.WorkerRunCount(c.Request().Context(), kind)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"worker_runs": runs, "total": total, "limit": limit, "offset": offset})
}

func (h *Handler) getRetryRun(c echo.Context) error {
	return h.getRetryRunOf(c, models.SubjectExecutiveReport)
}

// getRetryRunOf returns one worker run of the subject kind. A run of the
// other kind is not found here, and the error names the path that has it.
func (h *Handler) getRetryRunOf(c echo.Context, kind string) error {
	if err := rejectUnknownQuery(c); err != nil {
		return err
	}
	runID := c.Param("run_id")
	run, err := h.Retry.WorkerRun(c.Request().Context(), runID)
	if errors.Is(err, models.ErrNotFound) {
		return notFound("retry worker run %q not found", runID)
	}
	if err != nil {
		return err
	}
	if run.SubjectKind != kind {
		path := executiveRetryPath + "/delivery-retry-worker-runs/"
		if run.SubjectKind == models.SubjectHealthAlert {
			path = alertRetryPath + "/retry-worker-runs/"
		}
		return notFound("retry worker run %q retries %s deliveries; read it at %s%s", runID,
			strings.ReplaceAll(run.SubjectKind, "_", " "), path, runID)
	}
	return c.JSON(http.StatusOK, run)
}

// retryHealthParams reads the thresholds strictly; defaults 60 and 180.
func retryHealthParams(c echo.Context) (health.Params, error) {
	params := retry.DefaultHealthParams()
	if err := rejectUnknownQuery(c, thresholdParams...); err != nil {
		return params, err
	}
	var err error
	if params.ExpectedIntervalMinutes, err = queryInt(c, "expected_interval_minutes",
		retry.DefaultHealthIntervalMinutes, 1, health.MaxThresholdMinutes); err != nil {
		return params, err
	}
	if params.StaleMetadataMinutes, err = queryInt(c, "stale_metadata_minutes",
		retry.DefaultHealthStaleMinutes, 1, health.MaxThresholdMinutes); err != nil {
		return params, err
	}
	return params, nil
}

// getExecutiveRetryHealth evaluates executive delivery retry health and
// writes nothing.
func (h *Handler) getExecutiveRetryHealth(c echo.Context) error {
	return h.getRetryHealthOf(c, models.SubjectExecutiveReport)
}

// getRetryHealthOf evaluates the delivery retry health of one subject kind
// with the thresholds of the query, and writes nothing.
func (h *Handler) getRetryHealthOf(c echo.Context, kind string) error {
	params, err := retryHealthParams(c)
	if err != nil {
		return err
	}
	report, err := h.Retry.Health(c.Request().Context(), kind, params)
	if err != nil {
		return retryError(err)
	}
	return c.JSON(http.StatusOK, report)
}

func (h *Handler) executiveRetryHealthFragment(c echo.Context) error {
	return h.retryHealthFragment(c, models.SubjectExecutiveReport)
}

// retryHealthFragment renders the retry health panel of the subject kind's
// console section, or a page for a browser without htmx. It writes nothing.
func (h *Handler) retryHealthFragment(c echo.Context, kind string) error {
	params, err := retryHealthParams(c)
	if err != nil {
		return err
	}
	report, err := h.Retry.Health(c.Request().Context(), kind, params)
	if err != nil {
		return retryError(err)
	}
	view := h.retryHealthView(report)
	section := retryKindView(kind)
	if isHTMX(c) {
		return render(c, http.StatusOK, views.RetryHealthPanel(section, view))
	}
	return render(c, http.StatusOK, views.RetryHealthPage(pageContext(c), section, view))
}

func (h *Handler) retryRunsPage(c echo.Context) error {
	limit, offset, err := retryListParams(c)
	if err != nil {
		return err
	}
	runs, err := h.Retry.WorkerRuns(c.Request().Context(), "", limit, offset)
	if err != nil {
		return err
	}
	total, err := h.Retry.WorkerRunCount(c.Request().Context(), "")
	if err != nil {
		return err
	}
	page := views.RetryRunsList{Total: total, Offset: offset}
	for _, run := range runs {
		page.Rows = append(page.Rows, h.retryRunRow(run))
	}
	page.PageLinks = pageLinks(total, offset, limit, limitOffsetLink("/retries/runs", limit))
	return render(c, http.StatusOK, views.RetryRunsPage(pageContext(c), page))
}

// retryPlanPage shows one stored retry plan, of a console plan or of a
// worker run, with every decision it made.
func (h *Handler) retryPlanPage(c echo.Context) error {
	if err := rejectUnknownQuery(c); err != nil {
		return err
	}
	plan, err := h.Retry.PlanByID(c.Request().Context(), c.Param("plan_id"))
	if errors.Is(err, models.ErrNotFound) {
		return notFound("retry plan %q not found", c.Param("plan_id"))
	}
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RetryPlanPage(pageContext(c), plan.SubjectKind, plan.WorkerRunID, h.retryPlanView(&plan)))
}

func (h *Handler) retryRunPage(c echo.Context) error {
	if err := rejectUnknownQuery(c); err != nil {
		return err
	}
	run, err := h.Retry.WorkerRun(c.Request().Context(), c.Param("run_id"))
	if errors.Is(err, models.ErrNotFound) {
		return notFound("retry worker run %q not found", c.Param("run_id"))
	}
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RetryRunPage(pageContext(c), h.retryRunView(run)))
}
