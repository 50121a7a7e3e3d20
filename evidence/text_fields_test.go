package evidence

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
)

const closureKind = "go-backend-rollback-drill-acknowledgement-audit-delivery-connector-recovery-closure"

// closureBatch returns a batch of one valid plan and one closure whose
// fields after closure_id are the given JSON members.
func closureBatch(members string) string {
	return `{"items": [
	 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-delivery-retry-plan",
	  "retry_plan_id": "plan-ok", "retryable_count": 1, "created_at": "2026-05-01T11:00:00Z"},
	 {"metadata_kind": "` + closureKind + `", "closure_id": "cl-bad", ` + members + `}
	]}`
}

func TestIngestRejectsUnstorableText(t *testing.T) {
	cases := []struct {
		name      string
		members   string
		wantField string
		wantText  string
	}{
		{"NUL in a required field", `"playbook_id": "pb-1", "provider": "sl\u0000ack", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"provider", "NUL character"},
		{"NUL in session_id", `"session_id": "s\u0000", "playbook_id": "pb-1", "provider": "slack", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"session_id", "NUL character"},
		{"number as session_id", `"session_id": 12345, "playbook_id": "pb-1", "provider": "slack", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"session_id", "must be a string"},
		{"201 characters", `"playbook_id": "pb-1", "provider": "` + strings.Repeat("é", 201) + `", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"provider", "at most 200 characters"},
		{"bad time", `"playbook_id": "pb-1", "provider": "slack", "closure_state": "resolved", "closed_at": "yesterday"`,
			"closed_at", "not a timestamp"},
		{"zero time", `"playbook_id": "pb-1", "provider": "slack", "closure_state": "resolved", "closed_at": "0001-01-01T00:00:00Z"`,
			"closed_at", "is before 1970"},
		{"time past the clock skew", `"playbook_id": "pb-1", "provider": "slack", "closure_state": "resolved", "closed_at": "2026-05-01T12:05:01Z"`,
			"closed_at", "more than 5m0s after this server's time 2026-05-01T12:00:00Z"},
		{"local time without a zone", `"playbook_id": "pb-1", "provider": "slack", "closure_state": "resolved", "closed_at": "2026-05-01T13:30:00"`,
			"closed_at", "a time without a zone is read as UTC, so send it with Z or its offset"},
		{"far future time", `"playbook_id": "pb-1", "provider": "slack", "closure_state": "resolved", "closed_at": "2099-01-01T00:00:00Z"`,
			"closed_at", "is 2099-01-01T00:00:00Z, more than"},
		{"link as provider", `"playbook_id": "pb-1", "provider": "https://hooks.slack.com/services/T0/B0/planted", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"provider", "contains a link"},
		{"upper-case link inside text", `"playbook_id": "pb-1", "provider": "slack via HTTPS://h.example/x", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"provider", "contains a link"},
		{"credential as closure state", `"playbook_id": "pb-1", "provider": "slack", "closure_state": "Bearer abc123def456ghi", "closed_at": "2026-05-01T09:00:00Z"`,
			"closure_state", "authorization credential"},
		{"webhook link without scheme", `"playbook_id": "hooks.slack.com/services/T0/B0/planted", "provider": "slack", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"playbook_id", "webhook link"},
		{"assignment in session_id", `"session_id": "s1 token=planted1", "playbook_id": "pb-1", "provider": "slack", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"session_id", "assignment"},
		{"text-direction override in provider", `"playbook_id": "pb-1", "provider": "kcals\u202e", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"provider", "U+202E"},
		{"escape sequence and line break in provider", `"playbook_id": "pb-1", "provider": "evil\u001b[31mred\r\nlevel=ERROR msg=forged", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"provider", "control character U+001B"},
		{"carriage return in playbook_id", `"playbook_id": "pb\r1", "provider": "slack", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"playbook_id", "control character U+000D"},
		{"trailing line feed in provider", `"playbook_id": "pb-1", "provider": "slack\n", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"provider", "control character U+000A"},
		{"tab in closure_state", `"playbook_id": "pb-1", "provider": "slack", "closure_state": "res\tolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"closure_state", "control character U+0009"},
		{"delete in provider", `"playbook_id": "pb-1", "provider": "sla\u007fck", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"provider", "control character U+007F"},
		{"C1 next line in provider", `"playbook_id": "pb-1", "provider": "slack\u0085", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"provider", "control character U+0085"},
		{"line separator in provider", `"playbook_id": "pb-1", "provider": "slack\u2028level=ERROR forged", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"provider", "separator U+2028"},
		{"paragraph separator in playbook_id", `"playbook_id": "pb\u20291", "provider": "slack", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"playbook_id", "separator U+2029"},
		{"line feed in session_id", `"session_id": "s1\nforged", "playbook_id": "pb-1", "provider": "slack", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"`,
			"session_id", "control character U+000A"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			service := newService(t)

			result, err := service.Ingest(context.Background(), decode(t, closureBatch(tc.members)))

			if err != nil {
				t.Fatalf("ingest: %v", err)
			}
			if result.Inserted != 1 {
				t.Errorf("inserted: got %d, want 1 (the valid plan still lands)", result.Inserted)
			}
			if len(result.Rejected) != 1 {
				t.Fatalf("rejected: got %+v, want the closure", result.Rejected)
			}
			got := result.Rejected[0]
			if got.RecordID != "cl-bad" {
				t.Errorf("record id: got %q, want the closure's own id cl-bad", got.RecordID)
			}
			if got.Field != tc.wantField {
				t.Errorf("field: got %q, want %q", got.Field, tc.wantField)
			}
			if !strings.Contains(got.Error, tc.wantText) {
				t.Errorf("error: got %q, want it to contain %q", got.Error, tc.wantText)
			}
		})
	}
}

func TestIngestTextLimitCountsCharacters(t *testing.T) {
	service := newService(t)
	provider := strings.Repeat("é", 200)
	session := strings.Repeat("s", 199) + "é"
	batch := `{"items": [{"metadata_kind": "` + closureKind + `", "closure_id": "cl-1", "session_id": "` + session + `x",
	  "playbook_id": "pb-1", "provider": "` + provider + `", "closure_state": "RESOLVED", "closed_at": "2026-05-01T09:00:00Z"}]}`

	result, err := service.Ingest(context.Background(), decode(t, batch))

	if err != nil || result.Inserted != 1 {
		t.Fatalf("ingest: got %+v, %v; want the closure stored", result, err)
	}
	var closure models.RecoveryClosure
	if err := service.DB.First(&closure, "id = ?", "cl-1").Error; err != nil {
		t.Fatalf("read closure: %v", err)
	}
	if closure.Provider != provider {
		t.Errorf("provider: got %d characters, want the 200 sent", utf8.RuneCountInString(closure.Provider))
	}
	if closure.SessionID != session || !utf8.ValidString(closure.SessionID) {
		t.Errorf("session_id: got %q, want it cut to 200 characters at a character boundary", closure.SessionID)
	}
	if closure.ClosureState != "resolved" {
		t.Errorf("closure_state: got %q, want resolved in lower case", closure.ClosureState)
	}
}

func TestIngestRejectsConfiguredSecret(t *testing.T) {
	service := newService(t)
	service.Secrets = connectors.NewRedactor("datadog-api-key-canary-1")
	batch := closureBatch(`"playbook_id": "pb-1", "provider": "slack", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z",
	  "detail": {"note": "key datadog-api-key-canary-1 in use"}`)

	result, err := service.Ingest(context.Background(), decode(t, batch))

	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if len(result.Rejected) != 1 {
		t.Fatalf("rejected: got %+v, want the closure", result.Rejected)
	}
	if got := result.Rejected[0].Field; got != "detail.note" {
		t.Errorf("field: got %q, want detail.note", got)
	}
	var closures int64
	if err := service.DB.Model(&models.RecoveryClosure{}).Count(&closures).Error; err != nil {
		t.Fatal(err)
	}
	if closures != 0 {
		t.Errorf("closures stored: got %d, want 0", closures)
	}
}

// A time up to MaxClockSkew after this server's clock is accepted, because
// upstream clocks drift a little.
func TestIngestAcceptsTimeWithinClockSkew(t *testing.T) {
	service := newService(t)
	batch := closureBatch(`"playbook_id": "pb-1", "provider": "slack", "closure_state": "resolved", "closed_at": "2026-05-01T12:05:00Z"`)

	result, err := service.Ingest(context.Background(), decode(t, batch))

	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if result.Inserted != 2 || len(result.Rejected) != 0 {
		t.Errorf("result: got %d inserted and rejected %+v, want both records stored", result.Inserted, result.Rejected)
	}
}

// Provider names in the lists and status codes of a connector delivery are
// shown as they are, so they take no control characters either.
func TestIngestRejectsControlCharacterInDeliveryNames(t *testing.T) {
	cases := []struct {
		members, wantField string
	}{
		{`"providers": ["slack\r\nforged"]`, "providers"},
		{`"failed_providers": ["\u001b[31mslack"]`, "failed_providers"},
		{`"status_codes": {"slack\u0007": 503}`, "status_codes"},
	}
	for _, tc := range cases {
		t.Run(tc.wantField, func(t *testing.T) {
			service := newService(t)
			batch := `{"items": [{"metadata_kind": "` + KindConnectorDelivery + `", "connector_delivery_source": "` + EscalationDeliverySource + `",
			  "delivery_id": "del-control", "delivery_success": false, "created_at": "2026-05-01T11:45:00Z", ` + tc.members + `}]}`

			result, err := service.Ingest(context.Background(), decode(t, batch))

			if err != nil {
				t.Fatalf("ingest: %v", err)
			}
			if result.Inserted != 0 {
				t.Errorf("inserted: got %d, want 0", result.Inserted)
			}
			if len(result.Rejected) != 1 {
				t.Fatalf("rejected: got %+v, want the delivery", result.Rejected)
			}
			if got := result.Rejected[0].Field; got != tc.wantField {
				t.Errorf("field: got %q, want %q", got, tc.wantField)
			}
			if got := result.Rejected[0].Error; !strings.Contains(got, "control character") {
				t.Errorf("error: got %q, want it to name the control character", got)
			}
		})
	}
}
