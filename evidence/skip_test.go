package evidence

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// A connector delivery must name its source. Only a delivery that names
// another source is skipped.
func TestIngestRejectsDeliveryWithoutSource(t *testing.T) {
	cases := []struct {
		name, source, wantText string
	}{
		{"missing", ``, "is missing"},
		{"number", `"connector_delivery_source": 42, `, "must be a string"},
		{"empty", `"connector_delivery_source": " ", `, "must not be empty"},
		{"null", `"connector_delivery_source": null, `, "is missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			service := newService(t)
			batch := `{"items": [{"metadata_kind": "` + KindConnectorDelivery + `", ` + tc.source + `
			  "delivery_id": "del-1", "delivery_success": true, "created_at": "2026-05-01T11:45:00Z"}]}`

			result, err := service.Ingest(context.Background(), decode(t, batch))

			if err != nil {
				t.Fatalf("ingest: %v", err)
			}
			if result.SkippedCount != 0 {
				t.Errorf("skipped: got %d (%v), want 0", result.SkippedCount, result.SkippedKinds)
			}
			if len(result.Rejected) != 1 {
				t.Fatalf("rejected: got %+v, want the delivery", result.Rejected)
			}
			got := result.Rejected[0]
			if got.Field != "connector_delivery_source" {
				t.Errorf("field: got %q, want connector_delivery_source", got.Field)
			}
			if !strings.Contains(got.Error, tc.wantText) {
				t.Errorf("error: got %q, want it to contain %q", got.Error, tc.wantText)
			}
			if got.RecordID != "del-1" {
				t.Errorf("record id: got %q, want del-1", got.RecordID)
			}
		})
	}
}

// A record that contains a configured secret is rejected whatever its kind,
// also when the secret is its metadata_kind or its delivery source, and the
// report does not repeat the secret.
func TestIngestRejectsSecretInSkippedRecord(t *testing.T) {
	secret := "SEKRITkindCanaryZ4x8"
	cases := []struct {
		name, record, wantField string
	}{
		{"secret as metadata_kind", `{"metadata_kind": "` + secret + `", "id": "x1"}`, "metadata_kind"},
		{"secret in another case as metadata_kind", `{"metadata_kind": "` + strings.ToLower(secret) + `", "id": "x1"}`, "metadata_kind"},
		{"secret as delivery source", `{"metadata_kind": "` + KindConnectorDelivery + `", "connector_delivery_source": "` + secret + `",
		  "delivery_id": "del-1", "delivery_success": true, "created_at": "2026-05-01T11:45:00Z"}`, "connector_delivery_source"},
		{"secret in a record of an unknown kind", `{"metadata_kind": "something-else", "id": "x1", "note": "uses ` + secret + `"}`, "note"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			service := &Service{DB: dbtest.Open(t), Now: func() time.Time { return fixedNow }, Secrets: connectors.NewRedactor(secret)}

			result, err := service.Ingest(context.Background(), decode(t, `{"items": [`+tc.record+`]}`))

			if err != nil {
				t.Fatalf("ingest: %v", err)
			}
			if result.SkippedCount != 0 {
				t.Errorf("skipped: got %d, want 0", result.SkippedCount)
			}
			if len(result.Rejected) != 1 {
				t.Fatalf("rejected: got %+v, want the record", result.Rejected)
			}
			if got := result.Rejected[0].Field; got != tc.wantField {
				t.Errorf("field: got %q, want %q", got, tc.wantField)
			}
			encoded, err := json.Marshal(result)
			if err != nil {
				t.Fatalf("encode result: %v", err)
			}
			if strings.Contains(strings.ToLower(string(encoded)), strings.ToLower(secret)) {
				t.Errorf("result: got %s, want no configured secret in any letter case", encoded)
			}
		})
	}
}
