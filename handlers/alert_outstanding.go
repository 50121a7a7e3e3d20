package handlers

import (
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/views"
)

// outstandingParams are the query parameters that page the outstanding
// acknowledgements, on the alert dashboard endpoint and on the console.
var outstandingParams = []string{"outstanding_limit", "outstanding_offset"}

// outstandingQuery reads the page of the outstanding acknowledgements from
// the query, with the bounds of every other list. An empty value counts as
// absent.
func outstandingQuery(c echo.Context) (alerting.OutstandingQuery, error) {
	q := alerting.DefaultOutstandingQuery()
	var err error
	if q.Limit, err = queryInt(c, "outstanding_limit", q.Limit, 1, maxPageLimit); err != nil {
		return q, err
	}
	if q.Offset, err = queryInt(c, "outstanding_offset", 0, 0, maxOffset); err != nil {
		return q, err
	}
	return q, nil
}

// outstandingPageParams returns the outstanding_limit and
// outstanding_offset values that select q, each empty when it is the
// default.
func outstandingPageParams(q alerting.OutstandingQuery) (limit, offset string) {
	if q.Limit != alerting.DefaultOutstandingLimit {
		limit = strconv.Itoa(q.Limit)
	}
	if q.Offset != 0 {
		offset = strconv.Itoa(q.Offset)
	}
	return limit, offset
}

// setOutstandingPage sets the parameters that select page q of the
// outstanding list in values, leaving out the defaults.
func setOutstandingPage(values url.Values, q alerting.OutstandingQuery) {
	values.Del("outstanding_limit")
	values.Del("outstanding_offset")
	limit, offset := outstandingPageParams(q)
	if limit != "" {
		values.Set("outstanding_limit", limit)
	}
	if offset != "" {
		values.Set("outstanding_offset", offset)
	}
}

// outstandingURL is the console address of the outstanding page that starts
// at offset, keeping every other console parameter of state.
func outstandingURL(state alertsState, offset int) string {
	values := url.Values{}
	for name, list := range state.Query {
		values[name] = list
	}
	page := state.Outstanding
	page.Offset = offset
	setOutstandingPage(values, page)
	address := "/console"
	if len(values) > 0 {
		address += "?" + values.Encode()
	}
	return address + "#outstanding-acknowledgements"
}

// outstandingPageView describes the page of outstanding acknowledgements in
// d and links the other pages.
func outstandingPageView(d alerting.Dashboard, state alertsState) views.OutstandingPageView {
	total, offset, rows := d.OutstandingAcknowledgementCount, d.OutstandingOffset, len(d.OutstandingAcknowledgements)
	v := views.OutstandingPageView{
		PageLinks: pageLinks(total, offset, d.OutstandingLimit, func(offset int) string { return outstandingURL(state, offset) }),
		ReturnTo:  outstandingURL(state, offset),
	}
	switch {
	case v.PastEnd:
		v.Showing = views.PastEndText(total, offset, "outstanding acknowledgement", "outstanding acknowledgements", "item")
	case rows > 0 && int64(rows) < total:
		v.Showing = "Items " + strconv.Itoa(offset+1) + "–" + strconv.Itoa(offset+rows) + " of " + strconv.FormatInt(total, 10) + ", newest first."
	}
	return v
}

// alertsStateFromReturnTo returns the console state of an acknowledgement
// form's return_to address: its console parameters, history filters and
// outstanding page. The htmx response then shows the view the form was on.
// Invalid history filters or an invalid page fall back to the defaults,
// because the action is already saved and only the refreshed view depends
// on them.
func alertsStateFromReturnTo(returnTo string) alertsState {
	state := defaultAlertsState()
	parsed, err := url.Parse(returnTo)
	if err != nil || parsed.Path != "/console" {
		return state
	}
	query := parsed.Query()
	for _, name := range consoleParams {
		if list := query[name]; len(list) == 1 {
			state.Query.Set(name, list[0])
		}
	}
	if limit, ok := formWholeNumber(state.Query.Get("outstanding_limit")); ok && limit >= 1 && limit <= maxPageLimit {
		state.Outstanding.Limit = limit
	}
	if offset, ok := formWholeNumber(state.Query.Get("outstanding_offset")); ok && offset >= 0 && offset <= maxOffset {
		state.Outstanding.Offset = offset
	}
	setOutstandingPage(state.Query, state.Outstanding)

	history, err := historyQueryOf(state.Query)
	if err != nil {
		for _, name := range alertHistoryParams {
			state.Query.Del(name)
		}
		return state
	}
	state.History = history
	return state
}

// historyQueryOf reads and validates the alert history filters and page of
// a console address.
func historyQueryOf(values url.Values) (alerting.HistoryQuery, error) {
	q := alerting.HistoryQuery{
		HealthID: values.Get("health_id"), Provider: values.Get("provider"),
		MetadataKind: values.Get("metadata_kind"), AcknowledgementState: values.Get("acknowledgement_state"),
		Limit: alerting.DefaultHistoryLimit,
	}
	var ok bool
	if raw := values.Get("limit"); raw != "" {
		if q.Limit, ok = formWholeNumber(raw); !ok {
			return q, fieldError("limit", "limit %q is not a whole number", raw)
		}
	}
	if raw := values.Get("offset"); raw != "" {
		if q.Offset, ok = formWholeNumber(raw); !ok {
			return q, fieldError("offset", "offset %q is not a whole number", raw)
		}
	}
	switch raw := values.Get("suppressed"); raw {
	case "true":
		q.Suppressed = new(true)
	case "false":
		q.Suppressed = new(false)
	case "":
	default:
		return q, fieldError("suppressed", "suppressed must be true or false; got %q", raw)
	}
	return q, q.Validate()
}
