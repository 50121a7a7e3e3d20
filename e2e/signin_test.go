package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// e2ePassword is the password of every user signIn creates.
const e2ePassword = "browser-test-password"

// signIn creates a user with role through the command line (once per app)
// and signs the browser in through the sign-in form, so every later page
// is seen as that user.
func signIn(t *testing.T, ctx context.Context, a *app, role string) {
	t.Helper()
	username := "e2e-" + strings.ReplaceAll(role, "_", "-")
	if _, exists := a.users.LoadOrStore(username, true); !exists {
		a.runCLI(t, e2ePassword+"\n", "user", "create", "--username", username, "--role", role)
	}

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/sign-in"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sign-in-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="username"]`), username),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="password"]`), e2ePassword),
		chromedp.Click(chromedp.CSS(`[data-testid="sign-in-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="current-user"]`)),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", username, err)
	}
	if shown := textOf(t, ctx, `[data-testid="current-user"]`); shown != username {
		t.Fatalf("signed-in user shown = %q, want %q", shown, username)
	}
}
