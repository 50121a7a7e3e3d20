package handlers

import (
	"net/http"
	"strings"
	"testing"
)

func TestEmptyQueryValueIsAbsent(t *testing.T) {
	s := newAPIServer(t)
	alerts := auditDelivery + "/recovery-escalations/retry-health-alerts"
	for _, path := range []string{
		runtimePrefix + "?provider=&limit=&offset=",
		alerts + "?health_id=&provider=&suppressed=&limit=&offset=",
		alerts + "/retry-worker-runs?limit=&offset=",
		auditDelivery + "/recovery-executive-report/schedule-runs?limit=&offset=",
		auditDelivery + "/recovery-executive-report/delivery-retry-worker-runs?limit=&offset=",
	} {
		rec := s.getJSON(path)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status = %d, want 200 (body %.300s)", path, rec.Code, rec.Body.String())
			continue
		}
		if !strings.Contains(rec.Body.String(), `"limit":50`) {
			t.Errorf("%s: body %.300s, want the default limit 50", path, rec.Body.String())
		}
	}
}

func TestEmptyBodyIdentifierRejected(t *testing.T) {
	s := newAPIServer(t)
	cases := []struct {
		name  string
		path  string
		body  string
		field string
	}{
		{"acknowledgement plan_id", auditDelivery + "/recovery-escalations/retry-health-alerts/h1/acknowledgements", `{"provider":"webhook","plan_id":""}`, "plan_id"},
		{"acknowledgement state", auditDelivery + "/recovery-escalations/retry-health-alerts/h1/acknowledgements", `{"provider":"webhook","acknowledgement_state":" "}`, "acknowledgement_state"},
		{"delivery run_id", auditDelivery + "/recovery-executive-report/schedule-runs/latest/deliver", `{"run_id":""}`, "run_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.postJSON(tc.path, tc.body)

			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400 (body %s)", rec.Code, rec.Body.String())
			}
			if !strings.Contains(rec.Body.String(), `"field":"`+tc.field+`"`) {
				t.Errorf("body %s, want field %s named", rec.Body.String(), tc.field)
			}
			if !strings.Contains(rec.Body.String(), "is empty") {
				t.Errorf("body %s, want the message to say the value is empty", rec.Body.String())
			}
		})
	}
}
