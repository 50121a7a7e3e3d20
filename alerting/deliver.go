package alerting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/models"
)

// Defaults and bounds of a deliver request.
const (
	AllProviders                    = connectors.AllDestinations
	DefaultSuppressionWindowMinutes = 60
	MaxSuppressionWindowMinutes     = 10080
	DefaultMaxAlerts                = 20
	MaxMaxAlerts                    = 100
	DefaultRetries                  = 2
	DefaultTimeoutSeconds           = 10.0
	MinTimeoutSeconds               = 0.1
	MaxTimeoutSeconds               = 60.0
)

// Reasons recorded on plan destinations.
const (
	ReasonDuplicate = "duplicate_within_window"
	ReasonForced    = "forced"
	// ReasonInFlight suppresses a destination that an earlier delivery of
	// the alert is still recorded as sending to. Under the send lease that
	// means its server stopped before recording the outcome, so the
	// destination may have received it. A later live retry run records it
	// as interrupted, and the retry worker then re-sends it with its own
	// idempotency key, unless a send delivered the alert there after that
	// delivery started.
	ReasonInFlight = "delivery_in_flight"
)

// DeliverRequest is one "Send Retry Health Alert".
type DeliverRequest struct {
	// Provider is "all" or comma-separated configured names, matched
	// ignoring case.
	Provider                 string
	Force                    bool
	Health                   health.Params
	SuppressionWindowMinutes int
	MaxAlerts                int
	Retries                  int
	TimeoutSeconds           float64
	Actor                    string
}

// DefaultDeliverRequest returns a request with every default set.
func DefaultDeliverRequest() DeliverRequest {
	return DeliverRequest{
		Provider: AllProviders, Health: health.DefaultParams(),
		SuppressionWindowMinutes: DefaultSuppressionWindowMinutes, MaxAlerts: DefaultMaxAlerts,
		Retries: DefaultRetries, TimeoutSeconds: DefaultTimeoutSeconds,
	}
}

// Validate checks every field range and returns a *FieldError naming the
// first invalid field.
func (r DeliverRequest) Validate() error {
	if err := r.Health.Validate(); err != nil {
		if paramErr, ok := err.(*health.ParamError); ok {
			return &FieldError{Field: paramErr.Field, Message: paramErr.Message}
		}
		return err
	}
	if strings.TrimSpace(r.Provider) == "" {
		return fieldErrorf("provider", `provider is empty; send "all" or one or more configured connector names separated by commas`)
	}
	ranges := []struct {
		field    string
		value    int
		min, max int
	}{
		{"suppression_window_minutes", r.SuppressionWindowMinutes, 1, MaxSuppressionWindowMinutes},
		{"max_alerts", r.MaxAlerts, 1, MaxMaxAlerts},
		{"retries", r.Retries, 0, connectors.MaxRetries},
	}
	for _, field := range ranges {
		if field.value < field.min || field.value > field.max {
			return fieldErrorf(field.field, "%s must be a whole number from %d to %d; got %d", field.field, field.min, field.max, field.value)
		}
	}
	if math.IsNaN(r.TimeoutSeconds) || r.TimeoutSeconds < MinTimeoutSeconds || r.TimeoutSeconds > MaxTimeoutSeconds {
		return fieldErrorf("timeout_seconds", "timeout_seconds must be a number of seconds from %g to %g; got %s",
			MinTimeoutSeconds, MaxTimeoutSeconds, strconv.FormatFloat(r.TimeoutSeconds, 'g', -1, 64))
	}
	return nil
}

// SuppressedProvider is a destination left out as a duplicate.
type SuppressedProvider struct {
	Provider       string     `json:"provider"`
	Reason         string     `json:"reason"`
	LastDeliveryAt *time.Time `json:"last_delivery_at"`
	DeliveryID     string     `json:"delivery_id,omitempty"`
}

// PlanView is the JSON shape of an alert plan.
type PlanView struct {
	PlanID                           string               `json:"plan_id"`
	HealthID                         string               `json:"health_id"`
	OccurrenceID                     string               `json:"occurrence_id"`
	Fingerprint                      string               `json:"fingerprint"`
	AlertLevel                       string               `json:"alert_level"`
	RequestedProviders               string               `json:"requested_providers"`
	EligibleProviders                []string             `json:"eligible_providers"`
	SelectedProviders                []string             `json:"selected_providers"`
	SuppressedProviders              []SuppressedProvider `json:"suppressed_providers"`
	AcknowledgementRequiredProviders []string             `json:"acknowledgement_required_providers"`
	SuppressionWindowMinutes         int                  `json:"suppression_window_minutes"`
	MaxAlerts                        int                  `json:"max_alerts"`
	Force                            bool                 `json:"force"`
	// ForceReason is "forced" when force bypassed duplicate suppression.
	ForceReason string    `json:"force_reason,omitempty"`
	Actor       string    `json:"actor"`
	CreatedAt   time.Time `json:"created_at"`
}

// DeliverResult is the outcome of a deliver request. Success is true when
// every selected destination succeeded and its outcome was stored, or when
// nothing needed sending. A delivery whose outcome could not be stored has
// RecordError set.
type DeliverResult struct {
	Health   health.Report   `json:"health"`
	Plan     PlanView        `json:"plan"`
	Delivery []delivery.View `json:"delivery"`
	Success  bool            `json:"success"`
	EventID  string          `json:"event_id"`
}

// Deliver evaluates and persists a health snapshot, plans the alert, stores
// the plan with its in-flight deliveries in one transaction, and then sends
// to every selected destination concurrently.
func (s *Service) Deliver(ctx context.Context, req DeliverRequest) (DeliverResult, error) {
	if err := req.Validate(); err != nil {
		return DeliverResult{}, err
	}
	requested, err := s.resolveProviders(req.Provider)
	if err != nil {
		return DeliverResult{}, err
	}

	report, release, err := s.buildUnderLease(ctx, req)
	if err != nil {
		return DeliverResult{}, err
	}
	defer release()

	plan, destinations, err := s.planAlert(ctx, req, report, requested)
	if err != nil {
		return DeliverResult{}, err
	}

	var pending []*delivery.Pending
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := models.CreateAlertPlan(tx, &plan, destinations); err != nil {
			return err
		}
		for _, d := range destinations {
			if d.Decision != models.DecisionSelected {
				continue
			}
			p, err := s.Delivery.Begin(tx, delivery.Request{
				SubjectKind: models.SubjectHealthAlert, SubjectID: plan.ID, SubjectKey: plan.Fingerprint,
				Connector: d.Provider, Message: s.message(report, plan, d.Provider),
				Options: connectors.SendOptions{Retries: req.Retries, Timeout: secondsToDuration(req.TimeoutSeconds)},
				Actor:   req.Actor, Origin: models.OriginSend,
			})
			if err != nil {
				return err
			}
			pending = append(pending, p)
		}
		return nil
	})
	if err != nil {
		return DeliverResult{}, fmt.Errorf("alerting: unable to store alert plan %s: %w", plan.ID, err)
	}
	s.logger().Info("retry health alert planned", "plan_id", plan.ID, "health_id", plan.HealthID,
		"alert_level", plan.AlertLevel, "selected", len(pending), "eligible", len(destinations), "force", plan.Force, "actor", plan.Actor)

	views := s.sendAll(ctx, pending)

	result := DeliverResult{
		Health: report, Plan: planView(plan, destinations), Delivery: views, Success: true, EventID: report.HealthID,
	}
	for _, v := range views {
		if !v.Success {
			result.Success = false
		}
	}
	return result, nil
}

// sendAll sends every pending delivery concurrently. The sends outlive a
// cancelled request so that each in-flight row is completed; each attempt
// still has its own timeout. A delivery whose outcome could not be stored
// is logged and returned with RecordError set.
func (s *Service) sendAll(ctx context.Context, pending []*delivery.Pending) []delivery.View {
	views := make([]delivery.View, len(pending))
	sendCtx := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for i, p := range pending {
		wg.Go(func() {
			record, err := s.Delivery.Send(sendCtx, p)
			if err != nil {
				s.logger().Error("unable to record a delivery outcome; the delivery stays in flight",
					"delivery_id", p.Record.ID, "plan_id", p.Request.SubjectID, "connector", p.Request.Connector,
					"class", record.ErrorClass, "status_code", record.StatusCode, "attempts", record.Attempts, "error", err)
				views[i] = delivery.ViewOfUnrecorded(record)
				return
			}
			views[i] = delivery.ViewOf(record)
		})
	}
	wg.Wait()
	return views
}

// resolveProviders turns the provider field into lower-case configured
// names. Unknown names are an *UnprocessableError listing the configured
// ones. Disabled names are one too, even beside enabled names, as in a
// report delivery. Sending to only some of the named destinations would
// hide that one was left out. "all" names every configured destination,
// and planAlert keeps the enabled ones. An enabled destination among them
// that is not ready is an *UnprocessableError as well, for "all" too.
func (s *Service) resolveProviders(raw string) ([]string, error) {
	configured := s.Destinations.Names()
	requested, all, err := connectors.ParseNames([]string{raw})
	var nameErr *connectors.NameListError
	if errors.As(err, &nameErr) {
		return nil, fieldErrorf("provider", "%s", nameErr.Message)
	}
	if all {
		if err := s.rejectNotReady(configured); err != nil {
			return nil, err
		}
		return configured, nil
	}

	var names, unknown []string
	for _, name := range requested {
		if slices.Contains(configured, name) {
			names = append(names, name)
		} else {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		list := "none"
		if len(configured) > 0 {
			list = strings.Join(configured, ", ")
		}
		return nil, &UnprocessableError{Field: "provider", Configured: slices.Clone(configured), Message: fmt.Sprintf(
			"provider %s is not configured; configured: %s", quoteList(unknown), list)}
	}
	if err := s.rejectDisabled(names); err != nil {
		return nil, err
	}
	if err := s.rejectNotReady(names); err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}

// rejectNotReady returns an *UnprocessableError naming the enabled
// destinations among names that cannot send, or nil. A send to them would
// only record a failure that uses up a retry attempt.
func (s *Service) rejectNotReady(names []string) error {
	var statuses []connectors.Status
	for _, status := range s.Destinations.Statuses() {
		if slices.Contains(names, status.Name) {
			statuses = append(statuses, status)
		}
	}
	if err := connectors.CheckReady(statuses); err != nil {
		return &UnprocessableError{Field: "provider", Message: err.Error()}
	}
	return nil
}

// rejectDisabled returns an *UnprocessableError naming the disabled
// destinations among names, or nil when every one is enabled.
func (s *Service) rejectDisabled(names []string) error {
	enabled := s.Destinations.EnabledNames()
	var disabled []string
	for _, name := range names {
		if !slices.Contains(enabled, name) {
			disabled = append(disabled, name)
		}
	}
	if len(disabled) == 0 {
		return nil
	}
	list := "none"
	if len(enabled) > 0 {
		list = strings.Join(enabled, ", ")
	}
	return &UnprocessableError{Field: "provider", Message: fmt.Sprintf(
		"provider %s is disabled in the connector configuration, so nothing was sent, not even to the other named destinations; "+
			"enable it in CONNECTOR_CONFIG or remove it from provider (enabled connectors: %s)", quoteList(disabled), list)}
}

// buildUnderLease takes the send lease of the alert that the current health
// evaluation would send, then builds and stores the health snapshot. A send
// that gives up waiting for the lease therefore stores nothing. When the
// evidence changed while it waited, so the snapshot is another alert, it
// takes that alert's lease instead. It returns the snapshot and the
// function that frees the lease.
func (s *Service) buildUnderLease(ctx context.Context, req DeliverRequest) (health.Report, func(), error) {
	preview, err := s.Health.Evaluate(ctx, req.Health)
	if err != nil {
		return health.Report{}, nil, err
	}
	release, err := s.holdSendLease(ctx, req, preview)
	if err != nil {
		return health.Report{}, nil, err
	}
	report, err := s.Health.Build(ctx, req.Health, req.Actor)
	if err != nil {
		release()
		return health.Report{}, nil, err
	}
	if report.Fingerprint == preview.Fingerprint && report.AlertLevel == preview.AlertLevel {
		return report, release, nil
	}
	release()
	// NOTE: if this second wait gives up, the snapshot stays stored.
	if release, err = s.holdSendLease(ctx, req, report); err != nil {
		return health.Report{}, nil, err
	}
	return report, release, nil
}

// Waiting for the send lease of an alert.
const (
	leasePollInterval = 100 * time.Millisecond
	// MaxLeaseWait is how long a send waits for another send of the same
	// alert to finish before it gives up with a *BusyError.
	MaxLeaseWait = 2 * time.Minute
)

// holdSendLease waits until no other send of the report's alert is under
// way, in this process or another sharing the database, and takes its
// send lease. Duplicate suppression counts only completed successes, so
// without the lease two sends at the same moment would both find none and
// both send. The returned function frees the lease. A forced send takes it
// too, so a send that starts meanwhile waits and finds its success, though
// the forced send itself suppresses nothing. A healthy report sends
// nothing, so it takes no lease.
func (s *Service) holdSendLease(ctx context.Context, req DeliverRequest, report health.Report) (func(), error) {
	if report.AlertLevel == health.LevelHealthy {
		return func() {}, nil
	}
	holder := models.NewID("lse", s.Now())
	sends := connectors.SendOptions{Retries: req.Retries, Timeout: secondsToDuration(req.TimeoutSeconds)}
	wait := s.LeaseWait
	if wait <= 0 {
		wait = MaxLeaseWait
	}
	waitUntil := time.Now().Add(wait)
	for {
		now := s.Now()
		acquired, err := models.AcquireAlertSendLease(ctx, s.DB, report.Fingerprint, holder, now, now.Add(sends.MaxDuration()+time.Minute))
		if err != nil {
			return nil, err
		}
		if acquired {
			break
		}
		if time.Now().After(waitUntil) {
			message := fmt.Sprintf("another send of alert %s has been under way for over %s; try again when it has finished",
				report.Fingerprint, wait)
			holder, err := models.AlertSendLeaseHolder(ctx, s.DB, report.Fingerprint)
			if err != nil {
				return nil, err
			}
			if strings.HasPrefix(holder, "rwr_") {
				// The retry worker takes the lease under its run id.
				message = fmt.Sprintf("live retry worker run %s has been sending alert %s for over %s; try again when it has finished",
					holder, report.Fingerprint, wait)
			}
			expires, ok, err := models.AlertSendLeaseExpiry(ctx, s.DB, report.Fingerprint)
			if err != nil {
				return nil, err
			}
			if ok {
				message += ". If the server sending it has stopped, its hold on this alert ends at " + expires.Format(time.RFC3339)
			}
			return nil, &BusyError{Message: message}
		}
		timer := time.NewTimer(leasePollInterval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
	return func() {
		if err := models.ReleaseAlertSendLease(context.WithoutCancel(ctx), s.DB, report.Fingerprint, holder); err != nil {
			s.logger().Error("unable to free an alert send lease; it expires on its own", "fingerprint", report.Fingerprint, "error", err)
		}
	}, nil
}

// requestedText returns the requested destinations as a plan stores them:
// "all", or the names in request order, lower-cased, each once and
// separated by commas. Deliver has already rejected a list it cannot parse.
func requestedText(provider string) string {
	names, all, err := connectors.ParseNames([]string{provider})
	switch {
	case err != nil:
		return provider
	case all:
		return connectors.AllDestinations
	}
	return strings.Join(names, ",")
}

// planAlert decides, for every eligible destination, whether the alert is
// sent or suppressed as a duplicate. It reads and writes nothing else. The
// caller holds the alert's send lease, so no other send of it is under way.
func (s *Service) planAlert(ctx context.Context, req DeliverRequest, report health.Report, requested []string) (models.AlertPlan, []models.AlertPlanDestination, error) {
	now := models.UTC(s.Now())
	plan := models.AlertPlan{
		ID: models.NewID("alp", now), HealthID: report.HealthID, OccurrenceID: report.OccurrenceID,
		Fingerprint: report.Fingerprint, AlertLevel: report.AlertLevel, RequestedProviders: requestedText(req.Provider),
		SuppressionWindowMinutes: req.SuppressionWindowMinutes, MaxAlerts: req.MaxAlerts, Force: req.Force,
		Actor: req.Actor, CreatedAt: now,
	}
	enabled := s.Destinations.EnabledNames()
	var eligible []string
	for _, provider := range requested {
		if slices.Contains(enabled, provider) {
			eligible = append(eligible, provider)
		}
	}
	plan.EligibleProviders = strings.Join(eligible, ",")
	if report.AlertLevel == health.LevelHealthy {
		return plan, nil, nil
	}

	since := now.Add(-time.Duration(req.SuppressionWindowMinutes) * time.Minute)
	var destinations []models.AlertPlanDestination
	for _, provider := range eligible {
		d := models.AlertPlanDestination{
			PlanID: plan.ID, Provider: provider, HealthID: plan.HealthID, OccurrenceID: plan.OccurrenceID,
			Fingerprint: plan.Fingerprint, Decision: models.DecisionSelected, AcknowledgementRequired: true, CreatedAt: now,
		}
		if req.Force {
			d.Reason = ReasonForced
		} else {
			last, err := models.LastSuccessfulDelivery(ctx, s.DB, models.SubjectHealthAlert, plan.Fingerprint, provider, since)
			if err != nil {
				return plan, nil, err
			}
			if last != nil {
				d.Decision = models.DecisionSuppressed
				d.Reason = ReasonDuplicate
				d.SuppressedByDelivery = last.ID
				d.LastDeliveryAt = last.CompletedAt
			} else if err := s.suppressInFlight(ctx, &d, now, since); err != nil {
				return plan, nil, err
			}
		}
		destinations = append(destinations, d)
	}
	return plan, destinations, nil
}

// suppressInFlight suppresses destination d when an earlier delivery of the
// alert to it is still in flight, started inside the suppression window and
// less than models.StaleSendAfter ago. Sending again could deliver the alert
// twice, under two idempotency keys, because that delivery's outcome is
// unknown. Its start time is the suppression's delivery time.
func (s *Service) suppressInFlight(ctx context.Context, d *models.AlertPlanDestination, now, since time.Time) error {
	since = later(since, now.Add(-models.StaleSendAfter))
	earlier, err := models.EarliestInFlightDelivery(ctx, s.DB, models.SubjectHealthAlert, d.Fingerprint, d.Provider, since)
	if err != nil || earlier == nil {
		return err
	}
	started := models.UTC(earlier.StartedAt)
	d.Decision = models.DecisionSuppressed
	d.Reason = ReasonInFlight
	d.SuppressedByDelivery = earlier.ID
	d.LastDeliveryAt = &started
	s.logger().Warn("alert destination suppressed: an earlier delivery is still in flight", "plan_id", d.PlanID,
		"connector", d.Provider, "delivery_id", earlier.ID, "delivery_started_at", started)
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// planView converts a stored plan and its destinations to JSON.
func planView(plan models.AlertPlan, destinations []models.AlertPlanDestination) PlanView {
	v := PlanView{
		PlanID: plan.ID, HealthID: plan.HealthID, OccurrenceID: plan.OccurrenceID, Fingerprint: plan.Fingerprint,
		AlertLevel: plan.AlertLevel, RequestedProviders: plan.RequestedProviders,
		EligibleProviders: []string{}, SelectedProviders: []string{}, SuppressedProviders: []SuppressedProvider{},
		AcknowledgementRequiredProviders: []string{}, SuppressionWindowMinutes: plan.SuppressionWindowMinutes,
		MaxAlerts: plan.MaxAlerts, Force: plan.Force, Actor: plan.Actor, CreatedAt: plan.CreatedAt,
	}
	if plan.Force {
		v.ForceReason = ReasonForced
	}
	if plan.EligibleProviders != "" {
		v.EligibleProviders = strings.Split(plan.EligibleProviders, ",")
	}
	for _, d := range destinations {
		if plan.EligibleProviders == "" {
			// A plan stored before the column lists its eligible
			// destinations only as rows.
			v.EligibleProviders = append(v.EligibleProviders, d.Provider)
		}
		if d.Decision == models.DecisionSuppressed {
			v.SuppressedProviders = append(v.SuppressedProviders, SuppressedProvider{
				Provider: d.Provider, Reason: d.Reason, LastDeliveryAt: d.LastDeliveryAt, DeliveryID: d.SuppressedByDelivery,
			})
		} else {
			v.SelectedProviders = append(v.SelectedProviders, d.Provider)
		}
		if d.AcknowledgementRequired {
			v.AcknowledgementRequiredProviders = append(v.AcknowledgementRequiredProviders, d.Provider)
		}
	}
	return v
}

// AcknowledgementLink returns the absolute URL of the acknowledgement page
// of one destination of an alert.
func AcknowledgementLink(publicURL, healthID, provider string) string {
	return strings.TrimRight(publicURL, "/") + "/alerts/" + url.PathEscape(healthID) + "/acknowledge/" + url.PathEscape(provider)
}

// message renders the alert for one destination: level, at most MaxAlerts
// findings with the rest counted as omitted, the counts, and the
// destination's acknowledgement link. The plan id and provider form the
// idempotency key, so quick retries of one delivery carry the same key.
func (s *Service) message(report health.Report, plan models.AlertPlan, provider string) connectors.Message {
	items := make([]connectors.Item, 0, min(len(report.Findings), plan.MaxAlerts))
	for i, f := range report.Findings {
		if i == plan.MaxAlerts {
			break
		}
		items = append(items, connectors.Item{Severity: f.Severity, Title: f.Category, Detail: f.Message})
	}
	counts := report.Counts
	facts := []connectors.Fact{
		{Label: "Findings", Value: strconv.Itoa(len(report.Findings))},
		{Label: "Worker runs", Value: strconv.FormatInt(counts.WorkerRunCount, 10)},
		{Label: "Retry plans", Value: strconv.FormatInt(counts.RetryPlanCount, 10)},
		{Label: "Open failed executions", Value: strconv.FormatInt(counts.FailedExecutionCount, 10)},
		{Label: "Delivered executions", Value: strconv.FormatInt(counts.DeliveredExecutionCount, 10)},
		{Label: "Pending acknowledgements", Value: strconv.FormatInt(counts.AcknowledgementPendingCount, 10)},
		{Label: "Failed escalation deliveries", Value: strconv.FormatInt(counts.FailedEscalationDeliveryCount, 10)},
		{Label: "Runs with schedule disabled", Value: strconv.FormatInt(counts.DisabledScheduleCount, 10)},
		{Label: "Health snapshot", Value: report.HealthID},
	}
	var countMap map[string]any
	if encoded, err := json.Marshal(counts); err == nil {
		_ = json.Unmarshal(encoded, &countMap)
	}

	return connectors.Message{
		IdempotencyKey: plan.ID + ":" + provider,
		Event:          connectors.EventRetryHealthAlert,
		Title:          "Retry health alert: " + report.AlertLevel,
		Level:          report.AlertLevel,
		Summary: fmt.Sprintf("Recovery escalation retries have %d finding(s) at level %s. Acknowledge the alert for %s.",
			len(report.Findings), report.AlertLevel, provider),
		Facts:        facts,
		Items:        items,
		OmittedCount: len(report.Findings) - len(items),
		Link:         AcknowledgementLink(s.PublicURL, report.HealthID, provider),
		LinkText:     "Acknowledge for " + provider,
		OccurredAt:   report.EvaluatedAt,
		Payload: map[string]any{
			"health_id": report.HealthID, "occurrence_id": report.OccurrenceID, "plan_id": plan.ID,
			"fingerprint": report.Fingerprint, "alert_level": report.AlertLevel, "provider": provider,
			"finding_count": len(report.Findings), "omitted_finding_count": len(report.Findings) - len(items),
			"counts": countMap,
		},
	}
}

func secondsToDuration(seconds float64) time.Duration {
	return time.Duration(seconds * float64(time.Second))
}

func quoteList(names []string) string {
	quoted := make([]string, len(names))
	for i, name := range names {
		quoted[i] = strconv.Quote(name)
	}
	return strings.Join(quoted, ", ")
}

// AlertMessage rebuilds the message a plan sent to provider, with the same
// idempotency key, so a delivery retry re-sends the original alert. It
// returns models.ErrNotFound for an unknown plan.
func (s *Service) AlertMessage(ctx context.Context, planID, provider string) (connectors.Message, error) {
	plan, err := models.AlertPlanByID(ctx, s.DB, planID)
	if err != nil {
		return connectors.Message{}, err
	}
	report, err := s.Health.Snapshot(ctx, plan.HealthID)
	if err != nil {
		return connectors.Message{}, fmt.Errorf("alerting: unable to read the snapshot of plan %s: %w", planID, err)
	}
	return s.message(report, *plan, strings.ToLower(strings.TrimSpace(provider))), nil
}
