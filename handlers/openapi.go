package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/openapi"
)

// registerOpenAPIRoutes serves the OpenAPI document of the JSON API. It is
// public: it describes paths and shapes, never data.
func (h *Handler) registerOpenAPIRoutes(e *echo.Echo) {
	h.route(e, http.MethodGet, "/openapi.json", h.openAPIDocument, auth.PermissionPublic)
}

func (h *Handler) openAPIDocument(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openapi.Document)
}
