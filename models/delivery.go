package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Delivery subject kinds: what a delivery carried.
const (
	SubjectHealthAlert     = "health_alert"
	SubjectExecutiveReport = "executive_report"
)

// Delivery states.
const (
	DeliveryInFlight  = "in_flight"
	DeliveryCompleted = "completed"
)

// Delivery origins: the first send, or a retry execution.
const (
	OriginSend  = "send"
	OriginRetry = "retry"
)

// Delivery is the public-safe evidence of one delivery operation to one
// destination. SubjectID is the alert plan or schedule run delivered;
// SubjectKey groups deliveries of the same content (the alert fingerprint,
// the report id). Attempts and RequestSummary are JSON text.
type Delivery struct {
	ID               string `gorm:"primaryKey"`
	SubjectKind      string
	SubjectID        string
	SubjectKey       string
	Connector        string
	ConnectorKind    string
	Host             string
	Method           string
	State            string
	Success          bool
	StatusCode       int
	ErrorClass       string
	AttemptCount     int
	Attempts         string
	Error            string
	ResponseExcerpt  string
	RequestSummary   string
	IdempotencyKey   string
	Origin           string
	RetryExecutionID string
	Actor            string
	RetryAfter       *time.Time
	StartedAt        time.Time
	CompletedAt      *time.Time
	CreatedAt        time.Time
}

// CreateDelivery stores an in-flight delivery; call it inside the
// transaction that stores the delivery's subject.
func CreateDelivery(tx *gorm.DB, delivery *Delivery) error {
	if err := tx.Create(delivery).Error; err != nil {
		return fmt.Errorf("models: unable to store delivery %s: %w", delivery.ID, err)
	}
	return nil
}

// CompleteDelivery records the outcome of an in-flight delivery. Only an
// in-flight row is updated, so finishing twice is an error, not a change.
func CompleteDelivery(ctx context.Context, db *gorm.DB, delivery *Delivery) error {
	result := db.WithContext(ctx).Model(&Delivery{}).
		Where("id = ? AND state = ?", delivery.ID, DeliveryInFlight).
		Updates(map[string]any{
			"state": DeliveryCompleted, "success": delivery.Success, "status_code": delivery.StatusCode,
			"error_class": delivery.ErrorClass, "attempt_count": delivery.AttemptCount, "attempts": delivery.Attempts,
			"error": delivery.Error, "response_excerpt": delivery.ResponseExcerpt, "request_summary": delivery.RequestSummary,
			"host": delivery.Host, "method": delivery.Method, "connector_kind": delivery.ConnectorKind,
			"retry_after": delivery.RetryAfter, "completed_at": delivery.CompletedAt,
		})
	if result.Error != nil {
		return fmt.Errorf("models: unable to complete delivery %s: %w", delivery.ID, result.Error)
	}
	if result.RowsAffected != 1 {
		return fmt.Errorf("models: delivery %s is not in flight", delivery.ID)
	}
	delivery.State = DeliveryCompleted
	return nil
}

// DeliveriesOf returns the deliveries of one subject, oldest first.
func DeliveriesOf(ctx context.Context, db *gorm.DB, subjectKind, subjectID string) ([]Delivery, error) {
	var deliveries []Delivery
	err := db.WithContext(ctx).Where("subject_kind = ? AND subject_id = ?", subjectKind, subjectID).
		Order("created_at, id").Find(&deliveries).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read deliveries of %s %s: %w", subjectKind, subjectID, err)
	}
	return deliveries, nil
}

// DeliveryByID returns one delivery or ErrNotFound.
func DeliveryByID(ctx context.Context, db *gorm.DB, id string) (*Delivery, error) {
	var delivery Delivery
	err := db.WithContext(ctx).Where("id = ?", id).Take(&delivery).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read delivery %s: %w", id, err)
	}
	return &delivery, nil
}

// LastSuccessfulDelivery returns the newest successful delivery of subjectKey
// to connector completed at or after since, or nil. Duplicate suppression
// uses it: failed deliveries never suppress.
func LastSuccessfulDelivery(ctx context.Context, db *gorm.DB, subjectKind, subjectKey, connector string, since time.Time) (*Delivery, error) {
	var delivery Delivery
	err := db.WithContext(ctx).
		Where("subject_kind = ? AND subject_key = ? AND connector = ? AND success = ? AND completed_at >= ?",
			subjectKind, subjectKey, connector, true, since).
		Order("completed_at DESC").Limit(1).Take(&delivery).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the last delivery of %s to %s: %w", subjectKey, connector, err)
	}
	return &delivery, nil
}

// LastDeliveryPerConnector returns the newest completed delivery of each
// connector, for the connector status page.
func LastDeliveryPerConnector(ctx context.Context, db *gorm.DB, connectors []string) (map[string]Delivery, error) {
	out := map[string]Delivery{}
	for _, name := range connectors {
		var delivery Delivery
		err := db.WithContext(ctx).Where("connector = ? AND state = ?", name, DeliveryCompleted).
			Order("created_at DESC").Limit(1).Take(&delivery).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("models: unable to read the last delivery to %s: %w", name, err)
		}
		out[name] = delivery
	}
	return out, nil
}
