package handlers

import (
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/views"
)

func (h *Handler) registerUserRoutes(e *echo.Echo) {
	h.route(e, http.MethodGet, "/users", h.usersPage, auth.PermissionManageUsers)
	h.route(e, http.MethodPost, "/users", h.createUser, auth.PermissionManageUsers)
	h.route(e, http.MethodPost, "/users/:id/role", h.changeUserRole, auth.PermissionManageUsers)
	h.route(e, http.MethodPost, "/users/:id/disable", h.disableUser, auth.PermissionManageUsers)
	h.route(e, http.MethodPost, "/users/:id/enable", h.enableUser, auth.PermissionManageUsers)
	h.route(e, http.MethodPost, "/users/:id/tokens/:token_id/revoke", h.revokeUserToken, auth.PermissionManageUsers)
}

func roleNames() []string {
	names := make([]string, 0, len(auth.Roles()))
	for _, role := range auth.Roles() {
		names = append(names, string(role))
	}
	return names
}

// renderUsers shows the users page with every user and their tokens.
func (h *Handler) renderUsers(c echo.Context, status int, page views.UsersPage) error {
	ctx := c.Request().Context()
	users, err := h.Auth.Service.ListUsers(ctx)
	if err != nil {
		return err
	}
	page.Roles = roleNames()
	current, _ := currentUser(c)
	for _, user := range users {
		tokens, err := h.Auth.Service.ListTokens(ctx, user.ID)
		if err != nil {
			return err
		}
		row := views.UserRow{
			ID: user.ID, Username: user.Username, Role: string(user.Role), Disabled: user.Disabled,
			SingleSignOn: user.SingleSignOn, CreatedBy: user.CreatedBy, CreatedAt: views.FormatTime(user.CreatedAt, h.TimeZone),
			LastSignInAt: "never", Self: user.ID == current.ID,
		}
		if user.LastSignInAt != nil {
			row.LastSignInAt = views.FormatTime(*user.LastSignInAt, h.TimeZone)
		}
		row.Tokens = h.tokenRows(tokens)
		page.Users = append(page.Users, row)
	}
	return render(c, status, views.Users(pageContext(c), page))
}

func (h *Handler) tokenRows(tokens []auth.Token) []views.TokenRow {
	rows := make([]views.TokenRow, 0, len(tokens))
	for _, token := range tokens {
		row := views.TokenRow{
			ID: token.ID, Name: token.Name, Prefix: token.Prefix, CreatedAt: views.FormatTime(token.CreatedAt, h.TimeZone),
			LastUsedAt: "never", Revoked: token.RevokedAt != nil,
		}
		if token.LastUsedAt != nil {
			row.LastUsedAt = views.FormatTime(*token.LastUsedAt, h.TimeZone)
		}
		rows = append(rows, row)
	}
	return rows
}

// createdUserFlashKey names the session flash that carries, to the GET that
// shows it once, the references to users just created on the users page.
// Each user, with any generated password, is held by holdForNextPage on the
// server.
const createdUserFlashKey = "created_user"

// createdUserFlash is a user that createUser holds for the users page.
type createdUserFlash struct {
	Username          string
	GeneratedPassword string
}

func init() {
	// The session cookie encodes its values with encoding/gob, which needs
	// every concrete type stored in an interface value registered. Cookies
	// written before the flash held only references may still contain this
	// type and must still decode. takeHeldSecrets drops such values unread.
	gob.Register(createdUserFlash{})
}

// usersPage lists the users and, once, the users createUser just created.
func (h *Handler) usersPage(c echo.Context) error {
	created, err := h.takeCreatedUsers(c)
	if err != nil {
		return err
	}
	if len(created) > 0 {
		c.Response().Header().Set("Cache-Control", "no-store")
	}
	return h.renderUsers(c, http.StatusOK, views.UsersPage{Created: created})
}

// createUser creates a user with the posted password, or with a generated
// one that the page shows once. A browser session is redirected to GET
// /users, which shows the new user once, so a reload does not post the form
// again. The generated password is held on the server for that one page
// view, never in the cookie or a URL. A request authenticated with an API token has no session, so it gets
// the page with the password at once. Neither response may be cached.
func (h *Handler) createUser(c echo.Context) error {
	form, err := readForm(c, []string{"username", "role", "password"})
	if err != nil {
		return err
	}
	username := strings.TrimSpace(form.Get("username"))
	role := auth.Role(strings.TrimSpace(form.Get("role")))
	password := form.Get("password")
	generated := ""
	if password == "" {
		var err error
		if password, err = auth.GeneratePassword(); err != nil {
			return err
		}
		generated = password
	}

	if tooLong(strings.TrimSpace(username), auth.MaxUsernameLength) {
		page := views.UsersPage{FormUsername: shownAgain(h.Secrets, strings.TrimSpace(username), auth.MaxUsernameLength), FormRole: string(role),
			Errors: []views.FieldError{{Field: "username", Message: tooLongMessage("username", auth.MaxUsernameLength)}}}
		return h.renderUsers(c, http.StatusBadRequest, page)
	}
	input := auth.NewUser{Username: username, Role: role, Password: password, CreatedBy: actorName(c)}
	// Every invalid field is reported at once, so the admin fixes them in
	// one go.
	if problems := h.Auth.Service.ValidateNewUser(input); len(problems) > 0 {
		return h.renderUsers(c, http.StatusBadRequest, rejectedUserPage(problems, username, role))
	}
	user, err := h.Auth.Service.CreateUser(c.Request().Context(), input)
	var invalid *auth.ValidationError
	switch {
	case errors.As(err, &invalid):
		return h.renderUsers(c, http.StatusBadRequest, rejectedUserPage([]*auth.ValidationError{invalid}, username, role))
	case errors.Is(err, auth.ErrUserExists):
		message := "A user named " + auth.NormalizeUsername(username) + " already exists. Choose another username."
		return h.renderUsers(c, http.StatusConflict, views.UsersPage{Errors: []views.FieldError{{Field: "username", Message: message}},
			FormUsername: username, FormRole: string(role)})
	case err != nil:
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")

	created := createdUserFlash{Username: user.Username, GeneratedPassword: generated}
	session := h.sessionCookie(c)
	if signedIn, _ := session.Values[sessionSecretKey].(string); signedIn == "" {
		return h.renderUsers(c, http.StatusCreated, views.UsersPage{Created: []views.CreatedUser{created.view()}})
	}
	encoded, err := json.Marshal(created)
	if err != nil {
		return fmt.Errorf("encode the created user %s: %w", user.Username, err)
	}
	err = h.holdForNextPage(c, session, createdUserFlashKey, string(encoded))
	if err == nil {
		err = session.Save(c.Request(), c.Response())
	}
	if err != nil {
		// The user exists now, so show the password in this response rather
		// than lose it. Save fails when the cookie would pass its size limit
		// because many created users are waiting in the flash.
		h.Logger.Warn("created user could not be held for the users page, so the form response shows it", "username", user.Username, "error", err)
		return h.renderUsers(c, http.StatusCreated, views.UsersPage{Created: []views.CreatedUser{created.view()}})
	}
	return redirectAfterPost(c, "/users")
}

// rejectedUserPage returns the users page for a create form with invalid
// fields. It refills the username and role, except a username that looks
// like a credential, and never the password.
func rejectedUserPage(problems []*auth.ValidationError, username string, role auth.Role) views.UsersPage {
	page := views.UsersPage{FormUsername: username, FormRole: string(role)}
	for _, problem := range problems {
		page.Errors = append(page.Errors, views.FieldError{Field: problem.Field,
			Message: "The " + problem.Field + " is invalid: " + problem.Message + "."})
		if problem.Credential {
			page.FormUsername = ""
		}
	}
	return page
}

// takeCreatedUsers returns the users createUser held for this page view,
// oldest first, and deletes them. There are several when the form was posted
// more than once before the page was loaded.
func (h *Handler) takeCreatedUsers(c echo.Context) ([]views.CreatedUser, error) {
	values := h.takeHeldSecrets(c, createdUserFlashKey)
	created := make([]views.CreatedUser, 0, len(values))
	for _, value := range values {
		var flash createdUserFlash
		if err := json.Unmarshal([]byte(value), &flash); err != nil {
			return nil, fmt.Errorf("decode a created user held for the users page: %w", err)
		}
		created = append(created, flash.view())
	}
	return created, nil
}

func (flash createdUserFlash) view() views.CreatedUser {
	return views.CreatedUser{Username: flash.Username, GeneratedPassword: flash.GeneratedPassword}
}

// changeUserRole sets another user's role. Admins cannot change their own
// role, so the last admin cannot lock everyone out by mistake.
func (h *Handler) changeUserRole(c echo.Context) error {
	if user, ok := currentUser(c); ok && user.ID == c.Param("id") {
		return unprocessable("id", "you cannot change your own role; ask another admin")
	}
	form, err := readForm(c, []string{"role"})
	if err != nil {
		return err
	}
	role := auth.Role(strings.TrimSpace(form.Get("role")))
	err = h.Auth.Service.SetRole(c.Request().Context(), c.Param("id"), role, actorName(c))
	var invalid *auth.ValidationError
	if errors.As(err, &invalid) {
		return fieldError("role", "%s", invalid.Message)
	}
	if err := userError(err); err != nil {
		return err
	}
	return redirectAfterPost(c, "/users")
}

func (h *Handler) disableUser(c echo.Context) error {
	return h.setUserDisabled(c, true)
}

func (h *Handler) enableUser(c echo.Context) error {
	return h.setUserDisabled(c, false)
}

func (h *Handler) setUserDisabled(c echo.Context, disabled bool) error {
	if user, ok := currentUser(c); ok && disabled && user.ID == c.Param("id") {
		return unprocessable("id", "you cannot disable yourself; ask another admin")
	}
	if _, err := readForm(c, nil); err != nil {
		return err
	}
	if err := userError(h.Auth.Service.SetDisabled(c.Request().Context(), c.Param("id"), disabled, actorName(c))); err != nil {
		return err
	}
	return redirectAfterPost(c, "/users")
}

func (h *Handler) revokeUserToken(c echo.Context) error {
	if _, err := readForm(c, nil); err != nil {
		return err
	}
	if err := userError(h.Auth.Service.RevokeToken(c.Request().Context(), c.Param("id"), c.Param("token_id"), actorName(c))); err != nil {
		return err
	}
	return redirectAfterPost(c, "/users")
}

// userError maps the auth service's not-found errors to 404.
func userError(err error) error {
	switch {
	case errors.Is(err, auth.ErrUserNotFound):
		return notFound("no user with this id")
	case errors.Is(err, auth.ErrTokenNotFound):
		return notFound("this user has no API token with this id")
	}
	return err
}
