package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

var deliveryStart = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// inFlightDelivery returns an in-flight retry delivery of one executive
// report schedule run.
func inFlightDelivery(subjectID string) models.Delivery {
	return models.Delivery{
		ID: models.NewID("dlv", deliveryStart), SubjectKind: models.SubjectExecutiveReport, SubjectID: subjectID,
		SubjectKey: "rep_" + subjectID, Connector: "webhook", State: models.DeliveryInFlight, Attempts: "[]",
		RequestSummary: "{}", IdempotencyKey: "idem-" + subjectID, Origin: models.OriginRetry, Actor: "release.manager",
		StartedAt: deliveryStart, CreatedAt: deliveryStart,
	}
}

func readDelivery(t *testing.T, db *gorm.DB, id string) models.Delivery {
	t.Helper()
	record, err := models.DeliveryByID(context.Background(), db, id)
	if err != nil {
		t.Fatalf("DeliveryByID(%s): %v", id, err)
	}
	return *record
}

func TestCreateDeliveriesStoresEveryRow(t *testing.T) {
	db := dbtest.Open(t)
	records := []models.Delivery{inFlightDelivery("run_1"), inFlightDelivery("run_2"), inFlightDelivery("run_3")}

	if err := db.Transaction(func(tx *gorm.DB) error { return models.CreateDeliveries(tx, records) }); err != nil {
		t.Fatalf("CreateDeliveries: %v", err)
	}
	for _, want := range records {
		got := readDelivery(t, db, want.ID)
		if got.SubjectID != want.SubjectID || got.State != models.DeliveryInFlight || got.Origin != models.OriginRetry {
			t.Errorf("delivery %s: got subject %q state %q origin %q, want %q in flight from a retry",
				want.ID, got.SubjectID, got.State, got.Origin, want.SubjectID)
		}
		if !got.StartedAt.Equal(want.StartedAt) {
			t.Errorf("started_at of %s: got %v, want %v", want.ID, got.StartedAt, want.StartedAt)
		}
	}
	if err := models.CreateDeliveries(db, nil); err != nil {
		t.Errorf("CreateDeliveries with no rows: got %v, want nil", err)
	}
}

func TestCompleteDeliveriesSetsEveryColumn(t *testing.T) {
	db := dbtest.Open(t)
	failed, delivered, untouched := inFlightDelivery("run_failed"), inFlightDelivery("run_delivered"), inFlightDelivery("run_untouched")
	if err := models.CreateDeliveries(db, []models.Delivery{failed, delivered, untouched}); err != nil {
		t.Fatalf("CreateDeliveries: %v", err)
	}

	failedAt := deliveryStart.Add(3 * time.Second)
	retryAfter := deliveryStart.Add(2*time.Minute + 500*time.Microsecond)
	failed.Success = false
	failed.StatusCode = 503
	failed.ErrorClass = "server_error"
	failed.AttemptCount = 2
	failed.Attempts = `[{"number":1},{"number":2}]`
	failed.Error = "service unavailable"
	failed.ResponseExcerpt = "try later"
	failed.RequestSummary = `{"method":"POST","host":"127.0.0.1:9"}`
	failed.Host = "127.0.0.1:9"
	failed.Method = "POST"
	failed.ConnectorKind = "webhook"
	failed.RetryAfter = &retryAfter
	failed.CompletedAt = &failedAt

	deliveredAt := deliveryStart.Add(5*time.Second + 250*time.Microsecond)
	delivered.Success = true
	delivered.StatusCode = 200
	delivered.ErrorClass = "ok"
	delivered.AttemptCount = 1
	delivered.Attempts = `[{"number":1}]`
	delivered.RequestSummary = `{"method":"PUT","host":"127.0.0.1:8"}`
	delivered.Host = "127.0.0.1:8"
	delivered.Method = "PUT"
	delivered.ConnectorKind = "slack"
	delivered.CompletedAt = &deliveredAt

	batch := []models.Delivery{delivered, failed}
	if err := db.Transaction(func(tx *gorm.DB) error {
		return models.CompleteDeliveries(context.Background(), tx, batch)
	}); err != nil {
		t.Fatalf("CompleteDeliveries: %v", err)
	}
	for _, record := range batch {
		if record.State != models.DeliveryCompleted {
			t.Errorf("state of %s in the batch: got %q, want completed", record.ID, record.State)
		}
	}

	for _, want := range []models.Delivery{failed, delivered} {
		got := readDelivery(t, db, want.ID)
		if got.State != models.DeliveryCompleted {
			t.Errorf("state of %s: got %q, want completed", want.ID, got.State)
		}
		if got.Success != want.Success {
			t.Errorf("success of %s: got %v, want %v", want.ID, got.Success, want.Success)
		}
		if got.StatusCode != want.StatusCode {
			t.Errorf("status_code of %s: got %d, want %d", want.ID, got.StatusCode, want.StatusCode)
		}
		if got.ErrorClass != want.ErrorClass {
			t.Errorf("error_class of %s: got %q, want %q", want.ID, got.ErrorClass, want.ErrorClass)
		}
		if got.AttemptCount != want.AttemptCount {
			t.Errorf("attempt_count of %s: got %d, want %d", want.ID, got.AttemptCount, want.AttemptCount)
		}
		if got.Attempts != want.Attempts {
			t.Errorf("attempts of %s: got %q, want %q", want.ID, got.Attempts, want.Attempts)
		}
		if got.Error != want.Error {
			t.Errorf("error of %s: got %q, want %q", want.ID, got.Error, want.Error)
		}
		if got.ResponseExcerpt != want.ResponseExcerpt {
			t.Errorf("response_excerpt of %s: got %q, want %q", want.ID, got.ResponseExcerpt, want.ResponseExcerpt)
		}
		if got.RequestSummary != want.RequestSummary {
			t.Errorf("request_summary of %s: got %q, want %q", want.ID, got.RequestSummary, want.RequestSummary)
		}
		if got.Host != want.Host || got.Method != want.Method {
			t.Errorf("host and method of %s: got %q %q, want %q %q", want.ID, got.Host, got.Method, want.Host, want.Method)
		}
		if got.ConnectorKind != want.ConnectorKind {
			t.Errorf("connector_kind of %s: got %q, want %q", want.ID, got.ConnectorKind, want.ConnectorKind)
		}
		if got.CompletedAt == nil || !got.CompletedAt.Equal(*want.CompletedAt) {
			t.Errorf("completed_at of %s: got %v, want %v", want.ID, got.CompletedAt, *want.CompletedAt)
		}
	}
	if got := readDelivery(t, db, failed.ID).RetryAfter; got == nil || !got.Equal(retryAfter) {
		t.Errorf("retry_after of the failed delivery: got %v, want %v", got, retryAfter)
	}
	if got := readDelivery(t, db, delivered.ID).RetryAfter; got != nil {
		t.Errorf("retry_after of the delivered delivery: got %v, want nil", got)
	}
	if got := readDelivery(t, db, untouched.ID); got.State != models.DeliveryInFlight || got.CompletedAt != nil {
		t.Errorf("delivery outside the batch: got state %q completed_at %v, want in flight and nil", got.State, got.CompletedAt)
	}

	// Stored times compare in SQL as they did before the update: the
	// completed failure is found by a range on completed_at.
	var found int64
	if err := db.Model(&models.Delivery{}).Where("completed_at >= ? AND completed_at < ?", failedAt, deliveredAt).
		Count(&found).Error; err != nil {
		t.Fatal(err)
	}
	if found != 1 {
		t.Errorf("deliveries completed in [%v, %v): got %d, want 1", failedAt, deliveredAt, found)
	}
}

func TestCompleteDeliveriesRejectsCompletedRow(t *testing.T) {
	db := dbtest.Open(t)
	first, second := inFlightDelivery("run_1"), inFlightDelivery("run_2")
	if err := models.CreateDeliveries(db, []models.Delivery{first, second}); err != nil {
		t.Fatalf("CreateDeliveries: %v", err)
	}
	completed := deliveryStart.Add(time.Second)
	first.CompletedAt = &completed
	first.ConnectorKind = "webhook"
	if err := models.CompleteDelivery(context.Background(), db, &first); err != nil {
		t.Fatalf("CompleteDelivery: %v", err)
	}

	second.CompletedAt = &completed
	second.Success = true
	err := db.Transaction(func(tx *gorm.DB) error {
		return models.CompleteDeliveries(context.Background(), tx, []models.Delivery{first, second})
	})
	if err == nil || !strings.Contains(err.Error(), "not in flight") {
		t.Fatalf("CompleteDeliveries with a completed row: got %v, want a not in flight error", err)
	}
	// The transaction rolled back, so the in-flight row is unchanged.
	if got := readDelivery(t, db, second.ID); got.State != models.DeliveryInFlight || got.Success {
		t.Errorf("in-flight delivery after the failed batch: got state %q success %v, want in flight and false", got.State, got.Success)
	}
}

// Completing a delivery a second time fails with ErrNotInFlight, so a
// caller can tell an outcome already recorded from a storage error.
func TestCompleteDeliveryTwiceNotInFlight(t *testing.T) {
	db := dbtest.Open(t)
	record := inFlightDelivery("run_1")
	if err := models.CreateDelivery(db, &record); err != nil {
		t.Fatalf("CreateDelivery: %v", err)
	}
	completed := deliveryStart.Add(time.Second)
	record.Success, record.StatusCode, record.CompletedAt = true, 200, &completed
	if err := models.CompleteDelivery(context.Background(), db, &record); err != nil {
		t.Fatalf("first CompleteDelivery: %v", err)
	}

	again := record
	again.State = models.DeliveryInFlight
	err := models.CompleteDelivery(context.Background(), db, &again)
	if !errors.Is(err, models.ErrNotInFlight) {
		t.Errorf("second CompleteDelivery: got %v, want an error wrapping ErrNotInFlight", err)
	}
	if err != nil && !strings.Contains(err.Error(), record.ID) {
		t.Errorf("second CompleteDelivery: got %q, want the delivery ID %s in it", err, record.ID)
	}
}
