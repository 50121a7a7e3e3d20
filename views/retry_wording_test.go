package views

import (
	"context"
	"strings"
	"testing"
)

func TestRetryViewsCountSingular(t *testing.T) {
	cases := []struct {
		name    string
		render  func(*strings.Builder) error
		want    string
		notWant string
	}{
		{"reconciled execution", func(b *strings.Builder) error {
			return RetryRunPanel(RetryRunView{RunID: "rwr_1", Mode: "live", Reconciled: 1}).Render(context.Background(), b)
		}, "1 interrupted execution reconciled", "1 interrupted executions"},
		{"failed alert attempt", func(b *strings.Builder) error {
			view := AlertResultView{Destinations: []AlertDestinationView{{Provider: "webhook", Outcome: OutcomeFailed, StatusCode: 503, Attempts: 1}}}
			return AlertResult(view).Render(context.Background(), b)
		}, "after 1 attempt", "attempt(s)"},
		{"sent alert attempts", func(b *strings.Builder) error {
			view := AlertResultView{Destinations: []AlertDestinationView{{Provider: "webhook", Outcome: OutcomeSent, StatusCode: 200, Attempts: 2}}}
			return AlertResult(view).Render(context.Background(), b)
		}, "after 2 attempts", "attempt(s)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := tc.render(&b); err != nil {
				t.Fatalf("render: %v", err)
			}
			text := strings.Join(strings.Fields(b.String()), " ")
			if !strings.Contains(text, tc.want) {
				t.Errorf("rendered text: got %q, want it to contain %q", text, tc.want)
			}
			if strings.Contains(text, tc.notWant) {
				t.Errorf("rendered text: got %q, want no %q", text, tc.notWant)
			}
		})
	}
}

func TestRunCountsTextSpacesAndCounts(t *testing.T) {
	got := RunCountsText(RetryRunView{Selected: 3, Delivered: 1, Failed: 1, Skipped: 0, Reconciled: 1})
	if want := "3 selected, 1 delivered, 1 failed, 0 skipped, 1 interrupted execution reconciled"; got != want {
		t.Errorf("counts: got %q, want %q", got, want)
	}
}

func TestRunCountsTextNamesReconciledSends(t *testing.T) {
	got := RunCountsText(RetryRunView{Selected: 0, Reconciled: 3, ReconciledSendIDs: []string{"dlv_1", "dlv_2"}})
	if want := "0 selected, 0 delivered, 0 failed, 0 skipped, 1 interrupted execution reconciled, 2 interrupted sends reconciled"; got != want {
		t.Errorf("counts: got %q, want %q", got, want)
	}
}

func TestBadgeSpellsCodesAsWords(t *testing.T) {
	var out strings.Builder
	if err := Badge("dry_run").Render(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), ">dry run<") {
		t.Errorf("badge: got %s, want the words dry run", out.String())
	}
}
