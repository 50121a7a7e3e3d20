package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/releaseops/evidence-console/retry"
)

// describedText returns the text of the elements that control's
// aria-describedby names, joined by spaces. It fails the test when an id
// matches no element or several. A description hidden from sight is an
// error too, because keyboard and touch users must read it.
func describedText(t *testing.T, doc *goquery.Document, control *goquery.Selection) string {
	t.Helper()
	var texts []string
	for _, id := range strings.Fields(control.AttrOr("aria-describedby", "")) {
		described := doc.Find(`[id="` + id + `"]`)
		if described.Length() != 1 {
			t.Fatalf("aria-describedby %q: got %d elements with that id, want 1", id, described.Length())
		}
		hidden := described.AddSelection(described.Parents()).FilterFunction(func(_ int, element *goquery.Selection) bool {
			_, hiddenAttribute := element.Attr("hidden")
			return hiddenAttribute || element.HasClass("sr-only") || element.HasClass("hidden")
		})
		if hidden.Length() > 0 {
			t.Errorf("aria-describedby %q: the description is hidden from sight, want it shown", id)
		}
		texts = append(texts, strings.TrimSpace(described.Text()))
	}
	return strings.Join(texts, " ")
}

// assertScrollRegions checks that every sideways scroll box on the page is
// a named region that the keyboard can reach. Each table in tableIDs must
// sit directly in such a box, so the check fails on a page that lost them.
func assertScrollRegions(t *testing.T, doc *goquery.Document, tableIDs ...string) {
	t.Helper()
	for _, id := range tableIDs {
		table := byTestID(doc, id)
		if table.Length() == 0 {
			t.Errorf("table %s: missing from the page", id)
			continue
		}
		if !table.Parent().HasClass("overflow-x-auto") {
			t.Errorf("table %s: got the parent class %q, want the overflow-x-auto scroll box", id, table.Parent().AttrOr("class", ""))
		}
	}
	boxes := doc.Find(".overflow-x-auto")
	if boxes.Length() == 0 {
		t.Fatal("scroll boxes: got none, want one around each wide table")
	}
	boxes.Each(func(i int, box *goquery.Selection) {
		table := box.ChildrenFiltered("table").AttrOr("data-testid", "")
		if got := box.AttrOr("role", ""); got != "region" {
			t.Errorf("scroll box #%d (table %q) role: got %q, want region", i, table, got)
		}
		if got := strings.TrimSpace(box.AttrOr("aria-label", "")); got == "" {
			t.Errorf("scroll box #%d (table %q) aria-label: got none, want the table's name", i, table)
		}
		if got := box.AttrOr("tabindex", ""); got != "0" {
			t.Errorf("scroll box #%d (table %q) tabindex: got %q, want 0", i, table, got)
		}
		if !box.HasClass("focus-visible:ring-2") {
			t.Errorf("scroll box #%d (table %q) class %q: want a visible focus ring", i, table, box.AttrOr("class", ""))
		}
	})
}

// htmlPage requests path as a browser and parses the page.
func htmlPage(t *testing.T, s *testServer, path string) *goquery.Document {
	t.Helper()
	rec := s.do(http.MethodGet, path, "", "", "Accept", "text/html")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200", path, rec.Code)
	}
	return document(t, rec)
}

func TestTableScrollBoxesAreNamedRegions(t *testing.T) {
	retryServer := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	retryServer.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
	rec := retryServer.postJSON(executiveRetryRunPath, `{"execute":true}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("live run: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	var run retry.RunView
	if err := json.Unmarshal(rec.Body.Bytes(), &run); err != nil {
		t.Fatal(err)
	}

	executiveServer := newExecutiveServer(t)
	schedule := executiveServer.postForm("/console/executive-report/schedule", "interval_minutes=60&enabled=true&recovery_slo_minutes=240&period_days=7")
	if schedule.Code >= 400 {
		t.Fatalf("schedule a report: status %d, want success", schedule.Code)
	}

	alertServer, _ := newFormAccessServer(t)

	cases := []struct {
		name   string
		server *testServer
		path   string
		tables []string
	}{
		{"console with a live run", retryServer.testServer, "/console", []string{"retry-run-decisions", "retry-executions"}},
		{"console with an alert", alertServer, "/console", []string{"outstanding-acknowledgements", "alert-history"}},
		{"retry runs", retryServer.testServer, "/retries/runs", []string{"retry-runs"}},
		{"retry run", retryServer.testServer, "/retries/runs/" + run.WorkerRunID, []string{"retry-run-decisions", "retry-executions"}},
		{"retry plan", retryServer.testServer, "/retries/plans/" + run.RetryPlanID, []string{"retry-decisions"}},
		{"executive runs", executiveServer.testServer, "/executive/runs", []string{"executive-runs"}},
		{"users", alertServer, "/users", []string{"users-table"}},
		{"profile", alertServer, "/profile", []string{"tokens-table"}},
		{"history", alertServer, "/history", []string{"history-table"}},
		{"connectors", alertServer, "/connectors", []string{"connectors"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertScrollRegions(t, htmlPage(t, tc.server, tc.path), tc.tables...)
		})
	}
}

// Two sections on the console each show a decision table, so the regions
// carry the section's name and no two share one.
func TestConsoleScrollRegionNamesAreDistinct(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
	if rec := s.postJSON(executiveRetryRunPath, `{"execute":true}`); rec.Code != http.StatusCreated {
		t.Fatalf("live run: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	doc := htmlPage(t, s.testServer, "/console")

	seen := map[string]int{}
	doc.Find(`[role="region"]`).Each(func(_ int, region *goquery.Selection) {
		seen[region.AttrOr("aria-label", "")]++
	})
	for label, count := range seen {
		if count > 1 {
			t.Errorf("region name %q: used %d times, want each region named once", label, count)
		}
	}
	decisions := byTestID(doc, "retry-run-decisions").Parent()
	if got := decisions.AttrOr("aria-label", ""); got != "Executive retries selected by the live run" {
		t.Errorf("decision region name: got %q, want the section and the heading above it", got)
	}
}

// A column heading whose meaning needs a sentence points at that sentence,
// shown above the table, rather than hiding it in a tooltip.
func TestColumnNotesAreShown(t *testing.T) {
	executiveServer := newExecutiveServer(t)
	schedule := executiveServer.postForm("/console/executive-report/schedule", "interval_minutes=60&enabled=true&recovery_slo_minutes=240&period_days=7")
	if schedule.Code >= 400 {
		t.Fatalf("schedule a report: status %d, want success", schedule.Code)
	}
	alertServer, _ := newFormAccessServer(t)

	cases := []struct {
		name    string
		server  *testServer
		path    string
		heading string
		want    string
	}{
		{"executive runs", executiveServer.testServer, "/executive/runs", "Deliveries, retries included", "counts more than once"},
		{"outstanding acknowledgements", alertServer, "/console", "Last requested", "suppressed it as a duplicate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := htmlPage(t, tc.server, tc.path)
			heading := doc.Find("th").FilterFunction(func(_ int, th *goquery.Selection) bool {
				return strings.TrimSpace(th.Text()) == tc.heading
			})
			if heading.Length() != 1 {
				t.Fatalf("column %q: got %d headings, want 1", tc.heading, heading.Length())
			}
			if got := describedText(t, doc, heading); !strings.Contains(got, tc.want) {
				t.Errorf("column %q description: got %q, want it to contain %q", tc.heading, got, tc.want)
			}
			if got := heading.AttrOr("title", ""); got != "" {
				t.Errorf("column %q title: got %q, want none", tc.heading, got)
			}
		})
	}
}

// The two retry sections of the console have the same buttons, so each
// button's name says which kind of retry it prepares or runs.
func TestRetryButtonNamesNameTheirKind(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
	doc := htmlPage(t, s.testServer, "/console")

	names := map[string]string{
		"prepare-live-retry":       "Prepare live run… for executive retries",
		"alert-prepare-live-retry": "Prepare live run… for health alert retries",
	}
	for testID, want := range names {
		buttons := byTestID(doc, testID)
		if buttons.Length() != 1 {
			t.Errorf("%s: got %d buttons, want 1", testID, buttons.Length())
			continue
		}
		if got := strings.Join(strings.Fields(buttons.Text()), " "); got != want {
			t.Errorf("%s name: got %q, want %q", testID, got, want)
		}
	}

	policy := "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2&max_retry_deliveries=5"
	confirm := document(t, s.postForm("/console/executive-retry/confirm", policy, "HX-Request", "true"))
	if got, want := strings.Join(strings.Fields(byTestID(confirm, "run-live-retry").Text()), " "), "Run live retry for executive deliveries"; got != want {
		t.Errorf("confirmation button name: got %q, want %q", got, want)
	}
}
