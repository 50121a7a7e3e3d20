package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDisabledFieldsLookDisabled checks that a select inside a form the
// role may not submit is drawn differently from an enabled one.
func TestDisabledFieldsLookDisabled(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "viewer")

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="send-provider"]`)),
	)
	if err != nil {
		t.Fatalf("open the console: %v", err)
	}
	background := func(css string) string {
		t.Helper()
		script := fmt.Sprintf(`getComputedStyle(document.querySelector(%q)).backgroundColor`, css)
		value, err := chromedp.Run(ctx, chromedp.Evaluate[string](script))
		if err != nil {
			t.Fatalf("read the background of %s: %v", css, err)
		}
		return value
	}
	disabled := background(`[data-testid="send-provider"]`)
	enabled := background(`#alert-history select[name="metadata_kind"]`)
	if disabled == enabled {
		t.Errorf("disabled destination select: background %s, the same as the enabled history filter", disabled)
	}
	if enabled != "rgb(255, 255, 255)" {
		t.Errorf("enabled history filter: background %s, want white", enabled)
	}
}

// TestExportButtonLooksDisabled checks that the export button of a role
// that may not export is drawn faded, matching the form's note.
func TestExportButtonLooksDisabled(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/history"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="export-submit"]`)),
	)
	if err != nil {
		t.Fatalf("open the history: %v", err)
	}
	opacity, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('[data-testid="export-submit"]')).opacity`))
	if err != nil {
		t.Fatalf("read the export button's opacity: %v", err)
	}
	if opacity != "0.5" {
		t.Errorf("export button opacity for a role that may not export = %s, want 0.5", opacity)
	}
}

// TestExportErrorFocusesDay submits the export form with the days in the
// wrong order and checks that the reloaded history page puts the focus on
// the rejected day, named by its label in the message.
func TestExportErrorFocusesDay(t *testing.T) {
	a := startApp(t, appOptions{})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "auditor")

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/history"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="export-submit"]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid="export-from"]`), "2026-12-05"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="export-to"]`), "2026-12-01"),
		chromedp.Click(chromedp.CSS(`[data-testid="export-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="export-error"]`)),
	)
	if err != nil {
		t.Fatalf("submit the export form: %v", err)
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute("name") || document.activeElement.tagName`))
	if err != nil {
		t.Fatalf("read the focused element: %v", err)
	}
	if focused != "to_date" {
		t.Errorf("focus after the rejected export: %s, want the to_date input", focused)
	}
	if got := textOf(t, ctx, `[data-testid="export-error"]`); !strings.HasPrefix(got, "‘To day, included’ 2026-12-01 is before ‘From day’ 2026-12-05") {
		t.Errorf("export error: got %q, want it to name the days by their labels", got)
	}
}

// TestAlertHistoryErrorFocusesField submits the console's alert history
// filter with a health id one character over the limit. The form's action
// ends in #alert-history, and Chromium skips autofocus when the address
// names an element, so this checks that the rejected field still takes the
// focus, in view, and that the page stays at the alert history.
func TestAlertHistoryErrorFocusesField(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "viewer")

	field := `#alert-history input[name="health_id"]`
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1024, 700),
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(field)),
		// Setting the value property passes the input's maxlength of 200,
		// as a script or a browser tool can.
		chromedp.SetValue(chromedp.CSS(field), strings.Repeat("h", 201)),
		chromedp.Submit(chromedp.CSS(field)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alert-history-error"]`)),
	)
	if err != nil {
		t.Fatalf("submit the alert history filter: %v", err)
	}
	// Autofocus runs on a later animation frame, so wait for it before
	// reading where the focus is.
	_, _ = chromedp.Run(ctx, chromedp.Poll[bool](`document.activeElement !== document.body`, chromedp.WithPollingTimeout(3*time.Second)))

	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.closest("#alert-history") ? document.activeElement.name : document.activeElement.tagName`))
	if err != nil {
		t.Fatalf("read the focused element: %v", err)
	}
	if focused != "health_id" {
		t.Errorf("focus after the rejected filter: %s, want the health_id input of the alert history", focused)
	}
	hash, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.location.hash`))
	if err != nil {
		t.Fatalf("read the address: %v", err)
	}
	if hash != "#alert-history" {
		t.Errorf("address fragment after the rejected filter: %q, want #alert-history", hash)
	}
	for _, css := range []string{field, `[data-testid="alert-history-error"]`} {
		script := fmt.Sprintf(`(() => { const box = document.querySelector(%q).getBoundingClientRect(); return box.top >= 0 && box.bottom <= window.innerHeight; })()`, css)
		inView, err := chromedp.Run(ctx, chromedp.Evaluate[bool](script))
		if err != nil {
			t.Fatalf("read the position of %s: %v", css, err)
		}
		if !inView {
			t.Errorf("%s after the rejected filter: outside the window, want it in view", css)
		}
	}
}
