package e2e

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// ackLinkPattern finds the acknowledgement link inside a delivered message.
var ackLinkPattern = regexp.MustCompile(`http://[0-9.:]+/alerts/hlth_[0-9a-z]+/acknowledge/slack`)

// TestAlertSendAndAcknowledge sends a retry health alert from the console to
// the local receiver, opens the acknowledgement link from the Slack message,
// acknowledges, and checks that Slack leaves the outstanding table.
func TestAlertSendAndAcknowledge(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="send-alert"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="send-alert"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alert-result"]`)),
	)
	if err != nil {
		t.Fatalf("send from the console: %v", err)
	}
	if got := attributeOf(t, ctx, `[data-testid="alert-destination"][data-provider="slack"]`, "data-outcome"); got != "sent" {
		t.Errorf("slack outcome = %q, want sent", got)
	}
	// The result, below the form, takes the focus.
	resultFocused, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`document.activeElement.closest('[data-testid="alert-result"]') !== null`))
	if err != nil {
		t.Fatalf("read the focused element: %v", err)
	}
	if !resultFocused {
		t.Error("focus after the send is outside the alert result, want it on the result")
	}
	// The health panel shows the snapshot the send built.
	sentHealth := attributeOf(t, ctx, `[data-testid="alert-result"]`, "data-health-id")
	if got := textOf(t, ctx, `#retry-health [data-testid="health-id"]`); got != sentHealth {
		t.Errorf("health panel snapshot after the send = %q, want the send's %s", got, sentHealth)
	}
	if got := attributeOf(t, ctx, `[data-testid="outstanding-row"][data-provider="slack"]`, "data-state"); got != "pending" {
		t.Errorf("slack outstanding state = %q, want pending", got)
	}

	var link string
	for _, request := range a.Receiver.Requests() {
		if found := ackLinkPattern.FindString(string(request.Body)); found != "" {
			link = found
		}
	}
	if link == "" {
		t.Fatalf("no Slack message with an acknowledgement link among %d received requests", len(a.Receiver.Requests()))
	}

	// Two invalid fields are both marked, and the first takes the focus.
	externalRef := `#acknowledgement-panel [data-testid="ack-external-ref"]`
	notes := `#acknowledgement-panel [data-testid="ack-notes"]`
	err = chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="acknowledgement-panel"]`)),
		chromedp.SendKeys(chromedp.CSS(externalRef), "https://user:pass@tickets.example/CHG-1"),
		chromedp.SendKeys(chromedp.CSS(notes), "see https://tickets.example/CHG-1?token=abc"),
		chromedp.Click(chromedp.CSS(`#acknowledgement-panel [data-testid="ack-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#acknowledgement-panel [data-testid="error-fragment"]`)),
	)
	if err != nil {
		t.Fatalf("submit two invalid fields: %v", err)
	}
	if got := attributeOf(t, ctx, externalRef, "aria-invalid"); got != "true" {
		t.Errorf("external reference aria-invalid = %q, want true", got)
	}
	if got := attributeOf(t, ctx, notes, "aria-invalid"); got != "true" {
		t.Errorf("notes aria-invalid = %q, want true", got)
	}
	focusedName, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.name`))
	if err != nil {
		t.Fatalf("read the focused element: %v", err)
	}
	if focusedName != "external_ref" {
		t.Errorf("focused input after two invalid fields = %q, want external_ref", focusedName)
	}

	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelectorAll('#acknowledgement-panel textarea, #acknowledgement-panel input[type="text"]').forEach(function (input) { input.value = ""; }) === undefined`))
	if err != nil {
		t.Fatalf("clear the acknowledgement fields: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#acknowledgement-panel [data-testid="ack-external-ref"]`), "https://tickets.example/CHG-1"),
		chromedp.SendKeys(chromedp.CSS(`#acknowledgement-panel [data-testid="ack-notes"]`), "restarted the worker"),
		chromedp.Click(chromedp.CSS(`#acknowledgement-panel [data-testid="ack-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="ack-current-state"][data-outstanding="false"]`)),
	)
	if err != nil {
		t.Fatalf("acknowledge on the linked page: %v", err)
	}
	if got := textOf(t, ctx, `[data-testid="ack-action-notes"]`); got != "restarted the worker" {
		t.Errorf("action notes = %q, want %q", got, "restarted the worker")
	}
	// The new state is read out, and the focus is on its heading.
	if got := announcement(t, ctx, "closed for this occurrence"); !strings.Contains(got, "closed for this occurrence") {
		t.Errorf("announcement after acknowledging = %q, want the new state", got)
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.textContent.trim()`))
	if err != nil {
		t.Fatalf("read the focused element: %v", err)
	}
	if focused != "Current state" {
		t.Errorf("focused element after acknowledging = %q, want the Current state heading", focused)
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="outstanding-row"][data-provider="teams"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-testid="outstanding-row"][data-provider="slack"]`)),
	)
	if err != nil {
		t.Fatalf("slack still outstanding after acknowledging: %v", err)
	}
}

// TestSendSpinnerUsesFormOptions sends to a destination that never responds,
// with one attempt of 1.5 seconds, and reads the spinner while it waits.
func TestSendSpinnerUsesFormOptions(t *testing.T) {
	a := startApp(t, appOptions{
		SampleData:      true,
		ConnectorConfig: "connectors:\n  slow:\n    kind: webhook\n    url_env: E2E_SLOW_URL\n",
		Env:             map[string]string{"E2E_SLOW_URL": "%s/hang/slow"},
	})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	form := `form:has([data-testid="send-alert"]) `
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="send-alert"]`)),
		chromedp.SetValue(chromedp.CSS(form+`[name="retries"]`), "0"),
		chromedp.SetValue(chromedp.CSS(form+`[name="timeout_seconds"]`), "1.5"),
		chromedp.Click(chromedp.CSS(`[data-testid="send-alert"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#send-progress`)),
	)
	if err != nil {
		t.Fatalf("start a send to a destination that never responds: %v", err)
	}
	estimate := textOf(t, ctx, `#send-progress [data-send-estimate]`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="alert-result"]`))); err != nil {
		t.Fatalf("wait for the send's result: %v", err)
	}
	if estimate != "1.5s" {
		t.Errorf("spinner estimate = %q, want 1.5s for one attempt of 1.5 seconds", estimate)
	}
	if got := attributeOf(t, ctx, `[data-testid="alert-destination"][data-provider="slow"]`, "data-class"); got != "timeout" {
		t.Errorf("slow destination class = %q, want timeout", got)
	}
}
