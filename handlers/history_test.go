package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/audit"
	"github.com/releaseops/evidence-console/audit/audittest"
	"github.com/releaseops/evidence-console/models"
)

// decodeHistoryPage decodes a combined history JSON response.
func decodeHistoryPage(t *testing.T, s *auditServer, path string) audit.HistoryPage {
	t.Helper()
	rec := s.getJSON(path)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: got status %d, want 200: %s", path, rec.Code, rec.Body.String())
	}
	var page audit.HistoryPage
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return page
}

// An executive report's status is its level (critical, warning or healthy),
// so the alert_level filter and field cover reports as they cover health
// snapshots and alert plans.
func TestHistoryExecutiveReportLevel(t *testing.T) {
	s := newAuditServer(t)
	critical := &models.ExecutiveReport{ID: "r3", Status: audit.LevelCritical, RecoverySLOMinutes: 240, PeriodDays: 7,
		PeriodStart: audittest.At(40).Add(-7 * 24 * time.Hour), PeriodEnd: audittest.At(40), ExecutionCount: 2,
		FailedExecutionCount: 2, KeyRiskCount: 1, Actor: "carol", GeneratedAt: audittest.At(40), Report: "{}"}
	if err := s.db.Create(critical).Error; err != nil {
		t.Fatalf("create report: %v", err)
	}

	page := decodeHistoryPage(t, s, runtimePrefix+"?alert_level=critical&metadata_kind=executive_report")
	if page.Total != 1 || len(page.Items) != 1 {
		t.Fatalf("critical reports: got total %d with %d items, want 1", page.Total, len(page.Items))
	}
	if got := page.Items[0]; got.ID != "r3" || got.AlertLevel != audit.LevelCritical {
		t.Errorf("critical report: got id %s with alert_level %q, want r3 with critical", got.ID, got.AlertLevel)
	}

	// The fixture's two reports are warnings, next to the warning snapshot
	// h2 and the warning plan pA.
	if got := decodeHistoryPage(t, s, runtimePrefix+"?alert_level=warning").Total; got != 4 {
		t.Errorf("warning records: got %d, want 4 (h2, pA, r1, r2)", got)
	}
	for _, item := range decodeHistoryPage(t, s, runtimePrefix+"?metadata_kind=executive_report").Items {
		if item.AlertLevel != item.Status {
			t.Errorf("report %s: got alert_level %q and status %q, want the level in both", item.ID, item.AlertLevel, item.Status)
		}
	}

	doc := document(t, s.getJSON("/history?alert_level=critical&metadata_kind=executive_report"))
	rows := byTestID(doc, "history-row")
	if rows.Length() != 1 {
		t.Fatalf("history page rows: got %d, want the critical report only", rows.Length())
	}
	if id, _ := rows.Attr("data-id"); id != "r3" {
		t.Errorf("history page row: got %s, want r3", id)
	}
	if got := strings.TrimSpace(rows.Find(`[data-label="Status"]`).Text()); got != audit.LevelCritical {
		t.Errorf("history page level: got %q, want critical", got)
	}
}

// A page past the last record states that it is past the end and links to
// the last and the first page, keeping the filters, instead of reading as an
// empty result.
func TestHistoryPagePastTheEnd(t *testing.T) {
	s := newAuditServer(t)

	// provider=slack matches 14 records, so the last page of 5 starts at 10.
	for _, offset := range []string{"100", "14"} {
		t.Run("offset "+offset, func(t *testing.T) {
			doc := document(t, s.getJSON("/history?provider=slack&limit=5&offset="+offset))
			if got := byTestID(doc, "history-row").Length(); got != 0 {
				t.Errorf("rows: got %d, want none", got)
			}
			if got := byTestID(doc, "history-empty").Length(); got != 0 {
				t.Error("page: says no records match, want it to say the page is past the end")
			}
			message := byTestID(doc, "history-past-end").Text()
			if !strings.Contains(message, "past the end") || !strings.Contains(message, "14 matching records") {
				t.Errorf("message: got %q, want it to say the page is past the end of the 14 matching records", message)
			}
			if byTestID(doc, "history-previous").Length() != 0 || byTestID(doc, "history-next").Length() != 0 {
				t.Error("links: got a previous or next page link, want only the last and first page")
			}
			for _, link := range []struct{ id, offset string }{{"history-last", "10"}, {"history-first", "0"}} {
				href, ok := byTestID(doc, link.id).Attr("href")
				if !ok {
					t.Errorf("%s: missing", link.id)
					continue
				}
				parsed, err := url.Parse(href)
				if err != nil || parsed.Path != "/history" {
					t.Errorf("%s: got %q, want a /history link", link.id, href)
					continue
				}
				query := parsed.Query()
				if query.Get("provider") != "slack" || query.Get("limit") != "5" || query.Get("offset") != link.offset {
					t.Errorf("%s: got %q, want provider slack, limit 5, offset %s", link.id, href, link.offset)
				}
			}
		})
	}

	// When every record fits on the first page, the last page is the first.
	doc := document(t, s.getJSON("/history?provider=teams&limit=5&offset=5"))
	if href, _ := byTestID(doc, "history-last").Attr("href"); !strings.Contains(href, "offset=0") {
		t.Errorf("last page of one record: got %q, want offset 0", href)
	}

	// The last page itself is not past the end.
	last := document(t, s.getJSON("/history?provider=slack&limit=5&offset=10"))
	if byTestID(last, "history-past-end").Length() != 0 || byTestID(last, "history-row").Length() != 4 {
		t.Error("last page: want its 4 rows and no past-the-end message")
	}

	// The JSON endpoint keeps returning an empty page with the exact total.
	page := decodeHistoryPage(t, s, runtimePrefix+"?provider=slack&limit=5&offset=100")
	if len(page.Items) != 0 || page.Total != 14 || page.Offset != 100 || page.Limit != 5 {
		t.Errorf("JSON past the end: got %d items, total %d, offset %d, limit %d; want 0, 14, 100, 5",
			len(page.Items), page.Total, page.Offset, page.Limit)
	}
}

// An alert or retry plan carries the destinations it includes as its
// provider, the attribute the provider filter matches, so a plan that
// provider=slack keeps shows slack.
func TestHistoryPlanItemsNameDestinations(t *testing.T) {
	s := newAuditServer(t)

	want := map[string]string{
		"pA": "slack,teams", "pB": "email,slack",
		"rp1": "slack,webhook", "rp2": "slack", "rp3": "email",
	}
	for _, kind := range []string{models.HistoryAlertPlan, models.HistoryRetryPlan} {
		page := decodeHistoryPage(t, s, runtimePrefix+"?metadata_kind="+kind)
		if len(page.Items) == 0 {
			t.Errorf("%s items: got none, want the fixture's plans", kind)
		}
		for _, item := range page.Items {
			if item.Provider != want[item.ID] {
				t.Errorf("%s %s provider: got %q, want %q", kind, item.ID, item.Provider, want[item.ID])
			}
		}
	}

	for _, provider := range []string{"slack", "teams", "email"} {
		page := decodeHistoryPage(t, s, runtimePrefix+"?limit=500&provider="+provider)
		for _, item := range page.Items {
			if !slices.Contains(strings.Split(item.Provider, ","), provider) {
				t.Errorf("provider=%s: item %s (%s) has provider %q, want it to include %s",
					provider, item.ID, item.MetadataKind, item.Provider, provider)
			}
		}
	}

	doc := document(t, s.getJSON("/history?metadata_kind=alert_plan"))
	row := doc.Find(`[data-testid="history-row"][data-id="pA"]`)
	if got := strings.TrimSpace(row.Find(`[data-label="Destination"]`).Text()); got != "slack, teams" {
		t.Errorf("history page destination of pA: got %q, want \"slack, teams\"", got)
	}
	if note := byTestID(doc, "history-filter-note").Text(); !strings.Contains(note, "plans that include the destination") {
		t.Errorf("filter note: got %q, want it to say which plans the destination filter keeps", note)
	}
}

// With no matching record, a page past the first shows that nothing matches
// and links only to the first page, not to a previous page that is as empty.
func TestHistoryPageOffsetWithoutMatches(t *testing.T) {
	s := newAuditServer(t)
	filters := "/history?metadata_kind=acknowledgement&acknowledgement_state=resolved&limit=5"

	doc := document(t, s.getJSON(filters+"&offset=10"))
	if got := byTestID(doc, "history-empty").Length(); got != 1 {
		t.Errorf("no-match message: got %d, want 1", got)
	}
	assertNoElements(t, doc, "history-row", "history-past-end", "history-previous", "history-next", "history-last")
	assertPageLink(t, doc, "history-first", "/history", map[string]string{
		"metadata_kind": "acknowledgement", "acknowledgement_state": "resolved", "limit": "5", "offset": "0",
	})

	first := document(t, s.getJSON(filters+"&offset=0"))
	assertNoElements(t, first, "history-previous", "history-next", "history-last", "history-first")

	page := decodeHistoryPage(t, s, runtimePrefix+"?metadata_kind=acknowledgement&acknowledgement_state=resolved&limit=5&offset=10")
	if len(page.Items) != 0 || page.Total != 0 || page.Offset != 10 {
		t.Errorf("JSON: got %d items, total %d, offset %d; want 0, 0, 10", len(page.Items), page.Total, page.Offset)
	}
}

// The combined history marks a repeated acknowledgement action, as the
// console's alert history does, so it does not read as a second change.
func TestHistoryMarksRepeatedAcknowledgement(t *testing.T) {
	s := newAuditServer(t)
	repeat := models.AlertAcknowledgement{ID: "a-repeat", HealthID: "h2", OccurrenceID: "h2", Provider: "slack", Sequence: 2,
		AcknowledgementState: models.AcknowledgementAcknowledged, Repeat: true, Actor: "owner", CreatedAt: audittest.At(13)}
	if err := s.db.Create(&repeat).Error; err != nil {
		t.Fatalf("store the repeated action: %v", err)
	}

	page := decodeHistoryPage(t, s, runtimePrefix+"?metadata_kind=acknowledgement&provider=slack")
	repeats := map[string]bool{}
	for _, item := range page.Items {
		repeats[item.ID] = item.Repeat
	}
	if len(repeats) != 2 || !repeats["a-repeat"] || repeats["a1"] {
		t.Errorf("JSON repeat flags: got %v, want a1 false and a-repeat true", repeats)
	}

	doc := document(t, s.getJSON("/history?metadata_kind=acknowledgement&provider=slack"))
	if got := byTestID(doc, "history-row").Length(); got != 2 {
		t.Fatalf("rows: got %d, want 2", got)
	}
	marked := byTestID(doc, "history-repeat")
	if marked.Length() != 1 {
		t.Fatalf("rows marked as repeats: got %d, want 1", marked.Length())
	}
	if id := marked.Closest(`[data-testid="history-row"]`).AttrOr("data-id", ""); id != "a-repeat" {
		t.Errorf("marked row: got %q, want a-repeat", id)
	}
	status := strings.Join(strings.Fields(marked.Closest("td").Text()), " ")
	if status != "acknowledged (repeat)" {
		t.Errorf("status cell: got %q, want \"acknowledged (repeat)\"", status)
	}
}
