package handlers

import "github.com/labstack/echo/v4"

// actorKey is the context key of the verified actor, which the
// authentication middleware sets.
const actorKey = "actor"

// actorName returns the identity recorded as the actor of what a request
// creates: the username of the user verified by the authentication
// middleware (session cookie or API token). It is the one place that
// decides who acted and never reads a request field. Only public routes run
// without a verified user, and there it returns "anonymous".
func actorName(c echo.Context) string {
	if name, ok := c.Get(actorKey).(string); ok && name != "" {
		return name
	}
	return "anonymous"
}
