package executive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/models"
)

// Destinations is the part of the connector registry the service uses:
// the configured names, their kinds and their readiness.
// *connectors.Registry implements it.
type Destinations interface {
	Names() []string
	Lookup(name string) (connectors.Destination, bool)
	Status(name string) (connectors.Status, bool)
}

// Service builds, persists and delivers executive recovery reports.
type Service struct {
	DB  *gorm.DB
	Now func() time.Time
	// Delivery records and sends each delivery; its Sender is the registry.
	Delivery     *delivery.Service
	Destinations Destinations
	// PublicURL is the absolute URL of the console, for the report link in
	// delivered messages.
	PublicURL string
	Logger    *slog.Logger
}

// ScheduleRun is a persisted schedule run, as returned in JSON and read by
// the retry engine to link its executions to the run and its report.
type ScheduleRun struct {
	RunID       string    `json:"run_id"`
	ReportID    string    `json:"report_id"`
	Schedule    Schedule  `json:"schedule"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	Actor       string    `json:"actor"`
	CreatedAt   time.Time `json:"created_at"`
}

// RunResult is the outcome of a schedule run: the run and its report.
type RunResult struct {
	ScheduleRun ScheduleRun `json:"schedule_run"`
	Report      Report      `json:"report"`
}

// RunSummary is one schedule run in a list, with its report's key figures.
type RunSummary struct {
	ScheduleRun
	Status         string    `json:"status"`
	KeyRiskCount   int       `json:"key_risk_count"`
	SLOBreachCount int       `json:"slo_breach_count"`
	GeneratedAt    time.Time `json:"generated_at"`
	// SentCount and FailedCount count the run's completed deliveries.
	SentCount   int `json:"sent_delivery_count"`
	FailedCount int `json:"failed_delivery_count"`
}

// RunList is a page of schedule runs, newest first.
type RunList struct {
	Items  []RunSummary `json:"items"`
	Total  int64        `json:"total"`
	Limit  int          `json:"limit"`
	Offset int          `json:"offset"`
}

// Current returns the report of the current evidence and writes nothing.
func (s *Service) Current(ctx context.Context, params Params) (Report, error) {
	if err := params.Validate(); err != nil {
		return Report{}, err
	}
	in, err := s.inputs(ctx, params)
	if err != nil {
		return Report{}, err
	}
	return s.withoutSecrets(Build(params, in))
}

// withoutSecrets replaces every configured destination secret in report.
// Ingestion rejects such secrets, but a record stored before a secret was
// configured can still carry one into the names a report lists.
func (s *Service) withoutSecrets(report Report) (Report, error) {
	secrets := s.configuredSecrets()
	if secrets == nil {
		return report, nil
	}
	encoded, err := json.Marshal(report)
	if err != nil {
		return Report{}, fmt.Errorf("executive: unable to encode the report: %w", err)
	}
	cleaned, found := secrets.RemoveConfiguredSecrets(string(encoded))
	if !found {
		return report, nil
	}
	var clean Report
	if err := json.Unmarshal([]byte(cleaned), &clean); err != nil {
		// The secret was spelled in a way only a whole-text replacement
		// covers, so nothing of the report can be shown.
		return Report{}, fmt.Errorf("executive: unable to build the report, because a stored evidence record contains "+
			"a configured secret in a form that cannot be removed; find the record in the evidence export and delete it: %w", err)
	}
	s.logger().Warn("configured secret removed from an executive report; a stored evidence record holds it")
	return clean, nil
}

// RunSchedule builds a report and persists it with a schedule run whose
// window is the interval-aligned window containing the generation time.
func (s *Service) RunSchedule(ctx context.Context, params Params, input ScheduleInput, actor string) (RunResult, error) {
	if input.Secrets == nil {
		input.Secrets = s.configuredSecrets()
	}
	schedule, err := ResolveSchedule(input)
	if err != nil {
		return RunResult{}, err
	}
	report, err := s.Current(ctx, params)
	if err != nil {
		return RunResult{}, err
	}
	report.ReportID = models.NewID("xrpt", report.GeneratedAt)
	report.Actor = actor
	encoded, err := json.Marshal(report)
	if err != nil {
		return RunResult{}, fmt.Errorf("executive: unable to encode report %s: %w", report.ReportID, err)
	}

	start, end := Window(report.GeneratedAt, schedule.IntervalMinutes)
	summary := report.ExecutiveSummary
	stored := models.ExecutiveReport{
		ID: report.ReportID, Status: summary.Status, RecoverySLOMinutes: params.RecoverySLOMinutes,
		PeriodDays: params.PeriodDays, PeriodStart: report.Period.Start, PeriodEnd: report.Period.End,
		ExecutionCount: summary.ExecutionCount, FailedExecutionCount: summary.FailedExecutionCount,
		OpenRecoveryCount: summary.OpenRecoveryCount, SLOBreachCount: summary.SLOBreachCount,
		EscalationCount: summary.EscalationCount, KeyRiskCount: len(report.KeyRisks), Actor: actor,
		GeneratedAt: report.GeneratedAt, Report: string(encoded),
	}
	run := models.ExecutiveScheduleRun{
		ID: models.NewID("xrun", report.GeneratedAt), ReportID: report.ReportID,
		IntervalMinutes: schedule.IntervalMinutes, Enabled: schedule.Enabled, Cadence: schedule.Cadence,
		WindowStart: start, WindowEnd: end, Actor: actor, CreatedAt: report.GeneratedAt,
	}
	if err := models.CreateExecutiveScheduleRun(ctx, s.DB, &stored, &run); err != nil {
		return RunResult{}, err
	}

	s.logger().Info("executive report scheduled", "run_id", run.ID, "report_id", report.ReportID,
		"status", summary.Status, "key_risks", len(report.KeyRisks), "window_start", start, "actor", actor)
	return RunResult{ScheduleRun: scheduleRunOf(run), Report: report}, nil
}

// Report returns a persisted report, or models.ErrNotFound.
func (s *Service) Report(ctx context.Context, reportID string) (Report, error) {
	stored, err := models.ExecutiveReportByID(ctx, s.DB, reportID)
	if err != nil {
		return Report{}, err
	}
	var report Report
	if err := json.Unmarshal([]byte(stored.Report), &report); err != nil {
		return Report{}, fmt.Errorf("executive: report %s is unreadable: %w", reportID, err)
	}
	return report, nil
}

// ScheduleRunByID returns one schedule run, or models.ErrNotFound. The run
// id "latest" means the newest run.
func (s *Service) ScheduleRunByID(ctx context.Context, runID string) (ScheduleRun, error) {
	var (
		run *models.ExecutiveScheduleRun
		err error
	)
	if runID == LatestRunID {
		run, err = models.LatestExecutiveScheduleRun(ctx, s.DB)
	} else {
		run, err = models.ExecutiveScheduleRunByID(ctx, s.DB, runID)
	}
	if err != nil {
		return ScheduleRun{}, err
	}
	return scheduleRunOf(*run), nil
}

// LatestRunID names the newest schedule run wherever a run id is expected.
const LatestRunID = "latest"

// ListRuns returns a page of schedule runs, newest first.
func (s *Service) ListRuns(ctx context.Context, limit, offset int) (RunList, error) {
	rows, total, err := models.ListExecutiveScheduleRuns(ctx, s.DB, limit, offset)
	if err != nil {
		return RunList{}, err
	}
	list := RunList{Items: []RunSummary{}, Total: total, Limit: limit, Offset: offset}
	for _, row := range rows {
		list.Items = append(list.Items, RunSummary{
			ScheduleRun: scheduleRunOf(row.ExecutiveScheduleRun), Status: row.Status,
			KeyRiskCount: row.KeyRiskCount, SLOBreachCount: row.SLOBreachCount, GeneratedAt: row.GeneratedAt.UTC(),
			SentCount: row.SentCount, FailedCount: row.FailedCount,
		})
	}
	return list, nil
}

// EnabledDestinations returns the enabled connectors, sorted by name, for
// the destination select of the console.
func (s *Service) EnabledDestinations() []connectors.Destination {
	var out []connectors.Destination
	if s.Destinations == nil {
		return out
	}
	for _, name := range s.Destinations.Names() {
		if destination, ok := s.Destinations.Lookup(name); ok && destination.Enabled {
			out = append(out, destination)
		}
	}
	return out
}

// DestinationProblem returns why an enabled destination cannot receive a
// report now, such as a missing setting, or "" when it can.
func (s *Service) DestinationProblem(name string) string {
	if s.Destinations == nil {
		return ""
	}
	if status, ok := s.Destinations.Status(name); ok && !status.Ready {
		return status.Problem
	}
	return ""
}

func scheduleRunOf(run models.ExecutiveScheduleRun) ScheduleRun {
	return ScheduleRun{
		RunID: run.ID, ReportID: run.ReportID,
		Schedule:    Schedule{IntervalMinutes: run.IntervalMinutes, Enabled: run.Enabled, Cadence: run.Cadence},
		WindowStart: run.WindowStart.UTC(), WindowEnd: run.WindowEnd.UTC(), Actor: run.Actor, CreatedAt: run.CreatedAt.UTC(),
	}
}

func (s *Service) inputs(ctx context.Context, params Params) (Inputs, error) {
	now := models.UTC(s.Now())
	period := PeriodOf(now, params.PeriodDays)
	in := Inputs{Now: now}
	var err error
	if in.Executions, err = models.AuditExecutionTallies(ctx, s.DB, period.Start, period.End); err != nil {
		return in, err
	}
	breachedBefore := now.Add(-time.Duration(params.RecoverySLOMinutes) * time.Minute)
	if in.Recoveries, err = models.RecoveryTallies(ctx, s.DB, ClosingStates, breachedBefore); err != nil {
		return in, err
	}
	if in.OldestOpen, err = models.OldestOpenRecoveries(ctx, s.DB, ClosingStates, maxRecoveriesInDetails); err != nil {
		return in, err
	}
	if in.Closures, err = models.ClosureTalliesByDay(ctx, s.DB, period.Start, period.End); err != nil {
		return in, err
	}
	if in.Evidence, err = models.CountRecoveryEvidence(ctx, s.DB); err != nil {
		return in, err
	}
	return in, nil
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// IsNotFound reports whether err means a run or report does not exist.
func IsNotFound(err error) bool {
	return errors.Is(err, models.ErrNotFound)
}
