package handlers

import (
	"net/http"
	"strings"
	"testing"
)

func TestConsoleHealthPanel(t *testing.T) {
	s := newTestServer(t)
	s.loadSample()

	rec := s.do(http.MethodGet, "/console", "", "", "Accept", "text/html")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	doc := document(t, rec)

	if byTestID(doc, "go-rollback-drill-notifications").Length() != 1 {
		t.Error("console has no Go Rollback Drill Notifications section")
	}
	if got, _ := byTestID(doc, "alert-level").Attr("data-level"); got != "critical" {
		t.Errorf("level = %q, want critical", got)
	}

	wantCategories := map[string]bool{
		"missed_recovery_escalation_retry_worker":    true,
		"recovery_escalation_acknowledgement_gap":    true,
		"failed_recovery_escalation_retry_execution": true,
	}
	findings := byTestID(doc, "finding")
	if findings.Length() != len(wantCategories) {
		t.Errorf("finding count = %d, want %d", findings.Length(), len(wantCategories))
	}
	for i := range findings.Nodes {
		category, _ := findings.Eq(i).Attr("data-category")
		if !wantCategories[category] {
			t.Errorf("unexpected finding %q", category)
		}
	}

	if got := strings.TrimSpace(byTestID(doc, "count-worker_run_count").Find("dd").Text()); got != "144" {
		t.Errorf("worker run count = %q, want 144", got)
	}
	if got := byTestID(doc, "latest-worker-run-age").Text(); !strings.HasPrefix(got, "75 min ago") {
		t.Errorf("newest worker run age = %q, want 75 min ago", got)
	}
	if got := byTestID(doc, "latest-retry-plan-age").Text(); !strings.HasPrefix(got, "50 min ago") {
		t.Errorf("newest retry plan age = %q, want 50 min ago", got)
	}
	if byTestID(doc, "recommended-actions").Find("li").Length() != 3 {
		t.Errorf("recommended actions = %d, want one per finding (3)", byTestID(doc, "recommended-actions").Find("li").Length())
	}
	if byTestID(doc, "open-failure").Length() != 1 {
		t.Errorf("open failures listed = %d, want 1 (pagerduty)", byTestID(doc, "open-failure").Length())
	}
	if byTestID(doc, "health-id").Length() != 0 {
		t.Error("console shows a health id before anything was built; want the preview")
	}
}

func TestConsoleUnknownSnapshotIsFriendly404(t *testing.T) {
	s := newTestServer(t)
	rec := s.do(http.MethodGet, "/console?health_id=hlth_missing", "", "", "Accept", "text/html")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status = %d, want 404", rec.Code)
	}
	if byTestID(document(t, rec), "error-page").Length() != 1 {
		t.Errorf("404 is not the friendly error page: %s", rec.Body)
	}
	for _, want := range []string{"hlth_missing", "Health id filter"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("404 page: want it to contain %q: %s", want, rec.Body)
		}
	}
}

func TestHealthAndReadinessProbes(t *testing.T) {
	s := newTestServer(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if rec := s.getJSON(path); rec.Code != http.StatusOK {
			t.Errorf("%s status = %d, want 200", path, rec.Code)
		}
	}
}

// A probe or a script that sends a stale token to every address still gets
// a response from the public routes.
func TestPublicRoutesIgnoreBadToken(t *testing.T) {
	s := newTestServer(t)
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/openapi.json"} {
		for _, header := range []string{"Bearer ecp_unknown_token_value", "Bearer ", "Basic abc"} {
			rec := s.do(http.MethodGet, path, "", "", "Authorization", header)
			if rec.Code != http.StatusOK {
				t.Errorf("GET %s with Authorization %q: status %d, want 200", path, header, rec.Code)
			}
		}
	}
	rec := s.do(http.MethodGet, "/console", "", "", "Authorization", "Bearer ecp_unknown_token_value", "Accept", "application/json")
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("GET /console with an unknown token: status %d, want 401", rec.Code)
	}
}

// TestHealthCountsNameTheirScope checks that the labels of the health
// panel's counts that do not cover every record name their scope. The
// selected retries and pending acknowledgements come from the newest worker
// run only, and the retryable retries add up every retry plan.
func TestHealthCountsNameTheirScope(t *testing.T) {
	s := newTestServer(t)
	s.loadSample()

	rec := s.do(http.MethodGet, "/console", "", "", "Accept", "text/html")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	doc := document(t, rec)

	labels := map[string]string{
		"count-retryable_retry_count":         "Retryable retries, all plans",
		"count-selected_retry_count":          "Selected retries, newest run",
		"count-acknowledgement_pending_count": "Pending acknowledgements, newest run",
	}
	for testID, want := range labels {
		if got := strings.TrimSpace(byTestID(doc, testID).Find("dt").Text()); got != want {
			t.Errorf("label of %s = %q, want %q", testID, got, want)
		}
	}
}
