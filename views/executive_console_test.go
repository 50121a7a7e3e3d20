package views

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// renderExecutiveConsole renders the executive report section for a role
// that may read, schedule and deliver reports, and parses it.
func renderExecutiveConsole(t *testing.T) *goquery.Document {
	t.Helper()
	view := ExecutiveConsoleView{
		Destinations:          []string{"slack", "webhook"},
		DeliverTimeoutSeconds: "5",
		DeliverMaxDuration:    "34s",
		CanSend:               true,
		MayRead:               true,
	}
	var b strings.Builder
	if err := ExecutiveConsole(view).Render(context.Background(), &b); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

// TestScheduleIntervalHelpVisible checks that the rule for an empty
// interval is shown as text under the schedule fields, which both fields
// refer to, instead of a placeholder that a narrow field cuts off.
func TestScheduleIntervalHelpVisible(t *testing.T) {
	doc := renderExecutiveConsole(t)
	form := doc.Find(`[data-testid="executive-schedule-form"]`)

	hint := form.Find(`#executive-interval-hint`)
	if hint.Length() != 1 {
		t.Fatalf("interval hints: got %d, want 1", hint.Length())
	}
	text := strings.Join(strings.Fields(hint.Text()), " ")
	for _, want := range []string{"5 to 10080 minutes", "hourly 60, daily 1440, weekly 10080", "1440 without a label"} {
		if !strings.Contains(text, want) {
			t.Errorf("interval hint %q: want it to contain %q", text, want)
		}
	}
	if hint.Closest("label").Length() != 0 {
		t.Error("interval hint is inside a label, want it outside so it is not part of the field's name")
	}
	if hint.HasClass("sr-only") || hint.HasClass("hidden") {
		t.Errorf("interval hint classes %q: want it visible", hint.AttrOr("class", ""))
	}

	for _, name := range []string{"interval_minutes", "cadence"} {
		input := form.Find(`input[name="` + name + `"]`)
		if input.Length() != 1 {
			t.Fatalf("%s inputs: got %d, want 1", name, input.Length())
		}
		if described := strings.Fields(input.AttrOr("aria-describedby", "")); !slices.Contains(described, "executive-interval-hint") {
			t.Errorf("%s aria-describedby %v: want it to name executive-interval-hint", name, described)
		}
	}
	if placeholder, found := form.Find(`input[name="interval_minutes"]`).Attr("placeholder"); found {
		t.Errorf("interval placeholder %q: want none, because the hint shows the rule", placeholder)
	}
}

// TestPreviewButtonSaysWhatItDoes checks that the button that shows the
// report inside the console names that action, rather than repeating the
// heading above it next to the "Open report" link.
func TestPreviewButtonSaysWhatItDoes(t *testing.T) {
	doc := renderExecutiveConsole(t)
	panel := doc.Find(`[data-testid="executive-preview-panel"]`)

	button := strings.TrimSpace(panel.Find(`[data-testid="executive-preview"]`).Text())
	if button != "Preview report here" {
		t.Errorf("preview button: got %q, want %q", button, "Preview report here")
	}
	if heading := strings.TrimSpace(panel.Find("h3").Text()); button == heading {
		t.Errorf("preview button repeats the heading %q", heading)
	}
	if link := strings.TrimSpace(panel.Find(`[data-testid="executive-preview-link"]`).Text()); link != "Open report" {
		t.Errorf("preview link: got %q, want %q", link, "Open report")
	}
}
