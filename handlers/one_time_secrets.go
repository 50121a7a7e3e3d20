package handlers

import (
	"fmt"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
)

// holdForNextPage stores value, a secret that the page after a redirect
// shows once, in the database and adds only its random reference to the
// session flash under flashKey. The caller saves the session. A replayed
// copy of the cookie finds nothing, because the first page view deletes
// the stored value.
func (h *Handler) holdForNextPage(c echo.Context, session *sessions.Session, flashKey, value string) error {
	user, ok := currentUser(c)
	if !ok {
		return fmt.Errorf("hold a one-time secret: no signed-in user")
	}
	reference, err := h.Auth.Service.HoldSecret(c.Request().Context(), user.ID, value)
	if err != nil {
		return err
	}
	session.AddFlash(reference, flashKey)
	return nil
}

// takeHeldSecrets removes the flash under flashKey from the session cookie
// and returns, oldest first, the values that holdForNextPage stored for its
// references and that no earlier page has shown. A flash value that is not
// a reference is dropped unread. A database or cookie failure is logged,
// not returned, so the page still shows every value it took.
func (h *Handler) takeHeldSecrets(c echo.Context, flashKey string) []string {
	session := h.sessionCookie(c)
	flashes := session.Flashes(flashKey)
	if len(flashes) == 0 {
		return nil
	}
	user, ok := currentUser(c)
	if !ok {
		return nil
	}

	// Taking a secret deletes it, so every value taken is shown. When the
	// database fails part-way, the references not taken yet stay in the
	// cookie and a reload shows their secrets.
	var values []string
	for i, flash := range flashes {
		reference, _ := flash.(string)
		value, found, err := h.Auth.Service.TakeSecret(c.Request().Context(), user.ID, reference)
		if err != nil {
			h.Logger.Error("one-time secret not read; a reload of the page reads it again", "error", err,
				"user_id", user.ID, "flash", flashKey, "left", len(flashes)-i)
			for _, rest := range flashes[i:] {
				session.AddFlash(rest, flashKey)
			}
			break
		}
		if found {
			values = append(values, value)
		}
	}

	if err := session.Save(c.Request(), c.Response()); err != nil {
		// The values are deleted already, so this page still shows them.
		h.Logger.Error("one-time secrets shown, but their references were not removed from the session cookie",
			"error", err, "user_id", user.ID, "flash", flashKey)
	}
	return values
}
