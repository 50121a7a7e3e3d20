package e2e

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// pdfPage matches a page object of a PDF (not the /Pages tree node).
var pdfPage = regexp.MustCompile(`/Type\s*/Page[^s]`)

// TestExecutiveReportPrintsFromConsole schedules a report from the console,
// opens it through the link in the result, and prints it to PDF.
func TestExecutiveReportPrintsFromConsole(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="executive-schedule"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="executive-schedule"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#executive-schedule-result [data-testid="executive-report-link"]`)),
	)
	if err != nil {
		t.Fatalf("schedule from the console: %v", err)
	}
	// The deliver form names the run just scheduled.
	runID := textOf(t, ctx, `#executive-schedule-result [data-testid="executive-run-id"]`)
	if got := textOf(t, ctx, `[data-testid="executive-deliver-hint"]`); !strings.Contains(got, runID) {
		t.Errorf("deliver hint after scheduling = %q, want it to name the new run %s", got, runID)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#executive-schedule-result [data-testid="executive-report-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="closure-trend-chart"]`)),
	)
	if err != nil {
		t.Fatalf("open the report from the console: %v", err)
	}

	if got := textOf(t, ctx, `[data-testid="report-id"]`); !strings.HasPrefix(got, "xrpt_") {
		t.Errorf("report id = %q, want an id starting with xrpt_", got)
	}
	// The sample has a failed audit execution and a servicenow recovery
	// open for three days, so the report is critical and lists risks.
	if got := attributeOf(t, ctx, `[data-testid="report-status"]`, "data-status"); got != "critical" {
		t.Errorf("report status = %q, want critical", got)
	}
	if got := attributeOf(t, ctx, `[data-testid="key-risk"]`, "data-category"); got != "failed_retry_executions" {
		t.Errorf("first key risk = %q, want failed_retry_executions", got)
	}

	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
	if err != nil {
		t.Fatalf("print the report to PDF: %v", err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("PDF: got %d bytes starting %q, want a PDF document", len(pdf), pdf[:min(len(pdf), 8)])
	}
	if pages := len(pdfPage.FindAll(pdf, -1)); pages < 1 || pages > 2 {
		t.Errorf("PDF pages = %d, want 1 or 2", pages)
	}
}

// TestExecutivePreviewOpensFromConsole opens the unsaved preview through the
// console's link and finds the chart readable without scripts.
func TestExecutivePreviewOpensFromConsole(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="executive-preview"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="executive-preview"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="executive-preview-result"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="executive-preview-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="report-preview"]`)),
	)
	if err != nil {
		t.Fatalf("open the preview from the console: %v", err)
	}
	if got := attributeOf(t, ctx, `[data-testid="trend-day"]`, "data-date"); len(got) != len("2006-01-02") {
		t.Errorf("first chart day = %q, want a YYYY-MM-DD date", got)
	}
}

// TestExecutiveDeliverNamesDestinations delivers with no destination
// ticked. The note under the message names the group of boxes, not the
// label of its first box.
func TestExecutiveDeliverNamesDestinations(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	form := `[data-testid="executive-deliver-form"] `
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="executive-schedule"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="executive-schedule"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#executive-schedule-result [data-testid="executive-report-link"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="executive-deliver"]`)),
		chromedp.WaitVisible(chromedp.CSS(form+`[data-testid="error-field-label"]`)),
	)
	if err != nil {
		t.Fatalf("deliver with no destination: %v", err)
	}
	if got := textOf(t, ctx, form+`[data-testid="error-field-label"]`); got != "Check \u201cDestinations\u201d." {
		t.Errorf("field note = %q, want it to name the Destinations group", got)
	}
	if got := len(a.Receiver.Requests()); got != 0 {
		t.Errorf("receiver requests = %d, want 0", got)
	}
}
