package handlers

import "github.com/labstack/echo/v4"

// actorKey is where the authentication middleware stores the verified actor.
const actorKey = "actor"

// actorName returns the identity recorded as the actor of what a request
// creates. It is the one place that decides who acted.
// NOTE: until sign-in is wired, requests carry no verified identity and the
// actor is recorded as "anonymous".
func actorName(c echo.Context) string {
	if name, ok := c.Get(actorKey).(string); ok && name != "" {
		return name
	}
	return "anonymous"
}
