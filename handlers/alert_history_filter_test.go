package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/alerting"
)

// Only plans have the suppressed attribute, so suppressed=true and
// suppressed=false both keep plans only, as acknowledgement_state keeps
// acknowledgement actions only.
func TestAlertHistorySuppressedKeepsPlansOnly(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, first := s.deliver(`{"retries": 0}`)
	s.clock.Advance(time.Minute)
	_, second := s.deliver(`{"retries": 0}`)
	ack := s.postJSON(alertsPath+"/"+first.Health.HealthID+"/acknowledgements", `{"provider": "alpha"}`)
	if ack.Code != http.StatusOK && ack.Code != http.StatusCreated {
		t.Fatalf("acknowledge: got status %d: %s", ack.Code, ack.Body.String())
	}

	history := func(query string) alerting.HistoryPage {
		t.Helper()
		rec := s.getJSON(alertsPath + query)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: got status %d, want 200: %s", query, rec.Code, rec.Body.String())
		}
		var page alerting.HistoryPage
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Fatalf("decode %s: %v", query, err)
		}
		return page
	}

	if got := history("").Total; got != 5 {
		t.Fatalf("unfiltered: got %d items, want 5 (2 plans, 2 deliveries, 1 acknowledgement)", got)
	}
	tests := []struct {
		query    string
		wantPlan string
	}{
		{"?suppressed=true", second.Plan.PlanID},
		{"?suppressed=false", first.Plan.PlanID},
		{"?suppressed=true&provider=alpha", second.Plan.PlanID},
		{"?suppressed=false&provider=alpha", first.Plan.PlanID},
	}
	for _, tc := range tests {
		page := history(tc.query)
		if page.Total != 1 || len(page.Items) != 1 {
			t.Errorf("%s: got total %d with %d items, want the one plan %s", tc.query, page.Total, len(page.Items), tc.wantPlan)
			continue
		}
		if item := page.Items[0]; item.Plan == nil || item.ID != tc.wantPlan {
			t.Errorf("%s: got %s item %s, want plan %s", tc.query, item.MetadataKind, item.ID, tc.wantPlan)
		}
	}
	for _, query := range []string{"?suppressed=false&metadata_kind=delivery", "?suppressed=false&metadata_kind=acknowledgement"} {
		if got := history(query).Total; got != 0 {
			t.Errorf("%s: got %d items, want 0, because only plans have the attribute", query, got)
		}
	}

	doc := document(t, s.do(http.MethodGet, "/console?suppressed=false", "", "", "Accept", "text/html"))
	rows := byTestID(doc, "history-row")
	if rows.Length() != 1 {
		t.Errorf("console alert history rows: got %d, want the one plan", rows.Length())
	}
	if kind, _ := rows.Attr("data-kind"); kind != "plan" {
		t.Errorf("console alert history row: got kind %q, want plan", kind)
	}
	if got := strings.TrimSpace(rows.Find("td").Eq(2).Text()); got != "alpha, beta" {
		t.Errorf("console plan row destination: got %q, want \"alpha, beta\", the destinations the provider filter matches", got)
	}
	if got := byTestID(doc, "history-filter-note").Text(); !strings.Contains(got, "Suppressed keeps plans only") {
		t.Errorf("console filter note: got %q, want it to say Suppressed keeps plans only", got)
	}
}
