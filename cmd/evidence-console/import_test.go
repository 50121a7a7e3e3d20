package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/evidence"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func TestRejectionSummaryCounts(t *testing.T) {
	rejected := func(n int) []evidence.RecordError { return make([]evidence.RecordError, n) }
	cases := []struct {
		result evidence.Result
		want   string
	}{
		{evidence.Result{Received: 1, Rejected: rejected(1)}, "1 of 1 record rejected, none stored"},
		{evidence.Result{Received: 3, Rejected: rejected(3)}, "3 of 3 records rejected, none stored"},
		{evidence.Result{Received: 3, Inserted: 2, Rejected: rejected(1)}, "1 of 3 records rejected, 2 stored"},
		{evidence.Result{Received: 2, Duplicates: 1, Rejected: rejected(1)}, "1 of 2 records rejected, none stored, 1 already stored"},
		{
			evidence.Result{Received: 6, Inserted: 1, Duplicates: 1, SkippedCount: 2, Rejected: rejected(2)},
			"2 of 6 records rejected, 1 stored, 1 already stored, 2 with an unknown metadata_kind skipped",
		},
	}
	for _, tc := range cases {
		if got := rejectionSummary(tc.result); got != tc.want {
			t.Errorf("rejectionSummary(%+v) = %q, want %q", tc.result, got, tc.want)
		}
	}
}

func TestImportAllRejected(t *testing.T) {
	export := writeFile(t, `{"items": [
	 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-delivery-retry-plan",
	  "retry_plan_id": "plan-1", "retryable_count": -1, "created_at": "2026-05-01T11:00:00Z"}
	]}`)
	code, _, stderr, _ := runWith(t, "", "import", export)
	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	if !strings.Contains(stderr, "1 of 1 record rejected, none stored;") {
		t.Errorf("stderr = %q, want it to say that the one record was rejected and none stored", stderr)
	}
	if strings.Contains(stderr, "others") {
		t.Errorf("stderr = %q, want no mention of other records", stderr)
	}
}

func TestImportDirectory(t *testing.T) {
	directory := t.TempDir()
	code, _, stderr, _ := runWith(t, "", "import", directory)
	if code != 2 {
		t.Errorf("exit code = %d, want 2", code)
	}
	want := "import: " + directory + " is a directory; give the path of an export file"
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr = %q, want it to contain %q", stderr, want)
	}
	if !strings.Contains(stderr, "Usage: evidence-console import FILE") {
		t.Errorf("stderr = %q, want the usage of import", stderr)
	}
	if strings.Contains(stderr, "not valid JSON") {
		t.Errorf("stderr = %q, want no JSON error for a directory", stderr)
	}
}

// writeConnectorConfig writes a connector configuration whose webhook URL
// is read from EVIDENCE_TEST_HOOK_URL, set to a URL with a secret path.
func writeConnectorConfig(t *testing.T) string {
	t.Helper()
	t.Setenv("EVIDENCE_TEST_HOOK_URL", "https://hooks.example.test/in/SEKRIThookpathA1b2C3")
	path := filepath.Join(t.TempDir(), "connectors.yaml")
	config := "connectors:\n  hook:\n    kind: webhook\n    url_env: EVIDENCE_TEST_HOOK_URL\n"
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatalf("write connector configuration: %v", err)
	}
	return path
}

func TestImportRejectsConfiguredSecret(t *testing.T) {
	export := writeFile(t, `{"items": [
	 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-delivery-retry-plan",
	  "retry_plan_id": "plan-1", "retryable_count": 1, "created_at": "2026-05-01T11:00:00Z", "note": "hook SEKRIThookpathA1b2C3"}
	]}`)

	code, stdout, stderr, databaseURL := runWith(t, "", "import", export, "--connector-config", writeConnectorConfig(t))

	if code != 1 {
		t.Errorf("exit code = %d, want 1 because the record carries a configured secret", code)
	}
	if !strings.Contains(stdout, `"field": "note"`) {
		t.Errorf("summary does not reject the field note:\n%s", stdout)
	}
	if strings.Contains(stdout+stderr, "SEKRIT") {
		t.Errorf("output repeats the secret:\nstdout: %s\nstderr: %s", stdout, stderr)
	}
	db := dbtest.OpenExisting(t, databaseURL, dbtest.Options{})
	var plans int64
	if err := db.Model(&models.EscalationRetryPlan{}).Count(&plans).Error; err != nil {
		t.Fatal(err)
	}
	if plans != 0 {
		t.Errorf("plans stored: got %d, want 0", plans)
	}
}

func TestImportStoresRecordWithConnectorConfig(t *testing.T) {
	export := writeFile(t, `{"items": [
	 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-delivery-retry-plan",
	  "retry_plan_id": "plan-1", "retryable_count": 1, "created_at": "2026-05-01T11:00:00Z", "note": "hook rotated"}
	]}`)

	code, stdout, stderr, _ := runWith(t, "", "import", export, "--connector-config", writeConnectorConfig(t))

	if code != 0 {
		t.Errorf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	if !strings.Contains(stdout, `"inserted": 1`) {
		t.Errorf("summary does not show 1 inserted:\n%s", stdout)
	}
	if strings.Contains(stderr, "CONNECTOR_CONFIG is not set") {
		t.Errorf("stderr = %q, want no notice about a missing connector configuration", stderr)
	}
}

// Without a connector configuration import cannot check records for the
// server's secrets, and it warns instead of skipping the check silently.
func TestImportWithoutConnectorConfigWarns(t *testing.T) {
	export := writeFile(t, `{"items": [
	 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-delivery-retry-plan",
	  "retry_plan_id": "plan-1", "retryable_count": 1, "created_at": "2026-05-01T11:00:00Z"}
	]}`)

	code, stdout, stderr, _ := runWith(t, "", "import", export)

	if code != 0 || !strings.Contains(stdout, `"inserted": 1`) {
		t.Errorf("exit code = %d and summary %s, want 0 and 1 inserted; stderr: %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "CONNECTOR_CONFIG is not set, so records are not checked for the secrets") {
		t.Errorf("stderr = %q, want a notice that records are not checked for secrets", stderr)
	}
}

func TestImportStopsWhenSecretUnreadable(t *testing.T) {
	export := writeFile(t, `{"items": [
	 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-delivery-retry-plan",
	  "retry_plan_id": "plan-1", "retryable_count": 1, "created_at": "2026-05-01T11:00:00Z", "note": "hook rotated"}
	]}`)
	config := writeConnectorConfig(t)
	t.Setenv("EVIDENCE_TEST_HOOK_URL", "")

	code, stdout, stderr, databaseURL := runWith(t, "", "import", export, "--connector-config", config)

	if code != 2 {
		t.Errorf("exit code = %d, want 2 because the hook's secret cannot be read", code)
	}
	if !strings.Contains(stderr, "hook (") || !strings.Contains(stderr, "EVIDENCE_TEST_HOOK_URL") {
		t.Errorf("stderr does not name the connector and its missing variable:\n%s", stderr)
	}
	if stdout != "" {
		t.Errorf("stdout: got %q, want no summary", stdout)
	}
	db := dbtest.OpenExisting(t, databaseURL, dbtest.Options{})
	var plans int64
	if err := db.Model(&models.EscalationRetryPlan{}).Count(&plans).Error; err != nil {
		t.Fatal(err)
	}
	if plans != 0 {
		t.Errorf("plans stored: got %d, want 0", plans)
	}
}

// import rejects an export that the ingestion endpoint would reject as a
// request body, names the problem, and stores nothing.
func TestImportRejectsMalformedExport(t *testing.T) {
	plan := `{"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-delivery-retry-plan",
	  "retry_plan_id": "plan-1", "retryable_count": 1, "created_at": "2026-05-01T11:00:00Z"}`
	cases := []struct {
		name, text, wantText string
	}{
		{"empty file", "", "export is empty"},
		{"top-level array", "[" + plan + "]", "export must be a JSON object"},
		{"invalid UTF-8", `{"items": [{"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-delivery-retry-plan",
		  "retry_plan_id": "plan-` + "\xff" + `", "retryable_count": 1, "created_at": "2026-05-01T11:00:00Z"}]}`, "export is not UTF-8 text"},
		{"key given twice in a record", `{"items": [{"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-delivery-retry-plan",
		  "retry_plan_id": "plan-1", "retryable_count": -1, "retryable_count": 1, "created_at": "2026-05-01T11:00:00Z"}]}`, "items[0].retryable_count"},
		{"trailing data", `{"items": [` + plan + `]} trailing`, "data after the JSON object"},
		{"items and records", `{"items": [], "records": [` + plan + `]}`, `both \"items\" and \"records\"`},
		{"unknown top-level key", `{"items": [` + plan + `], "note": "x"}`, `the key \"note\"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			export := writeFile(t, tc.text)

			code, stdout, stderr, databaseURL := runWith(t, "", "import", export)

			if code != 1 {
				t.Errorf("exit code = %d, want 1", code)
			}
			if !strings.Contains(stderr, tc.wantText) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tc.wantText)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want no summary", stdout)
			}
			db := dbtest.OpenExisting(t, databaseURL, dbtest.Options{})
			var plans int64
			if err := db.Model(&models.EscalationRetryPlan{}).Count(&plans).Error; err != nil {
				t.Fatal(err)
			}
			if plans != 0 {
				t.Errorf("plans stored: got %d, want 0", plans)
			}
		})
	}
}
