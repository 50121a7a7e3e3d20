package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func TestUnpairedSurrogateRejected(t *testing.T) {
	s := newAlertServer(t, map[string]destination{"slack": {kind: connectors.KindSlack, url: "{receiver}/slack/T/B/X"}})
	path := auditDelivery + "/recovery-escalations/retry-health-alerts/deliver"
	cases := []struct {
		name      string
		body      string
		wantField string
		want      string
	}{
		{"lone high", `{"provider":"sl\ud800ack"}`, "provider", `provider contains the unpaired UTF-16 surrogate escape \\ud800 (at byte 16)`},
		{"lone low", `{"provider":"\uDC00"}`, "provider", `escape \\uDC00`},
		{"high then not low", `{"provider":"\ud800\u0041"}`, "provider", `escape \\ud800`},
		{"high at end", `{"provider":"a\ud800"}`, "provider", `escape \\ud800`},
		{"two highs", `{"provider":"\ud800\ud800\udc00"}`, "provider", `escape \\ud800 (at byte 14)`},
		{"in a key", `{"prov\ud800":"slack"}`, "prov\ufffd", "the field name \\\"prov\ufffd\\\" contains the unpaired"},
		{"in a list", `{"providers":["slack","\udfff"]}`, "providers[1]", `providers[1] contains`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := dbtest.CountRows(t, s.db)

			rec := s.postJSON(path, tc.body)

			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status: got %d, want 400 (body %s)", rec.Code, rec.Body.String())
			}
			assertNothingStored(t, before, dbtest.CountRows(t, s.db))
			if !strings.Contains(rec.Body.String(), `"field":"`+tc.wantField+`"`) {
				t.Errorf("body: got %s, want field %s", rec.Body.String(), tc.wantField)
			}
			if !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("body: got %s, want %s", rec.Body.String(), tc.want)
			}
		})
	}
}

func TestSurrogatePairAccepted(t *testing.T) {
	for _, body := range []string{
		`{"provider":"\ud83d\ude00"}`,
		`{"provider":"\uD83D\uDE00 and \u00e9"}`,
		`{"provider":"\\ud800"}`,
		`{"provider":"\\\ud83d\ude00"}`,
	} {
		if offset := unpairedSurrogateOffset([]byte(body)); offset != -1 {
			t.Errorf("%s: unpaired escape at byte %d, want none", body, offset)
		}
	}
}
