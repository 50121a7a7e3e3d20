package handlers

import (
	"cmp"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/views"
)

// alertsState is the console state the alert section shows and its links
// keep: the history filters and page, the outstanding page, and the
// console's query parameters.
type alertsState struct {
	History     alerting.HistoryQuery
	Outstanding alerting.OutstandingQuery
	// Query contains only console parameters, which the outstanding page
	// links and the acknowledgement forms' return_to keep.
	Query url.Values
}

// defaultAlertsState is the alert section without filters, on the first
// page of both lists.
func defaultAlertsState() alertsState {
	return alertsState{
		History:     alerting.HistoryQuery{Limit: alerting.DefaultHistoryLimit},
		Outstanding: alerting.DefaultOutstandingQuery(), Query: url.Values{},
	}
}

// alertsSection reads the console's alert section for state (kept in the
// URL) and the request's plan_id.
func (h *Handler) alertsSection(c echo.Context, state alertsState) (*views.AlertsSectionView, error) {
	data, err := h.Alerts.Console(c.Request().Context(), state.History, state.Outstanding, consoleID(c, "plan_id"))
	if err != nil {
		return nil, alertError(err)
	}
	v := h.alertsSectionView(c, data, state)
	return &v, nil
}

// renderAlertsSection renders the alert section as an htmx fragment.
func (h *Handler) renderAlertsSection(c echo.Context, state alertsState, planID string) error {
	return h.renderAlertsSectionRecorded(c, state, planID, "")
}

// renderAlertsSectionRecorded renders the alert section with a note on the
// acknowledgement action just saved.
func (h *Handler) renderAlertsSectionRecorded(c echo.Context, state alertsState, planID, recorded string) error {
	view, err := h.loadAlertsSection(c, state, planID)
	if err != nil {
		return err
	}
	view.Recorded = recorded
	return render(c, http.StatusOK, views.AlertsSection(view))
}

// loadAlertsSection reads the alert section's data, with the result of
// plan planID when it is set, and maps it to its view model.
func (h *Handler) loadAlertsSection(c echo.Context, state alertsState, planID string) (views.AlertsSectionView, error) {
	data, err := h.Alerts.Console(c.Request().Context(), state.History, state.Outstanding, planID)
	if err != nil {
		return views.AlertsSectionView{}, alertError(err)
	}
	return h.alertsSectionView(c, data, state), nil
}

// alertsSectionView maps the alert section's data to its view model, with
// the send and acknowledge forms disabled for roles that may not use them.
func (h *Handler) alertsSectionView(c echo.Context, data alerting.ConsoleData, state alertsState) views.AlertsSectionView {
	d := data.Dashboard
	v := views.AlertsSectionView{
		Send: views.AlertSendFormView{
			Providers: data.Providers, NotReady: data.NotReady, Disabled: data.Disabled, AllBlocked: data.AllBlocked, ExpectedIntervalMinutes: 30, StaleMetadataMinutes: 120,
			SuppressionWindowMinutes: alerting.DefaultSuppressionWindowMinutes, MaxAlerts: alerting.DefaultMaxAlerts,
			Retries: alerting.DefaultRetries, TimeoutSeconds: strconv.FormatFloat(alerting.DefaultTimeoutSeconds, 'f', -1, 64),
			MaxDuration:   sendDuration(alerting.DefaultRetries, alerting.DefaultTimeoutSeconds),
			BlockedReason: formBlockedReason(c, auth.PermissionSendAlerts, "send alerts"),
		},
		Dashboard: []views.CountView{
			{Key: "plan_count", Label: "Alert plans", Value: d.PlanCount},
			{Key: "delivery_count", Label: "Deliveries", Value: d.DeliveryCount},
			{Key: "delivered_count", Label: "Sent", Value: d.DeliveredCount},
			{Key: "failed_delivery_count", Label: "Failed sends not repaired", Value: d.FailedDeliveryCount},
			{Key: "suppressed_provider_count", Label: "Suppressed", Value: d.SuppressedProviderCount},
			{Key: "acknowledgement_count", Label: "Acknowledgement actions", Value: d.AcknowledgementCount},
			{Key: "outstanding_acknowledgement_count", Label: "Outstanding", Value: d.OutstandingAcknowledgementCount},
		},
		AlertLevel: d.AlertLevel, OutstandingTotal: d.OutstandingAcknowledgementCount,
		States:                   alerting.AcknowledgementStates(),
		AcknowledgeBlockedReason: formBlockedReason(c, auth.PermissionAcknowledge, "acknowledge alerts"),
	}
	if data.Result != nil {
		result := h.alertResultView(*data.Result)
		v.Result = &result
	}
	v.OutstandingPage = outstandingPageView(d, state)
	for _, o := range d.OutstandingAcknowledgements {
		v.Outstanding = append(v.Outstanding, views.OutstandingAckView{
			HealthID: o.HealthID, Provider: o.Provider, State: o.AcknowledgementState, AlertLevel: o.AlertLevel,
			Since: views.FormatTime(o.Since, h.TimeZone), AckURL: o.AcknowledgementURL,
			FormAction:  "/console/retry-health-alerts/" + url.PathEscape(o.HealthID) + "/acknowledgements",
			ExternalRef: o.ExternalRef,
		})
	}
	v.History = h.alertHistoryView(data.History, state)
	return v
}

// alertResultView lists every eligible destination of a send: the sent and
// failed ones from their deliveries, the suppressed ones from the plan.
func (h *Handler) alertResultView(r alerting.DeliverResult) views.AlertResultView {
	v := views.AlertResultView{
		HealthID: r.Health.HealthID, PlanID: r.Plan.PlanID, AlertLevel: r.Plan.AlertLevel,
		Fingerprint: r.Plan.Fingerprint, Force: r.Plan.Force, Success: r.Success,
	}
	for _, d := range r.Delivery {
		v.Destinations = append(v.Destinations, h.destinationView(d, r.Health.HealthID))
	}
	for _, s := range r.Plan.SuppressedProviders {
		when := "—"
		if s.LastDeliveryAt != nil {
			when = views.FormatTime(*s.LastDeliveryAt, h.TimeZone)
		}
		v.Destinations = append(v.Destinations, views.AlertDestinationView{
			Provider: s.Provider, Outcome: views.OutcomeSuppressed, Reason: s.Reason, When: when,
			AckURL: alerting.AcknowledgementLink("", r.Health.HealthID, s.Provider),
		})
	}
	return v
}

func (h *Handler) destinationView(d delivery.View, healthID string) views.AlertDestinationView {
	v := views.AlertDestinationView{
		Provider: d.Provider, Kind: d.ConnectorKind, Class: d.ErrorClass, StatusCode: d.StatusCode, Attempts: d.AttemptCount, Error: cmp.Or(d.RecordError, d.Error),
		When: views.FormatTime(d.StartedAt, h.TimeZone), ExistingRecord: d.ExistingRecord(),
	}
	switch {
	case d.State == models.DeliveryInFlight:
		v.Outcome = views.OutcomeInFlight
	case d.Success:
		v.Outcome = views.OutcomeSent
	default:
		v.Outcome = views.OutcomeFailed
	}
	if healthID != "" {
		v.AckURL = alerting.AcknowledgementLink("", healthID, d.Provider)
	}
	return v
}

func (h *Handler) alertHistoryView(page alerting.HistoryPage, state alertsState) views.AlertHistoryView {
	q := state.History
	v := views.AlertHistoryView{
		Total: page.Total, Limit: page.Limit, Offset: page.Offset,
		Filter: views.AlertHistoryFilterView{
			HealthID: q.HealthID, Provider: q.Provider, MetadataKind: q.MetadataKind, AcknowledgementState: q.AcknowledgementState,
		},
		Kinds: []views.OptionView{
			{Value: alerting.KindAlertPlan, Label: "plan"},
			{Value: alerting.KindAlertDelivery, Label: "delivery"},
			{Value: alerting.KindAlertAcknowledgement, Label: "acknowledgement"},
		},
	}
	if q.Suppressed != nil {
		v.Filter.Suppressed = strconv.FormatBool(*q.Suppressed)
	}
	v.PageLinks = pageLinks(page.Total, page.Offset, page.Limit, func(offset int) string { return historyURL(state, offset) })
	v.OutstandingLimit, v.OutstandingOffset = outstandingPageParams(state.Outstanding)
	first, last := page.Offset+1, page.Offset+len(page.Items)
	switch {
	case v.PastEnd:
		v.Showing = views.PastEndText(page.Total, page.Offset, "matching history item", "matching history items", "item")
	case len(page.Items) == 0:
		v.Showing = "No matching history items (" + strconv.FormatInt(page.Total, 10) + " in total)."
	default:
		v.Showing = "Items " + strconv.Itoa(first) + "–" + strconv.Itoa(last) + " of " + strconv.FormatInt(page.Total, 10) + ", newest first."
	}

	for _, item := range page.Items {
		row := views.AlertHistoryRowView{ID: item.ID, HealthID: item.HealthID, At: views.FormatTime(item.CreatedAt, h.TimeZone)}
		switch {
		case item.Plan != nil:
			row.Kind = "plan"
			// The provider filter matches a plan by any of its destinations.
			row.Provider = strings.Join(item.Plan.EligibleProviders, ", ")
			row.Outcome = item.Plan.AlertLevel
			row.Detail = "selected " + strconv.Itoa(len(item.Plan.SelectedProviders)) + ", suppressed " +
				strconv.Itoa(len(item.Plan.SuppressedProviders)) + " of " + strconv.Itoa(len(item.Plan.EligibleProviders)) + " eligible, by " + item.Plan.Actor
			if item.Plan.Force {
				row.Detail += " (forced)"
			}
		case item.Delivery != nil:
			dest := h.destinationView(*item.Delivery, "")
			row.Kind, row.Provider, row.Outcome = "delivery", item.Delivery.Provider, dest.Outcome
			row.Detail = views.DeliveryDetail(item.Delivery.ConnectorKind, item.Delivery.ErrorClass, item.Delivery.StatusCode, item.Delivery.AttemptCount)
		case item.Acknowledgement != nil:
			a := item.Acknowledgement
			row.Kind, row.Provider, row.Outcome = "acknowledgement", a.Provider, a.AcknowledgementState
			row.Detail = "by " + a.Actor
			if a.Repeat {
				row.Detail += " (repeat)"
			}
			row.ExternalRef, row.Notes, row.Actor = a.ExternalRef, a.Notes, a.Actor
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// historyURL is the console address of a history page, keeping the filters
// and the page of the outstanding list.
func historyURL(state alertsState, offset int) string {
	q := state.History
	values := url.Values{}
	for name, value := range map[string]string{
		"health_id": q.HealthID, "provider": q.Provider, "metadata_kind": q.MetadataKind,
		"acknowledgement_state": q.AcknowledgementState,
	} {
		if value != "" {
			values.Set(name, value)
		}
	}
	if q.Suppressed != nil {
		values.Set("suppressed", strconv.FormatBool(*q.Suppressed))
	}
	values.Set("limit", strconv.Itoa(q.Limit))
	values.Set("offset", strconv.Itoa(offset))
	setOutstandingPage(values, state.Outstanding)
	return "/console?" + values.Encode() + "#alert-history"
}
