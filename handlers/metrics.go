package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/metrics"
)

// registerMetricsRoutes serves the Prometheus scrape endpoint. It is public
// because it carries no record content: route patterns, status codes,
// connector names, result classes and durations only. Restrict it at the
// network edge when connector names themselves are sensitive.
func (h *Handler) registerMetricsRoutes(e *echo.Echo) {
	h.route(e, http.MethodGet, "/metrics", echo.WrapHandler(metrics.Handler()), auth.PermissionPublic)
}

// requestMetrics counts every request by its route pattern (c.Path(), such
// as /audit/:kind/:id) and final status code. The raw URL is never a label,
// so ids and query strings cannot grow the series or leak into metrics.
func requestMetrics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		started := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil && !c.Response().Committed {
			// The error handler writes the response after this middleware
			// returns, so the status comes from the error.
			status = toAPIError(err).Status
		}
		metrics.ObserveHTTPRequest(c.Request().Method, c.Path(), status, time.Since(started))
		return err
	}
}
