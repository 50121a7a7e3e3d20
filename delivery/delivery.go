// Package delivery sends messages through the connectors and records each
// delivery operation as public-safe evidence. Alerts, executive reports and
// retry executions all deliver through it, so their evidence has one shape.
//
// A delivery is written in flight inside the caller's transaction (Begin),
// sent outside any transaction (Send), and completed afterwards (Finish). A
// crash between sending and recording therefore leaves an in-flight row.
package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/metrics"
	"github.com/releaseops/evidence-console/models"
)

// Request describes one delivery operation to one destination.
type Request struct {
	SubjectKind string // models.SubjectHealthAlert or models.SubjectExecutiveReport
	SubjectID   string // alert plan id or schedule run id
	SubjectKey  string // alert fingerprint or report id
	Connector   string // configured destination name, lower-case
	Message     connectors.Message
	Options     connectors.SendOptions
	Actor       string
	Origin      string // models.OriginSend or models.OriginRetry
	// RetryExecutionID links a retry delivery to its execution record.
	RetryExecutionID string
}

// Pending is a delivery written in flight and not yet sent.
type Pending struct {
	Record  models.Delivery
	Request Request
}

// Service records and sends deliveries.
type Service struct {
	DB     *gorm.DB
	Sender connectors.Sender
	Now    func() time.Time
	Logger *slog.Logger
}

// Begin writes the in-flight delivery inside tx. The message's
// IdempotencyKey is kept on the row so a retry of the same delivery can send
// the same key.
func (s *Service) Begin(tx *gorm.DB, req Request) (*Pending, error) {
	now := models.UTC(s.Now())
	origin := req.Origin
	if origin == "" {
		origin = models.OriginSend
	}
	record := models.Delivery{
		ID: models.NewID("dlv", now), SubjectKind: req.SubjectKind, SubjectID: req.SubjectID, SubjectKey: req.SubjectKey,
		Connector: req.Connector, State: models.DeliveryInFlight, Attempts: "[]", RequestSummary: "{}",
		IdempotencyKey: req.Message.IdempotencyKey, Origin: origin, RetryExecutionID: req.RetryExecutionID,
		Actor: req.Actor, StartedAt: now, CreatedAt: now,
	}
	if err := models.CreateDelivery(tx, &record); err != nil {
		return nil, err
	}
	return &Pending{Record: record, Request: req}, nil
}

// Send calls the connector for a pending delivery and records the outcome.
// It returns the completed record; a failed send is a completed record with
// Success false, not an error. An error means the outcome could not be
// recorded, and the row stays in flight.
func (s *Service) Send(ctx context.Context, pending *Pending) (models.Delivery, error) {
	result := s.Sender.Send(ctx, pending.Request.Connector, pending.Request.Message, pending.Request.Options)
	return s.Finish(context.WithoutCancel(ctx), pending, result)
}

// Finish records a connector result on a pending delivery.
func (s *Service) Finish(ctx context.Context, pending *Pending, result connectors.Result) (models.Delivery, error) {
	record := pending.Record
	attempts, err := json.Marshal(result.Attempts)
	if err != nil {
		return record, fmt.Errorf("delivery: unable to encode attempts of %s: %w", record.ID, err)
	}
	summary, err := json.Marshal(result.Request)
	if err != nil {
		return record, fmt.Errorf("delivery: unable to encode request summary of %s: %w", record.ID, err)
	}

	completed := models.UTC(s.Now())
	record.Success = result.Success
	record.StatusCode = result.StatusCode
	record.ErrorClass = string(result.Class)
	record.AttemptCount = result.AttemptCount
	record.Attempts = string(attempts)
	record.Error = result.Error
	record.ResponseExcerpt = result.ResponseExcerpt
	record.RequestSummary = string(summary)
	record.Host = result.Request.Host
	record.Method = result.Request.Method
	record.ConnectorKind = string(result.Kind)
	record.CompletedAt = &completed
	if !result.RetryAfter.IsZero() {
		retryAfter := models.UTC(result.RetryAfter)
		record.RetryAfter = &retryAfter
	}
	if record.ConnectorKind == "" {
		record.ConnectorKind = "unknown"
	}

	if err := models.CompleteDelivery(ctx, s.DB, &record); err != nil {
		return record, err
	}
	metrics.ObserveDelivery(record.Connector, record.ErrorClass)
	if s.Logger != nil {
		s.Logger.Info("delivery attempt finished", "delivery_id", record.ID, "subject_kind", record.SubjectKind,
			"subject_id", record.SubjectID, "connector", record.Connector, "class", record.ErrorClass,
			"status_code", record.StatusCode, "attempts", record.AttemptCount, "success", record.Success)
	}
	return record, nil
}

// View is the JSON shape of one delivery.
type View struct {
	DeliveryID       string                    `json:"delivery_id"`
	Provider         string                    `json:"provider"`
	ConnectorKind    string                    `json:"connector_kind"`
	State            string                    `json:"state"`
	Success          bool                      `json:"success"`
	StatusCode       int                       `json:"status_code"`
	AttemptCount     int                       `json:"attempt_count"`
	ErrorClass       string                    `json:"error_class"`
	Error            string                    `json:"error,omitempty"`
	StartedAt        time.Time                 `json:"started_at"`
	CompletedAt      *time.Time                `json:"completed_at"`
	RetryAfter       *time.Time                `json:"retry_after,omitempty"`
	Request          connectors.RequestSummary `json:"request"`
	Attempts         []connectors.Attempt      `json:"attempts"`
	IdempotencyKey   string                    `json:"idempotency_key"`
	Origin           string                    `json:"origin"`
	RetryExecutionID string                    `json:"retry_execution_id,omitempty"`
	Actor            string                    `json:"actor"`
}

// ViewOf converts a stored delivery to its JSON shape.
func ViewOf(record models.Delivery) View {
	view := View{
		DeliveryID: record.ID, Provider: record.Connector, ConnectorKind: record.ConnectorKind, State: record.State,
		Success: record.Success, StatusCode: record.StatusCode, AttemptCount: record.AttemptCount,
		ErrorClass: record.ErrorClass, Error: record.Error, StartedAt: record.StartedAt, CompletedAt: record.CompletedAt,
		RetryAfter: record.RetryAfter, IdempotencyKey: record.IdempotencyKey, Origin: record.Origin,
		RetryExecutionID: record.RetryExecutionID, Actor: record.Actor, Attempts: []connectors.Attempt{},
	}
	_ = json.Unmarshal([]byte(record.RequestSummary), &view.Request)
	_ = json.Unmarshal([]byte(record.Attempts), &view.Attempts)
	return view
}
