package retry

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func TestConfirmationWithoutDueDestinationRejected(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	runsBefore := countTable(t, db, "retry_worker_runs")

	request := liveRequest(immediatePolicy())
	request.Confirmed = &Confirmation{Destinations: []string{"slack"}, Count: 1}
	_, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)

	var invalid *ValidationError
	if !errors.As(err, &invalid) || invalid.Field != "confirmed_destinations" {
		t.Fatalf("Run: got %v, want an error naming confirmed_destinations", err)
	}
	if !strings.Contains(invalid.Message, "retries are due to webhook") {
		t.Errorf("message: got %q, want it to name the destination that is due", invalid.Message)
	}
	if got := countTable(t, db, "retry_worker_runs"); got != runsBefore {
		t.Errorf("worker runs: got %d, want %d (nothing recorded)", got, runsBefore)
	}
	if got := len(server.Requests()); got != 0 {
		t.Errorf("requests sent: got %d, want none", got)
	}

	request.Confirmed = &Confirmation{Destinations: []string{"webhook"}, Count: 1}
	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
	if err != nil || run.Counts.DeliveredCount != 1 {
		t.Errorf("confirmed run: got %+v, %v; want the retry delivered", run.Counts, err)
	}
}

// A confirmation of retries that are no longer due, because another run
// sent them or the names are wrong, stores no live run and sends nothing.
func TestConfirmationWhenNothingDueRejected(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	runsBefore := countTable(t, db, "retry_worker_runs")

	for _, destinations := range [][]string{{"webhook"}, {"nope"}} {
		request := liveRequest(immediatePolicy())
		request.Confirmed = &Confirmation{Destinations: destinations, Count: 1}
		_, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)

		var invalid *ValidationError
		if !errors.As(err, &invalid) || invalid.Field != "confirmed_count" || !invalid.Unprocessable {
			t.Fatalf("Run confirming %v: got %v, want a 422 naming confirmed_count", destinations, err)
		}
		if !strings.Contains(invalid.Message, "no retry is due now") || !strings.Contains(invalid.Message, destinations[0]) {
			t.Errorf("message: got %q, want it to say nothing is due and name %s", invalid.Message, destinations[0])
		}
	}
	if got := countTable(t, db, "retry_worker_runs"); got != runsBefore {
		t.Errorf("worker runs: got %d, want %d (nothing recorded)", got, runsBefore)
	}
	if got := len(server.Requests()); got != 0 {
		t.Errorf("requests sent: got %d, want none", got)
	}
}

func TestConfirmationNamesRunThatSentFirst(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)

	// Two people confirmed the same retry, and pat's run sent it first.
	first := liveRequest(immediatePolicy())
	first.Actor = "pat"
	first.Confirmed = &Confirmation{Destinations: []string{"webhook"}, Count: 1}
	sent, err := service.Run(context.Background(), models.SubjectExecutiveReport, first)
	if err != nil {
		t.Fatalf("first live run: %v", err)
	}
	clock.Advance(3 * time.Second)

	second := liveRequest(immediatePolicy())
	second.Actor = "rita"
	second.Confirmed = &Confirmation{Destinations: []string{"webhook"}, Count: 1}
	_, err = service.Run(context.Background(), models.SubjectExecutiveReport, second)

	var invalid *ValidationError
	if !errors.As(err, &invalid) || invalid.Field != "confirmed_count" || !invalid.Unprocessable {
		t.Fatalf("second live run: got %v, want a 422 naming confirmed_count", err)
	}
	if invalid.WorkerRunID != sent.WorkerRunID {
		t.Errorf("WorkerRunID = %q, want the first run %q", invalid.WorkerRunID, sent.WorkerRunID)
	}
	for _, part := range []string{"live worker run " + sent.WorkerRunID, "started by pat", "already retried to webhook", "nothing was sent"} {
		if !strings.Contains(invalid.Message, part) {
			t.Errorf("message = %q, want it to contain %q", invalid.Message, part)
		}
	}
	if got := len(server.Requests()); got != 1 {
		t.Errorf("requests sent: got %d, want 1 (the first run's)", got)
	}

	// Past the in-flight timeout the earlier run is no longer the likely
	// cause, so the message stays general.
	clock.Advance(DefaultInFlightTimeout)
	_, err = service.Run(context.Background(), models.SubjectExecutiveReport, second)
	if !errors.As(err, &invalid) || invalid.WorkerRunID != "" || !strings.HasPrefix(invalid.Message, "no retry is due now") {
		t.Errorf("live run after the in-flight timeout: got %v, want the general message", err)
	}
}

func TestConfirmationOfNoDeliveriesRecordsOnly(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)

	request := liveRequest(immediatePolicy())
	request.Confirmed = &Confirmation{Count: 0}
	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)

	if err != nil {
		t.Fatalf("Run: got %v, want a run that records interrupted executions only", err)
	}
	if run.Counts.SelectedCount != 0 || len(server.Requests()) != 0 {
		t.Errorf("run: got %d selected and %d requests sent, want none", run.Counts.SelectedCount, len(server.Requests()))
	}
}

func TestConfirmationLimitKeepsCount(t *testing.T) {
	due := []Decision{
		{SubjectID: "run_1", Connector: "webhook"},
		{SubjectID: "run_2", Connector: "slack"},
		{SubjectID: "run_3", Connector: "webhook"},
		{SubjectID: "run_4", Connector: "webhook"},
	}
	cases := []struct {
		name         string
		confirmation *Confirmation
		want         []string
	}{
		{"no confirmation keeps all", nil, []string{"run_1", "run_2", "run_3", "run_4"}},
		{"count 0", &Confirmation{Destinations: []string{"webhook"}, Count: 0}, nil},
		{"count 1", &Confirmation{Destinations: []string{"webhook"}, Count: 1}, []string{"run_1"}},
		{"count 2 of one destination", &Confirmation{Destinations: []string{"webhook"}, Count: 2}, []string{"run_1", "run_3"}},
		{"count above due", &Confirmation{Destinations: []string{"webhook", "slack"}, Count: 10}, []string{"run_1", "run_2", "run_3", "run_4"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			limited := tc.confirmation.limit(due)

			var got []string
			for _, d := range limited {
				got = append(got, d.SubjectID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("limited decisions: got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConfirmationSendsAtMostCount(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	for _, subjectID := range []string{"run_1", "run_2", "run_3"} {
		insertDelivery(t, db, subjectID, "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)
	}

	request := liveRequest(immediatePolicy())
	request.Confirmed = &Confirmation{Destinations: []string{"webhook"}, Count: 2}
	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)

	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := run.Counts.SelectedCount; got != 2 {
		t.Errorf("selected: got %d, want 2", got)
	}
	if got := run.Counts.DeliveredCount; got != 2 {
		t.Errorf("delivered: got %d, want 2", got)
	}
	if got := len(server.Requests()); got != 2 {
		t.Errorf("receiver requests: got %d, want 2", got)
	}
}

// A confirmation lists the failed deliveries its retries re-send. When
// another run retried the group since and failed again, the next attempt is
// due at once under an immediate policy, but it was not confirmed, so
// nothing is sent.
func TestConfirmationOfChangedRetryRejected(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/fail/500/webhook"}), clock.Now, &fakeSource{})
	failed := insertDelivery(t, db, "run_1", "webhook", false, "server_error", 500, serviceStart.Add(-2*time.Hour), nil)
	policy := immediatePolicy()
	policy.MaxRetryAttempts = 10

	preview, err := service.Preview(context.Background(), models.SubjectExecutiveReport, policy, 5, nil)
	if err != nil {
		t.Fatalf("Preview: %v", err)
	}
	if len(preview.SelectedDecisions) != 1 || preview.SelectedDecisions[0].LastDeliveryID != failed.ID {
		t.Fatalf("preview decisions: got %+v, want one retry of %s", preview.SelectedDecisions, failed.ID)
	}
	confirmation := &Confirmation{Destinations: []string{"webhook"}, Count: 1, Retries: []string{failed.ID}}

	// Another person's run retries the group first, and the retry fails.
	other := liveRequest(policy)
	other.Actor = "pat"
	sent, err := service.Run(context.Background(), models.SubjectExecutiveReport, other)
	if err != nil || sent.Counts.FailedCount != 1 {
		t.Fatalf("other live run: got %+v, %v; want one failed retry", sent.Counts, err)
	}
	clock.Advance(3 * time.Second)
	requestsBefore := len(server.Requests())
	runsBefore := countTable(t, db, "retry_worker_runs")

	request := liveRequest(policy)
	request.Confirmed = confirmation
	_, err = service.Run(context.Background(), models.SubjectExecutiveReport, request)

	var invalid *ValidationError
	if !errors.As(err, &invalid) || invalid.Field != "confirmed_count" || !invalid.Unprocessable {
		t.Fatalf("confirmed live run: got %v, want a 422 naming confirmed_count", err)
	}
	if invalid.WorkerRunID != sent.WorkerRunID {
		t.Errorf("WorkerRunID = %q, want the other run %q", invalid.WorkerRunID, sent.WorkerRunID)
	}
	if !strings.Contains(invalid.Message, "not the ones confirmed") {
		t.Errorf("message = %q, want it to say the due retries are not the confirmed ones", invalid.Message)
	}
	if got := len(server.Requests()); got != requestsBefore {
		t.Errorf("requests sent: got %d, want %d (none by the confirmed run)", got, requestsBefore)
	}
	if got := countTable(t, db, "retry_worker_runs"); got != runsBefore {
		t.Errorf("worker runs: got %d, want %d (nothing recorded)", got, runsBefore)
	}

	// Past the in-flight timeout the message stays general.
	clock.Advance(DefaultInFlightTimeout)
	_, err = service.Run(context.Background(), models.SubjectExecutiveReport, request)
	if !errors.As(err, &invalid) || invalid.WorkerRunID != "" || !strings.Contains(invalid.Message, "not the ones the confirmation listed") {
		t.Errorf("live run after the in-flight timeout: got %v, want the general message", err)
	}
}

func TestConfirmationOfListedRetrySends(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	failed := insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-2*time.Hour), nil)

	request := liveRequest(immediatePolicy())
	request.Confirmed = &Confirmation{Destinations: []string{"webhook"}, Count: 1, Retries: []string{failed.ID}}
	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
	if err != nil || run.Counts.DeliveredCount != 1 {
		t.Errorf("confirmed run: got %+v, %v; want the listed retry delivered", run.Counts, err)
	}
}

// A group that waited at the confirmation becomes due and comes before the
// listed retry. The run still sends the listed retry, and only it.
func TestConfirmationSendsListedRetryBehindNewlyDueGroup(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	until := serviceStart.Add(time.Minute)
	insertDelivery(t, db, "run_x", "webhook", false, "rate_limited", 429, serviceStart.Add(-2*time.Hour), &until)
	confirmedFailure := insertDelivery(t, db, "run_a", "webhook", false, "server_error", 503, serviceStart.Add(-time.Hour), nil)

	preview, err := service.Preview(context.Background(), models.SubjectExecutiveReport, immediatePolicy(), 1, nil)
	if err != nil {
		t.Fatalf("Preview: %v", err)
	}
	if len(preview.SelectedDecisions) != 1 || preview.SelectedDecisions[0].LastDeliveryID != confirmedFailure.ID {
		t.Fatalf("preview decisions: got %+v, want the retry of run_a", preview.SelectedDecisions)
	}
	clock.Advance(2 * time.Minute)

	request := liveRequest(immediatePolicy())
	request.MaxRetryDeliveries = 1
	request.Confirmed = &Confirmation{Destinations: []string{"webhook"}, Count: 1, Retries: []string{confirmedFailure.ID}}
	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if run.Counts.SelectedCount != 1 || run.Counts.DeliveredCount != 1 {
		t.Fatalf("counts: got %+v, want the listed retry selected and delivered", run.Counts)
	}
	if got := run.Executions[0].SubjectID; got != "run_a" {
		t.Errorf("retried subject: got %q, want run_a, the listed retry", got)
	}
	if got := len(server.Requests()); got != 1 {
		t.Errorf("requests sent: got %d, want 1", got)
	}
}

// A live run that retried another group to the same destination shortly
// before does not keep the listed retry from being sent.
func TestConfirmationSendsListedRetryAfterUnrelatedRun(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	until := serviceStart.Add(20 * time.Second)
	insertDelivery(t, db, "run_x", "webhook", false, "rate_limited", 429, serviceStart.Add(-2*time.Hour), &until)
	insertDelivery(t, db, "run_z", "webhook", false, "server_error", 503, serviceStart.Add(-3*time.Hour), nil)

	earlier := liveRequest(immediatePolicy())
	earlier.MaxRetryDeliveries = 1
	earlier.Actor = "pat"
	first, err := service.Run(context.Background(), models.SubjectExecutiveReport, earlier)
	if err != nil || first.Counts.DeliveredCount != 1 {
		t.Fatalf("earlier live run: got %+v, %v; want one delivered retry", first.Counts, err)
	}
	confirmedFailure := insertDelivery(t, db, "run_a", "webhook", false, "server_error", 503, serviceStart.Add(-time.Hour), nil)
	clock.Advance(time.Second)
	preview, err := service.Preview(context.Background(), models.SubjectExecutiveReport, immediatePolicy(), 1, nil)
	if err != nil || len(preview.SelectedDecisions) != 1 || preview.SelectedDecisions[0].LastDeliveryID != confirmedFailure.ID {
		t.Fatalf("preview decisions: got %+v, %v; want the retry of run_a", preview.SelectedDecisions, err)
	}
	clock.Advance(30 * time.Second)

	request := liveRequest(immediatePolicy())
	request.MaxRetryDeliveries = 1
	request.Confirmed = &Confirmation{Destinations: []string{"webhook"}, Count: 1, Retries: []string{confirmedFailure.ID}}
	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if run.Counts.DeliveredCount != 1 || run.Executions[0].SubjectID != "run_a" {
		t.Errorf("run: got %+v with executions %+v, want the listed retry of run_a delivered", run.Counts, run.Executions)
	}
}

// A confirmation that lists more retries than the run's
// max_retry_deliveries is rejected and sends nothing, because the listed
// retries are looked for among every due one.
func TestConfirmationOverMaxRejected(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	var listed []string
	for i, subject := range []string{"run_1", "run_2", "run_3"} {
		failed := insertDelivery(t, db, subject, "webhook", false, "server_error", 503, serviceStart.Add(-3*time.Hour+time.Duration(i)*time.Second), nil)
		listed = append(listed, failed.ID)
	}
	runsBefore := countTable(t, db, "retry_worker_runs")

	request := liveRequest(immediatePolicy())
	request.MaxRetryDeliveries = 1
	request.Confirmed = &Confirmation{Destinations: []string{"webhook"}, Count: 3, Retries: listed}
	_, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)

	var invalid *ValidationError
	if !errors.As(err, &invalid) || invalid.Field != "confirmed_count" {
		t.Fatalf("Run: got %v, want an error naming confirmed_count", err)
	}
	if !strings.Contains(invalid.Message, "max_retry_deliveries is 1") {
		t.Errorf("message: got %q, want it to name max_retry_deliveries", invalid.Message)
	}
	if got := len(server.Requests()); got != 0 {
		t.Errorf("requests sent: got %d, want none", got)
	}
	if got := countTable(t, db, "retry_worker_runs"); got != runsBefore {
		t.Errorf("worker runs: got %d, want %d (nothing recorded)", got, runsBefore)
	}
}

// When a listed retry is closed by a later success and another run retried
// a different group to the same destination, the error does not name that
// run as the reason.
func TestConfirmationNothingDueNamesNoUnrelatedRun(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	listed := insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, serviceStart.Add(-3*time.Hour), nil)
	unrelated := insertDelivery(t, db, "run_2", "webhook", false, "server_error", 503, serviceStart.Add(-3*time.Hour+time.Second), nil)

	first := liveRequest(immediatePolicy())
	first.Actor = "pat"
	first.Confirmed = &Confirmation{Destinations: []string{"webhook"}, Count: 1, Retries: []string{unrelated.ID}}
	if _, err := service.Run(context.Background(), models.SubjectExecutiveReport, first); err != nil {
		t.Fatalf("first live run: %v", err)
	}
	insertDelivery(t, db, "run_1", "webhook", true, "", 200, serviceStart.Add(-time.Minute), nil)
	clock.Advance(3 * time.Second)

	second := liveRequest(immediatePolicy())
	second.Confirmed = &Confirmation{Destinations: []string{"webhook"}, Count: 1, Retries: []string{listed.ID}}
	_, err := service.Run(context.Background(), models.SubjectExecutiveReport, second)

	var invalid *ValidationError
	if !errors.As(err, &invalid) || invalid.Field != "confirmed_count" {
		t.Fatalf("second live run: got %v, want an error naming confirmed_count", err)
	}
	if invalid.WorkerRunID != "" {
		t.Errorf("WorkerRunID = %q, want none, because that run did not retry the listed retry", invalid.WorkerRunID)
	}
	if !strings.HasPrefix(invalid.Message, "no retry is due now") {
		t.Errorf("message = %q, want the general message", invalid.Message)
	}
}
