package evidence

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/models"
)

// playbookBatch returns a batch of one valid retry plan and one playbook
// whose list has the given number of distinct provider and category pairs.
func playbookBatch(entries int) string {
	list := make([]string, entries)
	for i := range list {
		list[i] = fmt.Sprintf(`{"provider": "provider-%d", "category": "rate_limited", "failure_count": 1}`, i)
	}
	return `{"items": [
	 {"metadata_kind": "` + KindEscalationRetryPlan + `", "retry_plan_id": "plan-ok", "retryable_count": 1, "created_at": "2026-05-01T11:00:00Z"},
	 {"metadata_kind": "` + KindRecoveryPlaybook + `", "playbook_id": "pb-large", "generated_at": "2026-04-30T10:00:00Z",
	  "connector_recovery_playbook": {"provider_playbooks": [` + strings.Join(list, ",") + `]}}
	]}`
}

func TestIngestStoresPlaybookWithMaxEntries(t *testing.T) {
	service := newService(t)

	result, err := service.Ingest(context.Background(), decode(t, playbookBatch(maxPlaybookEntries)))

	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if result.Inserted != 2 || len(result.Rejected) != 0 {
		t.Fatalf("result: got %d inserted and rejected %+v, want both records stored", result.Inserted, result.Rejected)
	}
	var entries int64
	if err := service.DB.Model(&models.RecoveryPlaybookProvider{}).Count(&entries).Error; err != nil {
		t.Fatalf("count entries: %v", err)
	}
	if entries != maxPlaybookEntries {
		t.Errorf("playbook entries stored: got %d, want %d", entries, maxPlaybookEntries)
	}
}

// A playbook over the maximum is rejected on its own field, and the other
// records of the batch are stored. 13,108 entries need more parameters
// than one INSERT may bind on PostgreSQL, and on SQLite too.
func TestIngestRejectsPlaybookOverMaxEntries(t *testing.T) {
	for _, entries := range []int{maxPlaybookEntries + 1, 13_108} {
		t.Run(fmt.Sprint(entries), func(t *testing.T) {
			service := newService(t)

			result, err := service.Ingest(context.Background(), decode(t, playbookBatch(entries)))

			if err != nil {
				t.Fatalf("ingest: %v", err)
			}
			if result.Inserted != 1 {
				t.Errorf("inserted: got %d, want 1 (the valid plan still lands)", result.Inserted)
			}
			if len(result.Rejected) != 1 {
				t.Fatalf("rejected: got %+v, want the playbook", result.Rejected)
			}
			got := result.Rejected[0]
			if got.RecordID != "pb-large" {
				t.Errorf("record id: got %q, want pb-large", got.RecordID)
			}
			if got.Field != "connector_recovery_playbook.provider_playbooks" {
				t.Errorf("field: got %q, want connector_recovery_playbook.provider_playbooks", got.Field)
			}
			wantText := fmt.Sprintf("has %d entries; send at most %d", entries, maxPlaybookEntries)
			if !strings.Contains(got.Error, wantText) {
				t.Errorf("error: got %q, want it to contain %q", got.Error, wantText)
			}
			var stored int64
			if err := service.DB.Model(&models.RecoveryPlaybookProvider{}).Count(&stored).Error; err != nil {
				t.Fatalf("count entries: %v", err)
			}
			if stored != 0 {
				t.Errorf("playbook entries stored: got %d, want 0", stored)
			}
		})
	}
}
