package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/releaseops/evidence-console/evidence"
)

// phoneWidth and phoneHeight are the viewport of a common phone in CSS
// pixels.
const (
	phoneWidth  = 390
	phoneHeight = 844
)

// pageWidth returns the document's scroll width, which exceeds the viewport
// when something on the page makes it scroll sideways.
func pageWidth(t *testing.T, ctx context.Context, url, ready string) int {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(ready)),
	)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatalf("read the page width of %s: %v", url, err)
	}
	return width
}

// TestPagesFitPhoneWidth opens the acknowledgement page (linked from every
// alert message), the executive report and the console at a phone's width
// and checks that none of them scrolls sideways and that the menu uses the
// width instead of stacking.
func TestPagesFitPhoneWidth(t *testing.T) {
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
		t.Fatalf("send an alert from the console: %v", err)
	}
	ackPage := attributeOf(t, ctx, `[data-testid="alert-destination"][data-provider="slack"] [data-testid="alert-ack-link"]`, "href")
	err = chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+ackPage),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="acknowledgement-panel"]`)),
		chromedp.SendKeys(chromedp.CSS(`#acknowledgement-panel [data-testid="ack-external-ref"]`), "CHG-42"),
		chromedp.SendKeys(chromedp.CSS(`#acknowledgement-panel [data-testid="ack-notes"]`), "paged the on-call engineer for the retry worker"),
		chromedp.Click(chromedp.CSS(`#acknowledgement-panel [data-testid="ack-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="ack-action"]`)),
	)
	if err != nil {
		t.Fatalf("acknowledge the alert: %v", err)
	}

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(phoneWidth, phoneHeight)); err != nil {
		t.Fatalf("set a phone viewport: %v", err)
	}
	pages := []struct {
		name, path, ready string
	}{
		{"acknowledgement page", ackPage, `[data-testid="ack-action"]`},
		{"executive report", "/executive/report", `[data-testid="provider-row"]`},
		{"console", "/console", `[data-testid="outstanding-row"]`},
	}
	for _, page := range pages {
		if got := pageWidth(t, ctx, a.BaseURL+page.path, page.ready); got > phoneWidth {
			t.Errorf("%s at %d px: page is %d px wide, want at most %d", page.name, phoneWidth, got, phoneWidth)
		}
	}

	// The alert result's table holds text for screen readers only, which
	// must stay inside its scroll box.
	err = chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="send-alert"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="send-alert"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alert-result"]`)),
	)
	if err != nil {
		t.Fatalf("send an alert at a phone's width: %v", err)
	}
	sentWidth, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatalf("read the console width after the send: %v", err)
	}
	if sentWidth > phoneWidth {
		t.Errorf("console after sending an alert at %d px: page is %d px wide, want at most %d", phoneWidth, sentWidth, phoneWidth)
	}

	menuWidth, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector('nav[aria-label="Main"] ul').getBoundingClientRect().width`))
	if err != nil {
		t.Fatalf("read the menu width: %v", err)
	}
	if menuWidth < phoneWidth-40 {
		t.Errorf("menu at %d px: %.0f px wide, want the full row (at least %d px)", phoneWidth, menuWidth, phoneWidth-40)
	}

	// These tables show each row as a card on a phone, so nothing is
	// hidden past the edge of their scroll box.
	tables := []struct {
		name, path, table string
	}{
		{"history", "/history", `[data-testid="history-table"]`},
		{"connectors", "/connectors", `[data-testid="connectors"]`},
		{"outstanding acknowledgements", "/console", `[data-testid="outstanding-acknowledgements"]`},
		{"alert history", "/console", `[data-testid="alert-history"]`},
	}
	for _, page := range tables {
		pageWidth(t, ctx, a.BaseURL+page.path, page.table)
		script := fmt.Sprintf(`(() => { const box = document.querySelector(%q).parentElement; return box.scrollWidth - box.clientWidth; })()`, page.table)
		overflow, err := chromedp.Run(ctx, chromedp.Evaluate[int](script))
		if err != nil {
			t.Fatalf("read the %s table's overflow: %v", page.name, err)
		}
		if overflow > 0 {
			t.Errorf("%s table at %d px: %d px hidden to the right, want each row stacked", page.name, phoneWidth, overflow)
		}
	}

	// The alert history's detail spans the card instead of a narrow column.
	pageWidth(t, ctx, a.BaseURL+"/console", `[data-testid="history-detail"]`)
	detailWidths, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](
		`[...document.querySelectorAll('[data-testid="history-detail"]')].map((cell) => cell.getBoundingClientRect().width)`))
	if err != nil {
		t.Fatalf("read the alert history's detail widths: %v", err)
	}
	if len(detailWidths) == 0 {
		t.Fatal("alert history at a phone's width: no detail cells, want the rows of the alert sent above")
	}
	for _, width := range detailWidths {
		if width < phoneWidth/2 {
			t.Errorf("alert history detail at %d px: %.0f px wide, want at least half the page", phoneWidth, width)
		}
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/executive/report"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="provider-row"]`)),
	)
	if err != nil {
		t.Fatalf("open the executive report: %v", err)
	}
	label, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`getComputedStyle(document.querySelector('[data-testid="provider-failed"]'), '::before').content`))
	if err != nil {
		t.Fatalf("read the failed count's label: %v", err)
	}
	if label != `"Failed"` {
		t.Errorf("failed count label at %d px: got %s, want \"Failed\" above the value", phoneWidth, label)
	}

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
		t.Fatalf("set a desktop viewport: %v", err)
	}
	if got := pageWidth(t, ctx, a.BaseURL+"/executive/report", `[data-testid="provider-row"]`); got > 1366 {
		t.Errorf("executive report at 1366 px: %d px wide", got)
	}
	display, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`getComputedStyle(document.querySelector('[data-testid="provider-row"]')).display`))
	if err != nil {
		t.Fatalf("read the provider row's display: %v", err)
	}
	if display != "table-row" {
		t.Errorf("provider row at 1366 px: display %q, want table-row", display)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="outstanding-row"]`)),
	)
	if err != nil {
		t.Fatalf("open the console at 1366 px: %v", err)
	}
	display, err = chromedp.Run(ctx, chromedp.Evaluate[string](
		`getComputedStyle(document.querySelector('[data-testid="outstanding-row"]')).display`))
	if err != nil {
		t.Fatalf("read the outstanding row's display at 1366 px: %v", err)
	}
	if display != "table-row" {
		t.Errorf("outstanding row at 1366 px: display %q, want table-row", display)
	}
}

// splitWordsScript returns the dashboard card labels that have a word
// broken across two lines, each as "label: word".
const splitWordsScript = `(() => {
	const split = [];
	document.querySelectorAll('[data-testid^="dashboard-count-"] > span:first-child').forEach(label => {
		const text = label.firstChild;
		for (const match of text.textContent.matchAll(/\S+/g)) {
			const range = document.createRange();
			range.setStart(text, match.index);
			range.setEnd(text, match.index + match[0].length);
			const lines = new Set([...range.getClientRects()].map(box => Math.round(box.top)));
			if (lines.size > 1) {
				split.push(label.textContent.trim() + ": " + match[0]);
			}
		}
	});
	return split;
})()`

// TestDashboardLabelsKeepWholeWords opens the console's dashboard at
// phone, tablet and desktop widths and checks that no card label, such as
// "Acknowledgements", breaks inside a word.
func TestDashboardLabelsKeepWholeWords(t *testing.T) {
	a := startApp(t, appOptions{})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "viewer")

	for _, width := range []int64{360, phoneWidth, 640, 768, 1366} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
			t.Fatalf("set a %d px viewport: %v", width, err)
		}
		pageWidth(t, ctx, a.BaseURL+"/console", `[data-testid="dashboard-count-acknowledgements"]`)
		split, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](splitWordsScript))
		if err != nil {
			t.Fatalf("read the dashboard labels at %d px: %v", width, err)
		}
		if len(split) > 0 {
			t.Errorf("dashboard at %d px: words broken across lines %q, want whole words", width, split)
		}
	}
}

// brokenWordsScript returns, for the cells that %q selects, each word
// (text between spaces and hyphens) that is broken across two lines, as
// "cell label: word".
const brokenWordsScript = `(() => {
	const broken = [];
	document.querySelectorAll(%q).forEach(cell => {
		const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
		for (let text = walker.nextNode(); text; text = walker.nextNode()) {
			for (const match of text.textContent.matchAll(/[^\s-]+/g)) {
				const range = document.createRange();
				range.setStart(text, match.index);
				range.setEnd(text, match.index + match[0].length);
				const lines = new Set([...range.getClientRects()].map(box => Math.round(box.top)));
				if (lines.size > 1) {
					broken.push(cell.dataset.label + ": " + match[0]);
				}
			}
		}
	});
	return broken;
})()`

// TestLongAcknowledgementTextWraps saves an acknowledgement with the
// longest external reference and notes, each without a space. The text must
// wrap inside its own cell, so the console's alert history keeps its width
// and the acknowledgement page's short columns keep whole words.
func TestLongAcknowledgementTextWraps(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
		t.Fatalf("set a desktop viewport: %v", err)
	}

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="send-alert"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="send-alert"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alert-result"]`)),
	)
	if err != nil {
		t.Fatalf("send an alert from the console: %v", err)
	}
	ackPage := attributeOf(t, ctx, `[data-testid="alert-destination"][data-provider="teams"] [data-testid="alert-ack-link"]`, "href")
	err = chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+ackPage),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="acknowledgement-panel"]`)),
		chromedp.SetValue(chromedp.CSS(`#acknowledgement-panel [data-testid="ack-external-ref"]`), strings.Repeat("x", 200)),
		chromedp.SetValue(chromedp.CSS(`#acknowledgement-panel [data-testid="ack-notes"]`), strings.Repeat("é", 2000)),
		chromedp.Click(chromedp.CSS(`#acknowledgement-panel [data-testid="ack-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="ack-action"]`)),
	)
	if err != nil {
		t.Fatalf("acknowledge with long text: %v", err)
	}

	if got := pageWidth(t, ctx, a.BaseURL+ackPage, `[data-testid="ack-action"]`); got > 1366 {
		t.Errorf("acknowledgement page at 1366 px: %d px wide", got)
	}
	cells := `[data-testid="ack-action"] > td:not([data-label="Reference"]):not([data-label="Notes"])`
	broken, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(brokenWordsScript, cells)))
	if err != nil {
		t.Fatalf("read the action cells: %v", err)
	}
	if len(broken) > 0 {
		t.Errorf("acknowledgement actions at 1366 px: words broken across lines %q, want whole words beside long notes", broken)
	}

	pageWidth(t, ctx, a.BaseURL+"/console", `[data-testid="alert-history"]`)
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[int](
		`(() => { const box = document.querySelector('[data-testid="alert-history"]').parentElement; return box.scrollWidth - box.clientWidth; })()`))
	if err != nil {
		t.Fatalf("read the alert history's overflow: %v", err)
	}
	if overflow > 0 {
		t.Errorf("console alert history at 1366 px: %d px hidden to the right, want long text wrapped in its cell", overflow)
	}
}

// TestLongFindingIDWraps builds recovery retry health over a worker run with
// a 190-character id and checks that the finding naming it wraps inside
// the console at a phone's width.
func TestLongFindingIDWraps(t *testing.T) {
	a := startApp(t, appOptions{})
	runID := "run-" + strings.Repeat("longworkerrunidentifier", 8)
	export := fmt.Sprintf(`{"items":[{"metadata_kind":%q,"session_id":"layout","run_id":%q,"dry_run":false,"created_at":%q,`+
		`"recovery_escalation_retry_worker_run":{"summary":{"selected_retry_count":0,"acknowledgement_pending_count":0},"schedule":{"enabled":false,"interval_minutes":30}}}]}`,
		evidence.KindEscalationWorkerRun, runID, time.Now().UTC().Add(-10*time.Minute).Format(time.RFC3339))
	file := filepath.Join(t.TempDir(), "long-id.json")
	if err := os.WriteFile(file, []byte(export), 0o600); err != nil {
		t.Fatalf("write the evidence file: %v", err)
	}
	a.runCLI(t, "", "import", file)

	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(phoneWidth, phoneHeight)); err != nil {
		t.Fatalf("set a phone viewport: %v", err)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="build-health"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="build-health"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="finding"]`)),
	)
	if err != nil {
		t.Fatalf("build recovery retry health: %v", err)
	}
	if !strings.Contains(textOf(t, ctx, `[data-testid="findings"]`), runID) {
		t.Fatalf("findings do not name the worker run %s", runID)
	}
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatalf("read the console width: %v", err)
	}
	if width > phoneWidth {
		t.Errorf("console at %d px with a long finding: page is %d px wide, want at most %d", phoneWidth, width, phoneWidth)
	}
}

// TestLongTokenNameWrapsOnPhone creates a token with a name of the maximum
// length and checks that, at a phone's width, the Name column keeps a
// readable width instead of one word per line.
func TestLongTokenNameWrapsOnPhone(t *testing.T) {
	a := startApp(t, appOptions{})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "viewer")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(phoneWidth, phoneHeight)); err != nil {
		t.Fatalf("set a phone viewport: %v", err)
	}

	name := strings.TrimSpace(strings.Repeat("release pipeline ", 6))[:100]
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/profile"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="token-name"]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid="token-name"]`), name),
		chromedp.Click(chromedp.CSS(`[data-testid="create-token"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-token-box"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="token-name-cell"]`)),
	)
	if err != nil {
		t.Fatalf("create a token with a long name: %v", err)
	}

	width, err := chromedp.Run(ctx, chromedp.Evaluate[float64](
		`document.querySelector('[data-testid="token-name-cell"]').getBoundingClientRect().width`))
	if err != nil {
		t.Fatalf("read the name cell's width: %v", err)
	}
	if width < 150 {
		t.Errorf("token name cell at %d px: %.0f px wide, want at least 150 px so lines hold several words", phoneWidth, width)
	}
	if got := pageWidth(t, ctx, a.BaseURL+"/profile", `[data-testid="token-name-cell"]`); got > phoneWidth {
		t.Errorf("profile at %d px: page is %d px wide, want at most %d", phoneWidth, got, phoneWidth)
	}
}

// TestReceiverPageFitsPhoneWidth opens the local receiver's listing at a
// phone's width after a Jira lookup with a long query and a request with
// long header values, which must wrap instead of widening the page.
func TestReceiverPageFitsPhoneWidth(t *testing.T) {
	a := startApp(t, appOptions{})
	query := url.Values{"fields": {"key"}, "jql": {`project = OPS AND labels = "evidence-console" AND "Idempotency key" ~ "` + strings.Repeat("idempotency", 12) + `"`}}
	lookup, err := http.Get(a.Receiver.URL + "/jira/rest/api/2/search/jql?" + query.Encode())
	if err != nil {
		t.Fatalf("Jira lookup: %v", err)
	}
	_ = lookup.Body.Close()
	request, err := http.NewRequest(http.MethodPost, a.Receiver.URL+"/webhook/layout", strings.NewReader(`{"text":"layout"}`))
	if err != nil {
		t.Fatalf("build the request: %v", err)
	}
	request.Header.Set("Idempotency-Key", strings.Repeat("xrun_01kqhphxg0p2gvpr9vn73v25jh", 4))
	posted, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("post to the receiver: %v", err)
	}
	_ = posted.Body.Close()

	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(phoneWidth, phoneHeight)); err != nil {
		t.Fatalf("set a phone viewport: %v", err)
	}
	if got := pageWidth(t, ctx, a.Receiver.URL+"/", "h1"); got > phoneWidth {
		t.Errorf("receiver listing at %d px: page is %d px wide, want at most %d", phoneWidth, got, phoneWidth)
	}
}
