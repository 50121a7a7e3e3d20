package executive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/connectors/receiver"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// Secrets planted in connector URLs, tokens and responses; none may appear
// in stored rows or results.
const (
	secretPath  = "s3cretPathT0ken"
	secretQuery = "s3cretQueryValue"
	secretToken = "s3cretBearerToken"
)

// deliveryFixture is a service wired to a local receiver and a server that
// echoes the planted secrets in a failing response.
type deliveryFixture struct {
	service  *Service
	db       *gorm.DB
	receiver *receiver.Server
}

func newDeliveryFixture(t *testing.T) *deliveryFixture {
	t.Helper()
	service, db := newTestService(t)

	rcv, err := receiver.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start receiver: %v", err)
	}
	t.Cleanup(func() { _ = rcv.Close() })

	leaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = fmt.Fprintf(w, "upstream rejected token %s at %s", secretToken, r.URL.String())
	}))
	t.Cleanup(leaky.Close)

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("reserve a closed port: %v", err)
	}
	closedURL := "http://" + closed.Addr().String() + "/webhook"
	_ = closed.Close()

	disabled := false
	cfg := connectors.FileConfig{Connectors: map[string]connectors.ConnectorConfig{
		"webhook":     {URLEnv: "OK_URL", AuthorizationEnv: "TOKEN"},
		"slack":       {URLEnv: "SLACK_URL"},
		"unavailable": {Kind: connectors.KindWebhook, URLEnv: "FAIL_503_URL"},
		"limited":     {Kind: connectors.KindWebhook, URLEnv: "FAIL_429_URL"},
		"gone":        {Kind: connectors.KindWebhook, URLEnv: "FAIL_410_URL"},
		"denied":      {Kind: connectors.KindWebhook, URLEnv: "FAIL_401_URL"},
		"hanging":     {Kind: connectors.KindWebhook, URLEnv: "HANG_URL"},
		"refused":     {Kind: connectors.KindWebhook, URLEnv: "CLOSED_URL"},
		"leaky":       {Kind: connectors.KindWebhook, URLEnv: "LEAKY_URL", AuthorizationEnv: "TOKEN"},
		"off":         {Kind: connectors.KindWebhook, URLEnv: "OK_URL", Enabled: &disabled},
	}}
	env := map[string]string{
		"OK_URL":       rcv.URL + "/webhook/" + secretPath + "?token=" + secretQuery,
		"SLACK_URL":    rcv.URL + "/slack/services/T0/B0/" + secretPath,
		"FAIL_503_URL": rcv.URL + "/fail/503/" + secretPath,
		"FAIL_429_URL": rcv.URL + "/fail/429/" + secretPath,
		"FAIL_410_URL": rcv.URL + "/fail/410/" + secretPath,
		"FAIL_401_URL": rcv.URL + "/fail/401/" + secretPath,
		"HANG_URL":     rcv.URL + "/hang/" + secretPath,
		"CLOSED_URL":   closedURL,
		"LEAKY_URL":    leaky.URL + "/hooks/" + secretPath + "?key=" + secretQuery,
		"TOKEN":        "Bearer " + secretToken,
	}
	registry, err := connectors.NewRegistry(cfg, func(name string) (string, bool) { value, ok := env[name]; return value, ok },
		connectors.WithBackoff(time.Millisecond, 2*time.Millisecond), connectors.WithInlineRetryAfter(0),
		connectors.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}

	clock := func() time.Time { return testNow }
	service.Destinations = registry
	service.Delivery = &delivery.Service{DB: db, Sender: registry, Now: clock}
	service.PublicURL = "http://127.0.0.1:8080/"
	return &deliveryFixture{service: service, db: db, receiver: rcv}
}

// scheduleRun stores a report with one failed execution and returns its run.
func (f *deliveryFixture) scheduleRun(t *testing.T) RunResult {
	t.Helper()
	seed(t, f.db, evidenceSet{executions: []execution{{fmt.Sprintf("e-%d", time.Now().UnixNano()), "jira", ExecutionFailed, time.Hour}}})
	result, err := f.service.RunSchedule(context.Background(), DefaultParams(), ScheduleInput{}, "tester")
	if err != nil {
		t.Fatalf("RunSchedule: %v", err)
	}
	return result
}

func TestDeliverOutcomePerResultClass(t *testing.T) {
	cases := []struct {
		provider     string
		retries      int
		timeout      time.Duration
		wantSuccess  bool
		wantClass    connectors.Class
		wantAttempts int
	}{
		{"webhook", 0, time.Second, true, connectors.ClassOK, 1},
		{"slack", 0, time.Second, true, connectors.ClassOK, 1},
		// Transient failures are retried in the request; each attempt is kept.
		{"leaky", 1, time.Second, false, connectors.ClassServerError, 2},
		// A Retry-After longer than the in-request limit ends the send.
		{"unavailable", 1, time.Second, false, connectors.ClassServerError, 1},
		{"limited", 0, time.Second, false, connectors.ClassRateLimited, 1},
		{"hanging", 0, 100 * time.Millisecond, false, connectors.ClassTimeout, 1},
		{"refused", 0, time.Second, false, connectors.ClassConnectionError, 1},
		// Permanent failures are not retried.
		{"gone", 3, time.Second, false, connectors.ClassGone, 1},
		{"denied", 3, time.Second, false, connectors.ClassAuthError, 1},
	}
	f := newDeliveryFixture(t)
	run := f.scheduleRun(t)
	for _, tc := range cases {
		t.Run(tc.provider, func(t *testing.T) {
			result, err := f.service.Deliver(context.Background(), DeliverRequest{
				RunID: run.ScheduleRun.RunID, Providers: []string{strings.ToUpper(tc.provider)}, Retries: tc.retries, Timeout: tc.timeout, Actor: "tester",
			})
			if err != nil {
				t.Fatalf("Deliver: %v", err)
			}
			if result.Success != tc.wantSuccess {
				t.Errorf("success: got %v, want %v", result.Success, tc.wantSuccess)
			}
			if len(result.Delivery) != 1 {
				t.Fatalf("deliveries: got %d, want 1", len(result.Delivery))
			}
			view := result.Delivery[0]
			if view.ErrorClass != string(tc.wantClass) {
				t.Errorf("class: got %q, want %q (error %q)", view.ErrorClass, tc.wantClass, view.Error)
			}
			if view.AttemptCount != tc.wantAttempts {
				t.Errorf("attempts: got %d, want %d", view.AttemptCount, tc.wantAttempts)
			}

			stored, err := models.DeliveryByID(context.Background(), f.db, view.DeliveryID)
			if err != nil {
				t.Fatalf("DeliveryByID: %v", err)
			}
			if stored.State != models.DeliveryCompleted {
				t.Errorf("state: got %q, want %q", stored.State, models.DeliveryCompleted)
			}
			if stored.SubjectKind != models.SubjectExecutiveReport || stored.SubjectID != run.ScheduleRun.RunID || stored.SubjectKey != run.Report.ReportID {
				t.Errorf("subject: got %s/%s/%s, want %s/%s/%s", stored.SubjectKind, stored.SubjectID, stored.SubjectKey,
					models.SubjectExecutiveReport, run.ScheduleRun.RunID, run.Report.ReportID)
			}
			if want := IdempotencyKey(run.ScheduleRun.RunID, tc.provider); stored.IdempotencyKey != want {
				t.Errorf("idempotency key: got %q, want %q", stored.IdempotencyKey, want)
			}
		})
	}
}

func TestDeliverSendsLinkAndIdempotencyKey(t *testing.T) {
	f := newDeliveryFixture(t)
	run := f.scheduleRun(t)

	_, err := f.service.Deliver(context.Background(), DeliverRequest{
		RunID: LatestRunID, Providers: []string{"webhook"}, Retries: 0, Timeout: time.Second, Actor: "tester",
	})
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	requests := f.receiver.Requests()
	if len(requests) != 1 {
		t.Fatalf("received requests: got %d, want 1", len(requests))
	}
	wantKey := run.ScheduleRun.RunID + ":webhook"
	if got := requests[0].Headers.Get("Webhook-Id"); got != wantKey {
		t.Errorf("webhook-id: got %q, want %q", got, wantKey)
	}
	wantLink := "http://127.0.0.1:8080/executive/reports/" + run.Report.ReportID
	if body := string(requests[0].Body); !strings.Contains(body, wantLink) {
		t.Errorf("body: got %s, want it to contain the report link %s", body, wantLink)
	}

	// The retry engine rebuilds the same message for the same destination.
	rebuilt, err := f.service.ExecutiveMessage(context.Background(), run.ScheduleRun.RunID, "webhook")
	if err != nil {
		t.Fatalf("ExecutiveMessage: %v", err)
	}
	if rebuilt.IdempotencyKey != wantKey || rebuilt.Link != wantLink {
		t.Errorf("rebuilt message: got key %q link %q, want %q and %q", rebuilt.IdempotencyKey, rebuilt.Link, wantKey, wantLink)
	}
	if len(rebuilt.Items) != 1 || rebuilt.Items[0].Severity != StatusCritical {
		t.Errorf("rebuilt items: got %+v, want the one critical failed-execution risk", rebuilt.Items)
	}
	again, err := f.service.ExecutiveMessage(context.Background(), run.ScheduleRun.RunID, "webhook")
	if err != nil {
		t.Fatalf("ExecutiveMessage again: %v", err)
	}
	first, _ := json.Marshal(rebuilt)
	second, _ := json.Marshal(again)
	if string(first) != string(second) {
		t.Errorf("rebuilt messages differ:\n%s\n%s", first, second)
	}

	found, err := f.service.ScheduleRunByID(context.Background(), run.ScheduleRun.RunID)
	if err != nil {
		t.Fatalf("ScheduleRunByID: %v", err)
	}
	if found.ReportID != run.Report.ReportID || !found.WindowStart.Equal(run.ScheduleRun.WindowStart) {
		t.Errorf("ScheduleRunByID: got %+v, want run %+v", found, run.ScheduleRun)
	}
}

func TestDeliverRejectsBadRequests(t *testing.T) {
	f := newDeliveryFixture(t)

	_, err := f.service.Deliver(context.Background(), DeliverRequest{RunID: LatestRunID, Providers: []string{"webhook"}, Timeout: time.Second})
	if !IsNotFound(err) {
		t.Errorf("latest without runs: got %v, want not found", err)
	}
	run := f.scheduleRun(t)
	_, err = f.service.Deliver(context.Background(), DeliverRequest{RunID: "xrun_missing", Providers: []string{"webhook"}, Timeout: time.Second})
	if !IsNotFound(err) {
		t.Errorf("unknown run: got %v, want not found", err)
	}

	cases := []struct {
		name          string
		req           DeliverRequest
		wantField     string
		wantRejection bool
	}{
		{"unknown destination", DeliverRequest{Providers: []string{"webhook", "slak"}, Timeout: time.Second}, "provider", true},
		{"disabled destination", DeliverRequest{Providers: []string{"off"}, Timeout: time.Second}, "provider", true},
		{"no destination", DeliverRequest{Providers: []string{" ", ""}, Timeout: time.Second}, "provider", false},
		{"retries above 5", DeliverRequest{Providers: []string{"webhook"}, Retries: 6, Timeout: time.Second}, "retries", false},
		{"timeout below 0.1s", DeliverRequest{Providers: []string{"webhook"}, Timeout: 50 * time.Millisecond}, "timeout_seconds", false},
		{"timeout above 60s", DeliverRequest{Providers: []string{"webhook"}, Timeout: 61 * time.Second}, "timeout_seconds", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.RunID = run.ScheduleRun.RunID
			var before int64
			f.db.Model(&models.Delivery{}).Count(&before)

			_, err := f.service.Deliver(context.Background(), tc.req)
			paramErr, ok := err.(*ParamError)
			if !ok {
				t.Fatalf("Deliver: got %v, want a ParamError on %s", err, tc.wantField)
			}
			if paramErr.Field != tc.wantField || paramErr.Unprocessable != tc.wantRejection {
				t.Errorf("error: got field %q unprocessable %v, want %q and %v", paramErr.Field, paramErr.Unprocessable, tc.wantField, tc.wantRejection)
			}
			if tc.wantRejection && tc.name == "unknown destination" && !strings.Contains(paramErr.Message, "webhook") {
				t.Errorf("message: got %q, want it to list the configured destinations", paramErr.Message)
			}
			var after int64
			f.db.Model(&models.Delivery{}).Count(&after)
			if after != before {
				t.Errorf("deliveries stored: got %d new, want none", after-before)
			}
		})
	}
}

func TestDeliverStoresNoSecret(t *testing.T) {
	f := newDeliveryFixture(t)
	f.scheduleRun(t)

	result, err := f.service.Deliver(context.Background(), DeliverRequest{
		RunID: LatestRunID, Providers: []string{"webhook", "leaky", "slack", "unavailable", "refused"}, Retries: 1, Timeout: time.Second, Actor: "tester",
	})
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	encoded, err := json.Marshal(result)
	if err != nil {
		t.Fatalf("encode result: %v", err)
	}
	dump := string(encoded) + dumpTables(t, f.db)
	for _, secret := range []string{secretPath, secretQuery, secretToken} {
		if strings.Contains(dump, secret) {
			t.Errorf("secret %q: found in the stored rows or the result, want it nowhere", secret)
		}
	}
	if !strings.Contains(dump, "server_error") {
		t.Errorf("dump: want the leaky destination's server_error recorded, got none")
	}
}

// dumpTables returns every row of every table as text.
func dumpTables(t *testing.T, db *gorm.DB) string {
	t.Helper()
	tables, err := db.Migrator().GetTables()
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	var out strings.Builder
	for _, table := range tables {
		var rows []map[string]any
		if err := db.Table(table).Find(&rows).Error; err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		fmt.Fprintf(&out, "%s: %v\n", table, rows)
	}
	return out.String()
}

func TestDeliverAllNamesEnabledDestinations(t *testing.T) {
	f := newDeliveryFixture(t)

	providers, err := f.service.checkProviders([]string{" ALL "})

	if err != nil {
		t.Fatalf("checkProviders: %v", err)
	}
	want := []string{"denied", "gone", "hanging", "leaky", "limited", "refused", "slack", "unavailable", "webhook"}
	if !slices.Equal(providers, want) {
		t.Errorf("destinations: got %v, want %v (every enabled one, once, without off)", providers, want)
	}
}

func TestDeliverRejectsAllBesideNames(t *testing.T) {
	f := newDeliveryFixture(t)

	for _, requested := range [][]string{{"webhook", " ALL "}, {"all,slack"}, {"slack", "all"}} {
		_, err := f.service.checkProviders(requested)

		var paramErr *ParamError
		if !errors.As(err, &paramErr) {
			t.Fatalf("%q: error = %v, want a *ParamError", requested, err)
		}
		if paramErr.Field != "provider" || paramErr.Unprocessable {
			t.Errorf("%q: field %q, unprocessable %t; want a 400 on provider", requested, paramErr.Field, paramErr.Unprocessable)
		}
		if !strings.Contains(paramErr.Message, `send "all" alone`) {
			t.Errorf("%q: message %q does not say to send \"all\" alone", requested, paramErr.Message)
		}
	}
}

func TestDeliverWaitsForDeliveryUnderWay(t *testing.T) {
	f := newDeliveryFixture(t)
	run := f.scheduleRun(t)
	inFlight := func(startedAt time.Time) {
		record := models.Delivery{
			ID: models.NewID("dlv", startedAt), SubjectKind: models.SubjectExecutiveReport, SubjectID: run.ScheduleRun.RunID,
			SubjectKey: run.Report.ReportID, Connector: "webhook", State: models.DeliveryInFlight, Attempts: "[]",
			RequestSummary: "{}", IdempotencyKey: run.ScheduleRun.RunID + ":webhook", Origin: models.OriginSend,
			Actor: "tester", StartedAt: startedAt, CreatedAt: startedAt,
		}
		if err := models.CreateDelivery(f.db, &record); err != nil {
			t.Fatalf("CreateDelivery: %v", err)
		}
	}
	request := DeliverRequest{RunID: run.ScheduleRun.RunID, Providers: []string{"webhook", "slack"}, Timeout: time.Second, Actor: "tester"}

	// A delivery older than StaleSendAfter no longer counts as under way.
	inFlight(testNow.Add(-models.StaleSendAfter - time.Second))
	webhookOnly := request
	webhookOnly.Providers = []string{"webhook"}
	if _, err := f.service.Deliver(context.Background(), webhookOnly); err != nil {
		t.Fatalf("Deliver with only a stale delivery in flight: got %v, want nil", err)
	}
	inFlight(testNow.Add(-time.Minute))
	sent := len(f.receiver.Requests())
	before := dbtest.CountRows(t, f.db)

	_, err := f.service.Deliver(context.Background(), request)

	var conflict *ConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("Deliver: got %v, want a ConflictError", err)
	}
	if conflict.Field != "provider" || !strings.Contains(conflict.Message, "webhook (since") || strings.Contains(conflict.Message, "slack") {
		t.Errorf("conflict: got field %q message %q, want provider naming webhook only", conflict.Field, conflict.Message)
	}
	// A server that stopped mid-send never finishes it, so the message
	// gives the time from which a live retry run records it as interrupted.
	recordable := testNow.Add(-time.Minute + models.StaleSendAfter).UTC().Format(time.RFC3339)
	if !strings.Contains(conflict.Message, "records it as interrupted (a retry's delivery sooner, a plain one from "+recordable+" on)") {
		t.Errorf("conflict message: got %q, want the time %s from which a live run records it", conflict.Message, recordable)
	}
	if after := dbtest.CountRows(t, f.db); after["deliveries"] != before["deliveries"] {
		t.Errorf("deliveries: got %d, want %d (nothing recorded)", after["deliveries"], before["deliveries"])
	}
	if got := len(f.receiver.Requests()); got != sent {
		t.Errorf("received requests: got %d, want still %d", got, sent)
	}

	request.Providers = []string{"slack"}
	if _, err := f.service.Deliver(context.Background(), request); err != nil {
		t.Errorf("Deliver to a destination with nothing under way: got %v, want nil", err)
	}
}

// slowSender waits before it passes a send on, and fails the send as timed
// out when the send's context ends first, as an HTTP send would.
type slowSender struct {
	inner connectors.Sender
	delay time.Duration
}

func (s slowSender) Send(ctx context.Context, name string, msg connectors.Message, opts connectors.SendOptions) connectors.Result {
	select {
	case <-ctx.Done():
		return connectors.Result{Connector: name, Class: connectors.ClassTimeout, AttemptCount: 1, Error: ctx.Err().Error()}
	case <-time.After(s.delay):
	}
	return s.inner.Send(ctx, name, msg, opts)
}

// A client that leaves, such as a closed browser tab, must not cut a send
// short: the destination may already have the report, and a failure
// recorded for it would make the retry worker send it again.
func TestDeliverOutlivesCancelledRequest(t *testing.T) {
	f := newDeliveryFixture(t)
	run := f.scheduleRun(t)
	f.service.Delivery.Sender = slowSender{inner: f.service.Delivery.Sender, delay: 300 * time.Millisecond}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	result, err := f.service.Deliver(ctx, DeliverRequest{
		RunID: run.ScheduleRun.RunID, Providers: []string{"webhook"}, Retries: 0, Timeout: 2 * time.Second, Actor: "tester",
	})

	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if ctx.Err() == nil {
		t.Fatalf("request context: not cancelled during the send, so the test checked nothing")
	}
	if len(result.Delivery) != 1 {
		t.Fatalf("deliveries: got %d, want 1", len(result.Delivery))
	}
	got := result.Delivery[0]
	if !got.Success {
		t.Errorf("delivery: got class %q, error %q, want a success", got.ErrorClass, got.Error)
	}
	var stored models.Delivery
	if err := f.db.Where("id = ?", got.DeliveryID).Take(&stored).Error; err != nil {
		t.Fatalf("read delivery %s: %v", got.DeliveryID, err)
	}
	if stored.State != models.DeliveryCompleted || !stored.Success {
		t.Errorf("stored delivery: state %q, success %v; want completed and successful", stored.State, stored.Success)
	}
	if requests := len(f.receiver.Requests()); requests != 1 {
		t.Errorf("receiver requests: got %d, want 1", requests)
	}
}

// When the outcome of one send cannot be stored, the other destinations
// have been sent to all the same: the result reports every destination,
// marks the unrecorded one and stores the outcomes it can.
func TestDeliverReportsEveryDestinationWhenOneIsUnrecorded(t *testing.T) {
	f := newDeliveryFixture(t)
	run := f.scheduleRun(t)
	var armed atomic.Bool
	armed.Store(true)
	err := f.db.Callback().Update().Before("gorm:update").Register("test:fail_first_delivery_update", func(tx *gorm.DB) {
		if tx.Statement.Table == "deliveries" && armed.CompareAndSwap(true, false) {
			_ = tx.AddError(errors.New("injected database error"))
		}
	})
	if err != nil {
		t.Fatalf("register callback: %v", err)
	}

	result, err := f.service.Deliver(context.Background(), DeliverRequest{
		RunID: run.ScheduleRun.RunID, Providers: []string{"webhook", "slack"}, Retries: 0, Timeout: 2 * time.Second, Actor: "tester",
	})

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
	}
	if len(unrecorded) != 1 || len(recorded) != 1 {
		t.Errorf("deliveries: unrecorded %v and recorded %v, want one of each", unrecorded, recorded)
	}
	if requests := len(f.receiver.Requests()); requests != 2 {
		t.Errorf("receiver requests: got %d, want 2", requests)
	}
}

// A record stored before its secret was configured, here straight in the
// database, carries the secret into no report, built or stored.
func TestReportLeavesOutConfiguredSecrets(t *testing.T) {
	f := newDeliveryFixture(t)
	seed(t, f.db, evidenceSet{executions: []execution{{"e-legacy", secretToken, ExecutionFailed, time.Hour}}})

	report, err := f.service.Current(context.Background(), DefaultParams())
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	encoded, _ := json.Marshal(report)
	if strings.Contains(string(encoded), secretToken) {
		t.Errorf("report: got %s, want no configured secret", encoded)
	}
	if !strings.Contains(string(encoded), connectors.Redacted) {
		t.Errorf("report: got %s, want the secret's place marked %s", encoded, connectors.Redacted)
	}

	result, err := f.service.RunSchedule(context.Background(), DefaultParams(), ScheduleInput{}, "tester")
	if err != nil {
		t.Fatalf("RunSchedule: %v", err)
	}
	var stored models.ExecutiveReport
	if err := f.db.Where("id = ?", result.Report.ReportID).Take(&stored).Error; err != nil {
		t.Fatalf("read the stored report: %v", err)
	}
	if strings.Contains(stored.Report, secretToken) {
		t.Error("stored report holds the configured secret")
	}
}

// A record stored before the input checks ignored case can hold a
// configured secret in other letters. The report replaces it and is still
// built.
func TestReportBuildsWithSecretInOtherCase(t *testing.T) {
	f := newDeliveryFixture(t)
	upper := strings.ToUpper(secretToken)
	seed(t, f.db, evidenceSet{executions: []execution{{"e-legacy", upper, ExecutionFailed, time.Hour}}})

	report, err := f.service.Current(context.Background(), DefaultParams())
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	encoded, _ := json.Marshal(report)
	if strings.Contains(strings.ToLower(string(encoded)), strings.ToLower(secretToken)) {
		t.Errorf("report: got %s, want no configured secret in any letter case", encoded)
	}
	if !strings.Contains(string(encoded), connectors.Redacted) {
		t.Errorf("report: got %s, want the secret's place marked %s", encoded, connectors.Redacted)
	}
	if _, err := f.service.RunSchedule(context.Background(), DefaultParams(), ScheduleInput{}, "tester"); err != nil {
		t.Fatalf("RunSchedule: %v", err)
	}
}
