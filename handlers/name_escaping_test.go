package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/connectors"
)

func TestEchoedNamesEscaped(t *testing.T) {
	s := newAlertServer(t, map[string]destination{"slack": {kind: connectors.KindSlack, url: "{receiver}/slack/T/B/X"}})
	deliver := auditDelivery + "/recovery-escalations/retry-health-alerts/deliver"
	cases := []struct {
		name      string
		method    string
		path      string
		body      string
		wantField string
	}{
		{"unknown body field", http.MethodPost, deliver, `{"provider\u202e":"slack"}`, `provider\u202e`},
		{"body field with a control character", http.MethodPost, deliver, `{"pro\u0007vider":"slack"}`, `pro\u0007vider`},
		{"repeated body field", http.MethodPost, deliver, `{"provider":"slack","provider":"slack"}`, `provider`},
		{"unknown query parameter", http.MethodGet, runtimePrefix + "?x%E2%80%AE=1", "", `x\u202e`},
		{"repeated query parameter", http.MethodGet, runtimePrefix + "?x%E2%80%8F=1&x%E2%80%8F=2", "", `x\u200f`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.do(tc.method, tc.path, "application/json", tc.body)

			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status: got %d, want 400 (body %s)", rec.Code, rec.Body.String())
			}
			var response struct {
				Error struct {
					Field   string `json:"field"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &response); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if response.Error.Field != tc.wantField {
				t.Errorf("field: got %q, want %q", response.Error.Field, tc.wantField)
			}
			if !strings.HasPrefix(response.Error.Message, tc.wantField+" ") {
				t.Errorf("message: got %q, want it to start with %q", response.Error.Message, tc.wantField)
			}
			for _, r := range response.Error.Field + response.Error.Message {
				if r == '\u202e' || r == '\u200f' || r == '\a' {
					t.Errorf("response: got the raw character %U, want it escaped", r)
				}
			}
		})
	}
}
