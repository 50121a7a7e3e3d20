package alerting

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/models"
)

// Metadata kinds of the alert history items, in the naming of the ingested
// evidence kinds.
const (
	KindAlertPlan            = "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-retry-health-alert-plan"
	KindAlertDelivery        = "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-retry-health-alert-delivery"
	KindAlertAcknowledgement = "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-retry-health-alert-acknowledgement"
)

var metadataKinds = map[string]string{
	KindAlertPlan:            models.AlertHistoryPlan,
	KindAlertDelivery:        models.AlertHistoryDelivery,
	KindAlertAcknowledgement: models.AlertHistoryAcknowledgement,
}

// MetadataKinds lists the history item kinds.
func MetadataKinds() []string {
	return []string{KindAlertPlan, KindAlertDelivery, KindAlertAcknowledgement}
}

// Paging bounds of the history.
const (
	DefaultHistoryLimit = 50
	MaxHistoryLimit     = 500
	// DefaultOutstandingLimit is the page size of the outstanding items the
	// dashboard lists; the count beside them is exact.
	DefaultOutstandingLimit = 20
	LatestListLimit         = 10
)

// OutstandingQuery selects one page of the outstanding acknowledgements.
type OutstandingQuery struct {
	Limit  int
	Offset int
}

// DefaultOutstandingQuery is the first page of the outstanding items.
func DefaultOutstandingQuery() OutstandingQuery {
	return OutstandingQuery{Limit: DefaultOutstandingLimit}
}

// Validate returns a *FieldError naming outstanding_limit or
// outstanding_offset when the page is out of range.
func (q OutstandingQuery) Validate() error {
	if q.Limit < 1 || q.Limit > MaxHistoryLimit {
		return fieldErrorf("outstanding_limit", "outstanding_limit must be a whole number from 1 to %d; got %d", MaxHistoryLimit, q.Limit)
	}
	if q.Offset < 0 {
		return fieldErrorf("outstanding_offset", "outstanding_offset must be a whole number of 0 or more; got %d", q.Offset)
	}
	return nil
}

// HistoryQuery selects history items. See models.AlertHistoryFilter for
// how acknowledgement_state and suppressed combine with the item kinds.
type HistoryQuery struct {
	HealthID             string
	Provider             string
	MetadataKind         string
	AcknowledgementState string
	Suppressed           *bool
	Limit                int
	Offset               int
}

// Validate checks the query and returns a *FieldError naming the first
// invalid field. It lower-cases the provider.
func (q *HistoryQuery) Validate() error {
	q.Provider = strings.ToLower(strings.TrimSpace(q.Provider))
	if q.MetadataKind != "" {
		// The console names the kinds plan, delivery and acknowledgement,
		// so those short names are accepted for the full ones. The combined
		// history names a plan alert_plan, which is not accepted here.
		for full, short := range metadataKinds {
			if q.MetadataKind == short {
				q.MetadataKind = full
			}
		}
		if _, ok := metadataKinds[q.MetadataKind]; !ok {
			return fieldErrorf("metadata_kind", "metadata_kind %q is not a history kind; send one of %s, or plan, delivery or acknowledgement",
				q.MetadataKind, strings.Join(MetadataKinds(), ", "))
		}
	}
	if q.AcknowledgementState != "" && !slices.Contains(AcknowledgementStates(), q.AcknowledgementState) {
		return fieldErrorf("acknowledgement_state", "acknowledgement_state %q is not valid; send one of %s",
			q.AcknowledgementState, strings.Join(AcknowledgementStates(), ", "))
	}
	if q.Limit < 1 || q.Limit > MaxHistoryLimit {
		return fieldErrorf("limit", "limit must be a whole number from 1 to %d; got %d", MaxHistoryLimit, q.Limit)
	}
	if q.Offset < 0 {
		return fieldErrorf("offset", "offset must be a whole number of 0 or more; got %d", q.Offset)
	}
	return nil
}

// HistoryItem is one plan, delivery or acknowledgement action. Exactly one
// of Plan, Delivery and Acknowledgement is set, matching MetadataKind.
type HistoryItem struct {
	MetadataKind    string               `json:"metadata_kind"`
	ID              string               `json:"id"`
	HealthID        string               `json:"health_id"`
	CreatedAt       time.Time            `json:"created_at"`
	Plan            *PlanView            `json:"plan,omitempty"`
	Delivery        *delivery.View       `json:"delivery,omitempty"`
	Acknowledgement *AcknowledgementView `json:"acknowledgement,omitempty"`
}

// HistoryPage is one page of history items, newest first.
type HistoryPage struct {
	Items  []HistoryItem `json:"items"`
	Total  int64         `json:"total"`
	Limit  int           `json:"limit"`
	Offset int           `json:"offset"`
}

// History returns one page of plans, deliveries and acknowledgement actions.
func (s *Service) History(ctx context.Context, q HistoryQuery) (HistoryPage, error) {
	if err := q.Validate(); err != nil {
		return HistoryPage{}, err
	}
	rows, total, err := models.AlertHistory(ctx, s.DB, models.AlertHistoryFilter{
		HealthID: q.HealthID, Provider: q.Provider, Kind: metadataKinds[q.MetadataKind],
		AcknowledgementState: q.AcknowledgementState, Suppressed: q.Suppressed, Limit: q.Limit, Offset: q.Offset,
	})
	if err != nil {
		return HistoryPage{}, err
	}
	items, err := s.historyItems(ctx, rows)
	if err != nil {
		return HistoryPage{}, err
	}
	return HistoryPage{Items: items, Total: total, Limit: q.Limit, Offset: q.Offset}, nil
}

// historyItems loads the records behind history rows, keeping their order.
func (s *Service) historyItems(ctx context.Context, rows []models.AlertHistoryRow) ([]HistoryItem, error) {
	var planIDs, deliveryIDs, ackIDs []string
	for _, row := range rows {
		switch row.Kind {
		case models.AlertHistoryPlan:
			planIDs = append(planIDs, row.ID)
		case models.AlertHistoryDelivery:
			deliveryIDs = append(deliveryIDs, row.ID)
		case models.AlertHistoryAcknowledgement:
			ackIDs = append(ackIDs, row.ID)
		}
	}
	plans, err := s.planViews(ctx, planIDs)
	if err != nil {
		return nil, err
	}
	deliveries, err := models.DeliveriesByIDs(ctx, s.DB, deliveryIDs)
	if err != nil {
		return nil, err
	}
	acks, err := models.AcknowledgementsByIDs(ctx, s.DB, ackIDs)
	if err != nil {
		return nil, err
	}

	items := make([]HistoryItem, 0, len(rows))
	for _, row := range rows {
		item := HistoryItem{ID: row.ID, HealthID: row.HealthID, CreatedAt: row.CreatedAt}
		switch row.Kind {
		case models.AlertHistoryPlan:
			plan := plans[row.ID]
			item.MetadataKind, item.Plan = KindAlertPlan, &plan
		case models.AlertHistoryDelivery:
			view := delivery.ViewOf(deliveries[row.ID])
			item.MetadataKind, item.Delivery = KindAlertDelivery, &view
		case models.AlertHistoryAcknowledgement:
			view := acknowledgementView(acks[row.ID])
			item.MetadataKind, item.Acknowledgement = KindAlertAcknowledgement, &view
		}
		items = append(items, item)
	}
	return items, nil
}

func (s *Service) planViews(ctx context.Context, ids []string) (map[string]PlanView, error) {
	plans, err := models.AlertPlansByIDs(ctx, s.DB, ids)
	if err != nil {
		return nil, err
	}
	destinations, err := models.AlertPlanDestinationsOf(ctx, s.DB, ids)
	if err != nil {
		return nil, err
	}
	out := map[string]PlanView{}
	for id, plan := range plans {
		out[id] = planView(plan, destinations[id])
	}
	return out, nil
}

// OutstandingItem is a destination that still has to close an alert
// occurrence.
type OutstandingItem struct {
	HealthID             string `json:"health_id"`
	OccurrenceID         string `json:"occurrence_id"`
	PlanID               string `json:"plan_id"`
	Provider             string `json:"provider"`
	AlertLevel           string `json:"alert_level"`
	Fingerprint          string `json:"fingerprint"`
	AcknowledgementState string `json:"acknowledgement_state"`
	// ExternalRef is the current ticket reference, or empty.
	ExternalRef string `json:"external_ref"`
	// Since is when the newest plan that required the destination was built.
	Since              time.Time `json:"since"`
	AcknowledgementURL string    `json:"acknowledgement_url"`
}

// Dashboard contains the exact alert counts, one page of the outstanding
// acknowledgements and the newest history items.
type Dashboard struct {
	PlanCount                       int64             `json:"plan_count"`
	DeliveryCount                   int64             `json:"delivery_count"`
	DeliveredCount                  int64             `json:"delivered_count"`
	FailedDeliveryCount             int64             `json:"failed_delivery_count"`
	SuppressedProviderCount         int64             `json:"suppressed_provider_count"`
	AcknowledgementCount            int64             `json:"acknowledgement_count"`
	OutstandingAcknowledgementCount int64             `json:"outstanding_acknowledgement_count"`
	OutstandingAcknowledgements     []OutstandingItem `json:"outstanding_acknowledgements"`
	// OutstandingLimit and OutstandingOffset select the page of
	// OutstandingAcknowledgements among OutstandingAcknowledgementCount.
	OutstandingLimit  int `json:"outstanding_limit"`
	OutstandingOffset int `json:"outstanding_offset"`
	// AlertLevel is the level of the newest alert plan, or "none" before the
	// first alert.
	AlertLevel string        `json:"alert_level"`
	Latest     []HistoryItem `json:"latest"`
}

// Dashboard counts every alert record with SQL aggregates and lists the
// page q of the outstanding acknowledgements.
func (s *Service) Dashboard(ctx context.Context, q OutstandingQuery) (Dashboard, error) {
	if err := q.Validate(); err != nil {
		return Dashboard{}, err
	}
	counts, err := models.CountAlerts(ctx, s.DB)
	if err != nil {
		return Dashboard{}, err
	}
	outstanding, outstandingCount, err := models.OutstandingAcknowledgements(ctx, s.DB, q.Limit, q.Offset)
	if err != nil {
		return Dashboard{}, err
	}
	latest, err := s.History(ctx, HistoryQuery{Limit: LatestListLimit})
	if err != nil {
		return Dashboard{}, err
	}
	level := "none"
	plan, err := models.LatestAlertPlan(ctx, s.DB)
	if err != nil {
		return Dashboard{}, err
	}
	if plan != nil {
		level = plan.AlertLevel
	}

	d := Dashboard{
		PlanCount: counts.PlanCount, DeliveryCount: counts.DeliveryCount, DeliveredCount: counts.DeliveredCount,
		FailedDeliveryCount: counts.FailedDeliveryCount, SuppressedProviderCount: counts.SuppressedProviderCount,
		AcknowledgementCount: counts.AcknowledgementCount, OutstandingAcknowledgementCount: outstandingCount,
		OutstandingAcknowledgements: []OutstandingItem{}, OutstandingLimit: q.Limit, OutstandingOffset: q.Offset,
		AlertLevel: level, Latest: latest.Items,
	}
	for _, o := range outstanding {
		d.OutstandingAcknowledgements = append(d.OutstandingAcknowledgements, OutstandingItem{
			HealthID: o.HealthID, OccurrenceID: o.OccurrenceID, PlanID: o.PlanID, Provider: o.Provider,
			AlertLevel: o.AlertLevel, Fingerprint: o.Fingerprint, AcknowledgementState: o.AcknowledgementState,
			ExternalRef: o.ExternalRef, Since: o.Since, AcknowledgementURL: AcknowledgementLink("", o.HealthID, o.Provider),
		})
	}
	return d, nil
}

// ConsoleData is everything the console's alert section shows.
type ConsoleData struct {
	Providers []string
	// NotReady maps each configured destination that cannot receive an
	// alert now (disabled, or a setting it needs is missing) to the reason.
	NotReady map[string]string
	// Disabled lists the destinations turned off in the configuration.
	Disabled map[string]bool
	// AllBlocked is true when an enabled destination is not ready, so a
	// send to "all" is rejected. "all" leaves disabled destinations out.
	AllBlocked bool
	Dashboard  Dashboard
	History    HistoryPage
	// Result is the plan named in the request, shown after a plain form
	// post redirects back to the console; nil otherwise.
	Result *DeliverResult
}

// Console reads the alert section of the console: configured destinations,
// the dashboard with the outstanding page outstanding, one history page and,
// when planID is set, that plan's result.
func (s *Service) Console(ctx context.Context, q HistoryQuery, outstanding OutstandingQuery, planID string) (ConsoleData, error) {
	history, err := s.History(ctx, q)
	if err != nil {
		return ConsoleData{}, err
	}
	dashboard, err := s.Dashboard(ctx, outstanding)
	if err != nil {
		return ConsoleData{}, err
	}
	data := ConsoleData{Providers: s.Destinations.Names(), NotReady: map[string]string{}, Disabled: map[string]bool{},
		Dashboard: dashboard, History: history}
	for _, status := range s.Destinations.Statuses() {
		if !status.Ready {
			data.NotReady[status.Name] = status.Problem
			data.AllBlocked = data.AllBlocked || status.Enabled
			data.Disabled[status.Name] = !status.Enabled
		}
	}
	if planID != "" {
		result, err := s.PlanResult(ctx, planID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return ConsoleData{}, err
		}
		if err == nil {
			data.Result = &result
		}
	}
	return data, nil
}

// PlanResult rebuilds the deliver result of a stored plan, or returns
// models.ErrNotFound.
func (s *Service) PlanResult(ctx context.Context, planID string) (DeliverResult, error) {
	plans, err := s.planViews(ctx, []string{planID})
	if err != nil {
		return DeliverResult{}, err
	}
	plan, ok := plans[planID]
	if !ok {
		return DeliverResult{}, models.ErrNotFound
	}
	report, err := s.Health.Snapshot(ctx, plan.HealthID)
	if err != nil {
		return DeliverResult{}, err
	}
	deliveries, err := models.DeliveriesOf(ctx, s.DB, models.SubjectHealthAlert, planID)
	if err != nil {
		return DeliverResult{}, err
	}
	result := DeliverResult{Health: report, Plan: plan, Delivery: []delivery.View{}, Success: true, EventID: report.HealthID}
	for _, d := range deliveries {
		result.Delivery = append(result.Delivery, delivery.ViewOf(d))
		if !d.Success {
			result.Success = false
		}
	}
	return result, nil
}

// AcknowledgementPage is one destination's view of an alert: the alert,
// the current state and every action taken.
type AcknowledgementPage struct {
	Health     health.Report
	Plan       PlanView
	Provider   string
	Current    CurrentState
	Actions    []AcknowledgementView
	Deliveries []delivery.View
	// OtherOutstanding is the destination's newest outstanding item of
	// another occurrence, or nil.
	OtherOutstanding *OutstandingItem
}

// AcknowledgementPage reads what the acknowledgement page of one destination
// shows. Errors are those of Acknowledge for an unknown alert or destination.
func (s *Service) AcknowledgementPage(ctx context.Context, healthID, provider string) (AcknowledgementPage, error) {
	provider = strings.ToLower(strings.TrimSpace(provider))
	target, err := s.acknowledgementTarget(ctx, healthID, provider, "")
	if err != nil {
		return AcknowledgementPage{}, err
	}
	report, err := s.Health.Snapshot(ctx, healthID)
	if err != nil {
		return AcknowledgementPage{}, err
	}
	plans, err := s.planViews(ctx, []string{target.PlanID})
	if err != nil {
		return AcknowledgementPage{}, err
	}
	state, err := models.AcknowledgementState(ctx, s.DB, target.OccurrenceID, provider)
	if err != nil {
		return AcknowledgementPage{}, err
	}
	if state == nil {
		return AcknowledgementPage{}, fmt.Errorf("alerting: acknowledgement state of %s for %s is missing", target.OccurrenceID, provider)
	}
	actions, err := models.AcknowledgementsOf(ctx, s.DB, target.OccurrenceID, provider)
	if err != nil {
		return AcknowledgementPage{}, err
	}
	deliveries, err := models.DeliveriesOf(ctx, s.DB, models.SubjectHealthAlert, target.PlanID)
	if err != nil {
		return AcknowledgementPage{}, err
	}

	page := AcknowledgementPage{Health: report, Plan: plans[target.PlanID], Provider: provider, Current: currentState(*state)}
	other, err := models.NewestOtherOutstanding(ctx, s.DB, provider, target.OccurrenceID)
	if err != nil {
		return AcknowledgementPage{}, err
	}
	if other != nil {
		page.OtherOutstanding = &OutstandingItem{
			HealthID: other.HealthID, OccurrenceID: other.OccurrenceID, PlanID: other.PlanID, Provider: other.Provider,
			AlertLevel: other.AlertLevel, Fingerprint: other.Fingerprint, AcknowledgementState: other.AcknowledgementState,
			ExternalRef: other.ExternalRef, Since: other.Since, AcknowledgementURL: AcknowledgementLink("", other.HealthID, other.Provider),
		}
	}
	for _, a := range actions {
		page.Actions = append(page.Actions, acknowledgementView(a))
	}
	for _, d := range deliveries {
		if d.Connector == provider {
			page.Deliveries = append(page.Deliveries, delivery.ViewOf(d))
		}
	}
	return page, nil
}
