package delivery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/metrics"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

var start = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// deliveryCount returns the delivery counter of one connector and class.
func deliveryCount(t *testing.T, connector, class string) float64 {
	t.Helper()
	recorder := httptest.NewRecorder()
	metrics.Handler().ServeHTTP(recorder, httptest.NewRequest("GET", "/metrics", nil))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(recorder.Body)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	for _, metric := range families["evidence_console_deliveries_total"].GetMetric() {
		labels := map[string]string{}
		for _, pair := range metric.GetLabel() {
			labels[pair.GetName()] = pair.GetValue()
		}
		if labels["connector"] == connector && labels["class"] == class {
			return metric.GetCounter().GetValue()
		}
	}
	return 0
}

func request(subjectID, connector string) delivery.Request {
	return delivery.Request{
		SubjectKind: models.SubjectExecutiveReport, SubjectID: subjectID, SubjectKey: "rep_" + subjectID,
		Connector: connector, Message: connectors.Message{IdempotencyKey: "idem-" + subjectID},
		Actor: "release.manager", Origin: models.OriginRetry, RetryExecutionID: "rex_" + subjectID,
	}
}

func result(success bool, class connectors.Class, status int, retryAfter time.Time) connectors.Result {
	sent := connectors.Result{
		Kind: connectors.KindWebhook, Success: success, StatusCode: status, Class: class, AttemptCount: 1,
		Attempts:   []connectors.Attempt{{Number: 1, StatusCode: status, Class: class, StartedAt: start, CompletedAt: start.Add(time.Second)}},
		Request:    connectors.RequestSummary{Method: "POST", Host: "127.0.0.1:9", Headers: map[string]string{}, BodyBytes: 12},
		RetryAfter: retryAfter,
	}
	if !success {
		sent.Error = "service unavailable"
		sent.ResponseExcerpt = "try later"
	}
	return sent
}

func TestFinishBatchRecordsAsFinish(t *testing.T) {
	db := dbtest.Open(t)
	var logs bytes.Buffer
	service := &delivery.Service{DB: db, Now: func() time.Time { return start }, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	results := []connectors.Result{
		result(true, connectors.ClassOK, 200, time.Time{}),
		result(false, connectors.ClassServerError, 503, start.Add(2*time.Minute)),
	}

	// The same two results, recorded one by one and as a batch.
	var single []models.Delivery
	for i, subject := range []string{"run_single_ok", "run_single_failed"} {
		pending, err := service.Begin(db, request(subject, "batch-test-single"))
		if err != nil {
			t.Fatalf("Begin: %v", err)
		}
		record, err := service.Finish(context.Background(), pending, results[i])
		if err != nil {
			t.Fatalf("Finish: %v", err)
		}
		single = append(single, record)
	}
	singleLogs := strings.Count(logs.String(), "delivery attempt finished")

	presetID := delivery.NewDeliveryID(start)
	requests := []delivery.Request{request("run_batch_ok", "batch-test"), request("run_batch_failed", "batch-test")}
	requests[0].DeliveryID = presetID
	before := deliveryCount(t, "batch-test", string(connectors.ClassServerError))
	var batch []models.Delivery
	err := db.Transaction(func(tx *gorm.DB) error {
		pendings, err := service.BeginBatch(tx, requests)
		if err != nil {
			return err
		}
		if pendings[0].Record.ID != presetID {
			t.Errorf("ID of the first pending delivery: got %q, want the preset %q", pendings[0].Record.ID, presetID)
		}
		// The second send returned a second before the batch is recorded.
		batch, err = service.FinishBatch(context.Background(), tx, pendings, results, []time.Time{{}, start.Add(-time.Second)})
		return err
	})
	if err != nil {
		t.Fatalf("BeginBatch and FinishBatch: %v", err)
	}

	if got := strings.Count(logs.String(), "delivery attempt finished"); got != singleLogs {
		t.Errorf("log lines after FinishBatch: got %d, want %d, because the batch logs nothing itself", got, singleLogs)
	}
	if got := deliveryCount(t, "batch-test", string(connectors.ClassServerError)); got != before {
		t.Errorf("failed delivery count after FinishBatch: got %v, want %v", got, before)
	}
	for _, record := range batch {
		service.ObserveFinished(record)
	}
	if got := strings.Count(logs.String(), "delivery attempt finished"); got != singleLogs+len(batch) {
		t.Errorf("log lines after ObserveFinished: got %d, want %d", got, singleLogs+len(batch))
	}
	if got := deliveryCount(t, "batch-test", string(connectors.ClassServerError)); got != before+1 {
		t.Errorf("failed delivery count after ObserveFinished: got %v, want %v", got, before+1)
	}

	for i, record := range batch {
		stored, err := models.DeliveryByID(context.Background(), db, record.ID)
		if err != nil {
			t.Fatalf("DeliveryByID(%s): %v", record.ID, err)
		}
		got, want := delivery.ViewOf(*stored), delivery.ViewOf(single[i])
		// Only the identity of the delivery differs between the two ways.
		got.DeliveryID, got.RetryExecutionID, got.IdempotencyKey = want.DeliveryID, want.RetryExecutionID, want.IdempotencyKey
		got.Provider = want.Provider
		wantCompleted := start
		if i == 1 {
			wantCompleted = start.Add(-time.Second)
		}
		if got.CompletedAt == nil || !got.CompletedAt.Equal(wantCompleted) {
			t.Errorf("completed_at of batch delivery %d: got %v, want %v, when its send returned", i, got.CompletedAt, wantCompleted)
		}
		got.CompletedAt = want.CompletedAt
		if gotText, wantText := viewText(t, got), viewText(t, want); gotText != wantText {
			t.Errorf("batch delivery %d:\n got  %s\n want %s", i, gotText, wantText)
		}
		if stored.State != models.DeliveryCompleted || record.State != models.DeliveryCompleted {
			t.Errorf("state of batch delivery %d: got stored %q returned %q, want completed", i, stored.State, record.State)
		}
	}
	if batch[1].RetryAfter == nil || !batch[1].RetryAfter.Equal(start.Add(2*time.Minute)) {
		t.Errorf("retry_after of the failed batch delivery: got %v, want %v", batch[1].RetryAfter, start.Add(2*time.Minute))
	}
}

func TestFinishBatchRejectsMismatchedResults(t *testing.T) {
	db := dbtest.Open(t)
	service := &delivery.Service{DB: db, Now: func() time.Time { return start }}
	pendings, err := service.BeginBatch(db, []delivery.Request{request("run_1", "webhook")})
	if err != nil {
		t.Fatalf("BeginBatch: %v", err)
	}
	if _, err := service.FinishBatch(context.Background(), db, pendings, nil, nil); err == nil {
		t.Fatal("FinishBatch with no results for one pending delivery: got nil error, want an error")
	}
}

// viewText renders a view with its times in UTC, so views read from either
// database compare equal when they hold the same instants.
func viewText(t *testing.T, view delivery.View) string {
	t.Helper()
	view.StartedAt = view.StartedAt.UTC()
	if view.CompletedAt != nil {
		completed := view.CompletedAt.UTC()
		view.CompletedAt = &completed
	}
	if view.RetryAfter != nil {
		retryAfter := view.RetryAfter.UTC()
		view.RetryAfter = &retryAfter
	}
	text, err := json.Marshal(view)
	if err != nil {
		t.Fatalf("encode view: %v", err)
	}
	return string(text)
}

func TestViewExistingRecord(t *testing.T) {
	view := delivery.View{Attempts: []connectors.Attempt{{Number: 1, Class: connectors.ClassTimeout}, {Number: 2, Class: connectors.ClassOK, ExistingRecord: "INC0000007"}}}
	if got := view.ExistingRecord(); got != "INC0000007" {
		t.Errorf("ExistingRecord: got %q, want INC0000007", got)
	}
	if got := (delivery.View{}).ExistingRecord(); got != "" {
		t.Errorf("ExistingRecord without attempts: got %q, want none", got)
	}
}
