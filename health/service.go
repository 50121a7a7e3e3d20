package health

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

// openFailureListLimit caps the open failures listed in a report; the count
// in Counts.FailedExecutionCount is always exact.
const openFailureListLimit = 20

// Service evaluates and persists recovery retry health.
type Service struct {
	DB  *gorm.DB
	Now func() time.Time
	// Secrets holds the configured destinations' secrets, which are
	// removed from every report before it is returned or stored. Nil
	// removes none.
	Secrets *connectors.Redactor
	Logger  *slog.Logger
}

// Evaluate returns the current evaluation and writes nothing.
func (s *Service) Evaluate(ctx context.Context, params Params) (Report, error) {
	if err := params.Validate(); err != nil {
		return Report{}, err
	}
	started := time.Now()
	defer func() { metrics.ObserveEvaluation(time.Since(started)) }()
	in, err := s.inputs(ctx)
	if err != nil {
		return Report{}, err
	}
	return s.withoutSecrets(Evaluate(params, in))
}

// withoutSecrets replaces every configured destination secret in report.
// Ingestion rejects such secrets, but a record stored before a secret was
// configured, or imported without the connector configuration, can still
// carry one into the plan IDs and providers a report lists.
func (s *Service) withoutSecrets(report Report) (Report, error) {
	if s.Secrets == nil {
		return report, nil
	}
	encoded, err := json.Marshal(report)
	if err != nil {
		return Report{}, fmt.Errorf("health: unable to encode the report: %w", err)
	}
	cleaned, found := s.Secrets.RemoveConfiguredSecrets(string(encoded))
	if !found {
		return report, nil
	}
	var clean Report
	if err := json.Unmarshal([]byte(cleaned), &clean); err != nil {
		// The secret was spelled in a way only a whole-text replacement
		// covers, so nothing of the report can be shown or stored.
		return Report{}, fmt.Errorf("health: unable to evaluate recovery retry health, because a stored evidence record contains "+
			"a configured secret in a form that cannot be removed; find the record in the evidence export and delete it: %w", err)
	}
	s.logger().Warn("configured secret removed from a recovery retry health report; a stored evidence record holds it")
	return clean, nil
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// Build evaluates and persists a snapshot with a health_id, so it can be
// referenced, alerted on and audited.
func (s *Service) Build(ctx context.Context, params Params, actor string) (Report, error) {
	report, err := s.Evaluate(ctx, params)
	if err != nil {
		return Report{}, err
	}
	report.HealthID = models.NewID("hlth", report.EvaluatedAt)
	report.Actor = actor

	snapshot := models.HealthSnapshot{
		ID: report.HealthID, Fingerprint: report.Fingerprint, AlertLevel: report.AlertLevel,
		FindingCount: len(report.Findings), ExpectedIntervalMinutes: params.ExpectedIntervalMinutes,
		StaleMetadataMinutes: params.StaleMetadataMinutes, Actor: actor, EvaluatedAt: report.EvaluatedAt,
	}
	// The occurrence is decided while storing, so the report is encoded after.
	if err := models.CreateHealthSnapshot(ctx, s.DB, &snapshot, func(occurrenceID string) (string, error) {
		report.OccurrenceID = occurrenceID
		encoded, err := json.Marshal(report)
		return string(encoded), err
	}); err != nil {
		return Report{}, err
	}

	if s.Logger != nil {
		s.Logger.Info("recovery retry health built", "health_id", report.HealthID, "alert_level", report.AlertLevel,
			"findings", len(report.Findings), "fingerprint", report.Fingerprint, "actor", actor)
	}
	return report, nil
}

// Snapshot returns a persisted evaluation, or models.ErrNotFound.
func (s *Service) Snapshot(ctx context.Context, healthID string) (Report, error) {
	snapshot, err := models.HealthSnapshotByID(ctx, s.DB, healthID)
	if err != nil {
		return Report{}, err
	}
	return decodeSnapshot(snapshot)
}

// Latest returns the newest persisted evaluation, or nil when none exists.
func (s *Service) Latest(ctx context.Context) (*Report, error) {
	snapshot, err := models.LatestHealthSnapshot(ctx, s.DB)
	if err != nil || snapshot == nil {
		return nil, err
	}
	report, err := decodeSnapshot(snapshot)
	if err != nil {
		return nil, err
	}
	return &report, nil
}

func decodeSnapshot(snapshot *models.HealthSnapshot) (Report, error) {
	var report Report
	if err := json.Unmarshal([]byte(snapshot.Report), &report); err != nil {
		return Report{}, fmt.Errorf("health: snapshot %s is unreadable: %w", snapshot.ID, err)
	}
	return report, nil
}

func (s *Service) inputs(ctx context.Context) (Inputs, error) {
	in := Inputs{Now: s.Now()}
	var err error
	if in.LatestRun, err = models.LatestWorkerRun(ctx, s.DB); err != nil {
		return in, err
	}
	if in.LatestPlan, err = models.LatestRetryPlan(ctx, s.DB); err != nil {
		return in, err
	}
	if in.Counts, err = models.Counts(ctx, s.DB); err != nil {
		return in, err
	}
	if in.OpenFailures, err = models.OpenExecutionFailures(ctx, s.DB, openFailureListLimit); err != nil {
		return in, err
	}
	return in, nil
}
