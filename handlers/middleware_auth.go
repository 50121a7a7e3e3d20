package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/views"
)

// AuthConfig carries what sign-in, sessions and API tokens need.
type AuthConfig struct {
	Service AuthService
	// SessionKeys sign and encrypt the session cookie, in pairs of a 32-byte
	// hash key and a 32-byte encryption key. The first pair protects new
	// cookies, and later pairs still open older ones. When it is empty,
	// NewServer generates a random pair, so sessions end with the process.
	SessionKeys [][]byte
	// SecureCookies sets the Secure flag on every session cookie. It is also
	// set for TLS requests and when PublicURL is https.
	SecureCookies bool
	// Setup is the one-time "create the first admin" token, or nil.
	Setup *auth.SetupToken
	// OIDC is the single sign-on provider, or nil when it is off.
	OIDC OIDCProvider

	store *sessions.CookieStore
	// echo lists the registered routes, to distinguish a route registered
	// without a permission (denied) from an unknown address (404).
	echo *echo.Echo
}

// Cookie names and session value keys.
const (
	sessionCookieName = "evidence_console_session"
	sessionSecretKey  = "sid"
	// preSessionCSRFKey holds the CSRF token of the forms shown before
	// sign-in (sign-in and first-admin setup).
	preSessionCSRFKey = "pre_csrf"
	csrfFormField     = "_csrf"
	csrfHeader        = "X-CSRF-Token"
	userContextKey    = "auth_user"
)

// setupAuth prepares the session store and installs the middleware that
// authenticates every request and enforces routePermissions. Call it after
// every route is registered.
func (h *Handler) setupAuth(e *echo.Echo) {
	keys := h.Auth.SessionKeys
	if len(keys) == 0 {
		keys = [][]byte{randomKey(), randomKey()}
		h.Logger.Warn("no session keys configured; using random keys, so sessions end when the server stops")
	}
	h.Auth.store = sessions.NewCookieStore(keys...)
	h.Auth.store.MaxAge(int(auth.DefaultSessionLifetime.Seconds()))

	h.Auth.echo = e
	e.Use(h.authenticate)
}

func randomKey() []byte {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(fmt.Sprintf("read random session key: %v", err))
	}
	return key
}

// authenticate identifies the caller by bearer token or session cookie,
// checks the CSRF token of state-changing cookie requests, and lets the
// request through only when the caller's role grants the route's
// permission. A route without a recorded permission is denied.
func (h *Handler) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := c.Request().Method + " " + c.Path()
		permission, known := routePermissions[key]
		if !known {
			if h.isRegistered(c.Request().Method, c.Path()) {
				h.Logger.Error("route has no recorded permission; register it with Handler.route", "route", key)
				return &APIError{Status: http.StatusForbidden, Code: CodeForbidden, Message: "this route has no permission configured, so it is denied"}
			}
			// Echo responds to an unknown address with 404 or 405. A
			// browser's session is read first, so the error page keeps the
			// signed-in header. A token is not, so a scanner's guesses
			// neither mark it used nor log it.
			if h.Auth.Service != nil && c.Request().Header.Get(echo.HeaderAuthorization) == "" {
				_, _ = h.identify(c, auth.PermissionPublic)
			}
			return next(c)
		}
		if h.Auth.Service == nil {
			if permission == auth.PermissionPublic {
				return next(c)
			}
			return &APIError{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "sign-in is not configured on this server"}
		}

		user, err := h.identify(c, permission)
		if permission == auth.PermissionPublic {
			// A public route needs no caller, so a probe or a script that
			// sends a stale token to every address still gets a response.
			return next(c)
		}
		if err != nil {
			return err
		}
		if user == nil {
			return h.unauthenticated(c)
		}
		// Signing out stays open to such a user, so a session that began
		// before its secret was configured can still be ended.
		if permission != auth.PermissionSignedIn && h.usernameHasSecret(*user) {
			return errSecretUsername
		}
		if !user.Role.Can(permission) {
			// The permission id helps API clients and administrators, but
			// the browser shows the plain words only.
			return &APIError{Status: http.StatusForbidden, Code: CodeForbidden,
				Message: fmt.Sprintf("the role %s may not %s (permission %s); %s can, so ask an administrator for such a role",
					user.Role, permissionActions[permission], permission, rolesGranting(permission)),
				FormMessage: fmt.Sprintf("Your role (%s) may not %s; %s can, so ask an administrator for such a role.",
					user.Role, permissionActions[permission], rolesGranting(permission))}
		}
		return next(c)
	}
}

// isRegistered reports whether Echo has a route for method and path. It
// runs only for requests whose route has no recorded permission, so the
// scan over every route stays off the common path.
func (h *Handler) isRegistered(method, path string) bool {
	for _, r := range h.Auth.echo.Routes() {
		if r.Method == method && r.Path == path {
			return true
		}
	}
	return false
}

// identify sets the verified user on the request, or leaves it anonymous.
// A bearer token wins over a cookie and needs no CSRF token, because
// browsers never send it on their own. A session request that changes state
// must carry the session's CSRF token, except on public routes, whose forms
// (sign-in, setup) carry the pre-session token their handlers check.
func (h *Handler) identify(c echo.Context, permission auth.Permission) (*auth.User, error) {
	ctx := c.Request().Context()
	if header := c.Request().Header.Get(echo.HeaderAuthorization); header != "" {
		scheme, token, found := strings.Cut(header, " ")
		if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return nil, &APIError{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: "Authorization header must be \"Bearer <token>\""}
		}
		user, err := h.Auth.Service.TokenUser(ctx, strings.TrimSpace(token))
		if errors.Is(err, auth.ErrInvalidToken) {
			h.Logger.Warn("API token rejected", "path", c.Request().URL.Path, "client_ip", clientIP(c))
			return nil, &APIError{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: err.Error()}
		}
		if err != nil {
			return nil, err
		}
		h.setUser(c, user, "")
		return &user, nil
	}

	session, _ := h.Auth.store.Get(c.Request(), sessionCookieName)
	secret, _ := session.Values[sessionSecretKey].(string)
	if secret == "" {
		return nil, nil
	}
	user, err := h.Auth.Service.SessionUser(ctx, secret)
	if errors.Is(err, auth.ErrNoSession) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}

	csrf := auth.CSRFToken(secret)
	if !isSafeMethod(c.Request().Method) && permission != auth.PermissionPublic {
		sent := c.Request().Header.Get(csrfHeader)
		if sent == "" {
			sent = c.FormValue(csrfFormField)
		}
		if !auth.EqualTokens(sent, csrf) {
			h.Logger.Warn("CSRF token missing or wrong", "path", loggedPath(h.Secrets, c.Request().URL.Path), "user_id", user.ID)
			return nil, &APIError{Status: http.StatusForbidden, Code: CodeForbidden,
				Message: "the form's security token is missing or expired; reload the page and try again. " +
					"A script signed in with the session cookie sends the token in the " + csrfHeader +
					" header, or uses an API token instead"}
		}
	}
	h.setUser(c, user, csrf)
	return &user, nil
}

// errSecretUsername rejects a user whose name contains a configured secret.
var errSecretUsername = &APIError{Status: http.StatusForbidden, Code: CodeForbidden,
	Message: "this user's name contains a configured destination secret, so nothing it does can be recorded safely; " +
		"an administrator must disable it and create a user with another name"}

// usernameHasSecret reports whether user's name contains a configured
// secret, in any letter case. Such a name can reach the database only
// through a command run without the connector configuration, or before the
// secret was configured. Its actions would store and log the secret as
// their actor, so the user is refused, and the log names its id only.
func (h *Handler) usernameHasSecret(user auth.User) bool {
	if !h.Secrets.HasConfiguredSecretIgnoringCase(user.Username) {
		return false
	}
	h.Logger.Warn("user rejected: its name contains a configured secret; disable it and create a user with another name", "user_id", user.ID)
	return true
}

// setUser records the verified user as the request's actor and fills the
// page context; csrf is empty for bearer-token requests.
func (h *Handler) setUser(c echo.Context, user auth.User, csrf string) {
	c.Set(userContextKey, user)
	c.Set(actorKey, user.Username)
	c.Set(pageContextKey, views.PageContext{
		UserName: user.Username, UserRole: string(user.Role), CSRFToken: csrf, SignedIn: true,
	})
	if csrf != "" {
		c.SetRequest(c.Request().WithContext(views.WithCSRFToken(c.Request().Context(), csrf)))
	}
}

// currentUser returns the verified user of the request, if any.
func currentUser(c echo.Context) (auth.User, bool) {
	user, ok := c.Get(userContextKey).(auth.User)
	return user, ok
}

// unauthenticated responds to an anonymous request for a protected route: JSON
// clients get 401, htmx gets 401 with a redirect header, browsers are sent
// to the sign-in page and come back afterwards.
func (h *Handler) unauthenticated(c echo.Context) error {
	if wantsJSON(c) {
		return &APIError{Status: http.StatusUnauthorized, Code: CodeUnauthenticated,
			Message: "sign in, or send \"Authorization: Bearer <token>\" with a personal API token"}
	}
	next := "/console"
	if c.Request().Method == http.MethodGet {
		next = c.Request().URL.RequestURI()
	} else if referer, err := url.Parse(c.Request().Referer()); err == nil && referer.Host == c.Request().Host && referer.Path != "" {
		// A form sent without a session leads back to the page that holds
		// it, as the browser names it, when that page is on this server.
		next = referer.RequestURI()
	}
	if isHTMX(c) {
		// An htmx request loads a part of a page, so sign-in leads back to
		// the page it came from, when htmx names it, instead of the part.
		if current, err := url.Parse(c.Request().Header.Get("HX-Current-URL")); err == nil && current.Path != "" {
			next = current.RequestURI()
		}
	}
	location := "/sign-in?next=" + url.QueryEscape(h.safeNext(next))
	if !isSafeMethod(c.Request().Method) && c.Path() != "/sign-out" {
		// The sign-in page then shows that the action was not saved,
		// because the user would otherwise take it for done. Signing out
		// without a session has nothing to save.
		location += "&unsaved=true"
	}
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", location)
		return c.NoContent(http.StatusUnauthorized)
	}
	return c.Redirect(http.StatusSeeOther, location)
}

func isSafeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// clientIP returns the address of the direct peer. Forwarding headers are
// ignored because a client can set them to anything.
func clientIP(c echo.Context) string {
	host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
	if err != nil {
		return c.Request().RemoteAddr
	}
	return host
}

// isLoopback reports whether the direct peer is on this machine.
func isLoopback(c echo.Context) bool {
	ip := net.ParseIP(clientIP(c))
	return ip != nil && ip.IsLoopback()
}

// secureCookies reports whether the session cookie needs the Secure flag.
func (h *Handler) secureCookies(c echo.Context) bool {
	return h.Auth.SecureCookies || c.Request().TLS != nil || strings.HasPrefix(h.PublicURL, "https://")
}

// sessionCookie returns the request's session and applies the cookie
// flags: HttpOnly, SameSite=Lax, Secure when needed, and the lifetime.
func (h *Handler) sessionCookie(c echo.Context) *sessions.Session {
	session, err := h.Auth.store.Get(c.Request(), sessionCookieName)
	if err != nil {
		// A cookie from other keys cannot be read; start over with a new one.
		session, _ = h.Auth.store.New(c.Request(), sessionCookieName)
	}
	session.Options = &sessions.Options{
		Path: "/", MaxAge: int(auth.DefaultSessionLifetime.Seconds()), HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: h.secureCookies(c),
	}
	return session
}

// preSessionCSRF returns the CSRF token for forms shown before sign-in,
// creating it (and the cookie carrying it) when missing.
func (h *Handler) preSessionCSRF(c echo.Context) (string, error) {
	session := h.sessionCookie(c)
	if token, ok := session.Values[preSessionCSRFKey].(string); ok && token != "" {
		return token, nil
	}
	token := hex.EncodeToString(randomKey())
	session.Values[preSessionCSRFKey] = token
	if err := session.Save(c.Request(), c.Response()); err != nil {
		return "", fmt.Errorf("save session cookie: %w", err)
	}
	return token, nil
}

// checkPreSessionCSRF compares the posted _csrf field with the pre-session
// token.
func (h *Handler) checkPreSessionCSRF(c echo.Context) error {
	session := h.sessionCookie(c)
	want, _ := session.Values[preSessionCSRFKey].(string)
	if !auth.EqualTokens(c.FormValue(csrfFormField), want) {
		return &APIError{Status: http.StatusForbidden, Code: CodeForbidden,
			Message: "the form's security token is missing or expired; reload the page and try again"}
	}
	return nil
}

// beginSession starts a new server-side session for user and replaces the
// cookie's contents, ending any session the browser had before.
func (h *Handler) beginSession(c echo.Context, user auth.User, method string) error {
	ctx := c.Request().Context()
	session := h.sessionCookie(c)
	if old, ok := session.Values[sessionSecretKey].(string); ok && old != "" {
		if err := h.Auth.Service.EndSession(ctx, old); err != nil {
			return err
		}
	}
	secret, err := h.Auth.Service.StartSession(ctx, user.ID, method)
	if err != nil {
		return err
	}
	session.Values = map[any]any{sessionSecretKey: secret}
	if err := session.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("save session cookie: %w", err)
	}
	return nil
}

// endSession deletes the server-side session and expires the cookie.
func (h *Handler) endSession(c echo.Context) error {
	session := h.sessionCookie(c)
	if secret, ok := session.Values[sessionSecretKey].(string); ok && secret != "" {
		if err := h.Auth.Service.EndSession(c.Request().Context(), secret); err != nil {
			return err
		}
	}
	session.Values = map[any]any{}
	session.Options.MaxAge = -1
	if err := session.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("clear session cookie: %w", err)
	}
	return nil
}

// safeNext returns next when it is a path on this site, else /console, so
// the sign-in page cannot redirect to another site. A path longer than
// maxNextLength gives /console too. A path that contains a
// configured secret gives /console too, because a redirect target is sent
// back in a Location header and kept in the browser's history.
func (h *Handler) safeNext(next string) string {
	if next == "" || len(next) > maxNextLength || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/console"
	}
	parsed, err := url.Parse(next)
	if err != nil || parsed.Host != "" || parsed.Scheme != "" || h.Secrets.HasConfiguredSecretIgnoringCase(next) {
		return "/console"
	}
	return next
}
