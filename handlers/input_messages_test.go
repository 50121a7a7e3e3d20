package handlers

import (
	"net/http"
	"strings"
	"testing"
)

func TestInputMessagesNameTheFix(t *testing.T) {
	s := newTestServer(t)
	rec := s.postJSON(auditDelivery+"/recovery-escalations/retry-health-alerts/hlth_1/acknowledgements",
		`{"provider":"slack","acknowledgement_state":" "}`)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"field":"acknowledgement_state"`) ||
		!strings.Contains(rec.Body.String(), "acknowledgement_state is empty; send one of") {
		t.Errorf("empty acknowledgement_state: got %d %s, want a 400 naming the field", rec.Code, rec.Body.String())
	}

	rec = s.getJSON(runtimePrefix + "/audit/export?from=0001-01-01T00:00:00Z&to=0001-06-01T00:00:00Z")
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "from must be a time from 1970 on") {
		t.Errorf("export from year 1: got %d %s, want a 400 asking for a time from 1970 on", rec.Code, rec.Body.String())
	}
}
