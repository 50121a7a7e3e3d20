package retry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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
	// Names returns every configured destination, lower-case and sorted.
	Names() []string
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
	// Field is the request field at fault, or empty for execute.
	Field string
}

func (e *GuardError) Error() string { return e.Message }

// DefaultSelectionLockWait is how long a live run waits for another live
// run of the same kind to finish selecting and claiming its retries. That
// takes milliseconds, so a longer wait means the other run is stuck.
const DefaultSelectionLockWait = 30 * time.Second

// BusyError rejects a live run that could not take the retry selection
// lock in time (HTTP 503); nothing was selected or sent.
type BusyError struct {
	Message string
}

func (e *BusyError) Error() string { return e.Message }

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
	// SelectionLockWait overrides DefaultSelectionLockWait when positive.
	SelectionLockWait time.Duration
	// lockSelection is models.LockRetrySelection unless a test replaces it.
	lockSelection func(ctx context.Context, db *gorm.DB, subjectKind string) (func(), error)
}

func (s *Service) concurrency() int {
	if s.Concurrency > 0 {
		return s.Concurrency
	}
	return DefaultConcurrency
}

func (s *Service) selectionLockWait() time.Duration {
	if s.SelectionLockWait > 0 {
		return s.SelectionLockWait
	}
	return DefaultSelectionLockWait
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

// decide reads every open group of one subject kind and decides each, the
// group whose latest failure is oldest first.
func (s *Service) decide(ctx context.Context, kind string, policy Policy, now time.Time) ([]Decision, error) {
	groups, err := models.OpenDeliveryGroups(ctx, s.DB, kind)
	if err != nil {
		return nil, err
	}
	// A reason that names a failure's reply code names its protocol, which
	// the connector kind of the group's latest failed delivery gives. The
	// failure whose Retry-After a group waits for went to the same
	// destination, so it takes the same kind.
	var coded []string
	for _, group := range groups {
		if group.LastStatusCode != 0 || group.RetryAfterStatusCode != 0 {
			coded = append(coded, group.LastFailureID)
		}
	}
	kinds, err := models.DeliveryConnectorKinds(ctx, s.DB, coded)
	if err != nil {
		return nil, err
	}
	decisions := make([]Decision, 0, len(groups))
	deliveredLater := make([]bool, 0, len(groups))
	for _, group := range groups {
		open := groupOf(group)
		open.Latest.ConnectorKind = kinds[group.LastFailureID]
		if open.RetryAfter != nil {
			open.RetryAfter.ConnectorKind = kinds[group.LastFailureID]
		}
		decision := Decide(policy, open, now, s.inFlightTimeout())
		// A permanent failure that a later plan's send of the alert repaired
		// needs no fix, so its reason names the delivery that closed it.
		var later *models.Delivery
		if kind == models.SubjectHealthAlert {
			if later, err = laterDelivery(ctx, s.DB, decision); err != nil {
				return nil, err
			}
			if later != nil {
				decision.Action, decision.Reason, decision.NextRetryAt = ActionSuppress, deliveredLaterReason(decision, *later), nil
			}
		}
		decisions = append(decisions, decision)
		deliveredLater = append(deliveredLater, later != nil)
	}
	if kind == models.SubjectHealthAlert {
		suppressSuperseded(groups, decisions, deliveredLater)
	}
	return decisions, nil
}

// suppressSuperseded suppresses the decision of every health alert group
// that another open group of the same alert and destination supersedes,
// unless the alert was delivered there after its failure, because that
// reason is already stated. decisions[i] and deliveredLater[i] belong to
// groups[i].
func suppressSuperseded(groups []models.DeliveryGroup, decisions []Decision, deliveredLater []bool) {
	newest := newestOpenGroups(groups)
	actions := make(map[models.DeliveryGroupKey]string, len(groups))
	for i, group := range groups {
		actions[keyOf(group)] = decisions[i].Action
	}
	for i, group := range groups {
		newer := supersedingGroup(group, newest)
		if newer == nil || deliveredLater[i] {
			continue
		}
		decision := &decisions[i]
		decision.Action, decision.NextRetryAt = ActionSuppress, nil
		decision.Reason = supersededReason(group.SubjectKey, *newer, actions[keyOf(*newer)])
	}
}

// laterDelivery returns a successful delivery of the decision's subject
// key to its destination completed at or after its latest failure started,
// or after that failure completed when the decision has no LastDeliveryID,
// or nil. For a health alert that is the same fingerprint sent by a later
// plan. The start counts, not the completion. A send that a stopped server
// left in flight completes as interrupted only when a later live run
// records it, and a success in between still delivered the alert after that
// send began.
func laterDelivery(ctx context.Context, db *gorm.DB, decision Decision) (*models.Delivery, error) {
	if decision.LastFailureAt == nil {
		return nil, nil
	}
	since := *decision.LastFailureAt
	if decision.LastDeliveryID != "" {
		failed, err := models.DeliveryByID(ctx, db, decision.LastDeliveryID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return nil, err
		}
		if failed != nil && failed.StartedAt.Before(since) {
			since = failed.StartedAt
		}
	}
	return models.LastSuccessfulDelivery(ctx, db, decision.SubjectKind, decision.SubjectKey, decision.Connector, since)
}

// deliveredLaterReason is the reason of a health alert retry left out
// because a later plan already delivered the same alert there.
func deliveredLaterReason(decision Decision, later models.Delivery) string {
	at := later.CreatedAt
	if later.CompletedAt != nil {
		at = *later.CompletedAt
	}
	return fmt.Sprintf("alert %s was delivered to this destination after this failure (delivery %s at %s); a retry would send it again",
		decision.SubjectKey, later.ID, at.UTC().Format(time.RFC3339))
}

// decideDue returns the retry decisions of up to limit groups of one subject
// kind that are due now, oldest latest failure first, and the tally of
// every open group. When destinations is not empty, only their groups are
// selected. The database counts and selects the groups, so a run
// over a large backlog reads only what it may send.
func (s *Service) decideDue(ctx context.Context, kind string, policy Policy, now time.Time, limit int, destinations []string) ([]Decision, OpenFailures, error) {
	rules := rulesOf(policy, now)
	rules.SuppressDeliveredKey = kind == models.SubjectHealthAlert
	rules.Connectors = destinations
	var open OpenFailures
	var groups []models.DeliveryGroup
	var skipped map[models.DeliveryGroupKey]bool
	var newest map[alertDestination]models.DeliveryGroup

	// Both reads see one snapshot, so the groups selected are among those
	// counted as due even while another run claims some of them.
	err := models.ReadSnapshot(ctx, s.DB, func(tx *gorm.DB) error {
		buckets, err := models.TallyOpenGroups(ctx, tx, kind, rules)
		if err != nil {
			return err
		}
		open = s.tallyOf(policy, buckets)
		if open.RetryCount == 0 {
			return nil
		}
		// Health alert groups that repeat an alert and destination are left
		// out below, and groups skipped since their latest failure come
		// last. When that would leave fewer than limit others, more groups
		// are read, four times as many each time, until limit are found or
		// every due group has been read.
		for fetch := limit; ; fetch *= 4 {
			if groups, err = models.DueDeliveryGroups(ctx, tx, kind, rules, fetch); err != nil {
				return err
			}
			if skipped, err = models.GroupsSkippedSinceFailure(ctx, tx, kind, groups); err != nil {
				return err
			}
			if len(groups) < fetch || sendableGroups(kind, groups, skipped) >= limit {
				break
			}
		}
		// The newest open group of each alert and destination, read in the
		// same snapshot, lets the check below confirm that the database
		// selected no group that a newer failure of the alert supersedes.
		if kind == models.SubjectHealthAlert {
			keys := make([]string, 0, len(groups))
			for _, group := range groups {
				keys = append(keys, group.SubjectKey)
			}
			if newest, err = newestAlertGroups(ctx, tx, keys); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, OpenFailures{}, err
	}
	// A group whose message could not be built was skipped without a
	// delivery, so it keeps its place at the head of the queue. It goes
	// last, so it no longer takes a slot of every run, and is still retried
	// when there is room.
	slices.SortStableFunc(groups, func(a, b models.DeliveryGroup) int {
		aSkipped, bSkipped := skipped[keyOf(a)], skipped[keyOf(b)]
		switch {
		case aSkipped == bSkipped:
			return 0
		case aSkipped:
			return 1
		default:
			return -1
		}
	})

	decisions := make([]Decision, 0, len(groups))
	// Two alert plans of one fingerprint that both failed to a destination
	// are two groups with the same subject key, and retrying both would send
	// the alert there twice. The rules suppress every group but the one with
	// the newest failure, and this guard keeps a run from sending the alert
	// there twice should the selection still hold two of them.
	sameKeyTaken := map[[2]string]bool{}
	for _, group := range groups {
		if len(decisions) == limit {
			break
		}
		if kind == models.SubjectHealthAlert {
			key := [2]string{group.SubjectKey, group.Connector}
			if sameKeyTaken[key] {
				continue
			}
			sameKeyTaken[key] = true
		}
		decision := Decide(policy, groupOf(group), now, s.inFlightTimeout())
		if kind == models.SubjectHealthAlert {
			if newer := supersedingGroup(group, newest); newer != nil {
				decision.Action, decision.NextRetryAt = ActionSuppress, nil
				decision.Reason = supersededReason(group.SubjectKey, *newer, "")
			}
		}
		if decision.Action != ActionRetry {
			// The database and Decide apply the same rules, so a difference
			// is a defect. The group is left for the next run.
			s.logger().Error("a group the database found due is not due by the retry rules", "subject_kind", kind,
				"subject_id", group.SubjectID, "connector", group.Connector, "action", decision.Action, "reason", decision.Reason)
			continue
		}
		decisions = append(decisions, decision)
	}
	return decisions, open, nil
}

// sendableGroups counts the groups a run would select first: those not
// skipped since their latest failure and, for health alerts, one per
// (subject key, destination) pair.
func sendableGroups(kind string, groups []models.DeliveryGroup, skipped map[models.DeliveryGroupKey]bool) int {
	seen := map[[2]string]bool{}
	count := 0
	for _, group := range groups {
		if skipped[keyOf(group)] {
			continue
		}
		if kind == models.SubjectHealthAlert {
			pair := [2]string{group.SubjectKey, group.Connector}
			if seen[pair] {
				continue
			}
			seen[pair] = true
		}
		count++
	}
	return count
}

func keyOf(group models.DeliveryGroup) models.DeliveryGroupKey {
	return models.DeliveryGroupKey{SubjectID: group.SubjectID, Connector: group.Connector}
}

// tallyOf adds up the buckets of TallyOpenGroups. The earliest next retry of
// a waiting group is the time its retry under way counts as interrupted, its
// Retry-After time, or its latest failure plus the delay after that many
// failures, whichever applies.
func (s *Service) tallyOf(policy Policy, buckets []models.GroupBucket) OpenFailures {
	var open OpenFailures
	earliest := func(t time.Time) {
		t = ceilMicrosecond(t)
		if open.NextRetryAt == nil || t.Before(*open.NextRetryAt) {
			open.NextRetryAt = &t
		}
	}
	for _, b := range buckets {
		open.DecisionCount += b.Groups
		open.SuppressCount += b.Suppressed
		open.WaitCount += b.Waiting
		open.RetryCount += b.Groups - b.Suppressed - b.Waiting
		if b.InFlightSince != nil {
			earliest(interruptibleAt(*b.InFlightSince, s.inFlightTimeout()))
		}
		if b.DelayFrom != nil {
			earliest(b.DelayFrom.Add(policy.Delay(b.FailureCount)))
		}
		if b.RetryAfter != nil {
			earliest(*b.RetryAfter)
		}
	}
	return open
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

	plan, rows := planRecords(kind, policy, decisions, false, actor, now)
	if err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return models.CreateRetryPlan(tx, &plan, rows)
	}); err != nil {
		return PlanView{}, err
	}
	s.logger().Info("delivery retry plan created", "retry_plan_id", plan.ID, "subject_kind", kind,
		"decisions", plan.DecisionCount, "retry", plan.RetryCount, "wait", plan.WaitCount, "suppress", plan.SuppressCount, "actor", actor)
	return planView(plan, rows), nil
}

// planRecords turns decisions into the rows of a plan whose counts tally
// them. With selected, every decision is marked selected.
func planRecords(kind string, policy Policy, decisions []Decision, selected bool, actor string, now time.Time) (models.RetryPlan, []models.RetryDecision) {
	plan := models.RetryPlan{
		ID: models.NewID("rtp", now), SubjectKind: kind, MaxRetryAttempts: policy.MaxRetryAttempts,
		RetryDelayMinutes: policy.RetryDelayMinutes, AllowImmediateRetry: policy.AllowImmediateRetry,
		BackoffMultiplier: policy.BackoffMultiplier, DecisionCount: len(decisions), Actor: actor, CreatedAt: now,
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
		rows = append(rows, models.RetryDecision{
			ID: models.NewID("rtd", now), PlanID: plan.ID, Position: i, SubjectKind: d.SubjectKind,
			SubjectID: d.SubjectID, SubjectKey: d.SubjectKey, Connector: d.Connector, Action: d.Action,
			Reason: d.Reason, FailureCount: d.FailureCount, LastFailureAt: d.LastFailureAt,
			LastErrorClass: d.LastErrorClass, NextRetryAt: d.NextRetryAt, LastDeliveryID: d.LastDeliveryID,
			IdempotencyKey: d.IdempotencyKey, Selected: selected, State: models.DecisionNone,
		})
	}
	return plan, rows
}

// selectedPlanRecords returns the plan of a worker run or preview: the due
// decisions it selected as rows, pending when live is true, and the tally
// of every open group as its counts. Repeated runs over a large backlog
// therefore do not store the whole backlog each time. POST
// …/delivery-retry-plan keeps every decision.
func selectedPlanRecords(kind string, policy Policy, due []Decision, open OpenFailures, live bool, actor string, now time.Time) (models.RetryPlan, []models.RetryDecision) {
	plan, rows := planRecords(kind, policy, due, true, actor, now)
	if live {
		for i := range rows {
			rows[i].State = models.DecisionPending
		}
	}
	plan.DecisionCount, plan.RetryCount = open.DecisionCount, open.RetryCount
	plan.WaitCount, plan.SuppressCount = open.WaitCount, open.SuppressCount
	plan.NextRetryAt = open.NextRetryAt
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

// LatestPlan returns the newest plan of one subject kind made by Plan, or
// nil. A worker run's plan keeps only the decisions it selected, so it is
// shown with its run instead.
func (s *Service) LatestPlan(ctx context.Context, kind string) (*PlanView, error) {
	plan, err := models.LatestPlannedRetryPlan(ctx, s.DB, kind)
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
// cannot send. When destinations is not empty, only retries to them are
// considered. It writes nothing.
func (s *Service) Preview(ctx context.Context, kind string, policy Policy, maxDeliveries int, destinations []string) (Preview, error) {
	request := RunRequest{MaxRetryDeliveries: maxDeliveries, Policy: policy, Schedule: DefaultSchedule(), Destinations: destinations}
	if err := request.Validate(); err != nil {
		return Preview{}, err
	}
	if err := s.checkDestinations(destinations); err != nil {
		return Preview{}, err
	}
	now := models.UTC(s.Now())
	due, open, err := s.decideDue(ctx, kind, policy, now, maxDeliveries, destinations)
	if err != nil {
		return Preview{}, err
	}
	inFlight, err := models.StaleRetryExecutions(ctx, s.DB, kind, now.Add(time.Microsecond))
	if err != nil {
		return Preview{}, err
	}
	preview := Preview{SubjectKind: kind, Policy: policy, MaxRetryDeliveries: maxDeliveries, OnlyDestinations: destinations,
		SelectedDecisions: []DecisionView{}, Destinations: []string{}, NotReady: map[string]string{}, OpenFailures: open}
	staleSends, err := models.StaleSendDeliveries(ctx, s.DB, kind, now.Add(-StaleSendAfter))
	if err != nil {
		return Preview{}, err
	}
	preview.StaleSendCount = len(staleSends)
	cutoff := now.Add(-s.inFlightTimeout())
	for _, execution := range inFlight {
		if execution.StartedAt.Before(cutoff) {
			preview.InterruptedCount++
			continue
		}
		if preview.InFlightCount == 0 {
			// Executions come oldest first.
			at := interruptibleAt(execution.StartedAt, s.inFlightTimeout())
			preview.InterruptibleAt = &at
		}
		preview.InFlightCount++
	}
	_, rows := selectedPlanRecords(kind, policy, due, open, false, "", now)
	for _, row := range rows {
		preview.SelectedDecisions = append(preview.SelectedDecisions, decisionView(row))
	}
	preview.Destinations = destinationsOf(preview.SelectedDecisions)
	// A live run rejects a limit that names a destination that cannot
	// send, so the preview names such a destination even with nothing due.
	preview.NotReady = s.notReady(kind, withLimit(preview.Destinations, destinations))
	preview.ReadyDestinations = []string{}
	if s.Connectors != nil {
		for _, name := range s.Connectors.Names() {
			if len(destinations) > 0 && !slices.Contains(destinations, name) {
				continue
			}
			if _, blocked := s.notReady(kind, []string{name})[name]; !blocked {
				preview.ReadyDestinations = append(preview.ReadyDestinations, name)
			}
		}
	}
	return preview, nil
}

// checkDestinations rejects a destination limit that names a destination
// that is not configured, so a misspelt name does not read as nothing due.
func (s *Service) checkDestinations(destinations []string) error {
	var configured []string
	if s.Connectors != nil {
		configured = s.Connectors.Names()
	}
	for _, name := range destinations {
		if !slices.Contains(configured, name) {
			list := strings.Join(configured, ", ")
			if list == "" {
				list = "none"
			}
			return conflict("destinations", "destinations names %q, which is not a configured destination; configured destinations: %s", name, list)
		}
	}
	return nil
}

// notReady returns the destinations of one subject kind that a live run
// could not send to now, each with the reason. Either the connector cannot
// send, or messages of the kind cannot be rebuilt.
func (s *Service) notReady(kind string, destinations []string) map[string]string {
	reasons := map[string]string{}
	_, hasSource := s.Sources[kind]
	for _, name := range destinations {
		if !hasSource {
			reasons[name] = missingSourceMessage(kind)
		} else if err := s.checkConnector(name); err != nil {
			reasons[name] = err.Error()
		}
	}
	return reasons
}

// withLimit returns names and the destinations of limit, each once, sorted.
func withLimit(names, limit []string) []string {
	all := append(slices.Clone(names), limit...)
	sort.Strings(all)
	return slices.Compact(all)
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
