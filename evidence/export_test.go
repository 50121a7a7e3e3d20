package evidence

import (
	"strings"
	"testing"
)

const planRecord = `{"metadata_kind": "` + KindEscalationRetryPlan + `", "retry_plan_id": "plan-1", "retryable_count": 1, "created_at": "2026-05-01T11:00:00Z"}`

func TestReadExportAcceptsBothShapes(t *testing.T) {
	for _, text := range []string{
		`{"items": [` + planRecord + `]}`,
		`{"records": [` + planRecord + `, 42, null]}` + "\n",
		" \n{\"items\": []}\n\n",
	} {
		records, err := ReadExport(strings.NewReader(text))
		if err != nil {
			t.Errorf("%.40q: got error %v, want the records", text, err)
			continue
		}
		if records == nil {
			t.Errorf("%.40q: got a nil list, want a list", text)
		}
	}
}

// The export reader rejects what the ingestion endpoint rejects in a body,
// before any record is stored, and names the problem and the fix.
func TestReadExportRejectsMalformedExport(t *testing.T) {
	deep := strings.Repeat(`{"a": `, 70) + `1` + strings.Repeat(`}`, 70)
	cases := []struct {
		name, text string
		wantText   []string
	}{
		{"empty file", "", []string{"export is empty", `{"items": [ … ]}`}},
		{"only white space", " \n\t", []string{"export is empty"}},
		{"top-level array", `[` + planRecord + `]`, []string{"must be a JSON object", "got an array", `{"items": [ … ]}`}},
		{"top-level string", `"items"`, []string{"must be a JSON object", "got a string"}},
		{"byte order mark", "\xef\xbb\xbf" + `{"items": []}`, []string{"byte order mark", "without one"}},
		{"invalid UTF-8 in a record", `{"items": [{"metadata_kind": "x", "provider": "sl` + "\xff" + `ack"}]}`, []string{"not UTF-8", "byte 50", "UTF-8"}},
		{"key given twice", `{"items": [], "items": [` + planRecord + `]}`, []string{`"items" is given twice`, "once"}},
		{"key given twice in a record", `{"items": [` + planRecord + `, {"provider": "a", "provider": "b"}]}`, []string{`"items[1].provider" is given twice`, "once"}},
		{"key given twice in a nested object", `{"records": [{"detail": {"code": 1, "code": 2}}]}`, []string{`"records[0].detail.code" is given twice`}},
		{"data after the object", `{"items": []} {"items": []}`, []string{"data after the JSON object", "one JSON object"}},
		{"text after the object", `{"items": []}x`, []string{"data after the JSON object"}},
		{"items and records", `{"items": [], "records": [` + planRecord + `]}`, []string{`both "items" and "records"`, "one of them"}},
		{"unknown top-level key", `{"items": [], "exported_at": "2026-05-01"}`, []string{`"exported_at"`, `not "items" or "records"`, "remove it"}},
		{"key in another case", `{"Items": []}`, []string{`"Items"`, `not "items" or "records"`}},
		{"null list", `{"items": null}`, []string{`"items" is null`, "list of records"}},
		{"list as an object", `{"records": {"a": 1}}`, []string{`"records" must be a list of records`, "got an object"}},
		{"no list", `{}`, []string{`no "items" or "records" list`}},
		{"truncated", `{"items": [` + planRecord, []string{"not valid JSON"}},
		{"syntax error", `{"items": [,]}`, []string{"not valid JSON", "byte"}},
		{"deep nesting", `{"items": [` + deep + `]}`, []string{"more than 64 levels deep", "items[0]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			records, err := ReadExport(strings.NewReader(tc.text))

			if err == nil {
				t.Fatalf("got %d records, want an error", len(records))
			}
			for _, want := range tc.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error: got %q, want it to contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "Go value") || strings.Contains(err.Error(), "struct {") {
				t.Errorf("error: got %q, want no Go type in the message", err)
			}
		})
	}
}
