package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/releaseops/evidence-console/models"
)

// Audit chain kinds: the records whose whole chain can be traced.
const (
	ChainRetryExecution  = models.HistoryRetryExecution
	ChainDelivery        = models.HistoryDelivery
	ChainAlertPlan       = models.HistoryAlertPlan
	ChainAcknowledgement = models.HistoryAcknowledgement
)

// ChainKinds lists the kinds that have an audit chain.
func ChainKinds() []string {
	return []string{ChainRetryExecution, ChainDelivery, ChainAlertPlan, ChainAcknowledgement}
}

// ErrUnknownChainKind is returned for a kind outside ChainKinds.
var ErrUnknownChainKind = errors.New("audit: unknown audit chain kind")

// Chain is the whole chain of records behind one record. A retry execution
// links its worker run, retry plan and decision, the schedule run and report
// (or alert plan and health snapshot) it re-delivered, and every delivery of
// that subject. An alert record links the health snapshot, the plan, its
// deliveries and the acknowledgements of the occurrence.
type Chain struct {
	Kind  string      `json:"kind"`
	ID    string      `json:"id"`
	Links []ChainLink `json:"links"`
	// Missing names each link that should exist but was not found, such as
	// the delivery of an execution that was skipped before sending.
	Missing []string `json:"missing"`
}

// ChainLink is one record of a chain, with who produced it and when.
type ChainLink struct {
	Kind     string    `json:"kind"`
	ID       string    `json:"id"`
	Relation string    `json:"relation"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Provider string    `json:"provider,omitempty"`
	Status   string    `json:"status"`
	Detail   string    `json:"detail,omitempty"`
	// IdempotencyKey is the key a retry execution or delivery sends with its
	// message. A retry carries the key of the delivery it repeats, so equal
	// keys mark sends of one message.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// AuditKind is set when the linked record has an audit chain of its own.
	AuditKind string `json:"audit_kind,omitempty"`
}

func auditKindOf(historyKind string) string {
	if slices.Contains(ChainKinds(), historyKind) {
		return historyKind
	}
	return ""
}

// Chain traces the record kind/id. It returns ErrUnknownChainKind for a kind
// without a chain and models.ErrNotFound when the record does not exist.
func (s *Service) Chain(ctx context.Context, kind, id string) (Chain, error) {
	b := &chainBuilder{s: s, chain: Chain{Kind: kind, ID: id, Links: []ChainLink{}, Missing: []string{}}, seen: map[string]bool{}}
	var err error
	switch kind {
	case ChainRetryExecution:
		err = b.execution(ctx, id, "record")
	case ChainDelivery:
		err = b.delivery(ctx, id)
	case ChainAlertPlan:
		err = b.alertPlanChain(ctx, id, "record")
	case ChainAcknowledgement:
		err = b.acknowledgement(ctx, id)
	default:
		return Chain{}, ErrUnknownChainKind
	}
	if err != nil {
		return Chain{}, err
	}
	return b.chain, nil
}

type chainBuilder struct {
	s     *Service
	chain Chain
	seen  map[string]bool
}

func (b *chainBuilder) add(link ChainLink) {
	key := link.Kind + "/" + link.ID
	if b.seen[key] {
		return
	}
	b.seen[key] = true
	link.At = models.UTC(link.At)
	link.AuditKind = auditKindOf(link.Kind)
	b.chain.Links = append(b.chain.Links, link)
}

func (b *chainBuilder) missing(format string, args ...any) {
	b.chain.Missing = append(b.chain.Missing, fmt.Sprintf(format, args...))
}

// optional turns ErrNotFound into a missing-link note and nil, so a broken
// link is reported instead of failing the whole chain.
func (b *chainBuilder) optional(err error, what string) (bool, error) {
	if errors.Is(err, models.ErrNotFound) {
		b.missing("%s not found", what)
		return false, nil
	}
	return err == nil, err
}

// execution adds a retry execution and everything upstream of it.
func (b *chainBuilder) execution(ctx context.Context, id, relation string) error {
	db := b.s.DB
	x, err := models.RecordByID[models.RetryExecution](ctx, db, id)
	if err != nil {
		return err
	}
	executionLink := ChainLink{Kind: models.HistoryRetryExecution, ID: x.ID, Relation: relation, At: x.StartedAt,
		Provider: x.Connector, Status: x.Outcome, Detail: x.Reason, IdempotencyKey: x.IdempotencyKey}

	run, err := models.RecordByID[models.RetryWorkerRun](ctx, db, x.WorkerRunID)
	runFound, err := b.optional(err, "worker run "+x.WorkerRunID)
	if err != nil {
		return err
	}
	// An execution is the work of its worker run, so it has the run's actor.
	if runFound {
		executionLink.Actor = run.Actor
	}
	b.add(executionLink)
	if runFound {
		mode := "live"
		if run.DryRun {
			mode = "dry"
		}
		b.add(ChainLink{Kind: models.HistoryRetryWorkerRun, ID: run.ID, Relation: "worker run", At: run.CreatedAt,
			Actor: run.Actor, Status: mode + " " + run.State,
			Detail: fmt.Sprintf("selected %d, delivered %d, failed %d, skipped %d", run.SelectedCount, run.DeliveredCount, run.FailedCount, run.SkippedCount)})
	}
	if err := b.reconcilingRun(ctx, x); err != nil {
		return err
	}

	plan, err := models.RecordByID[models.RetryPlan](ctx, db, x.PlanID)
	planFound, err := b.optional(err, "retry plan "+x.PlanID)
	if err != nil {
		return err
	}
	if planFound {
		b.add(ChainLink{Kind: models.HistoryRetryPlan, ID: plan.ID, Relation: "retry plan", At: plan.CreatedAt,
			Actor: plan.Actor, Status: "planned",
			Detail: fmt.Sprintf("%s: retry %d, wait %d, suppress %d", countWords(plan.DecisionCount, "decision", "decisions"), plan.RetryCount, plan.WaitCount, plan.SuppressCount)})
	}

	decision, err := models.RecordByID[models.RetryDecision](ctx, db, x.DecisionID)
	if ok, err := b.optional(err, "retry decision "+x.DecisionID); err != nil {
		return err
	} else if ok {
		// A decision is made when its plan is; the failure it weighs is older.
		at, actor := time.Time{}, ""
		if planFound {
			at, actor = plan.CreatedAt, plan.Actor
		}
		lastFailure := "unknown"
		if decision.LastFailureAt != nil {
			lastFailure = decision.LastFailureAt.UTC().Format(time.RFC3339)
		}
		b.add(ChainLink{Kind: "retry_decision", ID: decision.ID, Relation: "retry decision", At: at,
			Actor: actor, Provider: decision.Connector, Status: decision.Action,
			Detail: fmt.Sprintf("%s, last at %s with class %s; %s", countWords(decision.FailureCount, "failure", "failures"), lastFailure,
				decision.LastErrorClass, decision.Reason)})
	}

	if err := b.subject(ctx, x.SubjectKind, x.SubjectID); err != nil {
		return err
	}
	if x.DeliveryID == "" && x.Outcome != models.ExecutionSkipped {
		b.missing("delivery of execution %s", x.ID)
	}
	return nil
}

// subject adds the delivered subject (a schedule run and its report, or an
// alert plan and its health snapshot) and every delivery of it.
func (b *chainBuilder) subject(ctx context.Context, subjectKind, subjectID string) error {
	switch subjectKind {
	case models.SubjectExecutiveReport:
		return b.scheduleRun(ctx, subjectID)
	case models.SubjectHealthAlert:
		return b.alertPlanChain(ctx, subjectID, "alert plan")
	default:
		b.missing("subject %s of unknown kind %s", subjectID, subjectKind)
		return nil
	}
}

// reconcilingRun adds the worker run that recorded x as interrupted, after
// x's own run stopped before recording it.
func (b *chainBuilder) reconcilingRun(ctx context.Context, x *models.RetryExecution) error {
	if x.ReconciledByRunID == "" || x.ReconciledByRunID == x.WorkerRunID {
		return nil
	}
	run, err := models.RecordByID[models.RetryWorkerRun](ctx, b.s.DB, x.ReconciledByRunID)
	if ok, err := b.optional(err, "worker run "+x.ReconciledByRunID); err != nil || !ok {
		return err
	}
	b.add(ChainLink{Kind: models.HistoryRetryWorkerRun, ID: run.ID, Relation: "reconciled by", At: run.CreatedAt,
		Actor: run.Actor, Status: run.State, Detail: "recorded the outcome of this execution, which its own run left in flight"})
	return nil
}

func (b *chainBuilder) scheduleRun(ctx context.Context, runID string) error {
	db := b.s.DB
	run, err := models.RecordByID[models.ExecutiveScheduleRun](ctx, db, runID)
	if ok, err := b.optional(err, "schedule run "+runID); err != nil || !ok {
		return err
	}
	b.add(ChainLink{Kind: models.HistoryScheduleRun, ID: run.ID, Relation: "schedule run", At: run.CreatedAt,
		Actor: run.Actor, Status: run.Cadence,
		Detail: fmt.Sprintf("window %s to %s", run.WindowStart.UTC().Format(time.RFC3339), run.WindowEnd.UTC().Format(time.RFC3339))})

	report, err := models.RecordByID[models.ExecutiveReport](ctx, db, run.ReportID)
	if ok, err := b.optional(err, "executive report "+run.ReportID); err != nil {
		return err
	} else if ok {
		b.add(ChainLink{Kind: models.HistoryExecutiveReport, ID: report.ID, Relation: "report", At: report.GeneratedAt,
			Actor: report.Actor, Status: report.Status,
			Detail: fmt.Sprintf("%d executions, %d failed, %d key risks", report.ExecutionCount, report.FailedExecutionCount, report.KeyRiskCount)})
	}
	return b.deliveriesOf(ctx, models.SubjectExecutiveReport, run.ID)
}

func (b *chainBuilder) deliveriesOf(ctx context.Context, subjectKind, subjectID string) error {
	deliveries, err := models.DeliveriesOf(ctx, b.s.DB, subjectKind, subjectID)
	if err != nil {
		return err
	}
	for _, d := range deliveries {
		b.add(deliveryLink(d, "delivery evidence"))
	}
	return nil
}

func deliveryLink(d models.Delivery, relation string) ChainLink {
	status := d.State
	if d.State == models.DeliveryCompleted {
		status = "failed"
		if d.Success {
			status = "sent"
		}
	}
	var detail string
	if d.State == models.DeliveryInFlight {
		detail = inFlightDetail(d)
	} else {
		detail = completedDetail(d)
	}
	if d.RetryExecutionID != "" {
		detail += ", retry execution " + d.RetryExecutionID
	}
	if d.ReconciledByRunID != "" {
		detail += ", recorded as interrupted by worker run " + d.ReconciledByRunID
	}
	return ChainLink{Kind: models.HistoryDelivery, ID: d.ID, Relation: relation, At: d.CreatedAt, Actor: d.Actor,
		Provider: d.Connector, Status: status, Detail: detail, IdempotencyKey: d.IdempotencyKey}
}

// inFlightDetail describes a send still under way, or one that a stopped
// server left in flight. Its attempts, reply and class are recorded only
// when it completes.
func inFlightDetail(d models.Delivery) string {
	destination := d.Host
	if destination == "" {
		destination = d.Connector
	}
	since := d.StartedAt
	if since.IsZero() {
		since = d.CreatedAt
	}
	return fmt.Sprintf("%s to %s, in flight since %s", d.Origin, destination, since.UTC().Format(time.RFC3339))
}

func completedDetail(d models.Delivery) string {
	response := fmt.Sprintf("status %d", d.StatusCode)
	if d.StatusCode == 0 {
		response = "no response status"
	}
	destination := d.Host
	if destination == "" {
		// A send that a stopped server left in flight, and a later worker run
		// recorded as interrupted, has no recorded attempt.
		destination = d.Connector + " (no attempt recorded)"
	}
	detail := fmt.Sprintf("%s to %s, %s", d.Origin, destination, response)
	if d.ErrorClass != "" {
		detail += ", class " + d.ErrorClass
	}
	return detail + ", " + countWords(d.AttemptCount, "attempt", "attempts")
}

// delivery adds one delivery; a retry delivery continues with its execution,
// a first send with its subject.
func (b *chainBuilder) delivery(ctx context.Context, id string) error {
	d, err := models.DeliveryByID(ctx, b.s.DB, id)
	if err != nil {
		return err
	}
	b.add(deliveryLink(*d, "record"))
	if d.ReconciledByRunID != "" {
		run, err := models.RecordByID[models.RetryWorkerRun](ctx, b.s.DB, d.ReconciledByRunID)
		if ok, err := b.optional(err, "worker run "+d.ReconciledByRunID); err != nil {
			return err
		} else if ok {
			b.add(ChainLink{Kind: models.HistoryRetryWorkerRun, ID: run.ID, Relation: "reconciled by", At: run.CreatedAt,
				Actor: run.Actor, Status: run.State, Detail: "recorded this delivery as interrupted, which a stopped server left in flight"})
		}
	}
	if d.Origin == models.OriginRetry && d.RetryExecutionID != "" {
		err := b.execution(ctx, d.RetryExecutionID, "retry execution")
		if _, err := b.optional(err, "retry execution "+d.RetryExecutionID); err != nil {
			return err
		}
		return nil
	}
	return b.subject(ctx, d.SubjectKind, d.SubjectID)
}

// alertPlanChain adds the health snapshot, the plan, its deliveries and the
// acknowledgement actions on its occurrence.
func (b *chainBuilder) alertPlanChain(ctx context.Context, planID, relation string) error {
	db := b.s.DB
	plan, err := models.AlertPlanByID(ctx, db, planID)
	if relation != "record" {
		if ok, err := b.optional(err, "alert plan "+planID); err != nil || !ok {
			return err
		}
	} else if err != nil {
		return err
	}

	destinations, err := models.AlertPlanDestinationsOfPlan(ctx, db, plan.ID)
	if err != nil {
		return err
	}
	var selected, suppressed int
	for _, d := range destinations {
		if d.Decision == models.DecisionSuppressed {
			suppressed++
		} else {
			selected++
		}
	}
	planLink := ChainLink{Kind: models.HistoryAlertPlan, ID: plan.ID, Relation: relation, At: plan.CreatedAt, Actor: plan.Actor,
		Status: plan.AlertLevel, Detail: fmt.Sprintf("%d destination(s) selected, %d suppressed, force %t", selected, suppressed, plan.Force)}
	// The traced record comes first; otherwise the chain runs upstream first.
	if relation == "record" {
		b.add(planLink)
	}

	snapshot, err := models.HealthSnapshotByID(ctx, db, plan.HealthID)
	if ok, err := b.optional(err, "health snapshot "+plan.HealthID); err != nil {
		return err
	} else if ok {
		b.add(ChainLink{Kind: models.HistoryHealthSnapshot, ID: snapshot.ID, Relation: "health evaluation",
			At: snapshot.EvaluatedAt, Actor: snapshot.Actor, Status: snapshot.AlertLevel,
			Detail: fmt.Sprintf("%d finding(s), fingerprint %s", snapshot.FindingCount, snapshot.Fingerprint)})
	}
	b.add(planLink)

	if err := b.deliveriesOf(ctx, models.SubjectHealthAlert, plan.ID); err != nil {
		return err
	}
	acks, err := models.AcknowledgementsOfOccurrence(ctx, db, plan.OccurrenceID)
	if err != nil {
		return err
	}
	for _, a := range acks {
		detail := fmt.Sprintf("step %d", a.Sequence)
		if a.ExternalRef != "" {
			detail += ", reference " + a.ExternalRef
		}
		b.add(ChainLink{Kind: models.HistoryAcknowledgement, ID: a.ID, Relation: "acknowledgement", At: a.CreatedAt,
			Actor: a.Actor, Provider: a.Provider, Status: a.AcknowledgementState, Detail: detail})
	}
	return nil
}

// acknowledgement adds one action and the alert chain it acknowledged.
func (b *chainBuilder) acknowledgement(ctx context.Context, id string) error {
	db := b.s.DB
	ack, err := models.RecordByID[models.AlertAcknowledgement](ctx, db, id)
	if err != nil {
		return err
	}
	b.add(ChainLink{Kind: models.HistoryAcknowledgement, ID: ack.ID, Relation: "record", At: ack.CreatedAt,
		Actor: ack.Actor, Provider: ack.Provider, Status: ack.AcknowledgementState, Detail: fmt.Sprintf("step %d", ack.Sequence)})
	planID := ack.PlanID
	if planID == "" {
		plan, err := models.LatestAlertPlanOf(ctx, db, ack.HealthID)
		if ok, err := b.optional(err, "alert plan of "+ack.HealthID); err != nil || !ok {
			return err
		}
		if plan == nil {
			b.missing("alert plan of %s", ack.HealthID)
			return nil
		}
		planID = plan.ID
	}
	return b.alertPlanChain(ctx, planID, "alert plan")
}

// countWords writes n followed by singular when n is 1, otherwise by plural.
func countWords[N int | int64](n N, singular, plural string) string {
	if n == 1 {
		return "1 " + singular
	}
	return fmt.Sprintf("%d %s", n, plural)
}
