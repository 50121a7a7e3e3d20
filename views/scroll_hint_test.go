package views

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestWideTablesHaveScrollHint renders each table that keeps its columns on
// a phone and scrolls sideways there, and checks that a scroll hint comes
// right before its scroll box. A stacked table (table-stack) needs none.
func TestWideTablesHaveScrollHint(t *testing.T) {
	pc := PageContext{Path: "/", UserName: "ada", UserRole: "admin", SignedIn: true}
	cases := []struct {
		table  string
		render func(*strings.Builder) error
	}{
		{"executive-runs", func(b *strings.Builder) error {
			page := ExecutiveRunsPage{Total: 1, Limit: 50, Runs: []ExecutiveRunView{
				{RunID: "xrun_1", ReportID: "xrpt_1", Status: "delivered", Cadence: "daily", CreatedAt: "2026-05-01 12:00 UTC"},
			}}
			return ExecutiveRuns(pc, page).Render(context.Background(), b)
		}},
		{"tokens-table", func(b *strings.Builder) error {
			page := ProfilePage{Username: "ada", Role: "admin", Tokens: []TokenRow{
				{ID: "tok_1", Name: "ci-deploy", Prefix: "ec_3f9a", CreatedAt: "2026-05-01 12:00 UTC", LastUsedAt: "never"},
			}}
			return Profile(pc, page).Render(context.Background(), b)
		}},
		{"retry-reconciled", func(b *strings.Builder) error {
			run := RetryRunView{RunID: "rwr_2", Mode: "live", Reconciled: 1, ReconciledExecutions: []RetryReconciledView{
				{ExecutionID: "rex_1", WorkerRunID: "rwr_1", Provider: "slack", Outcome: "interrupted", StartedAt: "2026-05-01 12:00 UTC"},
			}}
			return RetryRunPage(pc, run).Render(context.Background(), b)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.table, func(t *testing.T) {
			var b strings.Builder
			if err := tc.render(&b); err != nil {
				t.Fatalf("render: %v", err)
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			table := doc.Find(`table[data-testid="` + tc.table + `"]`)
			if table.Length() != 1 {
				t.Fatalf("tables: got %d, want 1", table.Length())
			}
			if table.HasClass("table-stack") {
				t.Fatalf("table is stacked on a phone, want one that scrolls sideways")
			}
			box := table.Parent()
			if !box.HasClass("overflow-x-auto") {
				t.Fatalf("scroll box: got the parent class %q, want overflow-x-auto", box.AttrOr("class", ""))
			}
			if got := box.Prev().AttrOr("data-testid", ""); got != "scroll-hint" {
				t.Errorf("element before the scroll box: got data-testid %q, want scroll-hint", got)
			}
		})
	}
}
