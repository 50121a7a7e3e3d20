package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/audit"
	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/views"
)

// historyParams are the query parameters of the combined history.
var historyParams = []string{
	"provider", "metadata_kind", "acknowledgement_state", "connector_delivery_source",
	"delivery_success", "alert_level", "limit", "offset",
}

// combinedHistoryQuery reads the combined history filters strictly: unknown
// parameters, a delivery_success other than true or false, and a limit or
// offset out of range are rejected with the parameter named.
func combinedHistoryQuery(c echo.Context) (audit.HistoryQuery, error) {
	if err := rejectUnknownQuery(c, historyParams...); err != nil {
		return audit.HistoryQuery{}, err
	}
	if err := rejectLongFilters(c, "provider", "metadata_kind", "acknowledgement_state", "connector_delivery_source", "alert_level"); err != nil {
		return audit.HistoryQuery{}, err
	}
	values := c.QueryParams()
	q := audit.HistoryQuery{
		Provider: values.Get("provider"), MetadataKind: values.Get("metadata_kind"),
		AcknowledgementState: values.Get("acknowledgement_state"), ConnectorDeliverySource: values.Get("connector_delivery_source"),
		AlertLevel: values.Get("alert_level"),
	}
	if values.Has("delivery_success") {
		switch raw := values.Get("delivery_success"); raw {
		case "true":
			q.DeliverySuccess = new(true)
		case "false":
			q.DeliverySuccess = new(false)
		case "":
			// An empty value, as a GET form sends for "any", matches everything.
		default:
			return q, fieldError("delivery_success", "delivery_success must be true or false; got %q", raw)
		}
	}
	var err error
	if q.Limit, err = queryInt(c, "limit", audit.DefaultHistoryLimit, 1, audit.MaxHistoryLimit); err != nil {
		return q, err
	}
	if q.Offset, err = queryInt(c, "offset", 0, 0, maxOffset); err != nil {
		return q, err
	}
	return q, nil
}

// getHistory returns one page of the combined history.
func (h *Handler) getHistory(c echo.Context) error {
	q, err := combinedHistoryQuery(c)
	if err != nil {
		return err
	}
	page, err := h.Audit.History(c.Request().Context(), q)
	if err != nil {
		return auditError(err)
	}
	return c.JSON(http.StatusOK, page)
}

// historyPage is the console's combined history: a GET filter form whose
// state stays in the URL, the table and paging links.
func (h *Handler) historyPage(c echo.Context) error {
	q, err := combinedHistoryQuery(c)
	var page audit.HistoryPage
	if err == nil {
		page, err = h.Audit.History(c.Request().Context(), q)
		err = auditError(err)
	}
	// A browser gets the page back with its filters and the message, so the
	// value can be corrected in place. JSON and htmx clients get the usual
	// error response.
	var invalid *APIError
	if errors.As(err, &invalid) && invalid.Status == http.StatusBadRequest && !wantsJSON(c) && !isHTMX(c) {
		invalid = shortened(invalid, h.Secrets)
		logRejected(h.Logger, h.Secrets, c, invalid)
		return render(c, http.StatusBadRequest, views.HistoryPage(pageContext(c), h.rejectedHistoryView(c, invalid)))
	}
	if err != nil {
		return err
	}
	view := h.historyView(q, page)
	view.Export = h.exportFormView(c)
	return render(c, http.StatusOK, views.HistoryPage(pageContext(c), view))
}

// rejectedHistoryView keeps the filters as they were typed, up to
// maxFilterLength characters each, with the error, so a rejected filter can be corrected in place. It shows no rows.
func (h *Handler) rejectedHistoryView(c echo.Context, invalid *APIError) views.HistoryView {
	values := c.QueryParams()
	view := views.HistoryView{
		Provider: typedFilter(values, "provider"), MetadataKind: typedFilter(values, "metadata_kind"),
		AcknowledgementState: typedFilter(values, "acknowledgement_state"), ConnectorDeliverySource: typedFilter(values, "connector_delivery_source"),
		DeliverySuccess: typedFilter(values, "delivery_success"), AlertLevel: typedFilter(values, "alert_level"),
		Limit: audit.DefaultHistoryLimit, LimitText: typedFilter(values, "limit"),
		MetadataKinds: audit.MetadataKinds(), Export: h.exportFormView(c),
		ErrorField: invalid.Field,
	}
	view.Error, _ = formMessage("/history", invalid)
	return view
}

// exportAction is named in the note of the export form for roles that may
// not export.
const exportAction = "export evidence"

// exportFormView fills the export form with the last seven days, today
// included, in the console's time zone.
func (h *Handler) exportFormView(c echo.Context) views.ExportFormView {
	today := h.now().In(h.TimeZone)
	return views.ExportFormView{
		FromDate: today.AddDate(0, 0, -6).Format(time.DateOnly), ToDate: today.Format(time.DateOnly),
		TimeZone: h.TimeZone.String(), Kinds: audit.ExportKinds(),
		BlockedReason: formBlockedReason(c, auth.PermissionExportAudit, exportAction),
	}
}

func (h *Handler) historyView(q audit.HistoryQuery, page audit.HistoryPage) views.HistoryView {
	success := ""
	if q.DeliverySuccess != nil {
		success = strconv.FormatBool(*q.DeliverySuccess)
	}
	v := views.HistoryView{
		Provider: q.Provider, MetadataKind: q.MetadataKind, AcknowledgementState: q.AcknowledgementState,
		ConnectorDeliverySource: q.ConnectorDeliverySource, DeliverySuccess: success, AlertLevel: q.AlertLevel,
		Limit: page.Limit, Offset: page.Offset, Total: page.Total,
		MetadataKinds: audit.MetadataKinds(),
	}
	link := func(offset int) string {
		values := url.Values{}
		for name, value := range map[string]string{
			"provider": q.Provider, "metadata_kind": q.MetadataKind, "acknowledgement_state": q.AcknowledgementState,
			"connector_delivery_source": q.ConnectorDeliverySource, "delivery_success": success, "alert_level": q.AlertLevel,
		} {
			if value != "" {
				values.Set(name, value)
			}
		}
		values.Set("limit", strconv.Itoa(page.Limit))
		values.Set("offset", strconv.Itoa(offset))
		return "/history?" + values.Encode()
	}
	v.PageLinks = pageLinks(page.Total, page.Offset, page.Limit, link)
	for _, item := range page.Items {
		row := views.HistoryRow{
			Kind: item.MetadataKind, ID: item.ID, CreatedAt: views.FormatTime(item.CreatedAt, h.TimeZone),
			Provider: strings.ReplaceAll(item.Provider, ",", ", "), Level: item.AlertLevel, Source: item.ConnectorDeliverySource,
			Status: item.Status, Repeat: item.Repeat, Actor: item.Actor, ParentID: item.ParentID,
		}
		if item.DeliverySuccess != nil {
			row.Success = strconv.FormatBool(*item.DeliverySuccess)
		}
		if item.AuditKind != "" {
			row.AuditHref = "/audit/" + url.PathEscape(item.AuditKind) + "/" + url.PathEscape(item.ID)
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}
