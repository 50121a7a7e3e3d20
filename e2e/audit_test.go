package e2e

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestDashboardCardOpensFilteredHistory builds a health snapshot, follows the
// dashboard's Evaluations card to the filtered history, narrows the filter
// with the form and checks that both filters stay in the URL.
func TestDashboardCardOpensFilteredHistory(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="build-health"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="build-health"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="health-id"]`)),
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="dashboard"]`)),
	)
	if err != nil {
		t.Fatalf("build a snapshot and reload the console: %v", err)
	}
	if got := textOf(t, ctx, `[data-testid="dashboard-count-health_evaluations"] [data-testid="value"]`); got != "1" {
		t.Errorf("Evaluations card = %q, want 1", got)
	}
	if got := attributeOf(t, ctx, `[data-testid="dashboard-level"]`, "data-level"); got != "critical" {
		t.Errorf("dashboard level = %q, want critical (the sample's newest worker run is late)", got)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="dashboard-count-health_evaluations"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="history-table"]`)),
	)
	if err != nil {
		t.Fatalf("open the history from the card: %v", err)
	}
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("read the location: %v", err)
	}
	if parsed, _ := url.Parse(location); parsed.Path != "/history" || parsed.Query().Get("metadata_kind") != "health_snapshot" {
		t.Errorf("history URL = %q, want /history filtered to health_snapshot", location)
	}
	if got := textOf(t, ctx, `[data-testid="history-row"]`); !strings.Contains(got, "hlth_") {
		t.Errorf("history row = %q, want the snapshot's hlth_ id", got)
	}

	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`[data-testid="filter-alert_level"]`), "warning"),
		chromedp.Click(chromedp.CSS(`[data-testid="filter-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="history-empty"]`)),
	)
	if err != nil {
		t.Fatalf("narrow the filter: %v", err)
	}
	if location, err = chromedp.Run(ctx, chromedp.Location()); err != nil {
		t.Fatalf("read the location: %v", err)
	}
	query := mustQuery(t, location)
	if query.Get("metadata_kind") != "health_snapshot" || query.Get("alert_level") != "warning" {
		t.Errorf("filtered URL = %q, want metadata_kind=health_snapshot and alert_level=warning", location)
	}
	if got := attributeOf(t, ctx, `[data-testid="filter-alert_level"] option[selected]`, "value"); got != "warning" {
		t.Errorf("selected alert level after reload = %q, want warning", got)
	}
}

func mustQuery(t *testing.T, location string) url.Values {
	t.Helper()
	parsed, err := url.Parse(location)
	if err != nil {
		t.Fatalf("parse %q: %v", location, err)
	}
	return parsed.Query()
}
