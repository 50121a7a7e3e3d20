package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
)

// Path prefixes of the JSON API.
const (
	runtimePrefix = "/runtime/go-pilot/rollback-drill-notifications"
	auditDelivery = runtimePrefix + "/acknowledgements/audit-delivery"
)

// routePermissions records the permission of every registered route, keyed
// by method and path pattern. It is filled by route and read by the
// authorisation middleware and its tests.
var routePermissions = map[string]auth.Permission{}

// route registers a handler together with the permission it needs. Every
// route goes through here, so no route exists without a permission.
func (h *Handler) route(e *echo.Echo, method, path string, handler echo.HandlerFunc, permission auth.Permission) {
	routePermissions[method+" "+path] = permission
	if method == http.MethodPost && strings.HasPrefix(path, runtimePrefix+"/") {
		handler = rejectQueryOnPost(handler)
	}
	e.Add(method, path, handler)
}

// rejectQueryOnPost rejects a JSON API POST that carries query parameters
// with a 400 before anything runs. Those endpoints read their input from
// the JSON body only, so a parameter such as ?execute=true would otherwise
// be ignored without a word.
func rejectQueryOnPost(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := rejectUnknownQuery(c); err != nil {
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				if apiErr.Field == "_csrf" {
					apiErr.Message += "; a JSON request sends the session's token in the X-CSRF-Token header"
				} else {
					apiErr.Message += ", or send it in the JSON body"
				}
			}
			return err
		}
		return next(c)
	}
}

// registerRoutes wires every route in one place, feature by feature.
func (h *Handler) registerRoutes(e *echo.Echo) {
	h.route(e, http.MethodGet, "/healthz", h.healthz, auth.PermissionPublic)
	h.route(e, http.MethodGet, "/readyz", h.readyz, auth.PermissionPublic)
	h.route(e, http.MethodGet, "/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/console") }, auth.PermissionReadConsole)

	h.registerAuthRoutes(e)
	h.registerConsoleRoutes(e)
	h.registerEvidenceRoutes(e)
	h.registerRetryHealthRoutes(e)
	h.registerRetryHealthAlertRoutes(e)
	h.registerExecutiveRetryRoutes(e)
	h.registerExecutiveRoutes(e)
	h.registerAuditRoutes(e)
}
