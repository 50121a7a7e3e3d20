package handlers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/views"
)

func (h *Handler) registerAuthRoutes(e *echo.Echo) {
	h.route(e, http.MethodGet, "/sign-in", h.signInPage, auth.PermissionPublic)
	h.route(e, http.MethodPost, "/sign-in", h.signIn, auth.PermissionPublic)
	h.route(e, http.MethodPost, "/sign-out", h.signOut, auth.PermissionSignedIn)
	h.route(e, http.MethodGet, "/setup", h.setupPage, auth.PermissionPublic)
	h.route(e, http.MethodPost, "/setup", h.setup, auth.PermissionPublic)
	h.route(e, http.MethodGet, "/sign-in/oidc", h.oidcStart, auth.PermissionPublic)
	h.route(e, http.MethodGet, "/sign-in/oidc/callback", h.oidcCallback, auth.PermissionPublic)
	h.registerUserRoutes(e)
	h.registerProfileRoutes(e)
}

// renderSignIn shows the sign-in form with a pre-session CSRF token.
func (h *Handler) renderSignIn(c echo.Context, status int, page views.SignInPage) error {
	token, err := h.preSessionCSRF(c)
	if err != nil {
		return err
	}
	page.Next = h.safeNext(page.Next)
	page.SingleSignOn = h.Auth.OIDC != nil
	c.SetRequest(c.Request().WithContext(views.WithCSRFToken(c.Request().Context(), token)))
	return render(c, status, views.SignIn(pageContext(c), page))
}

// signInPage shows the form, also to a signed-in user, who may sign in as
// someone else. The page then names that user, states that signing in ends
// the current session, and links to the next page as that user.
func (h *Handler) signInPage(c echo.Context) error {
	return h.renderSignIn(c, http.StatusOK, views.SignInPage{Next: c.QueryParam("next"), Unsaved: c.QueryParam("unsaved") == "true"})
}

// signIn checks the username and password and starts a new session.
func (h *Handler) signIn(c echo.Context) error {
	if err := h.checkPreSessionCSRF(c); err != nil {
		return err
	}
	form, err := readForm(c, []string{"next", "username", "password"})
	if err != nil {
		return err
	}
	username := strings.TrimSpace(form.Get("username"))
	password := form.Get("password")
	next := form.Get("next")
	if username == "" || password == "" {
		return h.renderSignIn(c, http.StatusBadRequest, views.SignInPage{Next: next, Username: username, Error: "Enter your username and password."})
	}
	// No user has a longer name, so it is not checked against the users.
	if tooLong(username, auth.MaxUsernameLength) {
		return h.renderSignIn(c, http.StatusBadRequest, views.SignInPage{Next: next,
			Username: shownAgain(h.Secrets, username, auth.MaxUsernameLength), Error: tooLongMessage("username", auth.MaxUsernameLength)})
	}

	user, err := h.Auth.Service.CheckPassword(c.Request().Context(), username, password, clientIP(c))
	switch {
	case errors.Is(err, auth.ErrRateLimited):
		return h.renderSignIn(c, http.StatusTooManyRequests, views.SignInPage{Next: next, Username: username, Error: h.rateLimitMessage(c, username)})
	case errors.Is(err, auth.ErrInvalidCredentials):
		return h.renderSignIn(c, http.StatusUnauthorized, views.SignInPage{Next: next, Username: username, Error: "Username or password is wrong, or the user is disabled."})
	case err != nil:
		return err
	}

	if h.usernameHasSecret(user) {
		return errSecretUsername
	}
	if err := h.beginSession(c, user, "password"); err != nil {
		return err
	}
	return redirectAfterPost(c, h.safeNext(next))
}

// signInBlocker is implemented by auth.Service: it returns which sign-in
// rate limit rejects an attempt.
type signInBlocker interface {
	SignInBlock(ctx context.Context, username, clientIP string) (auth.SignInBlock, bool)
}

// rateLimitMessage explains a rate-limited sign-in: whether the failures of
// this username or of this address reached their limit, and when to try
// again. It sets Retry-After. The message is the same whether or not the
// username exists, because failures of unknown usernames count too.
func (h *Handler) rateLimitMessage(c echo.Context, username string) string {
	blocker, ok := h.Auth.Service.(signInBlocker)
	if !ok {
		return "Too many failed sign-ins. Wait 15 minutes and try again."
	}
	block, blocked := blocker.SignInBlock(c.Request().Context(), username, clientIP(c))
	if !blocked {
		// The failures left the window between the check and now.
		return "Too many failed sign-ins. Try again now."
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(block.RetryAfter.Seconds()))))
	waitMinutes := max(1, int(math.Ceil(block.RetryAfter.Minutes())))
	window := views.CountNoun(int(block.Window.Minutes()), "minute", "minutes")
	again := "Try again in " + views.CountNoun(waitMinutes, "minute", "minutes") + "."
	if block.Scope == auth.LimitAddress {
		return fmt.Sprintf("Too many failed sign-ins from this network address (%d in %s), for any username. %s", block.Failures, window, again)
	}
	return fmt.Sprintf("Too many failed sign-ins for this username (%d in %s). %s", block.Failures, window, again)
}

// signOut ends the session and clears the cookie.
func (h *Handler) signOut(c echo.Context) error {
	if _, err := readForm(c, nil); err != nil {
		return err
	}
	if err := h.endSession(c); err != nil {
		return err
	}
	if user, ok := currentUser(c); ok {
		h.Logger.Info("user signed out", "user_id", user.ID)
	}
	return redirectAfterPost(c, "/sign-in")
}

// setupAvailable rejects the setup link once a user exists, from a client
// that is not on this machine, or with a wrong or expired token.
func (h *Handler) setupAvailable(c echo.Context, token string) error {
	gone := &APIError{Status: http.StatusNotFound, Code: CodeNotFound,
		Message: "the setup link is invalid, expired or already used; create an admin with `evidence-console user create --username NAME --role admin`"}
	if h.Auth.Setup == nil || !h.Auth.Setup.Valid(token, h.now()) {
		return gone
	}
	if !isLoopback(c) {
		h.Logger.Warn("setup link used from a remote client", "client_ip", clientIP(c))
		return &APIError{Status: http.StatusForbidden, Code: CodeForbidden, Message: "the setup link works only from the machine the server runs on"}
	}
	count, err := h.Auth.Service.CountUsers(c.Request().Context())
	if err != nil {
		return err
	}
	if count > 0 {
		return gone
	}
	return nil
}

func (h *Handler) renderSetup(c echo.Context, status int, page views.SetupPage) error {
	csrf, err := h.preSessionCSRF(c)
	if err != nil {
		return err
	}
	c.SetRequest(c.Request().WithContext(views.WithCSRFToken(c.Request().Context(), csrf)))
	if status >= http.StatusBadRequest {
		// The page is rendered here, not by the error handler, which logs
		// every other rejected request. The username is left out, because
		// it may look like a credential.
		h.Logger.Warn("setup form for the first admin rejected", "status", status, "field", page.Field,
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "client_ip", clientIP(c))
	}
	return render(c, status, views.Setup(pageContext(c), page))
}

func (h *Handler) setupPage(c echo.Context) error {
	token := c.QueryParam("token")
	if err := h.setupAvailable(c, token); err != nil {
		return err
	}
	return h.renderSetup(c, http.StatusOK, views.SetupPage{Token: token})
}

// setup creates the first admin from the one-time link and signs them in.
func (h *Handler) setup(c echo.Context) error {
	if err := h.checkPreSessionCSRF(c); err != nil {
		return err
	}
	form, err := readForm(c, []string{"token", "username", "password", "password_confirmation"})
	if err != nil {
		return err
	}
	token := form.Get("token")
	if err := h.setupAvailable(c, token); err != nil {
		return err
	}
	page := views.SetupPage{Token: token, Username: form.Get("username")}
	if tooLong(strings.TrimSpace(page.Username), auth.MaxUsernameLength) {
		page.Username = shownAgain(h.Secrets, strings.TrimSpace(page.Username), auth.MaxUsernameLength)
		page.Error, page.Field = tooLongMessage("username", auth.MaxUsernameLength), "username"
		return h.renderSetup(c, http.StatusBadRequest, page)
	}
	// The username is checked first, so a name that looks like a credential
	// is never shown again, whatever else is wrong with the form.
	var invalid *auth.ValidationError
	if err := auth.ValidateNewUsername(page.Username, h.Secrets); errors.As(err, &invalid) {
		if invalid.Credential {
			page.Username = ""
		}
		page.Error, page.Field = "The username is invalid: "+invalid.Message+".", "username"
		return h.renderSetup(c, http.StatusBadRequest, page)
	}
	password := form.Get("password")
	if password != form.Get("password_confirmation") {
		page.Error, page.Field = "The two passwords differ; type the same password twice.", "password_confirmation"
		return h.renderSetup(c, http.StatusBadRequest, page)
	}
	if len([]rune(password)) < auth.MinPasswordLength {
		page.Error, page.Field = "The password must have at least 12 characters.", "password"
		return h.renderSetup(c, http.StatusBadRequest, page)
	}
	if !h.Auth.Setup.Consume(token, h.now()) {
		return h.setupAvailable(c, token)
	}

	user, err := h.Auth.Service.CreateUser(c.Request().Context(), auth.NewUser{
		Username: page.Username, Role: auth.RoleAdmin, Password: password, CreatedBy: "setup link", FirstUser: true,
	})
	if errors.Is(err, auth.ErrNotFirstUser) {
		// Another server's setup link created the first admin meanwhile.
		return h.setupAvailable(c, token)
	}
	if err != nil {
		return err
	}
	if err := h.beginSession(c, user, "setup"); err != nil {
		return err
	}
	return redirectAfterPost(c, "/console")
}

// now returns the current time from the handler's clock.
func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}
