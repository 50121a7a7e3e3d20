package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/audit"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/retry"
	"github.com/releaseops/evidence-console/views"
)

// interruptRetry stores what a worker stopped between sending and recording
// leaves: a running worker run with one in-flight execution and delivery to
// connector for schedule run runID, started at the given time.
func (s *retryTestServer) interruptRetry(runID, connector string, startedAt time.Time) {
	s.t.Helper()
	kind := models.SubjectExecutiveReport
	plan := models.RetryPlan{ID: models.NewID("rtp", startedAt), SubjectKind: kind, MaxRetryAttempts: 3, BackoffMultiplier: 2,
		DecisionCount: 1, RetryCount: 1, Actor: "release.manager", CreatedAt: startedAt}
	run := models.RetryWorkerRun{ID: models.NewID("rwr", startedAt), SubjectKind: kind, PlanID: plan.ID, Actor: "release.manager",
		MaxRetryDeliveries: 5, SelectedCount: 1, SendRetries: 1, SendTimeoutMS: 10000, ScheduleCadence: "manual",
		WindowStart: startedAt, WindowEnd: startedAt, State: models.WorkerRunRunning, CreatedAt: startedAt}
	plan.WorkerRunID = run.ID

	decision := models.RetryDecision{ID: models.NewID("rtd", startedAt), PlanID: plan.ID, SubjectKind: kind, SubjectID: runID,
		SubjectKey: "rep_" + runID, Connector: connector, Action: "retry", FailureCount: 1, IdempotencyKey: "idem-" + runID,
		Selected: true, State: "claimed", ClaimedBy: run.ID}
	delivery := models.Delivery{ID: models.NewID("dlv", startedAt), SubjectKind: kind, SubjectID: runID, SubjectKey: "rep_" + runID,
		Connector: connector, State: models.DeliveryInFlight, Attempts: "[]", RequestSummary: "{}", IdempotencyKey: "idem-" + runID,
		Origin: models.OriginRetry, Actor: "release.manager", StartedAt: startedAt, CreatedAt: startedAt}

	claimKey := "claim-" + runID
	execution := models.RetryExecution{ID: models.NewID("rex", startedAt), DecisionID: decision.ID, ClaimKey: &claimKey,
		WorkerRunID: run.ID, PlanID: plan.ID, SubjectKind: kind, SubjectID: runID, SubjectKey: "rep_" + runID, Connector: connector,
		Outcome: models.ExecutionInFlight, DeliveryID: delivery.ID, IdempotencyKey: "idem-" + runID, StartedAt: startedAt}
	delivery.RetryExecutionID = execution.ID

	err := s.db.Transaction(func(tx *gorm.DB) error {
		if err := models.CreateRetryPlan(tx, &plan, []models.RetryDecision{decision}); err != nil {
			return err
		}
		if err := models.CreateRetryWorkerRun(tx, &run); err != nil {
			return err
		}
		if err := models.CreateRetryExecutions(tx, []models.RetryExecution{execution}); err != nil {
			return err
		}
		return models.CreateDelivery(tx, &delivery)
	})
	if err != nil {
		s.t.Fatalf("store the interrupted retry: %v", err)
	}
}

// TestConsoleLiveRunRecordsInterruptedRetries checks that the console can
// clear what a stopped worker left in flight when no retry is due: the
// confirmation offers it and the confirmed run records it.
func TestConsoleLiveRunRecordsInterruptedRetries(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-3*time.Hour))
	s.interruptRetry("run_1", "webhook", testNow.Add(-10*time.Minute))
	policy := "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2&max_retry_deliveries=5"

	confirm := s.postForm("/console/executive-retry/confirm", policy, "HX-Request", "true")
	if confirm.Code != http.StatusOK {
		t.Fatalf("confirm: got %d, want 200 (%s)", confirm.Code, confirm.Body.String())
	}
	doc := document(t, confirm)
	if got := byTestID(doc, "retry-confirm-interrupted").Text(); !strings.Contains(got, "1 execution") {
		t.Errorf("confirmation: got %q, want it to name 1 interrupted execution", got)
	}
	if got := byTestID(doc, "retry-confirm-decisions-empty").Text(); got != "No retry is due before the interrupted execution is recorded." {
		t.Errorf("confirmation decisions: got %q, want that retries wait for the record", got)
	}
	if _, disabled := byTestID(doc, "run-live-retry").Attr("disabled"); disabled {
		t.Fatalf("live run button: disabled (%s), want it enabled", byTestID(doc, "retry-confirm-blocked").Text())
	}
	if got, _ := byTestID(doc, "retry-confirm-form").Find(`input[name="confirmed_count"]`).Attr("value"); got != "0" {
		t.Errorf("confirmed_count: got %q, want 0", got)
	}

	run := s.postForm("/console/executive-retry/run", policy+"&execute=true&confirm=true&confirmed_destinations=&confirmed_count=0", "HX-Request", "true")
	if run.Code != http.StatusOK {
		t.Fatalf("live run: got %d, want 200 (%s)", run.Code, run.Body.String())
	}
	if got := byTestID(document(t, run), "retry-run-counts").Text(); !strings.Contains(got, "1 interrupted execution reconciled") {
		t.Errorf("run counts: got %q, want 1 interrupted execution reconciled", got)
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
	runDoc := document(t, run)
	if got := byTestID(runDoc, "retry-reconciled-execution").Length(); got != 1 {
		t.Errorf("reconciled executions on the run: got %d, want 1", got)
	}
	runID := strings.TrimSpace(byTestID(runDoc, "retry-run-link").First().Text())
	stoppedRun, _ := byTestID(runDoc, "reconciled-run-link").Attr("href")
	if !strings.HasPrefix(stoppedRun, "/retries/runs/rwr_") || stoppedRun == "/retries/runs/"+runID {
		t.Fatalf("stopped run link: got %q, want the stopped run, not %s", stoppedRun, runID)
	}
	stoppedPage := document(t, s.do(http.MethodGet, stoppedRun, "", "", "Accept", "text/html"))
	if got := byTestID(stoppedPage, "retry-run-interrupted").Text(); !strings.Contains(got, "its server stopped") {
		t.Errorf("stopped run page: got %q, want it marked interrupted", got)
	}
	if got := byTestID(stoppedPage, "execution-duration").Length(); got != 0 {
		t.Errorf("durations on the stopped run page: got %d, want none for an outcome a later run recorded", got)
	}
	detail := s.getJSON(executiveRetryRunsPath + "/" + runID)
	var view struct {
		ReconciledExecutions []struct {
			ExecutionID       string `json:"execution_id"`
			DeliveryID        string `json:"delivery_id"`
			ReconciledByRunID string `json:"reconciled_by_run_id"`
			Outcome           string `json:"outcome"`
		} `json:"reconciled_executions"`
	}
	if err := json.Unmarshal(detail.Body.Bytes(), &view); err != nil {
		t.Fatalf("worker run detail: %v (%s)", err, detail.Body.String())
	}
	if len(view.ReconciledExecutions) != 1 {
		t.Fatalf("reconciled_executions: got %d, want 1", len(view.ReconciledExecutions))
	}
	if got := view.ReconciledExecutions[0].ReconciledByRunID; got != runID {
		t.Errorf("reconciled_by_run_id: got %q, want %q", got, runID)
	}
	if got := view.ReconciledExecutions[0].Outcome; got != models.ExecutionFailed {
		t.Errorf("reconciled outcome: got %q, want %q", got, models.ExecutionFailed)
	}
	var inFlight int64
	if err := s.db.Model(&models.RetryExecution{}).Where("outcome = ?", models.ExecutionInFlight).Count(&inFlight).Error; err != nil {
		t.Fatal(err)
	}
	if inFlight != 0 {
		t.Errorf("in-flight executions after the run: got %d, want 0", inFlight)
	}

	// The interrupted execution's audit chain names the run that recorded
	// it, and its delivery states that no attempt was recorded.
	s.handler.Audit = &audit.Service{DB: s.db, Now: func() time.Time { return testNow }, Logger: s.handler.Logger}
	chainRec := s.getJSON(runtimePrefix + "/audit/retry_execution/" + view.ReconciledExecutions[0].ExecutionID)
	type chainLinks struct {
		Links []struct {
			Kind     string `json:"kind"`
			ID       string `json:"id"`
			Relation string `json:"relation"`
			Detail   string `json:"detail"`
		} `json:"links"`
	}
	var chain chainLinks
	if err := json.Unmarshal(chainRec.Body.Bytes(), &chain); err != nil {
		t.Fatalf("audit chain: %v (%s)", err, chainRec.Body.String())
	}
	var reconciledBy string
	for _, link := range chain.Links {
		if link.Relation == "reconciled by" {
			reconciledBy = link.ID
		}
	}
	if reconciledBy != runID {
		t.Errorf("chain link reconciled by: got %q, want %q", reconciledBy, runID)
	}
	deliveryRec := s.getJSON(runtimePrefix + "/audit/delivery/" + view.ReconciledExecutions[0].DeliveryID)
	var deliveryChain chainLinks
	if err := json.Unmarshal(deliveryRec.Body.Bytes(), &deliveryChain); err != nil || len(deliveryChain.Links) == 0 {
		t.Fatalf("delivery audit chain: %v (%s)", err, deliveryRec.Body.String())
	}
	deliveryDetail := deliveryChain.Links[0].Detail
	if !strings.HasPrefix(deliveryDetail, "retry to webhook (no attempt recorded),") {
		t.Errorf("chain delivery detail: got %q, want it to name the destination without a host", deliveryDetail)
	}
}

func TestConfirmationNamesYoungInFlightRetry(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-3*time.Hour))
	s.interruptRetry("run_1", "webhook", testNow.Add(-2*time.Minute))
	policy := "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2&max_retry_deliveries=5"

	confirm := s.postForm("/console/executive-retry/confirm", policy, "HX-Request", "true")

	if confirm.Code != http.StatusOK {
		t.Fatalf("confirm: got %d, want 200 (%s)", confirm.Code, confirm.Body.String())
	}
	doc := document(t, confirm)
	inFlight := byTestID(doc, "retry-confirm-in-flight").Text()
	if !strings.Contains(inFlight, "1 retry is in flight") {
		t.Errorf("in-flight note: got %q, want it to name 1 retry in flight", inFlight)
	}
	if !strings.Contains(inFlight, "Its group waits for it. If it is still in flight") {
		t.Errorf("in-flight note: got %q, want the singular wording for one retry", inFlight)
	}
	// A retry counts as interrupted once it has been in flight for longer
	// than the timeout: 1µs past it, shown rounded up to the second.
	interruptibleAt := views.FormatTimeSeconds(testNow.Add(-2*time.Minute+retry.DefaultInFlightTimeout+time.Microsecond), time.UTC)
	if !strings.Contains(inFlight, interruptibleAt) {
		t.Errorf("in-flight note: got %q, want the time it can be recorded as interrupted, %s", inFlight, interruptibleAt)
	}
	if got := byTestID(doc, "retry-confirm-interrupted").Length(); got != 0 {
		t.Errorf("interrupted note: got %d, want none before the in-flight timeout", got)
	}
}

func TestConsoleLiveRunRecordsStaleSend(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	startedAt := testNow.Add(-retry.StaleSendAfter - time.Minute)
	send := models.Delivery{ID: models.NewID("dlv", startedAt), SubjectKind: models.SubjectExecutiveReport, SubjectID: "run_1",
		SubjectKey: "rep_run_1", Connector: "webhook", State: models.DeliveryInFlight, Attempts: "[]", RequestSummary: "{}",
		IdempotencyKey: "idem-run_1", Origin: models.OriginSend, Actor: "release.manager", StartedAt: startedAt, CreatedAt: startedAt}
	if err := models.CreateDelivery(s.db, &send); err != nil {
		t.Fatalf("CreateDelivery: %v", err)
	}
	policy := "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2&max_retry_deliveries=5"

	confirm := s.postForm("/console/executive-retry/confirm", policy, "HX-Request", "true")

	if confirm.Code != http.StatusOK {
		t.Fatalf("confirm: got %d, want 200 (%s)", confirm.Code, confirm.Body.String())
	}
	doc := document(t, confirm)
	if got := byTestID(doc, "retry-confirm-stale-sends").Text(); !strings.Contains(got, "1 send") {
		t.Errorf("confirmation: got %q, want it to name 1 stale send", got)
	}
	if got := byTestID(doc, "retry-confirm-stale-sends").Text(); !strings.Contains(got, "so its destination can be retried") {
		t.Errorf("confirmation: got %q, want one destination for the one stale send", got)
	}
	if got := byTestID(doc, "retry-confirm-decisions-empty").Text(); got != "No retry is due before the interrupted send is recorded." {
		t.Errorf("confirmation decisions: got %q, want that the retry waits for the send's record", got)
	}
	if _, disabled := byTestID(doc, "run-live-retry").Attr("disabled"); disabled {
		t.Fatalf("live run button: disabled (%s), want it enabled", byTestID(doc, "retry-confirm-blocked").Text())
	}

	run := s.postForm("/console/executive-retry/run", policy+"&execute=true&confirm=true&confirmed_destinations=&confirmed_count=0", "HX-Request", "true")
	if run.Code != http.StatusOK {
		t.Fatalf("live run: got %d, want 200 (%s)", run.Code, run.Body.String())
	}
	stored, err := models.DeliveryByID(context.Background(), s.db, send.ID)
	if err != nil {
		t.Fatalf("DeliveryByID: %v", err)
	}
	if stored.State != models.DeliveryCompleted || stored.ErrorClass != retry.ClassInterrupted {
		t.Errorf("stale send: got state %s class %q, want completed and %s", stored.State, stored.ErrorClass, retry.ClassInterrupted)
	}

	// The run and the delivery name each other.
	runDoc := document(t, run)
	if href, _ := byTestID(runDoc, "retry-reconciled-send").Attr("href"); href != "/audit/delivery/"+send.ID {
		t.Errorf("recorded send on the run: got %q, want the audit chain of %s", href, send.ID)
	}
	if got := byTestID(runDoc, "retry-run-counts").Text(); !strings.Contains(got, "1 interrupted send reconciled") {
		t.Errorf("run counts: got %q, want 1 interrupted send reconciled", got)
	}
	runID := strings.TrimSpace(byTestID(runDoc, "retry-run-link").First().Text())
	if stored.ReconciledByRunID != runID {
		t.Errorf("stale send reconciled_by_run_id: got %q, want the run %s", stored.ReconciledByRunID, runID)
	}
	detail := s.getJSON(executiveRetryRunsPath + "/" + runID)
	var view struct {
		ReconciledSendIDs []string `json:"reconciled_send_ids"`
		Counts            struct {
			ReconciledCount int `json:"reconciled_count"`
		} `json:"counts"`
	}
	if err := json.Unmarshal(detail.Body.Bytes(), &view); err != nil {
		t.Fatalf("worker run detail: %v (%s)", err, detail.Body.String())
	}
	if view.Counts.ReconciledCount != 1 {
		t.Errorf("counts.reconciled_count: got %d, want 1 for the recorded send", view.Counts.ReconciledCount)
	}
	if len(view.ReconciledSendIDs) != 1 || view.ReconciledSendIDs[0] != send.ID {
		t.Errorf("reconciled_send_ids: got %v, want [%s]", view.ReconciledSendIDs, send.ID)
	}
	s.handler.Audit = &audit.Service{DB: s.db, Now: func() time.Time { return testNow }, Logger: s.handler.Logger}
	chainRec := s.getJSON(runtimePrefix + "/audit/delivery/" + send.ID)
	if !strings.Contains(chainRec.Body.String(), `"relation":"reconciled by"`) || !strings.Contains(chainRec.Body.String(), runID) {
		t.Errorf("delivery audit chain: got %s, want a link to the run %s that recorded it", chainRec.Body.String(), runID)
	}
}

// A dry run states what a live run would record as interrupted first, in its
// JSON, on the console and on the run's page, and records none of it.
func TestDryRunNamesWhatLiveRunWouldRecord(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-3*time.Hour))
	s.interruptRetry("run_1", "webhook", testNow.Add(-10*time.Minute))
	startedAt := testNow.Add(-retry.StaleSendAfter - time.Minute)
	send := models.Delivery{ID: models.NewID("dlv", startedAt), SubjectKind: models.SubjectExecutiveReport, SubjectID: "run_2",
		SubjectKey: "rep_run_2", Connector: "webhook", State: models.DeliveryInFlight, Attempts: "[]", RequestSummary: "{}",
		IdempotencyKey: "idem-run_2", Origin: models.OriginSend, Actor: "release.manager", StartedAt: startedAt, CreatedAt: startedAt}
	if err := models.CreateDelivery(s.db, &send); err != nil {
		t.Fatalf("CreateDelivery: %v", err)
	}

	rec := s.postJSON(executiveRetryRunPath, `{}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("dry run: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	var view struct {
		WorkerRunID    string `json:"worker_run_id"`
		WouldReconcile *struct {
			InterruptedCount int `json:"interrupted_count"`
			StaleSendCount   int `json:"stale_send_count"`
		} `json:"would_reconcile"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &view); err != nil {
		t.Fatalf("dry run: %v (%s)", err, rec.Body.String())
	}
	if view.WouldReconcile == nil {
		t.Fatalf("would_reconcile: missing from %s", rec.Body.String())
	}
	if view.WouldReconcile.InterruptedCount != 1 {
		t.Errorf("would_reconcile.interrupted_count: got %d, want 1", view.WouldReconcile.InterruptedCount)
	}
	if view.WouldReconcile.StaleSendCount != 1 {
		t.Errorf("would_reconcile.stale_send_count: got %d, want 1", view.WouldReconcile.StaleSendCount)
	}
	stored, err := models.DeliveryByID(context.Background(), s.db, send.ID)
	if err != nil {
		t.Fatalf("DeliveryByID: %v", err)
	}
	if stored.State != models.DeliveryInFlight || stored.ReconciledByRunID != "" {
		t.Errorf("stale send after the dry run: got state %s, reconciled by %q; want it left in flight", stored.State, stored.ReconciledByRunID)
	}

	console := s.postForm("/console/executive-retry/run", "dry_run=true&max_retry_deliveries=5", "HX-Request", "true")
	if console.Code != http.StatusOK {
		t.Fatalf("console dry run: got %d, want 200 (%s)", console.Code, console.Body.String())
	}
	page := s.do(http.MethodGet, "/retries/runs/"+view.WorkerRunID, "", "", "Accept", "text/html")
	for name, doc := range map[string]*goquery.Document{"console": document(t, console), "run page": document(t, page)} {
		if got := byTestID(doc, "retry-run-would-stale-sends").Text(); !strings.Contains(got, "A live run would first record 1 send that a stopped server left in flight") {
			t.Errorf("%s: stale send note: got %q, want it to name 1 send", name, got)
		}
		if got := byTestID(doc, "retry-run-would-interrupt").Text(); !strings.Contains(got, "A live run would first record 1 execution that a stopped worker left in flight") {
			t.Errorf("%s: interrupted note: got %q, want it to name 1 execution", name, got)
		}
	}
}

// A confirmed console run names the confirmed retry it did not send,
// because a later delivery succeeded while the confirmation was open, in
// its JSON and on its result.
func TestConfirmedRunNamesRetryNotSent(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-3*time.Hour))
	s.failDelivery("run_2", "webhook", testNow.Add(-3*time.Hour+time.Second))
	policy := "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2&max_retry_deliveries=5"
	confirm := document(t, s.postForm("/console/executive-retry/confirm", policy, "HX-Request", "true"))
	retries := confirm.Find(`input[name="confirmed_retries"]`).AttrOr("value", "")
	if strings.Count(retries, ",") != 1 {
		t.Fatalf("confirmed_retries: got %q, want two failed deliveries", retries)
	}
	// The confirmation stores no decision, so it shows no decision id.
	confirm.Find(`[data-testid="retry-decision"] [data-testid="decision-id"]`).Each(func(_ int, cell *goquery.Selection) {
		if got := strings.TrimSpace(cell.Text()); got != "—" {
			t.Errorf("confirmation decision id: got %q, want —", got)
		}
	})
	if n := confirm.Find(`[data-testid="decision-id"]`).Length(); n != 2 {
		t.Errorf("confirmation decision id cells: got %d, want 2", n)
	}

	// run_1 is delivered while the confirmation is open.
	at := testNow.Add(-time.Minute)
	later := models.Delivery{ID: models.NewID("dlv", at), SubjectKind: models.SubjectExecutiveReport, SubjectID: "run_1", SubjectKey: "rep_run_1",
		Connector: "webhook", State: models.DeliveryInFlight, Attempts: "[]", RequestSummary: "{}",
		IdempotencyKey: "idem-run_1-later", Origin: models.OriginSend, Actor: "release.manager", StartedAt: at, CreatedAt: at}
	if err := models.CreateDelivery(s.db, &later); err != nil {
		t.Fatalf("CreateDelivery: %v", err)
	}
	later.Success, later.StatusCode, later.ConnectorKind, later.CompletedAt = true, 200, "webhook", &at
	if err := models.CompleteDelivery(context.Background(), s.db, &later); err != nil {
		t.Fatalf("CompleteDelivery: %v", err)
	}

	// A space after the comma, as a person may type it, is not part of an
	// id.
	typed := strings.Replace(retries, ",", ",%20", 1)
	run := s.postForm("/console/executive-retry/run", policy+"&execute=true&confirm=true&confirmed_destinations=webhook&confirmed_count=2&confirmed_retries="+typed,
		"HX-Request", "true")
	if run.Code != http.StatusOK {
		t.Fatalf("live run: got %d, want 200 (%s)", run.Code, run.Body.String())
	}
	doc := document(t, run)
	if got := byTestID(doc, "retry-run-counts").Text(); !strings.Contains(got, "1 selected, 1 delivered") {
		t.Errorf("run counts: got %q, want the one retry still due delivered", got)
	}
	items := byTestID(doc, "retry-run-not-sent-item")
	if items.Length() != 1 {
		t.Fatalf("retries not sent: got %d, want 1 (%s)", items.Length(), byTestID(doc, "retry-run").Text())
	}
	if got := items.Text(); !strings.Contains(got, "webhook, run_1") || !strings.Contains(got, "a later delivery to webhook succeeded") {
		t.Errorf("retry not sent: got %q, want run_1 closed by a later success", got)
	}

	// The run's page, read later, still names it.
	link := byTestID(doc, "retry-run-link").AttrOr("href", "")
	if link == "" {
		t.Fatalf("run link: none on the result (%s)", byTestID(doc, "retry-run").Text())
	}
	page := document(t, s.do(http.MethodGet, link, "", "", "Accept", "text/html"))
	if got := byTestID(page, "retry-run-not-sent-item").Text(); !strings.Contains(got, "webhook, run_1") {
		t.Errorf("run page retry not sent: got %q, want run_1", got)
	}
}

// A confirmed id that names no failed delivery is listed by its id alone,
// without an empty destination and subject.
func TestConfirmedRunNamesUnknownRetryById(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-3*time.Hour))
	policy := "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2&max_retry_deliveries=5"
	confirm := document(t, s.postForm("/console/executive-retry/confirm", policy, "HX-Request", "true"))
	failedID := confirm.Find(`input[name="confirmed_retries"]`).AttrOr("value", "")
	if failedID == "" {
		t.Fatal("confirmed_retries: empty, want the failed delivery")
	}

	run := s.postForm("/console/executive-retry/run", policy+"&execute=true&confirm=true&confirmed_destinations=webhook&confirmed_count=2&confirmed_retries=dlv_unknown,"+failedID,
		"HX-Request", "true")
	if run.Code != http.StatusOK {
		t.Fatalf("live run: got %d, want 200 (%s)", run.Code, run.Body.String())
	}
	items := byTestID(document(t, run), "retry-run-not-sent-item")
	if items.Length() != 1 {
		t.Fatalf("retries not sent: got %d, want 1", items.Length())
	}
	got := strings.TrimSpace(items.Text())
	if !strings.Contains(got, "dlv_unknown") {
		t.Errorf("unknown retry: got %q, want it to name the id", got)
	}
	if strings.Count(got, "dlv_unknown") != 1 {
		t.Errorf("unknown retry: got %q, want the id named once", got)
	}
	if strings.Contains(got, ", (") {
		t.Errorf("unknown retry: got %q, want no empty destination or subject", got)
	}
}
