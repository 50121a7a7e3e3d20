package handlers

import (
	"errors"
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

func (h *Handler) usersPage(c echo.Context) error {
	return h.renderUsers(c, http.StatusOK, views.UsersPage{})
}

// createUser creates a user with the posted password, or with a generated
// one that the page shows once.
func (h *Handler) createUser(c echo.Context) error {
	username := strings.TrimSpace(c.FormValue("username"))
	role := auth.Role(strings.TrimSpace(c.FormValue("role")))
	password := c.FormValue("password")
	generated := ""
	if password == "" {
		var err error
		if password, err = auth.GeneratePassword(); err != nil {
			return err
		}
		generated = password
	}

	user, err := h.Auth.Service.CreateUser(c.Request().Context(), auth.NewUser{
		Username: username, Role: role, Password: password, CreatedBy: actorName(c),
	})
	var invalid *auth.ValidationError
	switch {
	case errors.As(err, &invalid):
		return h.renderUsers(c, http.StatusBadRequest, views.UsersPage{Error: "The " + invalid.Field + " is invalid: " + invalid.Message + ".", Field: invalid.Field})
	case errors.Is(err, auth.ErrUserExists):
		return h.renderUsers(c, http.StatusConflict, views.UsersPage{Error: "A user named " + auth.NormalizeUsername(username) + " already exists.", Field: "username"})
	case err != nil:
		return err
	}
	return h.renderUsers(c, http.StatusCreated, views.UsersPage{Created: user.Username, GeneratedPassword: generated})
}

// changeUserRole sets another user's role. Admins cannot change their own
// role, so the last admin cannot lock everyone out by mistake.
func (h *Handler) changeUserRole(c echo.Context) error {
	if user, ok := currentUser(c); ok && user.ID == c.Param("id") {
		return unprocessable("id", "you cannot change your own role; ask another admin")
	}
	role := auth.Role(strings.TrimSpace(c.FormValue("role")))
	err := h.Auth.Service.SetRole(c.Request().Context(), c.Param("id"), role, actorName(c))
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
	if err := userError(h.Auth.Service.SetDisabled(c.Request().Context(), c.Param("id"), disabled, actorName(c))); err != nil {
		return err
	}
	return redirectAfterPost(c, "/users")
}

func (h *Handler) revokeUserToken(c echo.Context) error {
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
