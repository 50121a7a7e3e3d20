package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Path prefixes of the JSON API.
const (
	runtimePrefix = "/runtime/go-pilot/rollback-drill-notifications"
	auditDelivery = runtimePrefix + "/acknowledgements/audit-delivery"
)

// registerRoutes wires every route in one place, feature by feature.
func (h *Handler) registerRoutes(e *echo.Echo) {
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/console") })

	h.registerConsoleRoutes(e)
	h.registerEvidenceRoutes(e)
	h.registerRetryHealthRoutes(e)
}
