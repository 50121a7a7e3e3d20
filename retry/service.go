package retry

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/models"
)

// MessageSource rebuilds the message of one subject for one destination, so
// a retry re-sends what the original delivery sent. Each subject kind has
// its own source, injected at wiring time.
type MessageSource interface {
	Message(ctx context.Context, subjectID, connector string) (connectors.Message, error)
}

// ConnectorChecker reports whether a destination can send;
// *connectors.Registry implements it.
type ConnectorChecker interface {
	Check(name string) error
}

// Service defaults.
const (
	DefaultInFlightTimeout = 5 * time.Minute
	DefaultConcurrency     = 4
)

// InterruptedReason is the reason of an execution whose worker stopped
// between sending and recording.
const InterruptedReason = "interrupted: outcome unknown"

// GuardError rejects a live run before anything is sent. Forbidden is true
// when the actor may not run live retries (HTTP 403); otherwise a
// destination or message source is missing (HTTP 422).
type GuardError struct {
	Message   string
	Forbidden bool
}

func (e *GuardError) Error() string { return e.Message }

// Service plans and runs delivery retries.
type Service struct {
	DB       *gorm.DB
	Delivery *delivery.Service
	// Connectors checks destinations before a live run; nil means no
	// destination is configured.
	Connectors ConnectorChecker
	// Sources maps a subject kind (models.SubjectExecutiveReport,
	// models.SubjectHealthAlert) to its message source.
	Sources map[string]MessageSource
	Now     func() time.Time
	Logger  *slog.Logger
	// SendOptions are the quick attempts and per-attempt timeout of each
	// retry delivery; together they count as one failure.
	SendOptions connectors.SendOptions
	// InFlightTimeout is how long an unrecorded retry delivery may stay in
	// flight before the next live run records it as interrupted. It must
	// exceed the longest send that SendOptions allow.
	InFlightTimeout time.Duration
	// Concurrency is how many retry deliveries one live run sends at once.
	Concurrency int
}

func (s *Service) inFlightTimeout() time.Duration {
	if s.InFlightTimeout > 0 {
		return s.InFlightTimeout
	}
	return DefaultInFlightTimeout
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// decide reads the open failures of one subject kind and decides each group.
func (s *Service) decide(ctx context.Context, kind string, policy Policy, now time.Time) ([]Decision, error) {
	deliveries, err := models.OpenFailureDeliveries(ctx, s.DB, kind)
	if err != nil {
		return nil, err
	}
	return Plan(policy, OpenGroups(deliveries), now, s.inFlightTimeout()), nil
}

// Plan decides every group of open failures of one subject kind and
// persists the plan with its decisions.
func (s *Service) Plan(ctx context.Context, kind string, policy Policy, actor string) (PlanView, error) {
	if err := policy.Validate(); err != nil {
		return PlanView{}, err
	}
	now := models.UTC(s.Now())
	decisions, err := s.decide(ctx, kind, policy, now)
	if err != nil {
		return PlanView{}, err
	}

	plan, rows := planRecords(kind, policy, decisions, nil, false, false, actor, now)
	if err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return models.CreateRetryPlan(tx, &plan, rows)
	}); err != nil {
		return PlanView{}, err
	}
	s.logger().Info("delivery retry plan created", "retry_plan_id", plan.ID, "subject_kind", kind,
		"decisions", plan.DecisionCount, "retry", plan.RetryCount, "wait", plan.WaitCount, "suppress", plan.SuppressCount, "actor", actor)
	return planView(plan, rows), nil
}

// planRecords turns decisions into the rows of a plan. The decisions at the
// selected indexes are marked selected, and pending when live is true. With
// selectedOnly, only the selected decisions become rows; the plan's counts
// still cover every decision.
func planRecords(kind string, policy Policy, decisions []Decision, selected []int, live, selectedOnly bool, actor string, now time.Time) (models.RetryPlan, []models.RetryDecision) {
	plan := models.RetryPlan{
		ID: models.NewID("rtp", now), SubjectKind: kind, MaxRetryAttempts: policy.MaxRetryAttempts,
		RetryDelayMinutes: policy.RetryDelayMinutes, AllowImmediateRetry: policy.AllowImmediateRetry,
		BackoffMultiplier: policy.BackoffMultiplier, DecisionCount: len(decisions), Actor: actor, CreatedAt: now,
	}
	isSelected := map[int]bool{}
	for _, i := range selected {
		isSelected[i] = true
	}
	rows := make([]models.RetryDecision, 0, len(decisions))
	for i, d := range decisions {
		switch d.Action {
		case ActionRetry:
			plan.RetryCount++
		case ActionWait:
			plan.WaitCount++
			if d.NextRetryAt != nil && (plan.NextRetryAt == nil || d.NextRetryAt.Before(*plan.NextRetryAt)) {
				next := *d.NextRetryAt
				plan.NextRetryAt = &next
			}
		case ActionSuppress:
			plan.SuppressCount++
		}
		if selectedOnly && !isSelected[i] {
			continue
		}
		state := models.DecisionNone
		if live && isSelected[i] {
			state = models.DecisionPending
		}
		rows = append(rows, models.RetryDecision{
			ID: models.NewID("rtd", now), PlanID: plan.ID, Position: i, SubjectKind: d.SubjectKind,
			SubjectID: d.SubjectID, SubjectKey: d.SubjectKey, Connector: d.Connector, Action: d.Action,
			Reason: d.Reason, FailureCount: d.FailureCount, LastFailureAt: d.LastFailureAt,
			LastErrorClass: d.LastErrorClass, NextRetryAt: d.NextRetryAt, LastDeliveryID: d.LastDeliveryID,
			IdempotencyKey: d.IdempotencyKey, Selected: isSelected[i], State: state,
		})
	}
	return plan, rows
}

func planView(plan models.RetryPlan, rows []models.RetryDecision) PlanView {
	view := PlanView{
		RetryPlanID: plan.ID, SubjectKind: plan.SubjectKind, Policy: policyOf(plan), CreatedAt: plan.CreatedAt,
		Actor: plan.Actor, WorkerRunID: plan.WorkerRunID, Decisions: make([]DecisionView, 0, len(rows)),
		Counts:      PlanCounts{DecisionCount: plan.DecisionCount, RetryCount: plan.RetryCount, WaitCount: plan.WaitCount, SuppressCount: plan.SuppressCount},
		NextRetryAt: plan.NextRetryAt,
	}
	for _, row := range rows {
		view.Decisions = append(view.Decisions, decisionView(row))
	}
	return view
}

// PlanByID returns a persisted plan with its decisions, or models.ErrNotFound.
func (s *Service) PlanByID(ctx context.Context, planID string) (PlanView, error) {
	plan, err := models.RetryPlanByID(ctx, s.DB, planID)
	if err != nil {
		return PlanView{}, err
	}
	rows, err := models.RetryDecisionsOf(ctx, s.DB, planID)
	if err != nil {
		return PlanView{}, err
	}
	return planView(*plan, rows), nil
}

// LatestPlan returns the newest plan of one subject kind, or nil.
func (s *Service) LatestPlan(ctx context.Context, kind string) (*PlanView, error) {
	plan, err := models.LatestDeliveryRetryPlan(ctx, s.DB, kind)
	if err != nil || plan == nil {
		return nil, err
	}
	view, err := s.PlanByID(ctx, plan.ID)
	if err != nil {
		return nil, err
	}
	return &view, nil
}

// Preview returns what a live run would send now and which destinations
// cannot send. It writes nothing.
func (s *Service) Preview(ctx context.Context, kind string, policy Policy, maxDeliveries int) (Preview, error) {
	request := RunRequest{MaxRetryDeliveries: maxDeliveries, Policy: policy, Schedule: DefaultSchedule()}
	if err := request.Validate(); err != nil {
		return Preview{}, err
	}
	now := models.UTC(s.Now())
	decisions, err := s.decide(ctx, kind, policy, now)
	if err != nil {
		return Preview{}, err
	}
	preview := Preview{SubjectKind: kind, Policy: policy, MaxRetryDeliveries: maxDeliveries,
		SelectedDecisions: []DecisionView{}, Destinations: []string{}, NotReady: map[string]string{}}
	plan, rows := planRecords(kind, policy, decisions, Select(decisions, maxDeliveries), false, true, "", now)
	preview.OpenFailures = openFailuresOf(plan)
	for _, row := range rows {
		preview.SelectedDecisions = append(preview.SelectedDecisions, decisionView(row))
	}
	preview.Destinations = destinationsOf(preview.SelectedDecisions)
	for _, name := range preview.Destinations {
		if err := s.checkConnector(name); err != nil {
			preview.NotReady[name] = err.Error()
		}
	}
	if _, ok := s.Sources[kind]; !ok && len(preview.SelectedDecisions) > 0 {
		for _, name := range preview.Destinations {
			preview.NotReady[name] = missingSourceMessage(kind)
		}
	}
	return preview, nil
}

func destinationsOf(decisions []DecisionView) []string {
	seen := map[string]bool{}
	var names []string
	for _, d := range decisions {
		if !seen[d.Provider] {
			seen[d.Provider] = true
			names = append(names, d.Provider)
		}
	}
	sort.Strings(names)
	if names == nil {
		names = []string{}
	}
	return names
}

func (s *Service) checkConnector(name string) error {
	if s.Connectors == nil {
		return fmt.Errorf("connector %q is not configured; no connectors are configured (set CONNECTOR_CONFIG)", name)
	}
	return s.Connectors.Check(name)
}

func missingSourceMessage(kind string) string {
	return fmt.Sprintf("messages of %s deliveries cannot be rebuilt for a retry in this build; live retries of them are unavailable", strings.ReplaceAll(kind, "_", " "))
}

// claimKey names one retry of one group: the retry that follows its latest
// failed delivery. Two plans made at the same moment give their decisions
// for the same group the same key, and a failed retry gives the next
// decision a new one.
func claimKey(d models.RetryDecision) string {
	return "after:" + d.LastDeliveryID
}

// MessageSourceFunc adapts a function, such as the executive service's
// ExecutiveMessage, to MessageSource.
type MessageSourceFunc func(ctx context.Context, subjectID, connector string) (connectors.Message, error)

// Message calls f.
func (f MessageSourceFunc) Message(ctx context.Context, subjectID, connector string) (connectors.Message, error) {
	return f(ctx, subjectID, connector)
}
