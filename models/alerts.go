package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Decisions on an eligible destination of an alert plan.
const (
	DecisionSelected   = "selected"
	DecisionSuppressed = "suppressed"
)

// Acknowledgement states. AcknowledgementPending is the state of a
// destination that has not acted yet; it is never sent by a user.
const (
	AcknowledgementPending      = "pending"
	AcknowledgementAcknowledged = "acknowledged"
	AcknowledgementDismissed    = "dismissed"
	AcknowledgementEscalated    = "escalated"
	AcknowledgementResolved     = "resolved"
)

// ClosedAcknowledgementStates are the states that close an outstanding item.
// Dismissed and escalated items stay outstanding.
var ClosedAcknowledgementStates = []string{AcknowledgementAcknowledged, AcknowledgementResolved}

// AlertPlan is one "Send Retry Health Alert" decision. RequestedProviders is
// the request's provider list as given, for the audit trail.
type AlertPlan struct {
	ID                 string `gorm:"primaryKey"`
	HealthID           string
	OccurrenceID       string
	Fingerprint        string
	AlertLevel         string
	RequestedProviders string
	// EligibleProviders is the comma-separated requested destinations that
	// were configured and enabled, also for a healthy evaluation, which
	// selects none. It is empty on plans stored before it existed.
	EligibleProviders        string
	SuppressionWindowMinutes int
	MaxAlerts                int
	Force                    bool
	Actor                    string
	CreatedAt                time.Time
}

// AlertPlanDestination is one eligible destination of a plan. A suppressed
// destination names the delivery that suppressed it and when it completed.
type AlertPlanDestination struct {
	PlanID                  string `gorm:"primaryKey"`
	Provider                string `gorm:"primaryKey"`
	HealthID                string
	OccurrenceID            string
	Fingerprint             string
	Decision                string
	Reason                  string
	SuppressedByDelivery    string `gorm:"column:suppressed_by_delivery"`
	LastDeliveryAt          *time.Time
	AcknowledgementRequired bool
	CreatedAt               time.Time
}

// AlertAcknowledgement is one acknowledgement action, kept forever. Repeat
// marks an action that sent the state that was already current, so it did
// not change the current state.
type AlertAcknowledgement struct {
	ID                   string `gorm:"primaryKey"`
	HealthID             string
	OccurrenceID         string
	Provider             string
	PlanID               string
	Sequence             int
	AcknowledgementState string
	Repeat               bool
	ExternalRef          string
	Notes                string
	Actor                string
	CreatedAt            time.Time
}

// AlertAcknowledgementState is the current state of one (occurrence,
// destination): the latest action that changed it, or pending.
type AlertAcknowledgementState struct {
	OccurrenceID         string `gorm:"primaryKey"`
	Provider             string `gorm:"primaryKey"`
	AcknowledgementState string
	Sequence             int
	AcknowledgementID    string
	HealthID             string
	ExternalRef          string
	Actor                string
	UpdatedAt            time.Time `gorm:"autoUpdateTime:false"`
}

// CreateAlertPlan stores a plan and its destinations inside tx, and opens a
// pending acknowledgement state for every destination that must acknowledge
// and has no state for this occurrence yet. A destination that already acted
// on the occurrence keeps its state, so a re-notification does not reopen it.
func CreateAlertPlan(tx *gorm.DB, plan *AlertPlan, destinations []AlertPlanDestination) error {
	if err := tx.Create(plan).Error; err != nil {
		return fmt.Errorf("models: unable to store alert plan %s: %w", plan.ID, err)
	}
	if len(destinations) == 0 {
		return nil
	}
	if err := tx.Create(&destinations).Error; err != nil {
		return fmt.Errorf("models: unable to store the destinations of alert plan %s: %w", plan.ID, err)
	}
	for _, d := range destinations {
		if !d.AcknowledgementRequired {
			continue
		}
		state := AlertAcknowledgementState{
			OccurrenceID: d.OccurrenceID, Provider: d.Provider, AcknowledgementState: AcknowledgementPending,
			HealthID: d.HealthID, UpdatedAt: d.CreatedAt,
		}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&state).Error; err != nil {
			return fmt.Errorf("models: unable to open the acknowledgement of %s for %s: %w", d.OccurrenceID, d.Provider, err)
		}
	}
	return nil
}

// AlertPlanByID returns one plan or ErrNotFound.
func AlertPlanByID(ctx context.Context, db *gorm.DB, id string) (*AlertPlan, error) {
	var plan AlertPlan
	err := db.WithContext(ctx).Where("id = ?", id).Take(&plan).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read alert plan %s: %w", id, err)
	}
	return &plan, nil
}

// AlertPlansByIDs returns the plans with the given ids, keyed by id.
func AlertPlansByIDs(ctx context.Context, db *gorm.DB, ids []string) (map[string]AlertPlan, error) {
	out := map[string]AlertPlan{}
	if len(ids) == 0 {
		return out, nil
	}
	var plans []AlertPlan
	if err := db.WithContext(ctx).Where("id IN ?", ids).Find(&plans).Error; err != nil {
		return nil, fmt.Errorf("models: unable to read alert plans: %w", err)
	}
	for _, plan := range plans {
		out[plan.ID] = plan
	}
	return out, nil
}

// AlertPlanDestinationsOf returns the destinations of the given plans, keyed
// by plan id, each list sorted by provider.
func AlertPlanDestinationsOf(ctx context.Context, db *gorm.DB, planIDs []string) (map[string][]AlertPlanDestination, error) {
	out := map[string][]AlertPlanDestination{}
	if len(planIDs) == 0 {
		return out, nil
	}
	var rows []AlertPlanDestination
	if err := db.WithContext(ctx).Where("plan_id IN ?", planIDs).Order("plan_id, provider").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: unable to read alert plan destinations: %w", err)
	}
	for _, row := range rows {
		out[row.PlanID] = append(out[row.PlanID], row)
	}
	return out, nil
}

// LatestAlertPlanOf returns the newest plan built on a health snapshot, or
// nil when the snapshot was never alerted on.
func LatestAlertPlanOf(ctx context.Context, db *gorm.DB, healthID string) (*AlertPlan, error) {
	var plan AlertPlan
	err := db.WithContext(ctx).Where("health_id = ?", healthID).Order("created_at DESC, id DESC").Limit(1).Take(&plan).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the alert plans of %s: %w", healthID, err)
	}
	return &plan, nil
}

// AcknowledgementRequiredBy returns the plan destinations of a health
// snapshot that required acknowledgement from provider, newest first.
func AcknowledgementRequiredBy(ctx context.Context, db *gorm.DB, healthID, provider string) ([]AlertPlanDestination, error) {
	var rows []AlertPlanDestination
	err := db.WithContext(ctx).Where("health_id = ? AND provider = ? AND acknowledgement_required = ?", healthID, provider, true).
		Order("created_at DESC, plan_id DESC").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the destinations of %s: %w", healthID, err)
	}
	return rows, nil
}

// AcknowledgementProvidersOf returns the providers a health snapshot's plans
// required acknowledgement from, sorted.
func AcknowledgementProvidersOf(ctx context.Context, db *gorm.DB, healthID string) ([]string, error) {
	var providers []string
	err := db.WithContext(ctx).Model(&AlertPlanDestination{}).
		Where("health_id = ? AND acknowledgement_required = ?", healthID, true).
		Distinct("provider").Order("provider").Pluck("provider", &providers).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the destinations of %s: %w", healthID, err)
	}
	return providers, nil
}

// LockAcknowledgementState reads the current state of (occurrence,
// provider) inside tx and, on PostgreSQL, locks its row until tx ends, so
// concurrent acknowledgements of one destination apply one after another.
// SQLite transactions already run one writer at a time (BEGIN IMMEDIATE).
func LockAcknowledgementState(tx *gorm.DB, occurrenceID, provider string) (*AlertAcknowledgementState, error) {
	query := tx.Where("occurrence_id = ? AND provider = ?", occurrenceID, provider)
	if DialectOf(tx) == DialectPostgres {
		query = query.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var state AlertAcknowledgementState
	err := query.Take(&state).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to lock the acknowledgement of %s for %s: %w", occurrenceID, provider, err)
	}
	return &state, nil
}

// AppendAcknowledgement stores an action inside tx and, unless it repeats
// the current state, makes it the current state. externalRef is the ticket
// reference the state keeps after the action, whether or not the action
// changes the state. The update is conditional on the sequence read under the
// lock, so a lost race fails instead of overwriting a newer state.
func AppendAcknowledgement(tx *gorm.DB, ack *AlertAcknowledgement, previousSequence int, externalRef string) error {
	if err := tx.Create(ack).Error; err != nil {
		return fmt.Errorf("models: unable to store acknowledgement %s: %w", ack.ID, err)
	}
	updates := map[string]any{"sequence": ack.Sequence, "external_ref": externalRef}
	if !ack.Repeat {
		updates["acknowledgement_state"] = ack.AcknowledgementState
		updates["acknowledgement_id"] = ack.ID
		updates["health_id"] = ack.HealthID
		updates["actor"] = ack.Actor
		updates["updated_at"] = ack.CreatedAt
	}
	result := tx.Model(&AlertAcknowledgementState{}).
		Where("occurrence_id = ? AND provider = ? AND sequence = ?", ack.OccurrenceID, ack.Provider, previousSequence).
		Updates(updates)
	if result.Error != nil {
		return fmt.Errorf("models: unable to update the acknowledgement state of %s for %s: %w", ack.OccurrenceID, ack.Provider, result.Error)
	}
	if result.RowsAffected != 1 {
		return fmt.Errorf("models: acknowledgement state of %s for %s changed concurrently", ack.OccurrenceID, ack.Provider)
	}
	return nil
}

// AcknowledgementState returns the current state of (occurrence, provider),
// or nil when the destination never had to acknowledge the occurrence.
func AcknowledgementState(ctx context.Context, db *gorm.DB, occurrenceID, provider string) (*AlertAcknowledgementState, error) {
	var state AlertAcknowledgementState
	err := db.WithContext(ctx).Where("occurrence_id = ? AND provider = ?", occurrenceID, provider).Take(&state).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the acknowledgement of %s for %s: %w", occurrenceID, provider, err)
	}
	return &state, nil
}

// AcknowledgementsOf returns every action on (occurrence, provider), newest
// first.
func AcknowledgementsOf(ctx context.Context, db *gorm.DB, occurrenceID, provider string) ([]AlertAcknowledgement, error) {
	var acks []AlertAcknowledgement
	err := db.WithContext(ctx).Where("occurrence_id = ? AND provider = ?", occurrenceID, provider).
		Order("sequence DESC").Find(&acks).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the acknowledgements of %s for %s: %w", occurrenceID, provider, err)
	}
	return acks, nil
}

// AcknowledgementsByIDs returns the actions with the given ids, keyed by id.
func AcknowledgementsByIDs(ctx context.Context, db *gorm.DB, ids []string) (map[string]AlertAcknowledgement, error) {
	out := map[string]AlertAcknowledgement{}
	if len(ids) == 0 {
		return out, nil
	}
	var acks []AlertAcknowledgement
	if err := db.WithContext(ctx).Where("id IN ?", ids).Find(&acks).Error; err != nil {
		return nil, fmt.Errorf("models: unable to read acknowledgements: %w", err)
	}
	for _, ack := range acks {
		out[ack.ID] = ack
	}
	return out, nil
}

// DeliveriesByIDs returns the deliveries with the given ids, keyed by id.
func DeliveriesByIDs(ctx context.Context, db *gorm.DB, ids []string) (map[string]Delivery, error) {
	out := map[string]Delivery{}
	if len(ids) == 0 {
		return out, nil
	}
	var deliveries []Delivery
	if err := db.WithContext(ctx).Where("id IN ?", ids).Find(&deliveries).Error; err != nil {
		return nil, fmt.Errorf("models: unable to read deliveries: %w", err)
	}
	for _, d := range deliveries {
		out[d.ID] = d
	}
	return out, nil
}

// OutstandingAcknowledgement is an (occurrence, destination) whose current
// state does not close it, with the newest plan that required it.
type OutstandingAcknowledgement struct {
	OccurrenceID         string
	Provider             string
	AcknowledgementState string
	HealthID             string
	PlanID               string
	AlertLevel           string
	Fingerprint          string
	ExternalRef          string
	Since                time.Time
	UpdatedAt            time.Time
}

// outstandingSelect reads outstanding items with the plan destination
// that required each; callers add the conditions.
const outstandingSelect = `
SELECT s.occurrence_id, s.provider, s.acknowledgement_state, s.external_ref, s.updated_at,
       d.health_id, d.plan_id, p.alert_level, d.fingerprint, d.created_at AS since
FROM alert_acknowledgement_states s
JOIN alert_plan_destinations d ON d.occurrence_id = s.occurrence_id AND d.provider = s.provider
JOIN alert_plans p ON p.id = d.plan_id`

// outstandingWhere selects states that keep an item outstanding.
const outstandingWhere = "s.acknowledgement_state NOT IN ('acknowledged', 'resolved')"

// OutstandingAcknowledgements returns one page of the outstanding items,
// newest plan first, at most limit of them after skipping offset, and the
// exact number of outstanding items.
func OutstandingAcknowledgements(ctx context.Context, db *gorm.DB, limit, offset int) ([]OutstandingAcknowledgement, int64, error) {
	db = db.WithContext(ctx)
	var total int64
	if err := db.Raw("SELECT COUNT(*) FROM alert_acknowledgement_states s WHERE " + outstandingWhere).Scan(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("models: unable to count outstanding acknowledgements: %w", err)
	}

	// The newest plan destination of each pair names the health snapshot to
	// acknowledge and its level.
	var items []OutstandingAcknowledgement
	err := db.Raw(outstandingSelect+`
WHERE `+outstandingWhere+` AND d.acknowledgement_required = ?
  AND NOT EXISTS (
    SELECT 1 FROM alert_plan_destinations newer
    WHERE newer.occurrence_id = d.occurrence_id AND newer.provider = d.provider
      AND newer.acknowledgement_required = ?
      AND (newer.created_at > d.created_at OR (newer.created_at = d.created_at AND newer.plan_id > d.plan_id)))
ORDER BY d.created_at DESC, s.provider, s.occurrence_id
LIMIT ? OFFSET ?`, true, true, limit, offset).Scan(&items).Error
	if err != nil {
		return nil, 0, fmt.Errorf("models: unable to read outstanding acknowledgements: %w", err)
	}
	return items, total, nil
}

// NewestOtherOutstanding returns the outstanding item of provider whose
// newest plan is the newest, leaving out occurrence exceptOccurrence, or nil
// when there is none. The acknowledgement page of an older or closed
// occurrence points to it, because a suppressed re-notification reaches no
// one but still needs an acknowledgement.
func NewestOtherOutstanding(ctx context.Context, db *gorm.DB, provider, exceptOccurrence string) (*OutstandingAcknowledgement, error) {
	var items []OutstandingAcknowledgement
	err := db.WithContext(ctx).Raw(outstandingSelect+`
WHERE `+outstandingWhere+` AND s.provider = ? AND s.occurrence_id <> ? AND d.acknowledgement_required = ?
ORDER BY d.created_at DESC, d.plan_id DESC
LIMIT 1`, provider, exceptOccurrence, true).Scan(&items).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the outstanding acknowledgements of %s: %w", provider, err)
	}
	if len(items) == 0 {
		return nil, nil
	}
	return &items[0], nil
}

// AlertCounts are the exact totals of the alert dashboard.
type AlertCounts struct {
	PlanCount               int64
	DeliveryCount           int64
	DeliveredCount          int64
	FailedDeliveryCount     int64
	SuppressedProviderCount int64
	AcknowledgementCount    int64
}

// CountAlerts computes the dashboard totals with SQL aggregates over every
// row. A failed delivery counts only while no later successful delivery of
// the same alert fingerprint to the same destination exists.
func CountAlerts(ctx context.Context, db *gorm.DB) (AlertCounts, error) {
	db = db.WithContext(ctx)
	var counts AlertCounts
	queries := []struct {
		target *int64
		sql    string
		args   []any
	}{
		{&counts.PlanCount, "SELECT COUNT(*) FROM alert_plans", nil},
		{&counts.DeliveryCount, "SELECT COUNT(*) FROM deliveries WHERE subject_kind = ?", []any{SubjectHealthAlert}},
		{&counts.DeliveredCount, "SELECT COUNT(*) FROM deliveries WHERE subject_kind = ? AND success = ?", []any{SubjectHealthAlert, true}},
		{&counts.FailedDeliveryCount, `
SELECT COUNT(*) FROM deliveries f
WHERE f.subject_kind = ? AND f.state = ? AND f.success = ?
  AND NOT EXISTS (
    SELECT 1 FROM deliveries later
    WHERE later.subject_kind = f.subject_kind AND later.subject_key = f.subject_key
      AND later.connector = f.connector AND later.success = ? AND later.completed_at >= COALESCE(f.completed_at, f.created_at))`,
			[]any{SubjectHealthAlert, DeliveryCompleted, false, true}},
		{&counts.SuppressedProviderCount, "SELECT COUNT(*) FROM alert_plan_destinations WHERE decision = ?", []any{DecisionSuppressed}},
		{&counts.AcknowledgementCount, "SELECT COUNT(*) FROM alert_acknowledgements", nil},
	}
	for _, q := range queries {
		if err := db.Raw(q.sql, q.args...).Scan(q.target).Error; err != nil {
			return counts, fmt.Errorf("models: unable to count alert records: %w", err)
		}
	}
	return counts, nil
}

// LatestAlertPlan returns the newest plan, or nil when none exists.
func LatestAlertPlan(ctx context.Context, db *gorm.DB) (*AlertPlan, error) {
	var plan AlertPlan
	err := db.WithContext(ctx).Order("created_at DESC, id DESC").Limit(1).Take(&plan).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the newest alert plan: %w", err)
	}
	return &plan, nil
}
