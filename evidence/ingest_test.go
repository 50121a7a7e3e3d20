package evidence

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

var fixedNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func newService(t *testing.T) *Service {
	t.Helper()
	return &Service{DB: dbtest.Open(t), Now: func() time.Time { return fixedNow }}
}

// decode turns JSON text into records the way the endpoint and the import do.
func decode(t *testing.T, text string) []json.RawMessage {
	t.Helper()
	records, err := ReadExport(strings.NewReader(text))
	if err != nil {
		t.Fatalf("read export: %v", err)
	}
	return records
}

const goodBatch = `{"items": [
 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-delivery-retry-plan",
  "session_id": "s1", "retry_plan_id": "plan-1", "retryable_count": 3, "created_at": "2026-05-01T11:00:00Z"},
 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-retry-worker-run",
  "run_id": "run-1", "dry_run": false, "created_at": "2026-05-01T11:30:00+02:00",
  "recovery_escalation_retry_worker_run": {"summary": {"selected_retry_count": 2, "acknowledgement_pending_count": 1}, "schedule": {"enabled": true}}},
 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-retry-execution-record",
  "execution_id": "exec-1", "plan_id": "plan-1", "provider": "slack", "execution_status": "failed", "created_at": "2026-05-01T11:40:00.123456"},
 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-retry-execution-record",
  "execution_id": "audit-1", "provider": "jira", "execution_status": "delivered", "executed_at": "2026-05-01T10:00:00.5Z"},
 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-connector-recovery-playbook",
  "playbook_id": "pb-1", "generated_at": "2026-04-30T10:00:00Z",
  "connector_recovery_playbook": {"provider_playbooks": [{"provider": "slack", "category": "rate_limited", "failure_count": 2}]}},
 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-connector-recovery-closure",
  "closure_id": "cl-1", "playbook_id": "pb-1", "provider": "slack", "closure_state": "resolved", "closed_at": "2026-05-01T09:00:00Z"},
 {"metadata_kind": "release-connector-delivery", "connector_delivery_source": "go_backend_rollback_drill_acknowledgement_audit_recovery_escalation",
  "delivery_id": "del-1", "delivery_success": false, "providers": ["slack", "pagerduty"], "failed_providers": ["pagerduty"],
  "status_codes": {"slack": 200, "pagerduty": 503}, "created_at": "2026-05-01T11:45:00Z"}
]}`

func TestIngestGoodBatch(t *testing.T) {
	service := newService(t)
	result, err := service.Ingest(context.Background(), decode(t, goodBatch))
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if result.Inserted != 7 {
		t.Errorf("inserted = %d, want 7 (rejected: %+v)", result.Inserted, result.Rejected)
	}
	if len(result.Rejected) != 0 {
		t.Errorf("rejected = %+v, want none", result.Rejected)
	}

	counts, err := models.Counts(context.Background(), service.DB)
	if err != nil {
		t.Fatalf("counts: %v", err)
	}
	want := map[string]int64{
		models.CountRetryPlans: 1, models.CountRetryableRetries: 3, models.CountWorkerRuns: 1,
		models.CountExecutions: 1, models.CountExecutionsFailed: 1, models.CountOpenExecutionFailures: 1,
		models.CountAuditRetryExecutions: 1, models.CountRecoveryPlaybooks: 1, models.CountRecoveryClosures: 1,
		models.CountEscalationDeliveries: 1, models.CountEscalationDeliveryFailed: 1,
	}
	for name, value := range want {
		if counts[name] != value {
			t.Errorf("count %s = %d, want %d", name, counts[name], value)
		}
	}

	var entries []models.RecoveryPlaybookProvider
	service.DB.Find(&entries)
	if len(entries) != 1 || entries[0].Provider != "slack" || entries[0].FailureCount != 2 {
		t.Errorf("playbook providers = %+v, want one slack entry with 2 failures", entries)
	}
}

func TestIngestSameBatchTwiceStoresOnce(t *testing.T) {
	service := newService(t)
	if _, err := service.Ingest(context.Background(), decode(t, goodBatch)); err != nil {
		t.Fatalf("first ingest: %v", err)
	}
	before := dbtest.CountRows(t, service.DB)
	countsBefore, _ := models.Counts(context.Background(), service.DB)

	result, err := service.Ingest(context.Background(), decode(t, goodBatch))
	if err != nil {
		t.Fatalf("second ingest: %v", err)
	}
	if result.Inserted != 0 || result.Duplicates != 7 {
		t.Errorf("second ingest inserted %d and found %d duplicates, want 0 and 7", result.Inserted, result.Duplicates)
	}
	after := dbtest.CountRows(t, service.DB)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("rows in %s = %d after the repeat, want %d", table, after[table], n)
		}
	}
	countsAfter, _ := models.Counts(context.Background(), service.DB)
	for name, value := range countsBefore {
		if countsAfter[name] != value {
			t.Errorf("count %s = %d after the repeat, want %d", name, countsAfter[name], value)
		}
	}
}

func TestIngestBadRecordAmongGoodOnes(t *testing.T) {
	service := newService(t)
	batch := `{"items": [
	 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-delivery-retry-plan",
	  "retry_plan_id": "plan-ok", "retryable_count": 1, "created_at": "2026-05-01T11:00:00Z"},
	 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-retry-worker-run",
	  "run_id": "run-bad", "dry_run": "false", "created_at": "2026-05-01T11:30:00Z",
	  "recovery_escalation_retry_worker_run": {"summary": {"selected_retry_count": 2, "acknowledgement_pending_count": 1}, "schedule": {"enabled": true}}},
	 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-retry-execution-record",
	  "execution_id": "exec-bad", "plan_id": "plan-ok", "provider": "slack", "execution_status": "lost", "created_at": "2026-05-01T11:40:00Z"},
	 {"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-delivery-retry-plan",
	  "retry_plan_id": "plan-no-time", "retryable_count": 1}
	]}`
	result, err := service.Ingest(context.Background(), decode(t, batch))
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if result.Inserted != 1 {
		t.Errorf("inserted = %d, want 1 (the valid plan still lands)", result.Inserted)
	}

	want := []RecordError{
		{Index: 1, RecordID: "run-bad", Field: "dry_run"},
		{Index: 2, RecordID: "exec-bad", Field: "execution_status"},
		{Index: 3, RecordID: "plan-no-time", Field: "created_at"},
	}
	if len(result.Rejected) != len(want) {
		t.Fatalf("rejected = %+v, want %d records", result.Rejected, len(want))
	}
	for i, w := range want {
		got := result.Rejected[i]
		if got.Index != w.Index || got.RecordID != w.RecordID || got.Field != w.Field {
			t.Errorf("rejection %d = index %d id %q field %q, want index %d id %q field %q",
				i, got.Index, got.RecordID, got.Field, w.Index, w.RecordID, w.Field)
		}
	}
}

func TestIngestUnknownKindIsCountedAndSkipped(t *testing.T) {
	service := newService(t)
	batch := `{"items": [
	 {"metadata_kind": "something-else", "id": "x"},
	 {"metadata_kind": "something-else", "id": "y"},
	 {"metadata_kind": "release-connector-delivery", "connector_delivery_source": "other_source", "delivery_success": true, "created_at": "2026-05-01T11:00:00Z"}
	]}`
	result, err := service.Ingest(context.Background(), decode(t, batch))
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if result.SkippedCount != 3 {
		t.Errorf("skipped = %d, want 3", result.SkippedCount)
	}
	if result.SkippedKinds["something-else"] != 2 {
		t.Errorf("skipped something-else = %d, want 2", result.SkippedKinds["something-else"])
	}
	if len(result.Rejected) != 0 || result.Inserted != 0 {
		t.Errorf("rejected %d and inserted %d, want 0 and 0", len(result.Rejected), result.Inserted)
	}
}

func TestParseTimestampForms(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time
	}{
		{"2026-05-01T12:00:00Z", time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)},
		{"2026-05-01T12:00:00.250Z", time.Date(2026, 5, 1, 12, 0, 0, 250e6, time.UTC)},
		{"2026-05-01T14:00:00+02:00", time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)},
		{"2026-05-01T07:30:00.5-04:30", time.Date(2026, 5, 1, 12, 0, 0, 500e6, time.UTC)},
		// No zone means UTC.
		{"2026-05-01T12:00:00", time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)},
		{"2026-05-01T12:00:00.123456", time.Date(2026, 5, 1, 12, 0, 0, 123456e3, time.UTC)},
		{"2026-05-01 12:00:00", time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)},
		// RFC 3339 allows a lower-case separator and zone letter.
		{"2026-05-01t12:00:00z", time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		got, err := ParseTimestamp(c.in)
		if err != nil {
			t.Errorf("ParseTimestamp(%q) failed: %v", c.in, err)
			continue
		}
		if !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) = %v, want %v in UTC", c.in, got, c.want)
		}
	}

	for _, bad := range []string{"", "yesterday", "2026-13-01T00:00:00Z", "1714564800"} {
		if _, err := ParseTimestamp(bad); err == nil {
			t.Errorf("ParseTimestamp(%q) succeeded, want an error", bad)
		}
	}
}

func TestIngestedTimestampsReadBackInUTC(t *testing.T) {
	service := newService(t)
	if _, err := service.Ingest(context.Background(), decode(t, goodBatch)); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	var run models.EscalationWorkerRun
	if err := service.DB.Where("id = ?", "run-1").Take(&run).Error; err != nil {
		t.Fatalf("read run: %v", err)
	}
	if want := time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC); !run.CreatedAt.Equal(want) {
		t.Errorf("run created_at = %v, want %v (the +02:00 offset converted to UTC)", run.CreatedAt, want)
	}
	var execution models.EscalationRetryExecution
	if err := service.DB.Where("id = ?", "exec-1").Take(&execution).Error; err != nil {
		t.Fatalf("read execution: %v", err)
	}
	if want := time.Date(2026, 5, 1, 11, 40, 0, 123456000, time.UTC); !execution.CreatedAt.Equal(want) {
		t.Errorf("execution created_at = %v, want %v (no zone read as UTC, microseconds kept)", execution.CreatedAt, want)
	}
}

func TestIngestLaterDeliveryClosesOpenFailure(t *testing.T) {
	service := newService(t)
	execution := func(id, status, at string) string {
		return `{"metadata_kind": "` + KindEscalationRetryExecution + `", "execution_id": "` + id +
			`", "plan_id": "p", "provider": "slack", "execution_status": "` + status + `", "created_at": "` + at + `"}`
	}
	// Arrives out of order: the later delivery first, then the older failure.
	batch := `{"items": [` + execution("e2", "delivered", "2026-05-01T11:00:00Z") + `,` + execution("e1", "failed", "2026-05-01T10:00:00Z") + `]}`
	if _, err := service.Ingest(context.Background(), decode(t, batch)); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	counts, _ := models.Counts(context.Background(), service.DB)
	if counts[models.CountOpenExecutionFailures] != 0 {
		t.Errorf("open failures = %d, want 0: the failure has a later delivery", counts[models.CountOpenExecutionFailures])
	}

	batch = `{"items": [` + execution("e3", "skipped", "2026-05-01T12:00:00Z") + `]}`
	if _, err := service.Ingest(context.Background(), decode(t, batch)); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	counts, _ = models.Counts(context.Background(), service.DB)
	if counts[models.CountOpenExecutionFailures] != 1 {
		t.Errorf("open failures = %d, want 1 after a newer skipped execution", counts[models.CountOpenExecutionFailures])
	}
}

// Two executions of one pair with the same created_at give the same latest
// execution and open-failure count whichever arrives first.
func TestIngestSameTimeExecutionsIgnoreOrder(t *testing.T) {
	execution := func(id, status string) string {
		return `{"metadata_kind": "` + KindEscalationRetryExecution + `", "execution_id": "` + id +
			`", "plan_id": "p", "provider": "slack", "execution_status": "` + status + `", "created_at": "2026-05-01T11:00:00Z"}`
	}
	type outcome struct {
		latestID     string
		openFailure  bool
		openFailures int64
	}
	// ingest stores the records one batch each, in the order given.
	ingest := func(t *testing.T, records ...string) outcome {
		t.Helper()
		service := newService(t)
		for _, record := range records {
			if _, err := service.Ingest(context.Background(), decode(t, `{"items": [`+record+`]}`)); err != nil {
				t.Fatalf("ingest: %v", err)
			}
		}
		var pair models.EscalationExecutionPair
		if err := service.DB.Where("plan_id = ? AND provider = ?", "p", "slack").Take(&pair).Error; err != nil {
			t.Fatalf("read execution pair: %v", err)
		}
		counts, err := models.Counts(context.Background(), service.DB)
		if err != nil {
			t.Fatalf("read counts: %v", err)
		}
		return outcome{pair.LatestExecutionID, pair.OpenFailure, counts[models.CountOpenExecutionFailures]}
	}

	cases := []struct{ name, first, second string }{
		{"failure has the lower id", execution("exec-a", "failed"), execution("exec-b", "delivered")},
		{"failure has the higher id", execution("exec-a", "delivered"), execution("exec-b", "failed")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forward := ingest(t, tc.first, tc.second)
			backward := ingest(t, tc.second, tc.first)

			if forward != backward {
				t.Errorf("outcome: got %+v in one order and %+v in the other, want the same", forward, backward)
			}
			wantCount := int64(0)
			if forward.openFailure {
				wantCount = 1
			}
			if forward.openFailures != wantCount {
				t.Errorf("open failures: got %d, want %d to match the pair's open_failure %v",
					forward.openFailures, wantCount, forward.openFailure)
			}
		})
	}
}

func TestIngestScrubsSecretsFromRaw(t *testing.T) {
	service := newService(t)
	batch := `{"items": [{"metadata_kind": "` + KindEscalationRetryPlan + `", "retry_plan_id": "plan-s", "retryable_count": 0,
	  "created_at": "2026-05-01T11:00:00Z", "webhook_url": "https://hooks.example.invalid/services/T/B/planted-secret-1",
	  "target": "https://hooks.example.invalid/path/planted-secret-2?token=planted-secret-3", "api_token": "planted-secret-4",
	  "x-api-key": "planted-secret-5", "pwd": "planted-secret-6", "access_key": "planted-secret-7", "Private-Key": "planted-secret-8",
	  "session": "planted-secret-9", "dsn": "planted-secret-10",
	  "error": "POST https://hooks.example.invalid/planted-secret-11 failed with Authorization: Bearer planted-secret-12",
	  "upper": "HTTPS://hooks.example.invalid/planted-secret-13", "spaced": " https://hooks.example.invalid/planted-secret-14",
	  "list": ["Bearer planted-secret-15"], "conn": "amqp://u:planted-secret-16@mq.example.invalid/",
	  "detail": "postgres://app:planted-secret-17@db.example.invalid/x password=planted-secret-18",
	  "query_only": "https://hooks.example.invalid?token=planted-secret-19",
	  "userinfo_only": "https://ops:planted-secret-20@hooks.example.invalid",
	  "routing_key": "planted-secret-21",
	  "passed_count": 3}]}`
	if _, err := service.Ingest(context.Background(), decode(t, batch)); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	var plan models.EscalationRetryPlan
	if err := service.DB.Where("id = ?", "plan-s").Take(&plan).Error; err != nil {
		t.Fatalf("read plan: %v", err)
	}
	if !strings.Contains(plan.Raw, `"passed_count":3`) {
		t.Errorf("raw item lost a field that only contains a sensitive word: %s", plan.Raw)
	}
	for i := 1; i <= 21; i++ {
		secret := fmt.Sprintf("planted-secret-%d", i)
		if strings.Contains(plan.Raw, secret) {
			t.Errorf("raw item contains %q: %s", secret, plan.Raw)
		}
	}
	if !strings.Contains(plan.Raw, "hooks.example.invalid") {
		t.Errorf("raw item lost the destination host: %s", plan.Raw)
	}
}

func TestIngestRedactsConfiguredSecretsInRaw(t *testing.T) {
	service := newService(t)
	// A single path segment of letters is redacted but, like a word, allowed
	// in typed text, so the record is stored.
	service.Secrets = connectors.NewRedactor("https://hooks.example.test/SEKRITcode")
	batch := `{"items": [{"metadata_kind": "` + KindEscalationRetryPlan + `", "retry_plan_id": "plan-c", "retryable_count": 0,
	  "created_at": "2026-05-01T11:00:00Z", "note": "posted to SEKRITcode", "encoded": "posted to %53EKRITcode"}]}`

	result, err := service.Ingest(context.Background(), decode(t, batch))

	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if result.Inserted != 1 {
		t.Fatalf("inserted: got %d, want 1; rejected: %+v", result.Inserted, result.Rejected)
	}
	var plan models.EscalationRetryPlan
	if err := service.DB.Where("id = ?", "plan-c").Take(&plan).Error; err != nil {
		t.Fatalf("read plan: %v", err)
	}
	if strings.Contains(plan.Raw, "EKRITcode") {
		t.Errorf("raw item contains the configured secret: %s", plan.Raw)
	}
	if !strings.Contains(plan.Raw, "posted to [redacted]") {
		t.Errorf("raw item lost the text around the secret: %s", plan.Raw)
	}
}

// When another server stored the sample between the check for stored
// evidence and the insert, every record is a duplicate and nothing is
// reported as loaded. Emptying the running totals makes the check pass
// again over stored records.
func TestSampleLoadedByAnotherServer(t *testing.T) {
	service := newService(t)
	if loaded, err := service.LoadSampleIfEmpty(context.Background()); err != nil || !loaded {
		t.Fatalf("first load = %v, %v; want true, nil", loaded, err)
	}
	if err := service.DB.Exec("DELETE FROM evidence_counts").Error; err != nil {
		t.Fatalf("empty evidence_counts: %v", err)
	}
	loaded, err := service.LoadSampleIfEmpty(context.Background())
	if err != nil || loaded {
		t.Errorf("load over stored records = %v, %v; want false, nil", loaded, err)
	}
}

func TestSampleLoadsOnlyIntoEmptyDatabase(t *testing.T) {
	service := newService(t)
	loaded, err := service.LoadSampleIfEmpty(context.Background())
	if err != nil || !loaded {
		t.Fatalf("first load = %v, %v; want true, nil", loaded, err)
	}
	loaded, err = service.LoadSampleIfEmpty(context.Background())
	if err != nil || loaded {
		t.Errorf("second load = %v, %v; want false, nil", loaded, err)
	}

	export, _ := json.Marshal(map[string]any{"items": SampleItems(fixedNow)})
	records, err := ReadExport(bytes.NewReader(export))
	if err != nil {
		t.Fatalf("read sample export: %v", err)
	}
	if len(records) < 200 {
		t.Errorf("sample has %d records, want several days' worth (at least 200)", len(records))
	}
}

func TestIngestRejectsConfiguredSecretURL(t *testing.T) {
	service := newService(t)
	// The whole URL of a webhook is its secret, though its path is words.
	service.Secrets = connectors.NewRedactor("http://127.0.0.1:8090/webhook/hooks/local")
	for _, note := range []string{"posted to http://127.0.0.1:8090/webhook/hooks/local", "path /webhook/hooks/local"} {
		batch := `{"items": [{"metadata_kind": "` + KindEscalationRetryPlan + `", "retry_plan_id": "plan-u", "retryable_count": 0,
		  "created_at": "2026-05-01T11:00:00Z", "note": "` + note + `"}]}`

		result, err := service.Ingest(context.Background(), decode(t, batch))

		if err != nil {
			t.Fatalf("ingest %q: %v", note, err)
		}
		if result.Inserted != 0 || len(result.Rejected) != 1 {
			t.Fatalf("note %q: inserted %d, rejected %d; want 0 and 1", note, result.Inserted, len(result.Rejected))
		}
		if got := result.Rejected[0].Field; got != "note" {
			t.Errorf("note %q: rejected field %q, want note", note, got)
		}
	}
	var plans int64
	if err := service.DB.Model(&models.EscalationRetryPlan{}).Count(&plans).Error; err != nil {
		t.Fatalf("count plans: %v", err)
	}
	if plans != 0 {
		t.Errorf("plans: got %d, want 0", plans)
	}
}

// Status codes of a connector delivery must be HTTP status codes, or 0 or
// null for a destination that gave no response. A string that starts with
// a code, such as "503 Service Unavailable", is accepted.
func TestIngestChecksStatusCodes(t *testing.T) {
	record := func(codes string) string {
		return `{"items": [{"metadata_kind": "release-connector-delivery",
		  "connector_delivery_source": "go_backend_rollback_drill_acknowledgement_audit_recovery_escalation",
		  "delivery_id": "del-codes", "delivery_success": false, "providers": ["slack"], "failed_providers": ["slack"],
		  "status_codes": ` + codes + `, "created_at": "2026-05-01T11:45:00Z"}]}`
	}
	cases := []struct {
		codes, wantField string
	}{
		{`{"slack": 200, "pagerduty": "503", "teams": 0}`, ""},
		{`{"slack": null, "pagerduty": "503 Service Unavailable", "teams": ""}`, ""},
		{`[200, 503]`, ""},
		{`{"slack": "abc"}`, "status_codes.slack"},
		{`{"slack": 99}`, "status_codes.slack"},
		{`{"slack": 600}`, "status_codes.slack"},
		{`{"slack": 200.5}`, "status_codes.slack"},
		{`{"slack": true}`, "status_codes.slack"},
		{`{"slack": {"code": 200}}`, "status_codes.slack"},
		{`[200, "x"]`, "status_codes[1]"},
		{`{"slack": "503\tService Unavailable"}`, ""},
		{`{"slack": "0 delivered fine"}`, "status_codes.slack"},
		{`{"slack": "-0"}`, "status_codes.slack"},
		{`{"slack": "+503"}`, "status_codes.slack"},
		{`{"slack": "503 \u202egnissim"}`, "status_codes.slack"},
		{`{"slack": "503 ` + strings.Repeat("x", 61) + `"}`, "status_codes.slack"},
	}
	for _, tc := range cases {
		service := newService(t)
		result, err := service.Ingest(context.Background(), decode(t, record(tc.codes)))
		if err != nil {
			t.Fatalf("%s: ingest: %v", tc.codes, err)
		}
		if tc.wantField == "" {
			if result.Inserted != 1 {
				t.Errorf("%s: inserted %d, rejected %+v; want the record stored", tc.codes, result.Inserted, result.Rejected)
			}
			continue
		}
		if result.Inserted != 0 || len(result.Rejected) != 1 || result.Rejected[0].Field != tc.wantField {
			t.Errorf("%s: inserted %d, rejected %+v; want it rejected on %s", tc.codes, result.Inserted, result.Rejected, tc.wantField)
		}
	}
}

// A rejected record's id and field name are echoed in the rejection report
// without a configured secret they hold, in any letter case.
func TestIngestRejectionHidesSecretInOtherCase(t *testing.T) {
	secret := "SEKRITtrackerTokenQ7w9"
	service := &Service{DB: dbtest.Open(t), Now: func() time.Time { return fixedNow }, Secrets: connectors.NewRedactor(secret)}
	batch := `{"items": [{"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-delivery-retry-plan",
	  "retry_plan_id": "plan-` + strings.ToUpper(secret) + `", "retryable_count": 1, "created_at": "2026-05-01T11:00:00Z"}]}`

	result, err := service.Ingest(context.Background(), decode(t, batch))

	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if len(result.Rejected) != 1 {
		t.Fatalf("rejected: got %+v, want the record", result.Rejected)
	}
	encoded, _ := json.Marshal(result.Rejected[0])
	if strings.Contains(strings.ToLower(string(encoded)), strings.ToLower(secret)) {
		t.Errorf("rejection: got %s, want no configured secret in any letter case", encoded)
	}
}

// A count sent as a string, with a fraction or out of range is rejected
// with a message that explains how to write it.
func TestIngestCountMessages(t *testing.T) {
	cases := []struct{ count, want string }{
		{`"3"`, "sent as a JSON number without quotes"},
		{`1.0`, "written without a fraction or exponent"},
		{`-1`, "must be a whole number from 0 to 1000000000"},
	}
	for _, tc := range cases {
		service := newService(t)
		batch := `{"items": [{"metadata_kind": "` + KindEscalationRetryPlan + `", "retry_plan_id": "plan-c", "retryable_count": ` +
			tc.count + `, "created_at": "2026-05-01T11:00:00Z"}]}`
		result, err := service.Ingest(context.Background(), decode(t, batch))
		if err != nil {
			t.Fatalf("retryable_count %s: ingest: %v", tc.count, err)
		}
		if len(result.Rejected) != 1 || result.Rejected[0].Field != "retryable_count" {
			t.Fatalf("retryable_count %s: rejected %+v, want the record rejected on retryable_count", tc.count, result.Rejected)
		}
		if got := result.Rejected[0].Error; !strings.Contains(got, tc.want) {
			t.Errorf("retryable_count %s: error %q, want it to contain %q", tc.count, got, tc.want)
		}
	}
}

// A configured secret split by spaces, in any field, still rejects the
// record.
func TestIngestRejectsSecretSplitBySpaces(t *testing.T) {
	secret := "SEKRITtrackerTokenQ7w9"
	service := &Service{DB: dbtest.Open(t), Now: func() time.Time { return fixedNow }, Secrets: connectors.NewRedactor(secret)}
	batch := `{"items": [{"metadata_kind": "` + KindEscalationRetryPlan + `", "retry_plan_id": "plan-split", "retryable_count": 1,
	  "created_at": "2026-05-01T11:00:00Z", "extra_note": "rotated SEKRITtracker TokenQ7w9"}]}`

	result, err := service.Ingest(context.Background(), decode(t, batch))

	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if len(result.Rejected) != 1 || result.Rejected[0].Field != "extra_note" {
		t.Errorf("rejected: got %+v, want the record rejected on extra_note", result.Rejected)
	}
	if result.Inserted != 0 {
		t.Errorf("inserted: got %d, want 0", result.Inserted)
	}
}
