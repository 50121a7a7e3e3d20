package e2e

import (
	"fmt"
	"strings"
	"testing"

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
