package views

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestRetryFormsNamedApart renders the executive retry section and checks
// that the plan, run and health forms, which repeat the same policy or
// threshold fields, each put them in a group named by its own visible
// heading.
func TestRetryFormsNamedApart(t *testing.T) {
	view := RetryConsoleView{
		Policy:             RetryPolicyForm{MaxRetryAttempts: 3, RetryDelayMinutes: 30, BackoffMultiplier: "2"},
		MaxRetryDeliveries: 25,
		Send:               RetrySendForm{Retries: 1, TimeoutSeconds: "5"},
	}
	var b strings.Builder
	if err := RetryConsole(view).Render(context.Background(), &b); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}

	policy := []string{"max_retry_attempts", "retry_delay_minutes", "backoff_multiplier", "allow_immediate_retry"}
	cases := []struct {
		form, name string
		fields     []string
	}{
		{"retry-plan-form", "Plan", policy},
		{"retry-run-form", "Run", policy},
		{"retry-health-form", "Health", []string{"expected_interval_minutes", "stale_metadata_minutes"}},
	}
	for _, tc := range cases {
		t.Run(tc.form, func(t *testing.T) {
			form := doc.Find(`[data-testid="` + tc.form + `"]`)
			group := form.ChildrenFiltered("fieldset")
			if group.Length() != 1 {
				t.Fatalf("field groups: got %d, want 1", group.Length())
			}
			labelID := group.AttrOr("aria-labelledby", "")
			if labelID == "" {
				t.Fatal("field group has no aria-labelledby, want it named by a heading")
			}
			heading := form.Find("#" + labelID)
			if heading.Length() != 1 {
				t.Fatalf("elements with id %q in the form: got %d, want 1", labelID, heading.Length())
			}
			if !heading.Is("h3") {
				t.Errorf("group name element: got <%s>, want a visible h3 heading", goquery.NodeName(heading))
			}
			if got := strings.TrimSpace(heading.Text()); got != tc.name {
				t.Errorf("group name: got %q, want %q", got, tc.name)
			}
			for _, name := range tc.fields {
				if got := group.Find(`[name="` + name + `"]`).Length(); got != 1 {
					t.Errorf("%s inputs in the group: got %d, want 1", name, got)
				}
			}
			// A legend would name the immediate-retry checkbox in the
			// page script's error notes instead of the checkbox's label.
			if got := group.Find("legend").Length(); got != 0 {
				t.Errorf("legends in the group: got %d, want 0", got)
			}
		})
	}
}

// TestMaxRetryAttemptsHint checks that both policy forms state that "Max
// retry attempts" counts the original send, and link the hint to the input.
func TestMaxRetryAttemptsHint(t *testing.T) {
	view := RetryConsoleView{
		Policy:             RetryPolicyForm{MaxRetryAttempts: 3, RetryDelayMinutes: 30, BackoffMultiplier: "2"},
		MaxRetryDeliveries: 25,
		Send:               RetrySendForm{Retries: 1, TimeoutSeconds: "5"},
	}
	var b strings.Builder
	if err := RetryConsole(view).Render(context.Background(), &b); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}

	for _, form := range []string{"retry-plan-form", "retry-run-form"} {
		input := doc.Find(`[data-testid="` + form + `"] input[name="max_retry_attempts"]`)
		hintID := input.AttrOr("aria-describedby", "")
		if hintID == "" {
			t.Errorf("%s: max_retry_attempts has no aria-describedby, want it linked to its hint", form)
			continue
		}
		hint := doc.Find("#" + hintID)
		if hint.Length() != 1 {
			t.Errorf("%s: elements with id %q: got %d, want 1", form, hintID, hint.Length())
			continue
		}
		if got := strings.TrimSpace(hint.Text()); !strings.Contains(got, "original send") {
			t.Errorf("%s: hint %q, want it to say the original send counts", form, got)
		}
		if !input.Parent().Is("label") || input.Parent().Find("#"+hintID).Length() != 1 {
			t.Errorf("%s: hint outside the input's label, want it shown with the field", form)
		}
	}
}
