package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/evidence"
	"github.com/releaseops/evidence-console/models/dbtest"
)

const evidencePath = runtimePrefix + "/evidence"

func TestIngestEvidenceEndpoint(t *testing.T) {
	s := newTestServer(t)
	body := `{"records": [
	  {"metadata_kind": "` + evidence.KindEscalationRetryPlan + `", "retry_plan_id": "p1", "retryable_count": 2, "created_at": "2026-05-01T11:00:00Z"},
	  {"metadata_kind": "` + evidence.KindEscalationRetryPlan + `", "retry_plan_id": "p2", "retryable_count": "two", "created_at": "2026-05-01T11:00:00Z"},
	  {"metadata_kind": "unknown-kind"},
	  42
	]}`
	rec := s.postJSON(evidencePath, body)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200 (valid records landed); body %s", rec.Code, rec.Body)
	}
	var result evidence.Result
	if err := json.Unmarshal(rec.Body.Bytes(), &result); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if result.Inserted != 1 || result.SkippedCount != 1 {
		t.Errorf("inserted %d, skipped %d; want 1 and 1", result.Inserted, result.SkippedCount)
	}
	if len(result.Rejected) != 2 {
		t.Fatalf("rejected = %+v, want 2", result.Rejected)
	}
	if result.Rejected[0].Index != 1 || result.Rejected[0].Field != "retryable_count" || result.Rejected[0].RecordID != "p2" {
		t.Errorf("first rejection = %+v, want index 1, record p2, field retryable_count", result.Rejected[0])
	}
	if result.Rejected[1].Index != 3 {
		t.Errorf("second rejection index = %d, want 3 (not an object)", result.Rejected[1].Index)
	}
}

func TestIngestEvidenceRejectsBadBodies(t *testing.T) {
	s := newTestServer(t)
	before := dbtest.CountRows(t, s.db)
	cases := []struct {
		name, body string
		status     int
	}{
		{"malformed JSON", `{"records": [`, http.StatusBadRequest},
		{"not an object", `[1, 2]`, http.StatusBadRequest},
		{"records missing", `{}`, http.StatusBadRequest},
		{"records not a list", `{"records": {"a": 1}}`, http.StatusBadRequest},
		{"unknown top-level field", `{"records": [], "extra": true}`, http.StatusBadRequest},
		{"every record invalid", `{"records": [{"metadata_kind": "` + evidence.KindEscalationRetryPlan + `"}]}`, http.StatusUnprocessableEntity},
	}
	for _, c := range cases {
		rec := s.postJSON(evidencePath, c.body)
		if rec.Code != c.status {
			t.Errorf("%s: status = %d, want %d; body %s", c.name, rec.Code, c.status, rec.Body)
		}
	}
	after := dbtest.CountRows(t, s.db)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("rows in %s = %d after rejected bodies, want %d", table, after[table], n)
		}
	}
}

func TestIngestEvidenceRejectsOversizedBody(t *testing.T) {
	s := newTestServer(t)
	body := `{"records": [{"metadata_kind": "x", "pad": "` + strings.Repeat("a", 11<<20) + `"}]}`
	rec := s.postJSON(evidencePath, body)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "10 MiB") {
		t.Errorf("413 body %s does not name the limit", rec.Body)
	}
	if !strings.Contains(rec.Body.String(), "evidence records in smaller batches") {
		t.Errorf("413 body %s does not suggest smaller batches", rec.Body)
	}
}

func TestOversizedBodyMessageByEndpoint(t *testing.T) {
	s := newTestServer(t)
	body := `{"provider": "` + strings.Repeat("a", 11<<20) + `"}`
	rec := s.postJSON(auditDelivery+"/recovery-escalations/retry-health-alerts/deliver", body)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "10 MiB limit; send a smaller body, with shorter field values or fewer list entries") {
		t.Errorf("413 body %s does not name the limit and what to shrink", rec.Body)
	}
	if strings.Contains(rec.Body.String(), "evidence") {
		t.Errorf("413 body %s mentions evidence on an alert endpoint", rec.Body)
	}
}

// A playbook with more entries than the maximum is one rejected record,
// not a failed request, so the other records of the batch are stored.
func TestIngestEvidenceRejectsOversizedPlaybook(t *testing.T) {
	s := newTestServer(t)
	entries := make([]string, 13_108)
	for i := range entries {
		entries[i] = `{"provider": "provider-` + strconv.Itoa(i) + `", "category": "timeout", "failure_count": 1}`
	}
	body := `{"records": [
	  {"metadata_kind": "` + evidence.KindEscalationRetryPlan + `", "retry_plan_id": "p1", "retryable_count": 2, "created_at": "2026-05-01T11:00:00Z"},
	  {"metadata_kind": "` + evidence.KindRecoveryPlaybook + `", "playbook_id": "pb-large", "generated_at": "2026-04-30T10:00:00Z",
	   "connector_recovery_playbook": {"provider_playbooks": [` + strings.Join(entries, ",") + `]}}
	]}`

	rec := s.postJSON(evidencePath, body)

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200 (the valid plan landed); body %.300s", rec.Code, rec.Body)
	}
	var result evidence.Result
	if err := json.Unmarshal(rec.Body.Bytes(), &result); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if result.Inserted != 1 {
		t.Errorf("inserted = %d, want 1", result.Inserted)
	}
	if len(result.Rejected) != 1 || result.Rejected[0].Field != "connector_recovery_playbook.provider_playbooks" {
		t.Errorf("rejected = %+v, want the playbook on connector_recovery_playbook.provider_playbooks", result.Rejected)
	}
}
