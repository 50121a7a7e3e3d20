package handlers

import (
	"net/http"
	"regexp"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/static"
)

// maxBodyBytes caps every request body; larger bodies get a 413.
const maxBodyBytes = "10M"

// NewServer returns the Echo instance with middleware and every route.
// Middleware order: recover, request id, removal of configured secrets
// from responses, metrics, security headers, change
// announcements, body limit, the check for text no column can store,
// request log, then authentication and the route's permission; then the
// route.
func NewServer(h *Handler) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(h.Logger, h.Stopping, h.Secrets)

	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			h.Logger.Error("handler panicked", "error", h.Secrets.RedactCredentials(err.Error()), "path", loggedPath(h.Secrets, c.Request().URL.Path),
				"stack", string(stack))
			return err
		},
	}))
	e.Use(h.dropUnsafeRequestID)
	e.Use(middleware.RequestID())
	e.Use(withholdSecrets(h.Secrets.ResponseScrubber(), h.Logger))
	e.Use(requestMetrics)
	e.Use(securityHeaders)
	e.Use(announceChanges)
	e.Use(middleware.BodyLimit(maxBodyBytes))
	e.Use(rejectUnstorableText)
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		// HandleError runs the error handler first, so the logged status is
		// the one the client got rather than 200.
		HandleError: true,
		LogStatus:   true, LogURIPath: true, LogMethod: true, LogLatency: true, LogRequestID: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			h.Logger.Debug("request", "method", v.Method, "path", loggedPath(h.Secrets, v.URIPath), "status", v.Status,
				"latency_ms", v.Latency.Milliseconds(), "request_id", v.RequestID)
			return nil
		},
	}))

	routePermissions["GET /static*"] = auth.PermissionPublic
	e.StaticFS("/static", static.Files)
	h.registerRoutes(e)
	h.setupAuth(e)
	return e
}

// securityHeaders sets headers every response carries. The policy allows
// scripts only from this origin, so pages carry no inline script.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		header := c.Response().Header()
		header.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		header.Set("X-Content-Type-Options", "nosniff")
		header.Set("Referrer-Policy", "same-origin")
		header.Set("X-Frame-Options", "DENY")
		return next(c)
	}
}

func (h *Handler) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (h *Handler) readyz(c echo.Context) error {
	ctx, cancel := contextWithTimeout(c, 2*time.Second)
	defer cancel()
	if err := h.Ready(ctx); err != nil {
		h.Logger.Warn("readiness check failed", "error", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "database": "unreachable"})
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ready", "database": "ok"})
}

// loggedPath returns a request path for the log with configured secrets and
// credential-like segments, such as a token pasted into an id, replaced.
func loggedPath(redactor *connectors.Redactor, path string) string {
	return redactor.RedactCredentials(path)
}

// requestIDPattern is the form of a client's X-Request-Id that the server
// keeps: a plain id such as a UUID.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// dropUnsafeRequestID removes a client's X-Request-Id that is not a plain
// id or looks like a credential, because the server logs the id and sends
// it back. The request then gets a generated id.
func (h *Handler) dropUnsafeRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		header := c.Request().Header
		if id := header.Get(echo.HeaderXRequestID); id != "" && (!requestIDPattern.MatchString(id) || h.Secrets.FindCredential(id) != "") {
			header.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}
