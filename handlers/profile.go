package handlers

import (
	"errors"
	"net/http"
	"strings"

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

// newTokenFlashKey names the session flash that carries, to the GET that
// shows it once, the reference to a token just created on the profile page.
// The token itself is held by holdForNextPage on the server.
const newTokenFlashKey = "new_api_token"

// profilePage shows the user's tokens and, once, the tokens that
// createOwnToken created since the page was last loaded.
func (h *Handler) profilePage(c echo.Context) error {
	tokens := h.takeHeldSecrets(c, newTokenFlashKey)
	if len(tokens) > 0 {
		c.Response().Header().Set("Cache-Control", "no-store")
	}
	return h.renderProfile(c, http.StatusOK, views.ProfilePage{NewTokens: tokens})
}

// createOwnToken creates a personal API token for a browser session and
// redirects to GET /profile, which shows the token once, so a reload does
// not post the form again. The token is held on the server for that one
// page view, never in the cookie or a URL, and the response may not be
// cached. A request authenticated with
// an API token is refused.
func (h *Handler) createOwnToken(c echo.Context) error {
	user, ok := currentUser(c)
	if !ok {
		return &APIError{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: "sign in to create an API token"}
	}
	form, err := readForm(c, []string{"name"})
	if err != nil {
		return err
	}
	if c.Request().Header.Get(echo.HeaderAuthorization) != "" {
		// A token that could mint tokens would outlive its own revocation.
		return &APIError{Status: http.StatusForbidden, Code: CodeForbidden,
			Message: "an API token cannot create API tokens; create one on /profile in a signed-in browser, or with evidence-console token create"}
	}
	name := form.Get("name")
	if tooLong(strings.TrimSpace(name), auth.MaxTokenNameLength) {
		return h.renderProfile(c, http.StatusBadRequest, views.ProfilePage{Error: tooLongMessage("token name", auth.MaxTokenNameLength),
			TokenName: shownAgain(h.Secrets, strings.TrimSpace(name), auth.MaxTokenNameLength)})
	}
	secret, _, err := h.Auth.Service.CreateToken(c.Request().Context(), user.ID, name)
	var invalid *auth.ValidationError
	if errors.As(err, &invalid) {
		page := views.ProfilePage{Error: "The token " + invalid.Field + " is invalid: " + invalid.Message + "."}
		// The rejected name is shown again for correction, unless it
		// contains a credential, which the page must not repeat.
		if !invalid.Credential {
			page.TokenName = name
		}
		return h.renderProfile(c, http.StatusBadRequest, page)
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")

	session := h.sessionCookie(c)
	err = h.holdForNextPage(c, session, newTokenFlashKey, secret)
	if err == nil {
		err = session.Save(c.Request(), c.Response())
	}
	if err != nil {
		// The token exists now, so show it in this response rather than
		// lose it. Save fails when the cookie would pass its size limit
		// because many new tokens are waiting in the flash.
		h.Logger.Warn("new API token could not be held for the profile page, so the form response shows it",
			"user_id", user.ID, "error", err)
		return h.renderProfile(c, http.StatusCreated, views.ProfilePage{NewTokens: []string{secret}})
	}
	return redirectAfterPost(c, "/profile")
}

// revokeOwnToken revokes one of the signed-in user's own tokens; another
// user's token id is not found.
func (h *Handler) revokeOwnToken(c echo.Context) error {
	user, ok := currentUser(c)
	if !ok {
		return &APIError{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: "sign in to revoke an API token"}
	}
	if _, err := readForm(c, nil); err != nil {
		return err
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
