package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/alerting"
)

func TestDashboardPagesOutstanding(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	s.deliver(`{"retries": 0}`)
	path := auditDelivery + "/recovery-escalations/retry-health-alert-dashboard"
	page := func(query string) alerting.Dashboard {
		t.Helper()
		rec := s.getJSON(path + query)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: status %d, want 200: %s", query, rec.Code, rec.Body.String())
		}
		var d alerting.Dashboard
		if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
			t.Fatalf("decode %s: %v", query, err)
		}
		return d
	}

	first := page("?outstanding_limit=1")
	second := page("?outstanding_limit=1&outstanding_offset=1")
	if first.OutstandingAcknowledgementCount != 2 || len(first.OutstandingAcknowledgements) != 1 || len(second.OutstandingAcknowledgements) != 1 {
		t.Fatalf("pages of one: count %d, items %d and %d; want 2 with one item on each page",
			first.OutstandingAcknowledgementCount, len(first.OutstandingAcknowledgements), len(second.OutstandingAcknowledgements))
	}
	if first.OutstandingAcknowledgements[0].Provider == second.OutstandingAcknowledgements[0].Provider {
		t.Errorf("both pages list %s, want each destination once", first.OutstandingAcknowledgements[0].Provider)
	}
	if second.OutstandingLimit != 1 || second.OutstandingOffset != 1 {
		t.Errorf("second page: limit %d offset %d, want 1 and 1", second.OutstandingLimit, second.OutstandingOffset)
	}
	if past := page("?outstanding_offset=2"); len(past.OutstandingAcknowledgements) != 0 || past.OutstandingAcknowledgementCount != 2 {
		t.Errorf("past the end: %d items of %d, want none of 2", len(past.OutstandingAcknowledgements), past.OutstandingAcknowledgementCount)
	}
	if empty := page("?outstanding_limit=&outstanding_offset="); empty.OutstandingLimit != alerting.DefaultOutstandingLimit || empty.OutstandingOffset != 0 {
		t.Errorf("empty parameters: limit %d offset %d, want the defaults", empty.OutstandingLimit, empty.OutstandingOffset)
	}
	if page("").OutstandingLimit != 20 {
		t.Errorf("default limit: got %d, want 20", page("").OutstandingLimit)
	}
	if got := len(page("?outstanding_limit=500&outstanding_offset=2147483647").OutstandingAcknowledgements); got != 0 {
		t.Errorf("largest limit and offset: got %d items, want 0", got)
	}

	bad := []struct{ query, field string }{
		{"outstanding_limit=0", "outstanding_limit"}, {"outstanding_limit=501", "outstanding_limit"},
		{"outstanding_limit=ten", "outstanding_limit"}, {"outstanding_offset=-1", "outstanding_offset"},
		{"outstanding_offset=2147483648", "outstanding_offset"}, {"outstanding_offset=1.5", "outstanding_offset"},
		{"limit=1", "limit"},
	}
	for _, tc := range bad {
		rec := s.getJSON(path + "?" + tc.query)
		if rec.Code != http.StatusBadRequest || alertErrorField(t, rec) != tc.field {
			t.Errorf("%s: status %d field %q, want 400 naming %s", tc.query, rec.Code, alertErrorField(t, rec), tc.field)
		}
	}
}

// The console's outstanding list links its other pages, keeping the other
// console parameters, and an acknowledgement saved on a later page returns
// to that page.
func TestConsolePagesOutstanding(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"retries": 0}`)

	doc := document(t, s.do(http.MethodGet, "/console?outstanding_limit=1&provider=alpha&limit=1", "", "", "Accept", "text/html"))
	if got := byTestID(doc, "outstanding-row").Length(); got != 1 {
		t.Fatalf("rows on the first page: got %d, want 1", got)
	}
	if got := byTestID(doc, "outstanding-shown").Text(); !strings.Contains(got, "Items 1–1 of 2") {
		t.Errorf("first page text: got %q, want it to say items 1–1 of 2", got)
	}
	next := byTestID(doc, "outstanding-next").AttrOr("href", "")
	nextURL, err := url.Parse(next)
	if err != nil {
		t.Fatalf("next link %q: %v", next, err)
	}
	for name, want := range map[string]string{"outstanding_offset": "1", "outstanding_limit": "1", "provider": "alpha", "limit": "1"} {
		if got := nextURL.Query().Get(name); got != want {
			t.Errorf("next link %q: %s is %q, want %q", next, name, got, want)
		}
	}
	historyNext := byTestID(doc, "history-next").AttrOr("href", "")
	if !strings.Contains(historyNext, "outstanding_limit=1") {
		t.Errorf("history link %q, want it to keep outstanding_limit", historyNext)
	}

	second := document(t, s.do(http.MethodGet, next, "", "", "Accept", "text/html"))
	row := byTestID(second, "outstanding-row")
	if row.Length() != 1 {
		t.Fatalf("rows on the second page: got %d, want 1", row.Length())
	}
	if byTestID(second, "outstanding-prev").Length() != 1 || byTestID(second, "outstanding-next").Length() != 0 {
		t.Errorf("second page links: want Newer only")
	}
	if byTestID(doc, "outstanding-row").AttrOr("data-provider", "") == row.AttrOr("data-provider", "") {
		t.Errorf("both pages list %s, want each destination once", row.AttrOr("data-provider", ""))
	}
	returnTo := row.Find(`input[name="return_to"]`).AttrOr("value", "")
	if !strings.Contains(returnTo, "outstanding_offset=1") {
		t.Errorf("form return_to %q, want the second page", returnTo)
	}

	// Escalating keeps the item outstanding, so the htmx response still
	// shows the second page with one item.
	provider := row.AttrOr("data-provider", "")
	action := "/console/retry-health-alerts/" + result.Health.HealthID + "/acknowledgements"
	rec := s.postForm(action, url.Values{"provider": {provider}, "acknowledgement_state": {"escalated"}, "return_to": {returnTo}}.Encode(), "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("htmx escalate: status %d: %s", rec.Code, rec.Body.String())
	}
	after := document(t, rec)
	if got := byTestID(after, "outstanding-row").AttrOr("data-provider", ""); got != provider {
		t.Errorf("htmx response lists %q, want the second page with %s", got, provider)
	}
	plain := s.postForm(action, url.Values{"provider": {provider}, "acknowledgement_state": {"escalated"}, "return_to": {returnTo}}.Encode())
	if got := plain.Header().Get("Location"); got != returnTo {
		t.Errorf("plain post redirected to %q, want %q", got, returnTo)
	}

	past := document(t, s.do(http.MethodGet, "/console?outstanding_offset=5", "", "", "Accept", "text/html"))
	if got := byTestID(past, "outstanding-shown").Text(); !strings.Contains(got, "past the end") {
		t.Errorf("page past the end: got %q, want it to say so", got)
	}
	if byTestID(past, "no-outstanding").Length() != 0 {
		t.Error("page past the end says every destination acknowledged")
	}
	if byTestID(past, "outstanding-last").Length() != 1 {
		t.Error("page past the end: want a link to the last page")
	}

	if rec := s.do(http.MethodGet, "/console?outstanding_limit=0", "", "", "Accept", "text/html"); rec.Code != http.StatusBadRequest {
		t.Errorf("outstanding_limit=0: status %d, want 400", rec.Code)
	}
}
