package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/models/dbtest"
)

const retryHealthPath = auditDelivery + "/recovery-escalations/retry-health"

func TestRetryHealthGetWritesNothing(t *testing.T) {
	s := newTestServer(t)
	s.loadSample()
	before := dbtest.CountRows(t, s.db)

	rec := s.getJSON(retryHealthPath + "?expected_interval_minutes=30&stale_metadata_minutes=120")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	var report health.Report
	if err := json.Unmarshal(rec.Body.Bytes(), &report); err != nil {
		t.Fatalf("decode report: %v", err)
	}
	if report.AlertLevel != "critical" {
		t.Errorf("alert_level = %q, want critical for the sample", report.AlertLevel)
	}
	if report.HealthID != "" {
		t.Errorf("health_id = %q, want none: a GET persists nothing", report.HealthID)
	}

	after := dbtest.CountRows(t, s.db)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("rows in %s = %d after GET, want %d", table, after[table], n)
		}
	}
}

func TestRetryHealthRejectsBadThresholds(t *testing.T) {
	s := newTestServer(t)
	cases := []struct {
		query     string
		wantField string
	}{
		{"expected_interval_minutes=0", "expected_interval_minutes"},
		{"expected_interval_minutes=10081", "expected_interval_minutes"},
		{"expected_interval_minutes=1.5", "expected_interval_minutes"},
		{"expected_interval_minutes=abc", "expected_interval_minutes"},
		{"stale_metadata_minutes=-1", "stale_metadata_minutes"},
		{"stale_metadata_minutes=true", "stale_metadata_minutes"},
	}
	for _, c := range cases {
		rec := s.getJSON(retryHealthPath + "?" + c.query)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status = %d, want 400", c.query, rec.Code)
			continue
		}
		var body struct {
			Error APIError `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: decode error: %v", c.query, err)
		}
		if body.Error.Field != c.wantField {
			t.Errorf("%s: error field = %q, want %q", c.query, body.Error.Field, c.wantField)
		}
		if !strings.Contains(body.Error.Message, c.wantField) {
			t.Errorf("%s: message %q does not name %s", c.query, body.Error.Message, c.wantField)
		}
	}
}

func TestRetryHealthAcceptsRangeEdges(t *testing.T) {
	s := newTestServer(t)
	for _, query := range []string{"expected_interval_minutes=1&stale_metadata_minutes=1", "expected_interval_minutes=10080&stale_metadata_minutes=10080"} {
		if rec := s.getJSON(retryHealthPath + "?" + query); rec.Code != http.StatusOK {
			t.Errorf("%s: status = %d, want 200; body %s", query, rec.Code, rec.Body)
		}
	}
}

func TestBuildRetryHealthPlainPostRedirects(t *testing.T) {
	s := newTestServer(t)
	s.loadSample()

	rec := s.postForm("/console/retry-health", "expected_interval_minutes=30&stale_metadata_minutes=120")
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303; body %s", rec.Code, rec.Body)
	}
	location := rec.Header().Get("Location")
	if !strings.HasPrefix(location, "/console?health_id=hlth_") {
		t.Fatalf("Location = %q, want /console?health_id=hlth_…", location)
	}

	// Browsers do not send the #fragment; httptest would put it in the query.
	location, _, _ = strings.Cut(location, "#")
	page := s.do(http.MethodGet, location, "", "", "Accept", "text/html")
	doc := document(t, page)
	if got := byTestID(doc, "health-id").Text(); !strings.HasPrefix(got, "hlth_") {
		t.Errorf("console shows health id %q, want the new snapshot", got)
	}
}

func TestBuildRetryHealthHTMXReturnsPanel(t *testing.T) {
	s := newTestServer(t)
	s.loadSample()

	rec := s.postForm("/console/retry-health", "expected_interval_minutes=30", "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	doc := document(t, rec)
	if byTestID(doc, "retry-health-panel").Length() != 1 {
		t.Fatalf("htmx response has no health panel: %s", rec.Body)
	}
	if strings.Contains(rec.Body.String(), "<html") {
		t.Errorf("htmx response is a whole page, want only the panel fragment")
	}
	if got, _ := byTestID(doc, "alert-level").Attr("data-level"); got != "critical" {
		t.Errorf("panel level = %q, want critical", got)
	}
}

func TestBuildRetryHealthBadInputStoresNothing(t *testing.T) {
	s := newTestServer(t)
	before := dbtest.CountRows(t, s.db)

	rec := s.postForm("/console/retry-health", "expected_interval_minutes=0", "HX-Request", "true")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", rec.Code)
	}
	doc := document(t, rec)
	if got, _ := byTestID(doc, "error-fragment").Attr("data-field"); got != "expected_interval_minutes" {
		t.Errorf("error fragment field = %q, want expected_interval_minutes", got)
	}
	after := dbtest.CountRows(t, s.db)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("rows in %s = %d after a rejected build, want %d", table, after[table], n)
		}
	}
}
