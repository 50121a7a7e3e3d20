package e2e

import (
	"context"
	"testing"
)

// signIn makes the browser act as a user with role.
// NOTE: sign-in is not wired yet, so every request is anonymous and this
// does nothing; it becomes a real sign-in through the CLI-created user and
// the sign-in form once authentication exists.
func signIn(t *testing.T, ctx context.Context, a *app, role string) {
	t.Helper()
}
