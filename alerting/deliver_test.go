package alerting_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func TestDeliverSendsToEveryEnabledDestination(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha", "beta": "/webhook/beta"})

	result := f.deliver(t, nil)

	if result.Health.AlertLevel != "critical" {
		t.Fatalf("alert level: got %q, want critical (an empty database misses the worker)", result.Health.AlertLevel)
	}
	if got, want := result.Plan.SelectedProviders, []string{"alpha", "beta"}; !slices.Equal(got, want) {
		t.Errorf("selected providers: got %v, want %v (disabled connectors are not eligible)", got, want)
	}
	if got, want := result.Plan.AcknowledgementRequiredProviders, []string{"alpha", "beta"}; !slices.Equal(got, want) {
		t.Errorf("acknowledgement required providers: got %v, want %v", got, want)
	}
	if !result.Success || len(result.Delivery) != 2 {
		t.Fatalf("success %v with %d deliveries, want true with 2", result.Success, len(result.Delivery))
	}
	if result.EventID != result.Health.HealthID || result.Plan.HealthID != result.Health.HealthID {
		t.Errorf("event_id %q and plan health_id %q, want both %q", result.EventID, result.Plan.HealthID, result.Health.HealthID)
	}
	for _, d := range result.Delivery {
		if d.State != models.DeliveryCompleted || d.ErrorClass != "ok" || d.AttemptCount != 1 {
			t.Errorf("delivery to %s: state %q class %q attempts %d, want completed ok 1", d.Provider, d.State, d.ErrorClass, d.AttemptCount)
		}
		if want := result.Plan.PlanID + ":" + d.Provider; d.IdempotencyKey != want {
			t.Errorf("idempotency key: got %q, want %q", d.IdempotencyKey, want)
		}
	}
	if got := len(f.receiver.Requests()); got != 2 {
		t.Errorf("receiver requests: got %d, want 2", got)
	}
}

func TestDeliverMessageCarriesLinkAndOmittedCount(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha"})

	result := f.deliver(t, func(r *alerting.DeliverRequest) { r.MaxAlerts = 1 })

	requests := f.receiver.Requests()
	if len(requests) != 1 {
		t.Fatalf("receiver requests: got %d, want 1", len(requests))
	}
	body := string(requests[0].Body)
	link := "http://console.test/alerts/" + result.Health.HealthID + "/acknowledge/alpha"
	if !strings.Contains(body, link) {
		t.Errorf("message body does not contain the acknowledgement link %q: %s", link, body)
	}
	if !strings.Contains(body, `"omitted_finding_count":1`) {
		t.Errorf("message body does not count the omitted finding: %s", body)
	}
}

func TestDeliverHealthySelectsNothing(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha"})
	f.ingestFreshRetryPlan(t, "plan-1")
	ingestFreshWorkerRun(t, f, "run-1")

	result := f.deliver(t, nil)

	if result.Health.AlertLevel != "healthy" {
		t.Fatalf("alert level: got %q, want healthy", result.Health.AlertLevel)
	}
	if len(result.Plan.SelectedProviders) != 0 || len(result.Delivery) != 0 || !result.Success {
		t.Errorf("healthy alert: selected %v, %d deliveries, success %v; want none, 0, true",
			result.Plan.SelectedProviders, len(result.Delivery), result.Success)
	}
	if got := len(f.receiver.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
	// The requested destination is configured and enabled, so it is
	// eligible even though nothing is selected, in the result and when the
	// plan is read back.
	if got := strings.Join(result.Plan.EligibleProviders, ","); got != "alpha" {
		t.Errorf("eligible providers: got %q, want alpha", got)
	}
	stored, err := f.service.PlanResult(context.Background(), result.Plan.PlanID)
	if err != nil {
		t.Fatalf("PlanResult: %v", err)
	}
	if got := strings.Join(stored.Plan.EligibleProviders, ","); got != "alpha" {
		t.Errorf("stored plan eligible providers: got %q, want alpha", got)
	}
}

func TestSuppression(t *testing.T) {
	cases := []struct {
		name string
		// path of the destination; /fail/ paths make every delivery fail
		path string
		// between runs after the first delivery, before the second
		between        func(t *testing.T, f *fixture)
		second         func(r *alerting.DeliverRequest)
		restart        bool
		wantSuppressed bool
		wantReason     string
	}{
		{name: "success inside the window suppresses", path: "/webhook/a",
			between: func(t *testing.T, f *fixture) { f.clock.Advance(59 * time.Minute) }, wantSuppressed: true, wantReason: alerting.ReasonDuplicate},
		{name: "success at the window start suppresses", path: "/webhook/a",
			between: func(t *testing.T, f *fixture) { f.clock.Advance(60 * time.Minute) }, wantSuppressed: true, wantReason: alerting.ReasonDuplicate},
		{name: "success one microsecond before the window does not suppress", path: "/webhook/a",
			between: func(t *testing.T, f *fixture) { f.clock.Advance(60*time.Minute + time.Microsecond) }},
		{name: "failure does not suppress", path: "/fail/503/webhook",
			between: func(t *testing.T, f *fixture) { f.clock.Advance(time.Minute) }},
		{name: "success outside the window does not suppress", path: "/webhook/a",
			between: func(t *testing.T, f *fixture) { f.clock.Advance(61 * time.Minute) }},
		{name: "force does not suppress", path: "/webhook/a",
			between: func(t *testing.T, f *fixture) { f.clock.Advance(time.Minute) },
			second:  func(r *alerting.DeliverRequest) { r.Force = true }, wantReason: alerting.ReasonForced},
		{name: "another fingerprint does not suppress", path: "/webhook/a",
			between: func(t *testing.T, f *fixture) { f.clock.Advance(time.Minute); f.ingestFreshRetryPlan(t, "fresh") }},
		{name: "restart keeps suppression", path: "/webhook/a",
			between: func(t *testing.T, f *fixture) { f.clock.Advance(time.Minute) }, restart: true,
			wantSuppressed: true, wantReason: alerting.ReasonDuplicate},
		{name: "shorter window does not suppress", path: "/webhook/a",
			between: func(t *testing.T, f *fixture) { f.clock.Advance(10 * time.Minute) },
			second:  func(r *alerting.DeliverRequest) { r.SuppressionWindowMinutes = 5 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, map[string]string{"alpha": tc.path})
			first := f.deliver(t, nil)
			tc.between(t, f)
			if tc.restart {
				f.service = f.newService(dbtest.OpenExisting(t, f.url, dbtest.Options{}), nil)
			}

			second := f.deliver(t, tc.second)

			suppressed, isSuppressed := suppressedProviders(second)["alpha"]
			if isSuppressed != tc.wantSuppressed {
				t.Fatalf("alpha suppressed: got %v, want %v (plan %+v)", isSuppressed, tc.wantSuppressed, second.Plan)
			}
			if tc.wantSuppressed {
				if suppressed.Reason != tc.wantReason {
					t.Errorf("reason: got %q, want %q", suppressed.Reason, tc.wantReason)
				}
				firstDone := first.Delivery[0].CompletedAt
				if suppressed.LastDeliveryAt == nil || firstDone == nil || !suppressed.LastDeliveryAt.Equal(*firstDone) {
					t.Errorf("last_delivery_at: got %v, want the first delivery's completion %v", suppressed.LastDeliveryAt, firstDone)
				}
				if len(second.Delivery) != 0 || !second.Success {
					t.Errorf("suppressed send: %d deliveries, success %v; want 0, true", len(second.Delivery), second.Success)
				}
				return
			}
			if !slices.Contains(second.Plan.SelectedProviders, "alpha") || len(second.Delivery) != 1 {
				t.Errorf("second send: selected %v with %d deliveries, want alpha with 1", second.Plan.SelectedProviders, len(second.Delivery))
			}
			if tc.wantReason == alerting.ReasonForced && (!second.Plan.Force || second.Plan.ForceReason != alerting.ReasonForced || second.Plan.Actor != "tester") {
				t.Errorf("forced plan: force %v reason %q actor %q, want true forced tester", second.Plan.Force, second.Plan.ForceReason, second.Plan.Actor)
			}
		})
	}
}

// A forced send stores "forced" as the decision reason of every destination,
// both one that a duplicate would have suppressed and one that failed before.
func TestForcedSendStoresForcedReason(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha", "beta": "/fail/503/beta"})
	f.deliver(t, nil)
	f.clock.Advance(time.Minute)

	forced := f.deliver(t, func(r *alerting.DeliverRequest) { r.Force = true })

	var destinations []models.AlertPlanDestination
	if err := f.db.Where("plan_id = ?", forced.Plan.PlanID).Order("provider").Find(&destinations).Error; err != nil {
		t.Fatalf("read plan destinations: %v", err)
	}
	if len(destinations) != 2 {
		t.Fatalf("plan destinations: got %d, want 2 (alpha and beta)", len(destinations))
	}
	for _, d := range destinations {
		if d.Decision != models.DecisionSelected {
			t.Errorf("%s decision: got %q, want %q", d.Provider, d.Decision, models.DecisionSelected)
		}
		if d.Reason != "forced" {
			t.Errorf("%s reason: got %q, want %q", d.Provider, d.Reason, "forced")
		}
	}
}

func TestDeliverRejectsUnknownProviderWithoutWriting(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha"})
	before := dbtest.CountRows(t, f.db)

	_, err := f.service.Deliver(context.Background(), func() alerting.DeliverRequest {
		r := alerting.DefaultDeliverRequest()
		r.Provider = "Alpha,slak"
		return r
	}())

	var unprocessable *alerting.UnprocessableError
	if !errors.As(err, &unprocessable) || unprocessable.Field != "provider" {
		t.Fatalf("error: got %v, want an unprocessable provider error", err)
	}
	if want := `provider "slak" is not configured; configured: alpha, disabled`; unprocessable.Message != want {
		t.Errorf("message: got %q, want %q", unprocessable.Message, want)
	}
	assertRowsUnchanged(t, before, dbtest.CountRows(t, f.db))
}

// A disabled destination named in provider is rejected before anything is
// stored or sent, alone or beside an enabled one, as a report delivery to
// it is. Sending to the enabled one only would hide the omission.
func TestDeliverRejectsDisabledProvider(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha"})
	before := dbtest.CountRows(t, f.db)

	for _, provider := range []string{"disabled", "alpha, DISABLED"} {
		req := alerting.DefaultDeliverRequest()
		req.Actor, req.Provider, req.Retries = "tester", provider, 0

		result, err := f.service.Deliver(context.Background(), req)

		var unprocessable *alerting.UnprocessableError
		if !errors.As(err, &unprocessable) {
			t.Errorf("provider %q: got error %v, success %v and %d deliveries, want an UnprocessableError",
				provider, err, result.Success, len(result.Delivery))
			continue
		}
		if unprocessable.Field != "provider" {
			t.Errorf("provider %q: field %q, want provider", provider, unprocessable.Field)
		}
		want := `provider "disabled" is disabled in the connector configuration, so nothing was sent, not even to the other named destinations; ` +
			`enable it in CONNECTOR_CONFIG or remove it from provider (enabled connectors: alpha)`
		if unprocessable.Message != want {
			t.Errorf("provider %q: message %q, want %q", provider, unprocessable.Message, want)
		}
	}
	assertRowsUnchanged(t, before, dbtest.CountRows(t, f.db))
	if got := len(f.receiver.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
}

// "all" still leaves disabled destinations out without an error.
func TestDeliverAllSkipsDisabledProvider(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha"})

	result := f.deliver(t, func(r *alerting.DeliverRequest) { r.Provider = alerting.AllProviders })

	if got, want := result.Plan.SelectedProviders, []string{"alpha"}; !slices.Equal(got, want) {
		t.Errorf("selected providers: got %v, want %v", got, want)
	}
	if !result.Success {
		t.Errorf("success: got false, want true")
	}
}

// An enabled destination that is not ready is rejected before anything is
// stored or sent, when named and under "all", as a live retry run rejects
// it. A send to it would only record a failure that uses up an attempt.
func TestDeliverRejectsNotReadyProvider(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha"})
	env := map[string]string{"URL_ALPHA": f.receiver.URL + "/webhook/alpha", "URL_FAILING": ""}
	cfg := connectors.FileConfig{Connectors: map[string]connectors.ConnectorConfig{
		"alpha":   {Kind: connectors.KindWebhook, URLEnv: "URL_ALPHA"},
		"failing": {Kind: connectors.KindWebhook, URLEnv: "URL_FAILING"},
	}}
	registry, err := connectors.NewRegistry(cfg, func(name string) (string, bool) {
		value, ok := env[name]
		return value, ok
	})
	if err != nil {
		t.Fatalf("build registry: %v", err)
	}
	f.registry = registry
	f.service = f.newService(f.db, nil)
	before := dbtest.CountRows(t, f.db)

	for _, provider := range []string{"failing,alpha", "all"} {
		req := alerting.DefaultDeliverRequest()
		req.Actor, req.Provider, req.Retries = "tester", provider, 0

		_, err := f.service.Deliver(context.Background(), req)

		var unprocessable *alerting.UnprocessableError
		if !errors.As(err, &unprocessable) {
			t.Errorf("provider %q: got error %v, want an UnprocessableError", provider, err)
			continue
		}
		if unprocessable.Field != "provider" {
			t.Errorf("provider %q: field %q, want provider", provider, unprocessable.Field)
		}
		for _, want := range []string{`"failing" is not ready`, "URL_FAILING", "Nothing was sent"} {
			if !strings.Contains(unprocessable.Message, want) {
				t.Errorf("provider %q: message %q does not contain %s", provider, unprocessable.Message, want)
			}
		}
	}
	assertRowsUnchanged(t, before, dbtest.CountRows(t, f.db))
	if got := len(f.receiver.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
}

// "all" beside another name is a 400, in any case and order, as in a
// report delivery.
func TestDeliverRejectsAllBesideNames(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha"})

	for _, provider := range []string{"all,alpha", "alpha, ALL"} {
		req := alerting.DefaultDeliverRequest()
		req.Provider = provider

		_, err := f.service.Deliver(context.Background(), req)

		var fieldErr *alerting.FieldError
		if !errors.As(err, &fieldErr) {
			t.Errorf("provider %q: got error %v, want a FieldError", provider, err)
			continue
		}
		if want := `provider "all" cannot be combined with other names; send "all" alone`; fieldErr.Message != want {
			t.Errorf("provider %q: message %q, want %q", provider, fieldErr.Message, want)
		}
	}
}

func TestDeliverProviderNamesIgnoreCase(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha", "beta": "/webhook/beta"})

	result := f.deliver(t, func(r *alerting.DeliverRequest) { r.Provider = " BETA " })

	if got, want := result.Plan.SelectedProviders, []string{"beta"}; !slices.Equal(got, want) {
		t.Errorf("selected providers: got %v, want %v", got, want)
	}
}

func TestDeliverRequestValidate(t *testing.T) {
	cases := []struct {
		field  string
		change func(*alerting.DeliverRequest)
	}{
		{"provider", func(r *alerting.DeliverRequest) { r.Provider = " " }},
		{"expected_interval_minutes", func(r *alerting.DeliverRequest) { r.Health.ExpectedIntervalMinutes = 0 }},
		{"stale_metadata_minutes", func(r *alerting.DeliverRequest) { r.Health.StaleMetadataMinutes = 10081 }},
		{"suppression_window_minutes", func(r *alerting.DeliverRequest) { r.SuppressionWindowMinutes = 0 }},
		{"suppression_window_minutes", func(r *alerting.DeliverRequest) { r.SuppressionWindowMinutes = 10081 }},
		{"max_alerts", func(r *alerting.DeliverRequest) { r.MaxAlerts = 0 }},
		{"max_alerts", func(r *alerting.DeliverRequest) { r.MaxAlerts = 101 }},
		{"retries", func(r *alerting.DeliverRequest) { r.Retries = -1 }},
		{"retries", func(r *alerting.DeliverRequest) { r.Retries = 6 }},
		{"timeout_seconds", func(r *alerting.DeliverRequest) { r.TimeoutSeconds = 0.09 }},
		{"timeout_seconds", func(r *alerting.DeliverRequest) { r.TimeoutSeconds = 60.5 }},
	}
	for _, tc := range cases {
		req := alerting.DefaultDeliverRequest()
		tc.change(&req)
		var fieldErr *alerting.FieldError
		if err := req.Validate(); !errors.As(err, &fieldErr) || fieldErr.Field != tc.field {
			t.Errorf("%s: got %v, want a field error naming %s", tc.field, err, tc.field)
		}
	}
	if err := alerting.DefaultDeliverRequest().Validate(); err != nil {
		t.Errorf("defaults: got %v, want valid", err)
	}
}

func assertRowsUnchanged(t *testing.T, before, after map[string]int64) {
	t.Helper()
	for table, n := range after {
		if before[table] != n {
			t.Errorf("table %s: %d rows after the request, want %d (nothing stored)", table, n, before[table])
		}
	}
}

func TestAlertMessageRebuildsSentMessage(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha"})
	result := f.deliver(t, func(r *alerting.DeliverRequest) { r.MaxAlerts = 1 })

	message, err := f.service.AlertMessage(context.Background(), result.Plan.PlanID, "ALPHA")
	if err != nil {
		t.Fatalf("AlertMessage: %v", err)
	}

	if want := result.Delivery[0].IdempotencyKey; message.IdempotencyKey != want {
		t.Errorf("idempotency key: got %q, want the sent key %q", message.IdempotencyKey, want)
	}
	if want := "http://console.test/alerts/" + result.Health.HealthID + "/acknowledge/alpha"; message.Link != want {
		t.Errorf("link: got %q, want %q", message.Link, want)
	}
	if len(message.Items) != 1 || message.OmittedCount != len(result.Health.Findings)-1 {
		t.Errorf("items %d, omitted %d; want 1 and %d", len(message.Items), message.OmittedCount, len(result.Health.Findings)-1)
	}
	if _, err := f.service.AlertMessage(context.Background(), "alp_missing", "alpha"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("unknown plan: got %v, want models.ErrNotFound", err)
	}
}

// failFirstDeliveryUpdate makes the first UPDATE of the deliveries table on
// db fail, as a transient database error would.
func failFirstDeliveryUpdate(t *testing.T, db *gorm.DB) {
	t.Helper()
	var armed atomic.Bool
	armed.Store(true)
	err := db.Callback().Update().Before("gorm:update").Register("test:fail_first_delivery_update", func(tx *gorm.DB) {
		if tx.Statement.Table == "deliveries" && armed.CompareAndSwap(true, false) {
			_ = tx.AddError(errors.New("injected database error"))
		}
	})
	if err != nil {
		t.Fatalf("register callback: %v", err)
	}
}

// A send whose outcome could not be stored stays in flight, so it neither
// suppresses a duplicate nor counts as delivered. The response must report
// that, and still report the other destination.
func TestDeliverReportsUnrecordedOutcome(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha", "beta": "/webhook/beta"})
	failFirstDeliveryUpdate(t, f.db)

	req := alerting.DefaultDeliverRequest()
	req.Actor, req.TimeoutSeconds, req.Retries = "tester", 2, 0
	result, err := f.service.Deliver(context.Background(), req)

	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if result.Success {
		t.Errorf("success: got true, want false while an outcome is not stored")
	}
	if len(result.Delivery) != 2 {
		t.Fatalf("deliveries: got %d, want 2", len(result.Delivery))
	}
	var unrecorded, recorded []string
	for _, d := range result.Delivery {
		var stored models.Delivery
		if err := f.db.Where("id = ?", d.DeliveryID).Take(&stored).Error; err != nil {
			t.Fatalf("read delivery %s: %v", d.DeliveryID, err)
		}
		if d.RecordError == "" {
			recorded = append(recorded, d.Provider)
			if !d.Success || stored.State != models.DeliveryCompleted {
				t.Errorf("delivery to %s: success %v, stored state %q; want a stored success", d.Provider, d.Success, stored.State)
			}
			continue
		}
		unrecorded = append(unrecorded, d.Provider)
		if d.State != models.DeliveryInFlight || d.Success || stored.State != models.DeliveryInFlight {
			t.Errorf("unrecorded delivery to %s: state %q, success %v, stored state %q; want in_flight, false, in_flight",
				d.Provider, d.State, d.Success, stored.State)
		}
		if !strings.Contains(d.RecordError, "class ok") || !strings.Contains(d.RecordError, "stays in flight") {
			t.Errorf("record error: got %q, want the class the send returned and that the delivery stays in flight", d.RecordError)
		}
		if logs := f.logs.String(); !strings.Contains(logs, "unable to record a delivery outcome") || !strings.Contains(logs, d.DeliveryID) {
			t.Errorf("logs: no error naming delivery %s:\n%s", d.DeliveryID, logs)
		}
	}
	if len(unrecorded) != 1 || len(recorded) != 1 {
		t.Errorf("deliveries: unrecorded %v and recorded %v, want one of each", unrecorded, recorded)
	}
	if got := len(f.receiver.Requests()); got != 2 {
		t.Errorf("receiver requests: got %d, want 2", got)
	}
}

// A send that finds another send of its alert under way for too long gets
// an error that gives when that send's hold ends, in case its server stopped.
func TestDeliverBusyNamesLeaseEnd(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/fail/503/alpha"})
	first := f.deliver(t, nil)
	fingerprint := first.Health.Fingerprint

	// Another server holds the alert's lease, as one killed mid-send does.
	expires := startTime.Add(7 * time.Minute)
	if _, err := models.AcquireAlertSendLease(context.Background(), f.db, fingerprint, "lse_other", f.clock.Now(), expires); err != nil {
		t.Fatalf("take the lease: %v", err)
	}
	f.service.LeaseWait = 50 * time.Millisecond
	req := alerting.DefaultDeliverRequest()
	req.Actor, req.TimeoutSeconds, req.Retries = "tester", 2, 0
	before := dbtest.CountRows(t, f.db)

	_, err := f.service.Deliver(context.Background(), req)

	var busy *alerting.BusyError
	if !errors.As(err, &busy) {
		t.Fatalf("Deliver while another send holds the lease: got %v, want a BusyError", err)
	}
	if want := "its hold on this alert ends at " + expires.UTC().Format(time.RFC3339); !strings.Contains(busy.Message, want) {
		t.Errorf("busy message: got %q, want it to contain %q", busy.Message, want)
	}
	if !strings.Contains(busy.Message, "another send of alert "+fingerprint) {
		t.Errorf("busy message: got %q, want it to name another send", busy.Message)
	}
	// The rejected send stores no health snapshot, which would otherwise
	// become the dashboard's newest evaluation.
	after := dbtest.CountRows(t, f.db)
	for table, n := range after {
		if n != before[table] {
			t.Errorf("table %s: %d rows before the rejected send, %d after", table, before[table], n)
		}
	}
}

// A send that finds a live retry worker run holding its alert's lease names
// that run, not another send.
func TestDeliverBusyNamesWorkerRun(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/fail/503/alpha"})
	first := f.deliver(t, nil)
	fingerprint := first.Health.Fingerprint
	if _, err := models.AcquireAlertSendLease(context.Background(), f.db, fingerprint, "rwr_other", f.clock.Now(), startTime.Add(7*time.Minute)); err != nil {
		t.Fatalf("take the lease: %v", err)
	}
	f.service.LeaseWait = 50 * time.Millisecond
	req := alerting.DefaultDeliverRequest()
	req.Actor, req.TimeoutSeconds, req.Retries = "tester", 2, 0

	_, err := f.service.Deliver(context.Background(), req)

	var busy *alerting.BusyError
	if !errors.As(err, &busy) {
		t.Fatalf("Deliver while a worker run holds the lease: got %v, want a BusyError", err)
	}
	if want := "live retry worker run rwr_other has been sending alert " + fingerprint; !strings.Contains(busy.Message, want) {
		t.Errorf("busy message: got %q, want it to contain %q", busy.Message, want)
	}
}

// The plan stores the requested destinations as they were resolved, not as
// typed, so "Alpha", " alpha " and a repeated name read as one destination.
func TestDeliverStoresRequestedNamesResolved(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/a", "beta": "/webhook/b"})
	cases := []struct{ provider, want string }{
		{" Alpha ,alpha,BETA", "alpha,beta"},
		{"ALL", "all"},
	}
	for _, tc := range cases {
		result := f.deliver(t, func(req *alerting.DeliverRequest) {
			req.Provider, req.Force = tc.provider, true
		})
		if got := result.Plan.RequestedProviders; got != tc.want {
			t.Errorf("provider %q: requested_providers %q, want %q", tc.provider, got, tc.want)
		}
	}
}
