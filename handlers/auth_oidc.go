package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/views"
)

// OIDCProvider is the single sign-on provider; *auth.OIDC implements it.
type OIDCProvider interface {
	AuthCodeURL(state, nonce, verifier string) string
	Exchange(ctx context.Context, code, verifier, nonce string) (auth.OIDCIdentity, error)
}

// Session value keys of a single sign-on attempt in progress.
const (
	oidcStateKey    = "oidc_state"
	oidcNonceKey    = "oidc_nonce"
	oidcVerifierKey = "oidc_verifier"
	oidcNextKey     = "oidc_next"
	oidcStartedKey  = "oidc_started"
	// oidcAttemptLifetime bounds how long the provider's sign-in may take.
	oidcAttemptLifetime = 10 * time.Minute
)

// oidcStart remembers a new state, nonce and PKCE verifier in the session
// cookie and sends the browser to the provider.
func (h *Handler) oidcStart(c echo.Context) error {
	if h.Auth.OIDC == nil {
		return notFound("single sign-on is not configured on this server")
	}
	state, nonce, verifier, err := auth.NewOIDCChallenge()
	if err != nil {
		return err
	}
	session := h.sessionCookie(c)
	session.Values[oidcStateKey] = state
	session.Values[oidcNonceKey] = nonce
	session.Values[oidcVerifierKey] = verifier
	session.Values[oidcNextKey] = h.safeNext(c.QueryParam("next"))
	session.Values[oidcStartedKey] = h.now().Unix()
	if err := session.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return c.Redirect(http.StatusFound, h.Auth.OIDC.AuthCodeURL(state, nonce, verifier))
}

// oidcCallback checks the state, exchanges the code, verifies the ID token
// and signs the user in with a new session.
func (h *Handler) oidcCallback(c echo.Context) error {
	if h.Auth.OIDC == nil {
		return notFound("single sign-on is not configured on this server")
	}
	session := h.sessionCookie(c)
	state, _ := session.Values[oidcStateKey].(string)
	nonce, _ := session.Values[oidcNonceKey].(string)
	verifier, _ := session.Values[oidcVerifierKey].(string)
	next, _ := session.Values[oidcNextKey].(string)
	started, _ := session.Values[oidcStartedKey].(int64)
	for _, key := range []string{oidcStateKey, oidcNonceKey, oidcVerifierKey, oidcNextKey, oidcStartedKey} {
		delete(session.Values, key)
	}
	if err := session.Save(c.Request(), c.Response()); err != nil {
		return err
	}

	reject := func(status int, message string) error {
		return render(c, status, views.SignInRejected(pageContext(c), message))
	}
	if providerError := c.QueryParam("error"); providerError != "" {
		h.Logger.Warn("single sign-on failed at the provider", "error_code", providerError)
		return reject(http.StatusUnauthorized, "The identity provider did not sign you in ("+providerError+"). Try again.")
	}
	if state == "" || !auth.EqualTokens(c.QueryParam("state"), state) ||
		h.now().Sub(time.Unix(started, 0)) > oidcAttemptLifetime {
		h.Logger.Warn("single sign-on callback with a missing, wrong or expired state", "client_ip", clientIP(c))
		return reject(http.StatusBadRequest, "This sign-in attempt is unknown or expired. Start again from the sign-in page.")
	}

	identity, err := h.Auth.OIDC.Exchange(c.Request().Context(), c.QueryParam("code"), verifier, nonce)
	if err != nil {
		h.Logger.Warn("single sign-on rejected", "error", err)
		return reject(http.StatusUnauthorized, "The identity provider's answer could not be verified, so you are not signed in.")
	}
	user, err := h.Auth.Service.SignInOIDC(c.Request().Context(), identity)
	var rejected *auth.ErrOIDCRejected
	if errors.As(err, &rejected) {
		return reject(http.StatusForbidden, rejected.Reason)
	}
	if err != nil {
		return err
	}
	if h.usernameHasSecret(user) {
		return errSecretUsername
	}
	if err := h.beginSession(c, user, "oidc"); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, h.safeNext(next))
}
