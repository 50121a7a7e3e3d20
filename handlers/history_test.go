package handlers

import (
	"encoding/json"
	"net/http"
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
