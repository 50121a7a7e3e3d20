package executive

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/models"
)

// Delivery options: defaults and bounds.
const (
	DefaultRetries        = 2
	DefaultTimeoutSeconds = 10.0
	MinTimeoutSeconds     = 0.1
	MaxTimeoutSeconds     = 60.0
)

// DeliverRequest is a request to deliver a schedule run's report.
type DeliverRequest struct {
	// RunID is a schedule run id or LatestRunID.
	RunID string
	// Providers are configured connector names; case is ignored.
	Providers []string
	Retries   int
	Timeout   time.Duration
	Actor     string
}

// DeliverResult is the outcome of one delivery request.
type DeliverResult struct {
	RunID       string          `json:"run_id"`
	ReportID    string          `json:"report_id"`
	ScheduleRun ScheduleRun     `json:"schedule_run"`
	Link        string          `json:"link"`
	Delivery    []delivery.View `json:"delivery"`
	// Success is true when every destination accepted the report and its
	// outcome was stored.
	Success bool `json:"success"`
}

// Deliver sends the report of a schedule run to each requested destination.
// Every delivery is written in flight in one transaction before anything is
// sent, then completed with its outcome, so a crash leaves visible in-flight
// rows. A failed send is a result with Success false, not an error, and so
// is a send whose outcome could not be stored: its delivery has RecordError
// set.
func (s *Service) Deliver(ctx context.Context, req DeliverRequest) (DeliverResult, error) {
	providers, err := s.checkProviders(req.Providers)
	if err != nil {
		return DeliverResult{}, err
	}
	if req.Retries < 0 || req.Retries > connectors.MaxRetries {
		return DeliverResult{}, &ParamError{Field: "retries", Message: fmt.Sprintf(
			"retries must be a whole number from 0 to %d; got %d", connectors.MaxRetries, req.Retries)}
	}
	if req.Timeout < time.Duration(MinTimeoutSeconds*float64(time.Second)) || req.Timeout > time.Duration(MaxTimeoutSeconds*float64(time.Second)) {
		return DeliverResult{}, &ParamError{Field: "timeout_seconds", Message: fmt.Sprintf(
			"timeout_seconds must be a number from %g to %g; got %g", MinTimeoutSeconds, MaxTimeoutSeconds, req.Timeout.Seconds())}
	}

	run, err := s.ScheduleRunByID(ctx, req.RunID)
	if err != nil {
		return DeliverResult{}, err
	}
	report, err := s.Report(ctx, run.ReportID)
	if err != nil {
		return DeliverResult{}, err
	}

	var pending []*delivery.Pending
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// A second delivery of the same run to a destination that is still
		// receiving the first would create a second Jira issue or
		// ServiceNow incident before the first one can be looked up.
		now := models.UTC(s.Now())
		underWay, err := models.LockDeliveriesUnderWay(tx, models.SubjectExecutiveReport, run.RunID, providers, now.Add(-models.StaleSendAfter))
		if err != nil {
			return err
		}
		if len(underWay) > 0 {
			return underWayError(run.RunID, underWay)
		}
		for _, provider := range providers {
			destination, _ := s.Destinations.Lookup(provider)
			p, err := s.Delivery.Begin(tx, delivery.Request{
				SubjectKind: models.SubjectExecutiveReport, SubjectID: run.RunID, SubjectKey: run.ReportID,
				Connector: destination.Name, Message: s.message(report, run, destination),
				Options: connectors.SendOptions{Retries: req.Retries, Timeout: req.Timeout},
				Actor:   req.Actor, Origin: models.OriginSend,
			})
			if err != nil {
				return err
			}
			pending = append(pending, p)
		}
		return nil
	})
	var conflict *ConflictError
	if errors.As(err, &conflict) {
		return DeliverResult{}, conflict
	}
	if err != nil {
		return DeliverResult{}, fmt.Errorf("executive: unable to record deliveries of run %s: %w", run.RunID, err)
	}

	// Destinations are sent to concurrently so one slow destination does not
	// delay the others. The sends outlive a cancelled request, such as a
	// closed browser tab. A send cut short would be recorded as failed
	// although the destination may have received it, and a retry would then
	// send it again. Each attempt still has its own timeout.
	sendCtx := context.WithoutCancel(ctx)
	records := make([]models.Delivery, len(pending))
	errs := make([]error, len(pending))
	var wg sync.WaitGroup
	for i, p := range pending {
		wg.Go(func() {
			records[i], errs[i] = s.Delivery.Send(sendCtx, p)
		})
	}
	wg.Wait()

	// Every destination's result is returned, also when the outcome of
	// another could not be stored, because those sends have happened.
	result := DeliverResult{
		RunID: run.RunID, ReportID: run.ReportID, ScheduleRun: run, Link: s.reportLink(run.ReportID),
		Delivery: []delivery.View{}, Success: true,
	}
	unrecorded := 0
	for i, record := range records {
		view := delivery.ViewOf(record)
		if errs[i] != nil {
			unrecorded++
			s.logger().Error("unable to record a delivery outcome; the delivery stays in flight",
				"delivery_id", pending[i].Record.ID, "run_id", run.RunID, "connector", pending[i].Request.Connector,
				"class", record.ErrorClass, "status_code", record.StatusCode, "attempts", record.Attempts, "error", errs[i])
			view = delivery.ViewOfUnrecorded(record)
		}
		result.Delivery = append(result.Delivery, view)
		result.Success = result.Success && view.Success
	}
	s.logger().Info("executive report delivery finished", "run_id", run.RunID, "report_id", run.ReportID,
		"destinations", strings.Join(providers, ","), "success", result.Success, "unrecorded", unrecorded, "actor", req.Actor)
	return result, nil
}

// checkProviders lower-cases and de-duplicates the requested destinations.
// It rejects unknown, disabled and not ready ones with a 422, so nothing is
// sent or recorded when one of them cannot receive the report. "all" means
// every enabled destination and may not be combined with other names.
func (s *Service) checkProviders(requested []string) ([]string, error) {
	var configured []string
	if s.Destinations != nil {
		configured = s.Destinations.Names()
	}
	providers, all, err := connectors.ParseNames(requested)
	var nameErr *connectors.NameListError
	if errors.As(err, &nameErr) {
		return nil, &ParamError{Field: "provider", Message: nameErr.Message}
	}
	if all {
		providers = s.enabledDestinations(configured)
	}
	if len(providers) == 0 {
		return nil, &ParamError{Field: "provider", Message: fmt.Sprintf(
			"provider is required: name one or more configured destinations (%s)", describeNames(configured))}
	}
	for _, name := range providers {
		var destination connectors.Destination
		ok := false
		if s.Destinations != nil {
			destination, ok = s.Destinations.Lookup(name)
		}
		if !ok {
			return nil, &ParamError{Field: "provider", Unprocessable: true, Configured: configured, Message: fmt.Sprintf(
				"provider %q is not configured; configured: %s", name, describeNames(configured))}
		}
		if !destination.Enabled {
			return nil, &ParamError{Field: "provider", Unprocessable: true, Configured: configured, Message: fmt.Sprintf(
				"provider %q is disabled in the connector configuration; enable it or choose another", name)}
		}
	}
	if err := s.checkReady(providers); err != nil {
		return nil, err
	}
	return providers, nil
}

// checkReady returns a 422 naming the destinations among providers that
// cannot send, such as one whose secret is not set.
func (s *Service) checkReady(providers []string) error {
	statuses := make([]connectors.Status, 0, len(providers))
	for _, name := range providers {
		if status, ok := s.Destinations.Status(name); ok {
			statuses = append(statuses, status)
		}
	}
	if err := connectors.CheckReady(statuses); err != nil {
		return &ParamError{Field: "provider", Unprocessable: true, Message: err.Error()}
	}
	return nil
}

// AllDestinations is the provider value that names every enabled
// destination.
const AllDestinations = connectors.AllDestinations

// enabledDestinations returns the configured destinations that are enabled.
func (s *Service) enabledDestinations(configured []string) []string {
	var enabled []string
	for _, name := range configured {
		if destination, ok := s.Destinations.Lookup(name); ok && destination.Enabled {
			enabled = append(enabled, name)
		}
	}
	return enabled
}

func describeNames(names []string) string {
	if len(names) == 0 {
		return "none (set CONNECTOR_CONFIG)"
	}
	return strings.Join(names, ", ")
}

// ExecutiveMessage rebuilds the message of a schedule run's report for one
// destination. A retry therefore sends the same content with the same
// idempotency key as the first delivery.
func (s *Service) ExecutiveMessage(ctx context.Context, runID, provider string) (connectors.Message, error) {
	run, err := s.ScheduleRunByID(ctx, runID)
	if err != nil {
		return connectors.Message{}, err
	}
	report, err := s.Report(ctx, run.ReportID)
	if err != nil {
		return connectors.Message{}, err
	}
	destination := connectors.Destination{Name: strings.ToLower(strings.TrimSpace(provider))}
	if s.Destinations != nil {
		if found, ok := s.Destinations.Lookup(provider); ok {
			destination = found
		}
	}
	return s.message(report, run, destination), nil
}

func (s *Service) reportLink(reportID string) string {
	return strings.TrimRight(s.PublicURL, "/") + "/executive/reports/" + reportID
}

func (s *Service) message(report Report, run ScheduleRun, destination connectors.Destination) connectors.Message {
	return BuildMessage(report, run, destination, s.reportLink(report.ReportID))
}

// underWayError names the destinations that a delivery of run runID is
// still under way to, with when each started.
func underWayError(runID string, underWay map[string]time.Time) *ConflictError {
	names := make([]string, 0, len(underWay))
	for name := range underWay {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	var latest time.Time
	for _, name := range names {
		parts = append(parts, name+" (since "+underWay[name].Format(time.RFC3339)+")")
		if underWay[name].After(latest) {
			latest = underWay[name]
		}
	}
	return &ConflictError{Field: "provider", Message: fmt.Sprintf("a delivery of run %s is still under way to %s; "+
		"wait for it to finish, then deliver again to the destinations that failed. If the server sending it has stopped, "+
		"a live retry run records it as interrupted (a retry's delivery sooner, a plain one from %s on), and it can then be retried",
		runID, strings.Join(parts, ", "), latest.Add(models.StaleSendAfter).Format(time.RFC3339))}
}
