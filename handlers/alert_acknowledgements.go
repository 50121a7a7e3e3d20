package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/views"
)

func (h *Handler) registerAcknowledgementRoutes(e *echo.Echo) {
	h.route(e, http.MethodPost, auditDelivery+"/recovery-escalations/retry-health-alerts/:health_id/acknowledgements", h.acknowledgeRetryHealthAlert, auth.PermissionAcknowledge)
	h.route(e, http.MethodPost, "/console/retry-health-alerts/:health_id/acknowledgements", h.acknowledgeRetryHealthAlertForm, auth.PermissionAcknowledge)
	h.route(e, http.MethodGet, "/alerts/:health_id/acknowledge/:provider", h.acknowledgementPage, auth.PermissionReadConsole)
}

// acknowledgeBody is the JSON request of the acknowledgement endpoint. It
// has no actor field: the actor is the authenticated user.
type acknowledgeBody struct {
	Provider             *string `json:"provider"`
	AcknowledgementState *string `json:"acknowledgement_state"`
	ExternalRef          *string `json:"external_ref"`
	Notes                *string `json:"notes"`
	PlanID               *string `json:"plan_id"`
}

// acknowledgeRetryHealthAlert records one action. A new state is a 201; the
// current state sent again is recorded as a repeat and returns 200.
func (h *Handler) acknowledgeRetryHealthAlert(c echo.Context) error {
	var body acknowledgeBody
	if err := decodeStrictJSON(c, &body); err != nil {
		return err
	}
	req := alerting.AcknowledgeRequest{HealthID: c.Param("health_id"), Actor: actorName(c)}
	setIfPresent(&req.Provider, body.Provider)
	setIfPresent(&req.State, body.AcknowledgementState)
	setIfPresent(&req.ExternalRef, body.ExternalRef)
	// An absent external_ref keeps the current reference, and an empty one
	// clears it.
	req.ClearExternalRef = body.ExternalRef != nil && strings.TrimSpace(*body.ExternalRef) == ""
	setIfPresent(&req.Notes, body.Notes)
	setIfPresent(&req.PlanID, body.PlanID)

	// An absent state means acknowledged, but an empty one is a mistake, and
	// so is an empty plan_id. The service takes both empty values as absent,
	// so it checks the other fields, and the error lists them all.
	var emptyFields []*alerting.FieldError
	if body.AcknowledgementState != nil && strings.TrimSpace(*body.AcknowledgementState) == "" {
		emptyFields = append(emptyFields, &alerting.FieldError{Field: "acknowledgement_state", Message: emptyStateMessage()})
	}
	if body.PlanID != nil && strings.TrimSpace(*body.PlanID) == "" {
		emptyFields = append(emptyFields, &alerting.FieldError{Field: "plan_id", Message: "plan_id is empty; send a value, or leave the field out"})
	}
	if len(emptyFields) > 0 {
		// Without an alert service, as in handler tests of other features,
		// only the empty fields are listed.
		var others error
		if h.Alerts != nil {
			others = h.Alerts.CheckAcknowledgement(req)
		}
		return h.acknowledgementError(withFieldErrors(emptyFields, others))
	}

	result, err := h.Alerts.Acknowledge(c.Request().Context(), req)
	if err != nil {
		return h.acknowledgementError(err)
	}
	return c.JSON(acknowledgementStatus(result), result)
}

// emptyStateMessage is the error message for a present but empty
// acknowledgement_state. An absent state means acknowledged, in the JSON
// body and in the form, but an empty one is most likely a mistake.
func emptyStateMessage() string {
	return fmt.Sprintf("acknowledgement_state is empty; send one of %s, or leave the field out for %s",
		strings.Join(alerting.AcknowledgementStates(), ", "), models.AcknowledgementAcknowledged)
}

// emptyStateFormError is the form's 400 for a present but empty or blank
// state. Its form message offers the states the select shows rather than
// leaving the field out. The other fields of req are still checked, so the
// form marks every invalid one and details.invalid_fields lists them all.
func (h *Handler) emptyStateFormError(c echo.Context, req alerting.AcknowledgeRequest) error {
	empty := &alerting.FieldError{Field: "acknowledgement_state", Message: emptyStateMessage()}
	var others error
	if h.Alerts != nil {
		others = h.Alerts.CheckAcknowledgement(req)
	}
	combined := withFieldErrors([]*alerting.FieldError{empty}, others)
	var fieldErr *alerting.FieldError
	if !errors.As(combined, &fieldErr) {
		return h.acknowledgementError(combined)
	}
	stateMessage := "‘State’ is empty; choose one of " + strings.Join(alerting.AcknowledgementStates(), ", ") + "."
	return h.fieldListFormError(c, fieldErr, stateMessage)
}

// withFieldErrors returns the first of problems with the rest, and the
// fields that err names, as its Others. An err that is not a *FieldError
// is returned instead, because it is not about the request's fields.
func withFieldErrors(problems []*alerting.FieldError, err error) error {
	var serviceErr *alerting.FieldError
	if err != nil && !errors.As(err, &serviceErr) {
		return err
	}
	if serviceErr != nil {
		problems = append(problems, serviceErr)
		problems = append(problems, serviceErr.Others...)
	}
	first := *problems[0]
	first.Others = problems[1:]
	return &first
}

// invalidField is one invalid request field, as an error's details list it.
type invalidField struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// acknowledgementError converts err as alertError does. A *FieldError keeps
// its first field in field and message, for clients that read only those,
// and lists every invalid field, the first included, in
// details.invalid_fields. details is an object, as in the endpoint's other
// errors (accepted_fields for an unknown body field). Each entry is
// redacted and shortened as the error handler treats the first message,
// because a message can quote what the client sent.
func (h *Handler) acknowledgementError(err error) error {
	converted := alertError(err)
	var fieldErr *alerting.FieldError
	var apiErr *APIError
	if errors.As(err, &fieldErr) && errors.As(converted, &apiErr) {
		apiErr.Details = map[string]any{"invalid_fields": h.invalidFields(fieldErr)}
	}
	return converted
}

// invalidFields lists first and its Others for an error's details.
func (h *Handler) invalidFields(first *alerting.FieldError) []invalidField {
	fields := []invalidField{}
	for _, problem := range append([]*alerting.FieldError{first}, first.Others...) {
		redacted := shortened(fieldError(problem.Field, "%s", problem.Message), h.Secrets)
		fields = append(fields, invalidField{Field: redacted.Field, Message: redacted.Message})
	}
	return fields
}

// acknowledgementStatus returns the status of a recorded action for JSON
// clients of either route: 201 for a new state, 200 for a repeat of the
// current one.
func acknowledgementStatus(result alerting.AcknowledgeResult) int {
	if result.Repeat {
		return http.StatusOK
	}
	return http.StatusCreated
}

// formTextarea returns a textarea's submitted value with each CRLF line
// break as LF. Browsers submit line breaks as CRLF but count them as one
// character against maxlength, so a note the browser allowed would
// otherwise be over the server's limit.
func formTextarea(value string) string {
	return strings.ReplaceAll(value, "\r\n", "\n")
}

// acknowledgeFormFields are the fields of the acknowledgement form.
var acknowledgeFormFields = []string{"provider", "acknowledgement_state", "external_ref", "notes", "plan_id", "return_to"}

// acknowledgeRetryHealthAlertForm records one action from a browser form.
// A JSON client gets the status that acknowledgeRetryHealthAlert returns.
// htmx gets the refreshed acknowledgement panel or console section (by
// return_to), and a plain post is redirected to return_to.
func (h *Handler) acknowledgeRetryHealthAlertForm(c echo.Context) error {
	form, err := readForm(c, acknowledgeFormFields)
	if err != nil {
		return err
	}
	healthID := c.Param("health_id")
	req := alerting.AcknowledgeRequest{
		HealthID: healthID, Provider: form.Get("provider"), State: form.Get("acknowledgement_state"),
		ExternalRef: form.Get("external_ref"), Notes: formTextarea(form.Get("notes")), PlanID: form.Get("plan_id"),
		Actor: actorName(c),
	}
	// The forms show the current reference in external_ref, so a field
	// emptied by the user clears it. A post without the field keeps it.
	req.ClearExternalRef = form.Has("external_ref") && strings.TrimSpace(req.ExternalRef) == ""
	if form.Has("acknowledgement_state") && strings.TrimSpace(req.State) == "" {
		return h.emptyStateFormError(c, req)
	}
	returnTo := h.localPath(form.Get("return_to"), alerting.AcknowledgementLink("", healthID, strings.ToLower(strings.TrimSpace(req.Provider))))

	result, err := h.Alerts.Acknowledge(c.Request().Context(), req)
	if err != nil {
		return h.acknowledgementFormError(c, err)
	}

	if wantsJSON(c) {
		return c.JSON(acknowledgementStatus(result), result)
	}
	if isHTMX(c) {
		if strings.HasPrefix(returnTo, "/alerts/") {
			page, err := h.Alerts.AcknowledgementPage(c.Request().Context(), healthID, result.Current.Provider)
			if err != nil {
				return alertError(err)
			}
			return render(c, http.StatusOK, views.AcknowledgementPanel(h.acknowledgementPageView(c, page)))
		}
		recorded, err := h.recordedNote(c, result)
		if err != nil {
			return err
		}
		return h.renderAlertsSectionRecorded(c, alertsStateFromReturnTo(returnTo), "", recorded)
	}
	// The acknowledgement page shows the new state itself. The console
	// shows the note that an htmx response shows, after the redirect.
	if !strings.HasPrefix(returnTo, "/alerts/") {
		h.keepRecordedNote(c, result)
	}
	return redirectAfterPost(c, returnTo)
}

// recordedFlashKey is the session flash that carries the recorded note of
// an acknowledgement saved by a plain post to the console page after the
// redirect.
const recordedFlashKey = "acknowledgement-recorded"

// keepRecordedNote replaces the note in the session flash with the one
// describing result. Only the console takes the note, so posts that return
// elsewhere would otherwise add notes until the cookie is over its size
// limit and no longer saved. The action is recorded already, so a failure
// is logged and the redirect goes ahead without the note.
func (h *Handler) keepRecordedNote(c echo.Context, result alerting.AcknowledgeResult) {
	note, err := h.recordedNote(c, result)
	if err != nil {
		h.Logger.Error("acknowledgement recorded, but its note for the console was not built", "error", err,
			"health_id", result.Acknowledgement.HealthID, "provider", result.Acknowledgement.Provider)
		return
	}
	session := h.sessionCookie(c)
	session.Flashes(recordedFlashKey)
	session.AddFlash(note, recordedFlashKey)
	if err := session.Save(c.Request(), c.Response()); err != nil {
		h.Logger.Error("acknowledgement recorded, but its note for the console was not saved in the session cookie",
			"error", err, "health_id", result.Acknowledgement.HealthID, "provider", result.Acknowledgement.Provider)
	}
}

// takeRecordedNote removes the note that keepRecordedNote added from the
// session cookie and returns it, or "" when there is none.
func (h *Handler) takeRecordedNote(c echo.Context) string {
	session := h.sessionCookie(c)
	flashes := session.Flashes(recordedFlashKey)
	if len(flashes) == 0 {
		return ""
	}
	if err := session.Save(c.Request(), c.Response()); err != nil {
		h.Logger.Error("recorded note shown, but not removed from the session cookie", "error", err)
	}
	note, _ := flashes[len(flashes)-1].(string)
	return note
}

// acknowledgementFormError converts err as alertError does. When other
// fields of the form are invalid too, the form's message names every one
// by its label and the form marks each, so a single correction fixes them
// all. JSON clients keep the first field's message, and the error's
// details list every invalid field, as acknowledgementError does.
func (h *Handler) acknowledgementFormError(c echo.Context, err error) error {
	var fieldErr *alerting.FieldError
	if !errors.As(err, &fieldErr) || len(fieldErr.Others) == 0 {
		return h.acknowledgementError(err)
	}
	return h.fieldListFormError(c, fieldErr, "")
}

// fieldListFormError is the form's 400 for first and its Others: the form
// message names each by its label and the form marks each, and
// details.invalid_fields lists them all. firstFormMessage, when set,
// replaces the form message that first would get.
func (h *Handler) fieldListFormError(c echo.Context, first *alerting.FieldError, firstFormMessage string) *APIError {
	apiErr := fieldError(first.Field, "%s", first.Message)
	apiErr.Details = map[string]any{"invalid_fields": h.invalidFields(first)}
	var messages []string
	for i, problem := range append([]*alerting.FieldError{first}, first.Others...) {
		message, _ := formMessage(c.Path(), shortened(fieldError(problem.Field, "%s", problem.Message), h.Secrets))
		if i == 0 && firstFormMessage != "" {
			message = firstFormMessage
		}
		messages = append(messages, strings.TrimSuffix(message, ".")+".")
	}
	for _, problem := range first.Others {
		apiErr.FormOtherFields = append(apiErr.FormOtherFields, problem.Field)
	}
	apiErr.FormMessage = strings.Join(messages, " ")
	return apiErr
}

// recordedNote describes a saved action for the console. It names the alert
// by level and health id, as the outstanding rows do, because a destination
// can have several outstanding alerts.
func (h *Handler) recordedNote(c echo.Context, result alerting.AcknowledgeResult) (string, error) {
	action := result.Acknowledgement
	report, err := h.Health.Snapshot(c.Request().Context(), action.HealthID)
	if err != nil {
		return "", err
	}
	alert := fmt.Sprintf("the %s alert %s", report.AlertLevel, action.HealthID)
	if result.Repeat {
		return fmt.Sprintf("Recorded %s for %s on %s again (action %d); the state was already %s.",
			action.AcknowledgementState, action.Provider, alert, action.Sequence, action.AcknowledgementState), nil
	}
	return fmt.Sprintf("Recorded %s for %s on %s (action %d).", action.AcknowledgementState, action.Provider, alert, action.Sequence), nil
}

// acknowledgementPage shows one destination's view of an alert. Unlike the
// console's other pages it ignores query parameters, because its address
// arrives in delivered messages, whose links a mail or chat service may
// extend with tracking parameters.
func (h *Handler) acknowledgementPage(c echo.Context) error {
	page, err := h.Alerts.AcknowledgementPage(c.Request().Context(), c.Param("health_id"), c.Param("provider"))
	if err != nil {
		// The page's address names the destination, so a destination the
		// alert did not require is a page that does not exist.
		var unprocessable *alerting.UnprocessableError
		if errors.As(err, &unprocessable) {
			return notFound("%s", unprocessable.Message)
		}
		return alertError(err)
	}
	return render(c, http.StatusOK, views.AcknowledgementPage(pageContext(c), h.acknowledgementPageView(c, page)))
}

// localPath returns target when it is a path on this site, else fallback,
// so a form cannot redirect the browser elsewhere. A target that contains
// a configured secret gives fallback too, so the redirect does not send the
// secret back in its Location header.
func (h *Handler) localPath(target, fallback string) string {
	if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") || strings.Contains(target, `\`) {
		return fallback
	}
	parsed, err := url.Parse(target)
	if err != nil || parsed.Host != "" || parsed.Scheme != "" || h.Secrets.HasConfiguredSecretIgnoringCase(target) {
		return fallback
	}
	return target
}

// acknowledgementPageView maps one destination's view of an alert to its
// view model, with the form disabled for roles that may not acknowledge.
func (h *Handler) acknowledgementPageView(c echo.Context, p alerting.AcknowledgementPage) views.AcknowledgementPageView {
	link := alerting.AcknowledgementLink("", p.Health.HealthID, p.Provider)
	v := views.AcknowledgementPageView{
		HealthID: p.Health.HealthID, OccurrenceID: p.Health.OccurrenceID, PlanID: p.Plan.PlanID, Provider: p.Provider,
		AlertLevel: p.Health.AlertLevel, Fingerprint: p.Health.Fingerprint,
		EvaluatedAt: views.FormatTime(p.Health.EvaluatedAt, h.TimeZone),
		State:       p.Current.AcknowledgementState, Outstanding: p.Current.Outstanding, Actor: p.Current.Actor,
		ExternalRef: p.Current.ExternalRef, FormAction: "/console/retry-health-alerts/" + url.PathEscape(p.Health.HealthID) + "/acknowledgements",
		ReturnTo: link, States: alerting.AcknowledgementStates(),
		AcknowledgeBlockedReason: formBlockedReason(c, auth.PermissionAcknowledge, "acknowledge alerts"),
	}
	if p.Current.Actor != "" {
		v.UpdatedAt = views.FormatTime(p.Current.UpdatedAt, h.TimeZone)
	}
	for _, f := range p.Health.Findings {
		v.Findings = append(v.Findings, views.FindingView{Category: f.Category, Severity: f.Severity, Message: f.Message})
	}
	for _, a := range p.Actions {
		v.Actions = append(v.Actions, views.AckActionView{
			Sequence: a.Sequence, State: a.AcknowledgementState, Repeat: a.Repeat, ExternalRef: a.ExternalRef,
			Notes: a.Notes, Actor: a.Actor, At: views.FormatTime(a.CreatedAt, h.TimeZone),
		})
	}
	for _, d := range p.Deliveries {
		v.Deliveries = append(v.Deliveries, h.destinationView(d, ""))
	}
	if o := p.OtherOutstanding; o != nil {
		v.Other = &views.OutstandingAckView{
			HealthID: o.HealthID, Provider: o.Provider, State: o.AcknowledgementState, AlertLevel: o.AlertLevel,
			Since: views.FormatTime(o.Since, h.TimeZone), AckURL: o.AcknowledgementURL,
		}
	}
	return v
}
