package e2e

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSignInConsoleSignOut signs in through the form, opens the console as
// the signed-in user, signs out and checks that the console needs sign-in
// again.
func TestSignInConsoleSignOut(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	ctx := newBrowser(t)

	// Anonymous visitors are sent to the sign-in page and back afterwards.
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sign-in-form"]`)),
	)
	if err != nil {
		t.Fatalf("open the console signed out: %v", err)
	}
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("read location: %v", err)
	}
	if !strings.Contains(location, "/sign-in?next="+url.QueryEscape("/console")) {
		t.Errorf("signed-out console went to %q, want /sign-in?next=%%2Fconsole", location)
	}

	signIn(t, ctx, a, "viewer")
	err = chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-health-panel"]`)),
	)
	if err != nil {
		t.Fatalf("open the console signed in: %v", err)
	}
	if got := attributeOf(t, ctx, `[data-testid="current-user"]`, "href"); got != "/profile" {
		t.Errorf("current user link = %q, want /profile", got)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="sign-out"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sign-in-form"]`)),
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sign-in-form"]`)),
	)
	if err != nil {
		t.Fatalf("sign out and reopen the console: %v", err)
	}
}

// setupLinkPattern finds the one-time setup link in the server log.
var setupLinkPattern = regexp.MustCompile(`setup_link=(\S+)`)

// TestFirstAdminFromSetupLink opens the setup link the server logs when no
// user exists, creates the first admin and lands on the console signed in.
func TestFirstAdminFromSetupLink(t *testing.T) {
	a := startApp(t, appOptions{})
	ctx := newBrowser(t)

	var link string
	deadline := time.Now().Add(10 * time.Second)
	for link == "" && time.Now().Before(deadline) {
		if match := setupLinkPattern.FindStringSubmatch(a.logs.String()); match != nil {
			link = strings.Trim(match[1], `"`)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if link == "" {
		t.Fatal("server log has no setup link although no user exists")
	}

	err := chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="setup-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="setup-username"]`), "first-admin"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="setup-password"]`), "first-admin-password"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="setup-password-confirmation"]`), "first-admin-password"),
		chromedp.Click(chromedp.CSS(`[data-testid="setup-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="current-user"]`)),
	)
	if err != nil {
		t.Fatalf("create the first admin: %v", err)
	}
	if got := textOf(t, ctx, `[data-testid="current-user"]`); got != "first-admin" {
		t.Errorf("signed-in user = %q, want first-admin", got)
	}

	// The link works once.
	err = chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-page"]`)),
	)
	if err != nil {
		t.Fatalf("open the used setup link: %v", err)
	}
}
