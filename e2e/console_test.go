package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleBuildShowsLevel opens the console, clicks Build and reads the
// alert level of the new snapshot.
func TestConsoleBuildShowsLevel(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="build-health"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="build-health"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="health-id"]`)),
	)
	if err != nil {
		t.Fatalf("build from the console: %v", err)
	}

	if got := attributeOf(t, ctx, `[data-testid="alert-level"]`, "data-level"); got != "critical" {
		t.Errorf("alert level after Build = %q, want %q (the sample's newest worker run is late)", got, "critical")
	}
	if got := textOf(t, ctx, `[data-testid="health-id"]`); !strings.HasPrefix(got, "hlth_") {
		t.Errorf("health id after Build = %q, want an id starting with hlth_", got)
	}

	// The dashboard reloads itself and counts the new evaluation.
	err = chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="dashboard-count-health_evaluations"] [data-testid="value"]`)))
	if err != nil {
		t.Fatalf("dashboard after Build: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for textOf(t, ctx, `[data-testid="dashboard-count-health_evaluations"] [data-testid="value"]`) == "0" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := textOf(t, ctx, `[data-testid="dashboard-count-health_evaluations"] [data-testid="value"]`); got != "1" {
		t.Errorf("dashboard evaluations after Build = %q, want 1 without a reload", got)
	}
}

// TestConsoleKeyboardBuild builds health with the keyboard only. The skip
// link comes first, the current page is marked in the navigation, and the
// focus lands on the new result instead of falling back to the page.
func TestConsoleKeyboardBuild(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="build-health"]`)),
		chromedp.KeyEvent("\t"),
	)
	if err != nil {
		t.Fatalf("tab into the console: %v", err)
	}
	firstFocused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute("data-testid") || ""`))
	if err != nil {
		t.Fatalf("read the focused element: %v", err)
	}
	if firstFocused != "skip-to-main" {
		t.Errorf("first focused element = %q, want the skip link", firstFocused)
	}
	if got := attributeOf(t, ctx, `[data-testid="nav-Console"]`, "aria-current"); got != "page" {
		t.Errorf("Console link aria-current = %q, want page", got)
	}
	if got := attributeOf(t, ctx, `[data-testid="nav-History"]`, "aria-current"); got != "" {
		t.Errorf("History link aria-current = %q, want none on the console", got)
	}

	err = chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS(`[data-testid="build-health"]`)),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="health-id"]`)),
	)
	if err != nil {
		t.Fatalf("build with the keyboard: %v", err)
	}
	focusedHeading, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.closest("#retry-health") ? document.activeElement.textContent.trim() : ""`))
	if err != nil {
		t.Fatalf("read the focused element: %v", err)
	}
	if focusedHeading != "Recovery retry health" {
		t.Errorf("focused element after Build = %q, want the heading of the new result", focusedHeading)
	}

	// The live region reads out the new level.
	if got := announcement(t, ctx, "level critical"); !strings.Contains(got, "level critical") {
		t.Errorf("announcement after Build = %q, want the new level", got)
	}
}

// announcement waits up to five seconds for the page's live region to
// contain want, and returns its text.
func announcement(t *testing.T, ctx context.Context, want string) string {
	t.Helper()
	text := ""
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(text, want) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		var err error
		text, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("announcer").textContent`))
		if err != nil {
			t.Fatalf("read the live region: %v", err)
		}
	}
	return text
}

// TestConsoleRequestFailureShown makes every request of the page fail
// before it reaches the server, as a dropped connection does, and checks
// that the form shows the failure instead of only stopping its spinner.
func TestConsoleRequestFailureShown(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="build-health"]`)),
	)
	if err != nil {
		t.Fatalf("open the console: %v", err)
	}
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`XMLHttpRequest.prototype.send = function () {
		var request = this;
		setTimeout(function () { request.onerror(new ProgressEvent("error")); }, 0);
	}; true`))
	if err != nil {
		t.Fatalf("make requests fail: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="build-health"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="build-health-form"] [data-testid="request-failure"]`)),
	)
	if err != nil {
		t.Fatalf("build while requests fail: %v", err)
	}
	if got := textOf(t, ctx, `[data-testid="request-failure"]`); !strings.Contains(got, "nothing is confirmed") {
		t.Errorf("failure message = %q, want it to say that nothing is confirmed", got)
	}

	// A panel that refreshes itself after another action notes the failure
	// in place, without a dialog that would block the page.
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`window.alertMessages = [];
		window.alert = function (message) { window.alertMessages.push(message); };
		htmx.trigger(document.body, "records-changed"); true`))
	if err != nil {
		t.Fatalf("refresh the panels while requests fail: %v", err)
	}
	err = chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#dashboard [data-testid="refresh-failure"]`)))
	if err != nil {
		t.Fatalf("dashboard refresh failure note: %v", err)
	}
	if got := textOf(t, ctx, `#dashboard [data-testid="refresh-failure"]`); !strings.Contains(got, "could not be refreshed") {
		t.Errorf("refresh failure note = %q, want it to say the panel could not be refreshed", got)
	}
	alerts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.alertMessages.length`))
	if err != nil {
		t.Fatalf("read the dialogs: %v", err)
	}
	if alerts != 0 {
		t.Errorf("dialogs after a failed panel refresh: got %d, want none", alerts)
	}
}
