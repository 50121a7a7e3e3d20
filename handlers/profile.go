package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/views"
)

func (h *Handler) registerProfileRoutes(e *echo.Echo) {
	h.route(e, http.MethodGet, "/profile", h.profilePage, auth.PermissionManageOwnTokens)
	h.route(e, http.MethodPost, "/profile/tokens", h.createOwnToken, auth.PermissionManageOwnTokens)
	h.route(e, http.MethodPost, "/profile/tokens/:id/revoke", h.revokeOwnToken, auth.PermissionManageOwnTokens)
}

func (h *Handler) renderProfile(c echo.Context, status int, page views.ProfilePage) error {
	user, ok := currentUser(c)
	if !ok {
		return &APIError{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: "sign in to see your profile"}
	}
	tokens, err := h.Auth.Service.ListTokens(c.Request().Context(), user.ID)
	if err != nil {
		return err
	}
	page.Username, page.Role, page.Tokens = user.Username, string(user.Role), h.tokenRows(tokens)
	return render(c, status, views.Profile(pageContext(c), page))
}

func (h *Handler) profilePage(c echo.Context) error {
	return h.renderProfile(c, http.StatusOK, views.ProfilePage{})
}

// createOwnToken creates a personal API token and shows it once. The
// response must not be cached, because it carries the token.
func (h *Handler) createOwnToken(c echo.Context) error {
	user, ok := currentUser(c)
	if !ok {
		return &APIError{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: "sign in to create an API token"}
	}
	secret, _, err := h.Auth.Service.CreateToken(c.Request().Context(), user.ID, c.FormValue("name"))
	var invalid *auth.ValidationError
	if errors.As(err, &invalid) {
		return h.renderProfile(c, http.StatusBadRequest, views.ProfilePage{Error: "The token " + invalid.Field + " is invalid: " + invalid.Message + "."})
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.renderProfile(c, http.StatusCreated, views.ProfilePage{NewToken: secret})
}

// revokeOwnToken revokes one of the signed-in user's own tokens; another
// user's token id is not found.
func (h *Handler) revokeOwnToken(c echo.Context) error {
	user, ok := currentUser(c)
	if !ok {
		return &APIError{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: "sign in to revoke an API token"}
	}
	err := h.Auth.Service.RevokeToken(c.Request().Context(), user.ID, c.Param("id"), user.Username)
	if errors.Is(err, auth.ErrTokenNotFound) {
		return notFound("you have no API token with this id")
	}
	if err != nil {
		return err
	}
	return redirectAfterPost(c, "/profile")
}
