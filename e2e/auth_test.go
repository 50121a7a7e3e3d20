package e2e

import (
	"encoding/json"
	"net/http"
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

	// The viewer may not send alerts, so the browser shows that form
	// disabled, with the reason.
	disabled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid="send-alert"]').matches(":disabled")`))
	if err != nil {
		t.Fatalf("read the send alert button's state: %v", err)
	}
	if !disabled {
		t.Error("viewer's send alert button: enabled, want disabled")
	}
	if got := textOf(t, ctx, `[data-testid="send-alert-blocked"]`); !strings.Contains(got, "may not send alerts") {
		t.Errorf("viewer's send alert note = %q, want it to say the role may not send alerts", got)
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

// TestPlatformOwnerAcknowledgesAsThemselves sends an alert through the API
// with a release manager's token, then acknowledges it in the browser as a
// platform owner: the action is recorded with the signed-in username, and
// after sign-out the page needs sign-in again.
func TestPlatformOwnerAcknowledgesAsThemselves(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	a.runCLI(t, e2ePassword+"\n", "user", "create", "--username", "sender", "--role", "release_manager")
	output := strings.TrimRight(a.runCLI(t, "", "token", "create", "--username", "sender"), "\n")
	token := output[strings.LastIndex(output, "\n")+1:]

	request, err := http.NewRequest(http.MethodPost,
		a.BaseURL+"/runtime/go-pilot/rollback-drill-notifications/acknowledgements/audit-delivery/recovery-escalations/retry-health-alerts/deliver",
		strings.NewReader(`{"retries": 0}`))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	request.Header.Set("Content-Type", "application/json")
	request.Header.Set("Authorization", "Bearer "+token)
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("send the alert: %v", err)
	}
	var sent struct {
		Health struct {
			HealthID string `json:"health_id"`
		} `json:"health"`
	}
	decodeErr := json.NewDecoder(response.Body).Decode(&sent)
	response.Body.Close()
	if response.StatusCode != http.StatusCreated || decodeErr != nil || sent.Health.HealthID == "" {
		t.Fatalf("send the alert with an API token: status %d, decode error %v, health id %q; want 201 with an id",
			response.StatusCode, decodeErr, sent.Health.HealthID)
	}
	ackPage := a.BaseURL + "/alerts/" + sent.Health.HealthID + "/acknowledge/slack"

	ctx := newBrowser(t)
	signIn(t, ctx, a, "platform_owner")
	err = chromedp.Do(ctx,
		chromedp.Navigate(ackPage),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="acknowledgement-panel"]`)),
		chromedp.SendKeys(chromedp.CSS(`#acknowledgement-panel [data-testid="ack-notes"]`), "checked by the platform owner"),
		chromedp.Click(chromedp.CSS(`#acknowledgement-panel [data-testid="ack-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="ack-current-state"][data-outstanding="false"]`)),
	)
	if err != nil {
		t.Fatalf("acknowledge as a platform owner: %v", err)
	}
	if got := textOf(t, ctx, `[data-testid="ack-action"] td:nth-child(3)`); got != "e2e-platform-owner" {
		t.Errorf("acknowledged by %q, want e2e-platform-owner (the signed-in user)", got)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="sign-out"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sign-in-form"]`)),
		chromedp.Navigate(ackPage),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sign-in-form"]`)),
	)
	if err != nil {
		t.Fatalf("sign out and reopen the acknowledgement page: %v", err)
	}
}

func TestRejectedTokenNameKeepsProfileAddress(t *testing.T) {
	a := startApp(t, appOptions{})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "viewer")

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/profile"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="token-name"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="token-name"]`), "Bearer abcdefghijklmnopqrstuvwxyz0123"),
		chromedp.Click(chromedp.CSS(`[data-testid="create-token"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="profile-error"]`)),
	)
	if err != nil {
		t.Fatalf("create a token with a credential as its name: %v", err)
	}
	// The page script replaces the address when it runs, which can be just
	// after the error shows, so the test waits a moment for it.
	_, _ = chromedp.Run(ctx, chromedp.Poll[bool](`window.location.pathname === "/profile"`, chromedp.WithPollingTimeout(5*time.Second)))
	path, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.location.pathname`))
	if err != nil {
		t.Fatalf("read the address: %v", err)
	}
	if path != "/profile" {
		t.Errorf("address after the rejected post = %q, want /profile, so a reload posts nothing", path)
	}

	// A reload loads the page without the error and creates no token.
	err = chromedp.Do(ctx,
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="token-name"]`)),
	)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	errorCount, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="profile-error"]').length`))
	if err != nil {
		t.Fatalf("count errors: %v", err)
	}
	if errorCount != 0 {
		t.Errorf("errors after the reload = %d, want 0 (the page loaded, nothing was posted)", errorCount)
	}
}
