package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/views"
)

// render writes a templ component with the given status.
func render(c echo.Context, status int, component templ.Component) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return component.Render(c.Request().Context(), c.Response())
}

// isHTMX reports whether htmx sent the request, so a fragment is enough.
func isHTMX(c echo.Context) bool {
	return c.Request().Header.Get("HX-Request") == "true"
}

// redirectAfterPost responds to a plain form post with 303 See Other so a reload
// does not repeat the action.
func redirectAfterPost(c echo.Context, location string) error {
	return c.Redirect(http.StatusSeeOther, location)
}

// pageContext gathers what the layout needs about the current request.
func pageContext(c echo.Context) views.PageContext {
	pc := views.PageContext{Path: c.Request().URL.Path}
	if value, ok := c.Get(pageContextKey).(views.PageContext); ok {
		pc = value
		pc.Path = c.Request().URL.Path
	}
	return pc
}

// pageContextKey is the context key of extra page context (the signed-in
// user, the CSRF token) for pageContext to pick up.
const pageContextKey = "page_context"

func contextWithTimeout(c echo.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), d)
}
