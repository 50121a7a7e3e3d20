package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// longFilter is a filter value far over maxFilterLength.
var longFilter = strings.Repeat("p", 50_000)

// checkLongFilterRejected requests path, whose query has longFilter in
// field, and checks for a short 400 that names the field and the maximum.
func checkLongFilterRejected(t *testing.T, s *testServer, path, accept, field string) {
	t.Helper()
	rec := s.do(http.MethodGet, path, "", "", "Accept", accept)

	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", rec.Code)
	}
	body := rec.Body.String()
	if strings.Contains(body, longFilter[:maxFilterLength+1]) {
		t.Errorf("response repeats more than %d characters of the value", maxFilterLength)
	}
	if want := fmt.Sprintf("at most %d characters", maxFilterLength); !strings.Contains(body, want) {
		t.Errorf("response does not contain %q", want)
	}
	if !strings.Contains(body, field) {
		t.Errorf("response does not name %s", field)
	}
}

func TestHistoryLongFilterRejected(t *testing.T) {
	s := newAuditServer(t)

	t.Run("page", func(t *testing.T) {
		checkLongFilterRejected(t, s.testServer, "/history?provider="+longFilter, "text/html", "provider")
	})
	t.Run("JSON", func(t *testing.T) {
		checkLongFilterRejected(t, s.testServer, "/history?alert_level="+longFilter, "application/json", "alert_level")
	})

	// A value of the maximum length is a filter like any other.
	atMaximum := "/history?provider=" + longFilter[:maxFilterLength]
	if rec := s.do(http.MethodGet, atMaximum, "", "", "Accept", "application/json"); rec.Code != http.StatusOK {
		t.Errorf("provider of %d characters: status = %d, want 200", maxFilterLength, rec.Code)
	}
}

func TestAlertHistoryLongFilterRejected(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	alerts := auditDelivery + "/recovery-escalations/retry-health-alerts"

	tests := []struct {
		name, path, accept, field string
	}{
		{"console page", "/console?provider=" + longFilter, "text/html", "provider"},
		{"console health_id", "/console?health_id=" + longFilter, "text/html", "health_id"},
		{"console plan_id", "/console?plan_id=" + longFilter, "text/html", "plan_id"},
		{"console retry_plan_id", "/console?retry_plan_id=" + longFilter, "text/html", "retry_plan_id"},
		{"console JSON", "/console?metadata_kind=" + longFilter, "application/json", "metadata_kind"},
		{"alert history API", alerts + "?provider=" + longFilter, "application/json", "provider"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			checkLongFilterRejected(t, s.testServer, test.path, test.accept, test.field)
		})
	}

	atMaximum := alerts + "?provider=" + longFilter[:maxFilterLength]
	if rec := s.do(http.MethodGet, atMaximum, "", "", "Accept", "application/json"); rec.Code != http.StatusOK {
		t.Errorf("provider of %d characters: status = %d, want 200", maxFilterLength, rec.Code)
	}
}
