// Package handlers holds the Echo routes: HTML pages, htmx fragments and the
// JSON API. Handlers parse and validate input, call one service method and
// render a view or JSON; the rules live in the domain packages.
package handlers

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/releaseops/evidence-console/evidence"
	"github.com/releaseops/evidence-console/health"
)

// HealthService evaluates and persists recovery retry health.
type HealthService interface {
	Evaluate(ctx context.Context, params health.Params) (health.Report, error)
	Build(ctx context.Context, params health.Params, actor string) (health.Report, error)
	Snapshot(ctx context.Context, healthID string) (health.Report, error)
	Latest(ctx context.Context) (*health.Report, error)
}

// EvidenceService ingests upstream evidence.
type EvidenceService interface {
	Ingest(ctx context.Context, records []json.RawMessage) (evidence.Result, error)
}

// Handler carries the services and settings every route uses.
type Handler struct {
	Health   HealthService
	Evidence EvidenceService
	// Ready reports whether the database answers, for /readyz.
	Ready     func(ctx context.Context) error
	TimeZone  *time.Location
	PublicURL string
	Logger    *slog.Logger
	Now       func() time.Time
}
