package audit

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/evidence"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
	"github.com/releaseops/evidence-console/retry"
)

// Planted secrets: a connector URL path segment, a URL query value and a
// bearer token. The failing destination also echoes all three in its
// response body.
var plantedSecrets = []string{"s3cretPathSegment", "s3cretQueryValue", "s3cretBearerToken"}

// destination is a loopback webhook that fails with a 500 whose body echoes
// the request URL and Authorization header until succeed is set.
type destination struct {
	server  *httptest.Server
	succeed atomic.Bool
}

func startDestination(t *testing.T) *destination {
	t.Helper()
	d := &destination{}
	d.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if d.succeed.Load() {
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"ok":true}`)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = fmt.Fprintf(w, "failure at %s, authorization %q", r.URL.String(), r.Header.Get("Authorization"))
	}))
	t.Cleanup(d.server.Close)
	return d
}

// secretRegistry configures "webhook" to post to the destination through a
// URL and token that carry the planted secrets, and "deadhook" to a closed
// loopback port with a secret path, so its connection error names the URL.
func secretRegistry(t *testing.T, baseURL string) *connectors.Registry {
	t.Helper()
	env := map[string]string{
		"AUDIT_TEST_WEBHOOK_URL":   baseURL + "/hooks/" + plantedSecrets[0] + "?token=" + plantedSecrets[1],
		"AUDIT_TEST_WEBHOOK_TOKEN": plantedSecrets[2],
		"AUDIT_TEST_DEAD_URL":      "http://127.0.0.1:1/hooks/" + plantedSecrets[0] + "?token=" + plantedSecrets[1],
	}
	cfg := connectors.FileConfig{Connectors: map[string]connectors.ConnectorConfig{
		"webhook":  {Kind: connectors.KindWebhook, URLEnv: "AUDIT_TEST_WEBHOOK_URL", TokenEnv: "AUDIT_TEST_WEBHOOK_TOKEN"},
		"deadhook": {Kind: connectors.KindWebhook, URLEnv: "AUDIT_TEST_DEAD_URL"},
	}}
	registry, err := connectors.NewRegistry(cfg, func(name string) (string, bool) {
		value, ok := env[name]
		return value, ok
	}, connectors.WithBackoff(time.Millisecond, 2*time.Millisecond), connectors.WithLogger(quietLogger()))
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	return registry
}

// reportSource rebuilds the message of a schedule run for a retry.
type reportSource struct{}

func (reportSource) Message(_ context.Context, subjectID, connector string) (connectors.Message, error) {
	return connectors.Message{
		IdempotencyKey: "report-" + subjectID + "-" + connector, Event: connectors.EventExecutiveRecoveryReport,
		Title: "Executive recovery report", Level: "warning", Summary: "Report of schedule run " + subjectID,
		OccurredAt: fixtureStart,
	}, nil
}

// liveRetry is a schedule run whose first deliveries failed and a live
// retry worker run that re-delivered them through the real services.
type liveRetry struct {
	db          *gorm.DB
	service     *Service
	scheduleRun string
	reportID    string
	delivered   retry.ExecutionView
	workerRunID string
	retryPlanID string
}

func runLiveRetry(t *testing.T) liveRetry {
	t.Helper()
	db := dbtest.Open(t)
	dest := startDestination(t)
	registry := secretRegistry(t, dest.server.URL)
	now := func() time.Time { return at(0) }
	ctx := context.Background()

	report := &models.ExecutiveReport{ID: "rep_live", Status: "warning", RecoverySLOMinutes: 240, PeriodDays: 7,
		PeriodStart: at(-7 * 24 * 60), PeriodEnd: at(-1), Actor: "carol", GeneratedAt: at(-1), Report: "{}"}
	run := &models.ExecutiveScheduleRun{ID: "run_live", ReportID: report.ID, IntervalMinutes: 1440, Enabled: true,
		Cadence: "daily", WindowStart: at(-600), WindowEnd: at(840), Actor: "carol", CreatedAt: at(-1)}
	if err := models.CreateExecutiveScheduleRun(ctx, db, report, run); err != nil {
		t.Fatalf("CreateExecutiveScheduleRun: %v", err)
	}

	// The first sends fail: a 500 whose body echoes the secrets, and a
	// connection error whose message would name the secret URL.
	deliveries := &delivery.Service{DB: db, Sender: registry, Now: func() time.Time { return at(-1) }, Logger: quietLogger()}
	for _, connector := range []string{"webhook", "deadhook"} {
		message, _ := reportSource{}.Message(ctx, run.ID, connector)
		var pending *delivery.Pending
		err := db.Transaction(func(tx *gorm.DB) error {
			var err error
			pending, err = deliveries.Begin(tx, delivery.Request{
				SubjectKind: models.SubjectExecutiveReport, SubjectID: run.ID, SubjectKey: report.ID, Connector: connector,
				Message: message, Options: connectors.SendOptions{Retries: 0, Timeout: 2 * time.Second},
				Actor: "carol", Origin: models.OriginSend,
			})
			return err
		})
		if err != nil {
			t.Fatalf("Begin %s: %v", connector, err)
		}
		record, err := deliveries.Send(ctx, pending)
		if err != nil {
			t.Fatalf("Send %s: %v", connector, err)
		}
		if record.Success {
			t.Fatalf("first send to %s: got success, want a failure", connector)
		}
	}

	dest.succeed.Store(true)
	retries := &retry.Service{
		DB:         db,
		Delivery:   &delivery.Service{DB: db, Sender: registry, Now: now, Logger: quietLogger()},
		Connectors: registry,
		Sources:    map[string]retry.MessageSource{models.SubjectExecutiveReport: reportSource{}},
		Now:        now, Logger: quietLogger(),
		SendOptions:     connectors.SendOptions{Retries: 0, Timeout: 2 * time.Second},
		InFlightTimeout: time.Minute,
	}
	view, err := retries.Run(ctx, models.SubjectExecutiveReport, retry.RunRequest{
		Execute: true, MaxRetryDeliveries: retry.DefaultMaxRetryDeliveries, Schedule: retry.DefaultSchedule(),
		Policy: retry.Policy{MaxRetryAttempts: 3, AllowImmediateRetry: true, BackoffMultiplier: 2},
		Actor:  "release.manager", MayRunLive: true,
	})
	if err != nil {
		t.Fatalf("live retry Run: %v", err)
	}
	live := liveRetry{db: db, service: newTestService(db), scheduleRun: run.ID, reportID: report.ID,
		workerRunID: view.WorkerRunID, retryPlanID: view.RetryPlanID}
	for _, execution := range view.Executions {
		if execution.Outcome == models.ExecutionDelivered {
			live.delivered = execution
		}
	}
	if live.delivered.ExecutionID == "" {
		t.Fatalf("live retry: got executions %+v, want one delivered", view.Executions)
	}
	return live
}

func TestChainOfLiveRetryExecution(t *testing.T) {
	live := runLiveRetry(t)
	chain, err := live.service.Chain(context.Background(), ChainRetryExecution, live.delivered.ExecutionID)
	if err != nil {
		t.Fatalf("Chain: %v", err)
	}
	if len(chain.Missing) != 0 {
		t.Errorf("missing links: got %q, want none", chain.Missing)
	}

	found := map[string][]ChainLink{}
	for _, link := range chain.Links {
		found[link.Kind] = append(found[link.Kind], link)
	}
	wantIDs := []struct{ kind, id string }{
		{models.HistoryRetryExecution, live.delivered.ExecutionID},
		{models.HistoryRetryWorkerRun, live.workerRunID},
		{models.HistoryRetryPlan, live.retryPlanID},
		{models.HistoryScheduleRun, live.scheduleRun},
		{models.HistoryExecutiveReport, live.reportID},
		{models.HistoryDelivery, live.delivered.DeliveryID},
	}
	for _, want := range wantIDs {
		ok := false
		for _, link := range found[want.kind] {
			ok = ok || link.ID == want.id
		}
		if !ok {
			t.Errorf("link %s %s: not in chain %+v", want.kind, want.id, chain.Links)
		}
	}
	if got := len(found["retry_decision"]); got != 1 {
		t.Errorf("retry decisions: got %d, want 1", got)
	}
	// Two first sends and the two retries of the same schedule run.
	if got := len(found[models.HistoryDelivery]); got != 4 {
		t.Errorf("deliveries: got %d, want 4", got)
	}
	if chain.Links[0].Kind != models.HistoryRetryExecution || chain.Links[0].Relation != "record" {
		t.Errorf("first link: got %s %s, want the retry execution itself", chain.Links[0].Kind, chain.Links[0].Relation)
	}
	for _, link := range chain.Links {
		if link.At.IsZero() {
			t.Errorf("link %s %s: got no time, want one", link.Kind, link.ID)
		}
	}
	if run := found[models.HistoryRetryWorkerRun]; len(run) == 1 && run[0].Actor != "release.manager" {
		t.Errorf("worker run actor: got %q, want release.manager", run[0].Actor)
	}
	if got := chain.Links[0].Actor; got != "release.manager" {
		t.Errorf("execution actor: got %q, want the worker run's actor release.manager", got)
	}
	decisions, plans := found["retry_decision"], found[models.HistoryRetryPlan]
	if len(decisions) != 1 || len(plans) != 1 {
		t.Fatalf("decisions and plans: got %d and %d, want one of each", len(decisions), len(plans))
	}
	if !decisions[0].At.Equal(plans[0].At) {
		t.Errorf("decision time: got %s, want its plan's time %s", decisions[0].At, plans[0].At)
	}

	// The retry delivery traces to the same execution.
	fromDelivery, err := live.service.Chain(context.Background(), ChainDelivery, live.delivered.DeliveryID)
	if err != nil {
		t.Fatalf("Chain of delivery: %v", err)
	}
	if len(fromDelivery.Links) < 2 || fromDelivery.Links[1].Kind != models.HistoryRetryExecution ||
		fromDelivery.Links[1].ID != live.delivered.ExecutionID {
		t.Errorf("delivery chain: got %+v, want the delivery then execution %s", fromDelivery.Links, live.delivered.ExecutionID)
	}
}

func TestChainUnknownRecords(t *testing.T) {
	service := newTestService(dbtest.Open(t))
	for _, kind := range ChainKinds() {
		if _, err := service.Chain(context.Background(), kind, "missing-id"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Chain(%s, missing-id): got %v, want models.ErrNotFound", kind, err)
		}
	}
	if _, err := service.Chain(context.Background(), "health_snapshot", "h1"); !errors.Is(err, ErrUnknownChainKind) {
		t.Errorf("Chain(health_snapshot): got %v, want ErrUnknownChainKind", err)
	}
}

func TestChainOfAlertRecords(t *testing.T) {
	_, service := openFixture(t)
	tests := []struct {
		kind, id string
		want     []string
	}{
		{ChainAlertPlan, "pB", []string{"alert_plan/pB", "health_snapshot/h3", "delivery/d2", "delivery/d3", "delivery/d4", "delivery/d5", "acknowledgement/a2", "acknowledgement/a3"}},
		{ChainAcknowledgement, "a1", []string{"acknowledgement/a1", "health_snapshot/h2", "alert_plan/pA", "delivery/d1"}},
		{ChainDelivery, "d1", []string{"delivery/d1", "health_snapshot/h2", "alert_plan/pA", "acknowledgement/a1"}},
		{ChainRetryExecution, "x2", []string{"retry_execution/x2", "retry_worker_run/w3", "retry_plan/rp1", "retry_decision/dec2", "schedule_run/s2", "executive_report/r2", "delivery/e2", "delivery/e5"}},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			chain, err := service.Chain(context.Background(), tc.kind, tc.id)
			if err != nil {
				t.Fatalf("Chain: %v", err)
			}
			var got []string
			for _, link := range chain.Links {
				got = append(got, link.Kind+"/"+link.ID)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("links: got %v, want %v", got, tc.want)
			}
			if len(chain.Missing) != 0 {
				t.Errorf("missing: got %q, want none", chain.Missing)
			}
		})
	}
}

func TestChainOfInFlightDelivery(t *testing.T) {
	db, service := openFixture(t)
	// A send under way has no host, reply or class recorded yet.
	if err := db.Exec("UPDATE deliveries SET host = '', attempt_count = 0 WHERE id = 'e3'").Error; err != nil {
		t.Fatalf("clear the attempt of e3: %v", err)
	}
	chain, err := service.Chain(context.Background(), ChainDelivery, "e3")
	if err != nil {
		t.Fatalf("Chain: %v", err)
	}
	link := chain.Links[0]
	if link.ID != "e3" || link.Status != models.DeliveryInFlight {
		t.Fatalf("first link: got %s with status %q, want e3 in flight", link.ID, link.Status)
	}
	want := "send to slack, in flight since " + at(20).UTC().Format(time.RFC3339)
	if link.Detail != want {
		t.Errorf("detail (%s): got %q, want %q", dbtest.Describe(), link.Detail, want)
	}
	for _, stale := range []string{"class", "attempt", "no attempt recorded"} {
		if strings.Contains(link.Detail, stale) {
			t.Errorf("detail: got %q, want no %q while the send is in flight", link.Detail, stale)
		}
	}

	completed, err := service.Chain(context.Background(), ChainDelivery, "e2")
	if err != nil {
		t.Fatalf("Chain of e2: %v", err)
	}
	if got := completed.Links[0].Detail; got != "send to 127.0.0.1, status 503, class server_error, 1 attempt" {
		t.Errorf("completed detail: got %q, want the host, reply, class and attempts", got)
	}
}

// readArchive returns every file of a zip archive by name.
func readArchive(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	reader, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("open zip: %v", err)
	}
	files := map[string][]byte{}
	for _, file := range reader.File {
		rc, err := file.Open()
		if err != nil {
			t.Fatalf("open %s: %v", file.Name, err)
		}
		content, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			t.Fatalf("read %s: %v", file.Name, err)
		}
		files[file.Name] = content
	}
	return files
}

func TestExportManifestHashesAndSecrets(t *testing.T) {
	live := runLiveRetry(t)

	// The stored rows are redacted, so the export has nothing to leak.
	var stored []models.Delivery
	if err := live.db.Find(&stored).Error; err != nil {
		t.Fatalf("read deliveries: %v", err)
	}
	storedJSON, _ := json.Marshal(stored)
	for _, secret := range plantedSecrets {
		if bytes.Contains(storedJSON, []byte(secret)) {
			t.Errorf("stored deliveries contain the planted secret %q", secret)
		}
	}

	var out bytes.Buffer
	manifest, err := live.service.Export(context.Background(), &out, ExportQuery{From: at(-24 * 60), To: at(24 * 60)})
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	files := readArchive(t, out.Bytes())
	for _, secret := range plantedSecrets {
		for name, content := range files {
			if bytes.Contains(content, []byte(secret)) {
				t.Errorf("export file %s contains the planted secret %q", name, secret)
			}
		}
	}

	var written Manifest
	if err := json.Unmarshal(files[ManifestName], &written); err != nil {
		t.Fatalf("decode manifest: %v", err)
	}
	if len(written.Files) != len(ExportKinds()) || len(files) != len(ExportKinds())+1 {
		t.Errorf("files: got %d in manifest and %d in archive, want %d and %d", len(written.Files), len(files), len(ExportKinds()), len(ExportKinds())+1)
	}
	wantRows := map[string]int64{"deliveries": 4, "executive_reports": 1, "schedule_runs": 1, "retry_plans": 1,
		"retry_decisions": 2, "retry_worker_runs": 1, "retry_executions": 2, "health_snapshots": 0}
	for i, file := range written.Files {
		content, ok := files[file.Name]
		if !ok {
			t.Errorf("manifest file %s: not in the archive", file.Name)
			continue
		}
		sum := sha256.Sum256(content)
		if got := hex.EncodeToString(sum[:]); got != file.SHA256 {
			t.Errorf("%s sha256: got %s, want %s from the manifest", file.Name, got, file.SHA256)
		}
		if int64(len(content)) != file.Bytes {
			t.Errorf("%s bytes: got %d, want %d", file.Name, len(content), file.Bytes)
		}
		if lines := int64(bytes.Count(content, []byte("\n"))); lines != file.Rows {
			t.Errorf("%s lines: got %d, want %d rows", file.Name, lines, file.Rows)
		}
		if want, ok := wantRows[file.Kind]; ok && file.Rows != want {
			t.Errorf("%s rows: got %d, want %d", file.Kind, file.Rows, want)
		}
		if file != manifest.Files[i] {
			t.Errorf("manifest entry %d: got %+v written, want %+v returned", i, file, manifest.Files[i])
		}
	}

	// Each line is one stored row with its columns as stored.
	line, _, _ := strings.Cut(string(files["deliveries.jsonl"]), "\n")
	var row map[string]any
	if err := json.Unmarshal([]byte(line), &row); err != nil {
		t.Fatalf("decode a deliveries row: %v", err)
	}
	if _, ok := row["success"].(bool); !ok {
		t.Errorf("success column: got %T %v, want a JSON boolean", row["success"], row["success"])
	}
	if subject, _ := row["subject_id"].(string); subject != live.scheduleRun {
		t.Errorf("subject_id column: got %v, want %s", row["subject_id"], live.scheduleRun)
	}
}

func TestExportSelectsKindsAndRange(t *testing.T) {
	_, service := openFixture(t)
	var out bytes.Buffer
	// Minutes 5 to 20 hold the plan pB and the deliveries d1 d2 d3 d4 e1 e2 e3.
	manifest, err := service.Export(context.Background(), &out, ExportQuery{
		From: at(5), To: at(20).Add(time.Second), Kinds: []string{"deliveries", "alert_plans", "deliveries"}})
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	files := readArchive(t, out.Bytes())
	if len(manifest.Files) != 2 || len(files) != 3 {
		t.Fatalf("files: got %d in manifest and %d in archive, want 2 and 3", len(manifest.Files), len(files))
	}
	got := map[string]int64{}
	for _, file := range manifest.Files {
		got[file.Kind] = file.Rows
	}
	if got["alert_plans"] != 1 || got["deliveries"] != 7 {
		t.Errorf("rows: got %v, want alert_plans 1 and deliveries 7", got)
	}
}

func TestExportQueryRejectsInvalid(t *testing.T) {
	tests := []struct {
		name  string
		query ExportQuery
		field string
	}{
		{"missing from", ExportQuery{To: at(1)}, "from"},
		{"missing to", ExportQuery{From: at(1)}, "to"},
		{"to before from", ExportQuery{From: at(2), To: at(1)}, "to"},
		{"empty range", ExportQuery{From: at(1), To: at(1)}, "to"},
		{"range too long", ExportQuery{From: at(0), To: at(0).Add(MaxExportRange + time.Second)}, "to"},
		{"unknown kind", ExportQuery{From: at(0), To: at(1), Kinds: []string{"deliveries", "secrets"}}, "kinds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var fieldErr *FieldError
			if err := tc.query.Validate(); !errors.As(err, &fieldErr) || fieldErr.Field != tc.field {
				t.Errorf("Validate: got %v, want a *FieldError on %s", err, tc.field)
			}
		})
	}
}

func TestExportIncludesIngestedEvidence(t *testing.T) {
	db := dbtest.Open(t)
	ingest := &evidence.Service{DB: db, Now: func() time.Time { return fixtureStart }, Logger: quietLogger()}
	if _, err := ingest.LoadSampleIfEmpty(context.Background()); err != nil {
		t.Fatalf("load the sample evidence: %v", err)
	}
	// The sample's records are at most a few days older than its clock.
	from, to := fixtureStart.Add(-300*24*time.Hour), fixtureStart.Add(24*time.Hour)

	var out bytes.Buffer
	manifest, err := newTestService(db).Export(context.Background(), &out, ExportQuery{From: from, To: to})
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	timeColumn := map[string]string{
		"escalation_retry_plans": "created_at", "escalation_worker_runs": "created_at",
		"escalation_retry_executions": "created_at", "escalation_deliveries": "created_at",
		"audit_retry_executions": "executed_at", "recovery_playbooks": "generated_at", "recovery_closures": "closed_at",
	}
	var exported int64
	for _, file := range manifest.Files {
		column, ok := timeColumn[file.Kind]
		if !ok {
			continue
		}
		var want int64
		query := fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s >= ? AND %s < ?", file.Table, column, column)
		if err := db.Raw(query, from, to).Scan(&want).Error; err != nil {
			t.Fatalf("count %s: %v", file.Table, err)
		}
		if file.Rows != want {
			t.Errorf("%s rows: got %d, want %d", file.Kind, file.Rows, want)
		}
		exported += file.Rows
	}
	if exported == 0 {
		t.Errorf("ingested evidence rows exported: got 0, want the sample's rows")
	}
}

func TestExportRemovesConfiguredSecretsFromOldRows(t *testing.T) {
	const secret = "legacySEKRITtoken42"
	db := dbtest.Open(t)
	ingest := &evidence.Service{DB: db, Now: func() time.Time { return fixtureStart }, Logger: quietLogger()}
	// Stored before the secret was configured, so ingestion could not
	// check the record for it.
	records := []json.RawMessage{json.RawMessage(`{"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-delivery-retry-plan",
		"retry_plan_id": "plan-legacy", "retryable_count": 1, "created_at": "` + fixtureStart.Add(-time.Hour).Format(time.RFC3339) + `",
		"note": "rotated ` + secret + `"}`)}
	if result, err := ingest.Ingest(context.Background(), records); err != nil || result.Inserted != 1 {
		t.Fatalf("ingest the old record: got %+v, %v; want it stored", result, err)
	}

	service := newTestService(db)
	service.Secrets = connectors.NewRedactor(secret)
	var out bytes.Buffer
	if _, err := service.Export(context.Background(), &out, ExportQuery{From: fixtureStart.Add(-24 * time.Hour), To: fixtureStart.Add(time.Hour)}); err != nil {
		t.Fatalf("Export: %v", err)
	}

	files := readArchive(t, out.Bytes())
	found := false
	for name, content := range files {
		if bytes.Contains(content, []byte(secret)) {
			t.Errorf("export file %s contains the configured secret", name)
		}
		if bytes.Contains(content, []byte("plan-legacy")) {
			found = true
		}
	}
	if !found {
		t.Error("export: the old record is missing, want it exported without the secret")
	}
}
