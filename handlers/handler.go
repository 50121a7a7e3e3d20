// Package handlers holds the Echo routes: HTML pages, htmx fragments and the
// JSON API. Handlers parse and validate input, call one service method and
// render a view or JSON; the rules live in the domain packages.
package handlers

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/evidence"
	"github.com/releaseops/evidence-console/executive"
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

// AuthService stores users, sessions and API tokens and checks credentials.
type AuthService interface {
	CountUsers(ctx context.Context) (int64, error)
	CreateUser(ctx context.Context, input auth.NewUser) (auth.User, error)
	ValidateNewUser(input auth.NewUser) []*auth.ValidationError
	ListUsers(ctx context.Context) ([]auth.User, error)
	SetRole(ctx context.Context, userID string, role auth.Role, actor string) error
	SetDisabled(ctx context.Context, userID string, disabled bool, actor string) error
	CheckPassword(ctx context.Context, username, password, clientIP string) (auth.User, error)
	SignInOIDC(ctx context.Context, identity auth.OIDCIdentity) (auth.User, error)
	StartSession(ctx context.Context, userID, method string) (string, error)
	SessionUser(ctx context.Context, secret string) (auth.User, error)
	EndSession(ctx context.Context, secret string) error
	CreateToken(ctx context.Context, userID, name string) (string, auth.Token, error)
	ListTokens(ctx context.Context, userID string) ([]auth.Token, error)
	RevokeToken(ctx context.Context, userID, tokenID, actor string) error
	TokenUser(ctx context.Context, secret string) (auth.User, error)
	HoldSecret(ctx context.Context, userID, value string) (string, error)
	TakeSecret(ctx context.Context, userID, reference string) (string, bool, error)
}

// ExecutiveService builds, schedules and delivers executive recovery reports.
type ExecutiveService interface {
	Current(ctx context.Context, params executive.Params) (executive.Report, error)
	RunSchedule(ctx context.Context, params executive.Params, schedule executive.ScheduleInput, actor string) (executive.RunResult, error)
	Report(ctx context.Context, reportID string) (executive.Report, error)
	ListRuns(ctx context.Context, limit, offset int) (executive.RunList, error)
	Deliver(ctx context.Context, req executive.DeliverRequest) (executive.DeliverResult, error)
	EnabledDestinations() []connectors.Destination
	DestinationProblem(name string) string
}

// Handler carries the services and settings every route uses.
type Handler struct {
	// Executive builds, schedules and delivers executive recovery reports.
	Executive ExecutiveService
	Health    HealthService
	Evidence  EvidenceService
	// Alerts sends retry health alerts and records acknowledgements.
	Alerts AlertService
	// Auth authenticates every request; see AuthConfig.
	Auth AuthConfig
	// Retry plans and runs delivery retries; nil hides the console section.
	Retry RetryService
	// Audit is the dashboard, history, audit trail and evidence export.
	Audit AuditService
	// Secrets contains the configured destinations' secrets. A worker
	// run's schedule cadence must not contain them, and they are removed,
	// besides credential-like text, from the paths, messages and errors the
	// server logs. Nil contains none, so only credential-like text is
	// removed.
	Secrets *connectors.Redactor
	// Ready reports whether the database is reachable, for /readyz.
	Ready     func(ctx context.Context) error
	TimeZone  *time.Location
	PublicURL string
	Logger    *slog.Logger
	Now       func() time.Time
	// Stopping is closed when the server stops without waiting for the
	// requests under way. Their failures then get a 503.
	// Nil means the server never stops that way.
	Stopping <-chan struct{}
}
