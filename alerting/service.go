// Package alerting sends retry health alerts to the configured destinations,
// suppresses duplicates of an alert already delivered, records per-destination
// acknowledgements, and reads the alert history and dashboard.
//
// Alert rules:
//   - Eligible destinations are the requested ones that are configured and
//     enabled. A healthy evaluation selects none of them.
//   - A destination is suppressed when a successful delivery of an alert with
//     the same fingerprint reached it inside the suppression window. Failed
//     deliveries never suppress. Force suppresses nothing.
//   - The plan, its destinations and the in-flight deliveries are stored in one
//     transaction before any connector is called.
//   - Acknowledgements belong to the alert occurrence (an unbroken run of
//     snapshots with one fingerprint) and a destination. Every action is kept;
//     the current state is the latest action that changed it.
package alerting

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/health"
)

// HealthBuilder evaluates health, and builds and reads persisted health
// snapshots.
type HealthBuilder interface {
	Evaluate(ctx context.Context, params health.Params) (health.Report, error)
	Build(ctx context.Context, params health.Params, actor string) (health.Report, error)
	Snapshot(ctx context.Context, healthID string) (health.Report, error)
}

// Destinations lists the configured connectors. *connectors.Registry
// implements it.
type Destinations interface {
	Names() []string
	EnabledNames() []string
	Statuses() []connectors.Status
	Redactor() *connectors.Redactor
}

// Service runs the alert flow.
type Service struct {
	DB           *gorm.DB
	Health       HealthBuilder
	Destinations Destinations
	Delivery     *delivery.Service
	// PublicURL is the absolute base URL of the console, without a trailing
	// slash, used for the acknowledgement links inside messages.
	PublicURL string
	Now       func() time.Time
	Logger    *slog.Logger
	// LeaseWait is how long a send waits for another send of the same
	// alert to finish; zero means MaxLeaseWait.
	LeaseWait time.Duration
}

// FieldError is an invalid request field; handlers return it as a 400.
type FieldError struct {
	Field   string
	Message string
	// Others are the errors of other invalid fields of the same request,
	// one per field, so a form can report them all at once.
	Others []*FieldError
}

func (e *FieldError) Error() string { return e.Message }

func fieldErrorf(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// UnprocessableError is a well-formed request that cannot be acted on, such
// as an unknown destination; handlers return it as a 422.
type UnprocessableError struct {
	Field   string
	Message string
	// Configured lists the configured destinations when the request named
	// one that is not configured.
	Configured []string
}

func (e *UnprocessableError) Error() string { return e.Message }

// NotFoundError is a request for a record that does not exist.
type NotFoundError struct {
	Message string
}

func (e *NotFoundError) Error() string { return e.Message }

// BusyError is a send that could not start because another send of the
// same alert did not finish in time. Handlers return it as a 409.
type BusyError struct {
	Message string
}

func (e *BusyError) Error() string { return e.Message }

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}
