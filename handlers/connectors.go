package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/views"
)

func (h *Handler) registerConnectorRoutes(e *echo.Echo) {
	h.route(e, http.MethodGet, auditDelivery+"/connectors", h.connectorStatuses, auth.PermissionReadConsole)
	h.route(e, http.MethodGet, "/connectors", h.connectorsPage, auth.PermissionReadConsole)
}

// connectorStatuses returns every connector's public-safe status.
func (h *Handler) connectorStatuses(c echo.Context) error {
	if err := rejectUnknownQuery(c); err != nil {
		return err
	}
	statuses, err := h.Alerts.Connectors(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"connectors": statuses})
}

// connectorsPage shows the same statuses in the browser.
func (h *Handler) connectorsPage(c echo.Context) error {
	statuses, err := h.Alerts.Connectors(c.Request().Context())
	if err != nil {
		return err
	}
	rows := make([]views.ConnectorView, 0, len(statuses))
	for _, s := range statuses {
		row := views.ConnectorView{
			Name: s.Name, Kind: string(s.Kind), Enabled: s.Enabled, Host: s.Host, Ready: s.Ready, Problem: s.Problem,
		}
		if last := s.LastResult; last != nil {
			row.LastOutcome, row.LastClass, row.LastStatus = "failed", last.Class, last.StatusCode
			if last.Success {
				row.LastOutcome = "sent"
			}
			if last.CompletedAt != nil {
				row.LastAt = views.FormatTime(*last.CompletedAt, h.TimeZone)
			}
		}
		rows = append(rows, row)
	}
	return render(c, http.StatusOK, views.ConnectorsPage(pageContext(c), rows))
}
