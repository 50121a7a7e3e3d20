package alerting_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func (f *fixture) acknowledge(t *testing.T, healthID, provider, state string) alerting.AcknowledgeResult {
	t.Helper()
	result, err := f.service.Acknowledge(context.Background(), alerting.AcknowledgeRequest{
		HealthID: healthID, Provider: provider, State: state, Actor: "owner",
	})
	if err != nil {
		t.Fatalf("Acknowledge %s %s %s: %v", healthID, provider, state, err)
	}
	return result
}

func (f *fixture) outstanding(t *testing.T) map[string]string {
	t.Helper()
	dashboard, err := f.service.Dashboard(context.Background(), alerting.DefaultOutstandingQuery())
	if err != nil {
		t.Fatalf("Dashboard: %v", err)
	}
	out := map[string]string{}
	for _, item := range dashboard.OutstandingAcknowledgements {
		out[item.Provider] = item.AcknowledgementState
	}
	if int64(len(out)) != dashboard.OutstandingAcknowledgementCount {
		t.Errorf("outstanding count: got %d, want %d listed", dashboard.OutstandingAcknowledgementCount, len(out))
	}
	return out
}

func TestAcknowledgeUnknownAlertIsNotFound(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha"})
	before := dbtest.CountRows(t, f.db)

	_, err := f.service.Acknowledge(context.Background(), alerting.AcknowledgeRequest{HealthID: "hlth_missing", Provider: "alpha"})

	var notFound *alerting.NotFoundError
	if !errors.As(err, &notFound) {
		t.Fatalf("error: got %v, want not found", err)
	}
	assertRowsUnchanged(t, before, dbtest.CountRows(t, f.db))
}

func TestAcknowledgeWrongDestinationIsUnprocessable(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha", "beta": "/webhook/beta"})
	result := f.deliver(t, func(r *alerting.DeliverRequest) { r.Provider = "alpha" })
	before := dbtest.CountRows(t, f.db)

	cases := []alerting.AcknowledgeRequest{
		{HealthID: result.Health.HealthID, Provider: "beta"},
		{HealthID: result.Health.HealthID, Provider: "nobody"},
		{HealthID: result.Health.HealthID, Provider: "alpha", PlanID: "alp_other"},
	}
	for _, req := range cases {
		_, err := f.service.Acknowledge(context.Background(), req)
		var unprocessable *alerting.UnprocessableError
		if !errors.As(err, &unprocessable) {
			t.Errorf("%+v: got %v, want unprocessable", req, err)
		}
	}
	assertRowsUnchanged(t, before, dbtest.CountRows(t, f.db))
}

func TestAcknowledgeSameStateTwiceIsRepeat(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha"})
	healthID := f.deliver(t, nil).Health.HealthID

	first := f.acknowledge(t, healthID, "alpha", "")
	f.clock.Advance(time.Minute)
	second := f.acknowledge(t, healthID, "ALPHA", "acknowledged")

	if first.Repeat || !second.Repeat {
		t.Errorf("repeat flags: got %v then %v, want false then true", first.Repeat, second.Repeat)
	}
	if second.Current.AcknowledgementState != models.AcknowledgementAcknowledged || second.Current.Outstanding {
		t.Errorf("current: got %+v, want acknowledged and not outstanding", second.Current)
	}
	if !second.Current.UpdatedAt.Equal(first.Current.UpdatedAt) {
		t.Errorf("updated_at: got %v, want unchanged %v", second.Current.UpdatedAt, first.Current.UpdatedAt)
	}
	if second.Current.ActionCount != 2 {
		t.Errorf("action count: got %d, want 2 (every action is kept)", second.Current.ActionCount)
	}
}

func TestAcknowledgementStatesAndOutstanding(t *testing.T) {
	cases := []struct {
		state           string
		wantOutstanding bool
	}{
		{models.AcknowledgementDismissed, true},
		{models.AcknowledgementEscalated, true},
		{models.AcknowledgementAcknowledged, false},
		{models.AcknowledgementResolved, false},
	}
	for _, tc := range cases {
		t.Run(tc.state, func(t *testing.T) {
			f := newFixture(t, map[string]string{"alpha": "/webhook/alpha", "beta": "/webhook/beta"})
			healthID := f.deliver(t, nil).Health.HealthID

			result := f.acknowledge(t, healthID, "alpha", tc.state)

			if result.Current.Outstanding != tc.wantOutstanding {
				t.Errorf("result outstanding: got %v, want %v", result.Current.Outstanding, tc.wantOutstanding)
			}
			outstanding := f.outstanding(t)
			state, listed := outstanding["alpha"]
			if listed != tc.wantOutstanding {
				t.Errorf("alpha listed as outstanding: got %v, want %v", listed, tc.wantOutstanding)
			}
			if listed && state != tc.state {
				t.Errorf("outstanding state: got %q, want %q", state, tc.state)
			}
			if outstanding["beta"] != models.AcknowledgementPending {
				t.Errorf("beta: got %q, want pending", outstanding["beta"])
			}
		})
	}
}

func TestAcknowledgementCoversOccurrence(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha"})
	first := f.deliver(t, nil)
	f.acknowledge(t, first.Health.HealthID, "alpha", "acknowledged")

	// A forced re-notification continues the same occurrence.
	f.clock.Advance(time.Minute)
	renotified := f.deliver(t, func(r *alerting.DeliverRequest) { r.Force = true })
	if renotified.Health.OccurrenceID != first.Health.OccurrenceID {
		t.Fatalf("occurrence: got %q, want %q", renotified.Health.OccurrenceID, first.Health.OccurrenceID)
	}
	if _, open := f.outstanding(t)["alpha"]; open {
		t.Errorf("re-notification of an acknowledged occurrence reopened it")
	}

	// New findings start a new occurrence that needs a new acknowledgement.
	f.clock.Advance(time.Minute)
	f.ingestFreshRetryPlan(t, "fresh")
	changed := f.deliver(t, nil)
	if changed.Health.OccurrenceID == first.Health.OccurrenceID {
		t.Fatalf("new findings kept occurrence %q", changed.Health.OccurrenceID)
	}
	if state := f.outstanding(t)["alpha"]; state != models.AcknowledgementPending {
		t.Errorf("new occurrence: got state %q, want pending", state)
	}
}

func TestAcknowledgeConcurrently(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha"})
	healthID := f.deliver(t, nil).Health.HealthID
	states := alerting.AcknowledgementStates()

	const workers = 20
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := range workers {
		wg.Go(func() {
			_, err := f.service.Acknowledge(context.Background(), alerting.AcknowledgeRequest{
				HealthID: healthID, Provider: "alpha", State: states[i%len(states)], Actor: "owner",
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent acknowledgement: %v", err)
		}
	}

	history, err := f.service.History(context.Background(), alerting.HistoryQuery{
		HealthID: healthID, MetadataKind: alerting.KindAlertAcknowledgement, Limit: 100,
	})
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if history.Total != workers {
		t.Fatalf("history: got %d actions, want %d", history.Total, workers)
	}
	page, err := f.service.AcknowledgementPage(context.Background(), healthID, "alpha")
	if err != nil {
		t.Fatalf("AcknowledgementPage: %v", err)
	}
	// The newest action that changed the state decides it.
	var latestChange *alerting.AcknowledgementView
	for i := range page.Actions {
		if !page.Actions[i].Repeat {
			latestChange = &page.Actions[i]
			break
		}
	}
	if latestChange == nil {
		t.Fatal("no action changed the state")
	}
	if page.Current.AcknowledgementState != latestChange.AcknowledgementState {
		t.Errorf("current state: got %q, want the latest change %q", page.Current.AcknowledgementState, latestChange.AcknowledgementState)
	}
	if page.Current.ActionCount != workers || page.Actions[0].Sequence != workers {
		t.Errorf("sequence: action count %d, newest sequence %d, want %d", page.Current.ActionCount, page.Actions[0].Sequence, workers)
	}
	for i, action := range page.Actions {
		if want := workers - i; action.Sequence != want {
			t.Errorf("action %d: sequence %d, want %d (no gaps or duplicates)", i, action.Sequence, want)
		}
	}
}

func TestAcknowledgeRequestValidate(t *testing.T) {
	long := func(n int) string {
		b := make([]rune, n)
		for i := range b {
			b[i] = 'é'
		}
		return string(b)
	}
	cases := []struct {
		field string
		req   alerting.AcknowledgeRequest
	}{
		{"provider", alerting.AcknowledgeRequest{Provider: " "}},
		{"acknowledgement_state", alerting.AcknowledgeRequest{Provider: "a", State: "closed"}},
		{"acknowledgement_state", alerting.AcknowledgeRequest{Provider: "a", State: "pending"}},
		{"external_ref", alerting.AcknowledgeRequest{Provider: "a", ExternalRef: long(201)}},
		{"notes", alerting.AcknowledgeRequest{Provider: "a", Notes: long(2001)}},
		{"external_ref", alerting.AcknowledgeRequest{Provider: "a", ExternalRef: "https://user:pw@tickets.example/x"}},
		{"external_ref", alerting.AcknowledgeRequest{Provider: "a", ExternalRef: "https://tickets.example/x?token=abc"}},
		{"notes", alerting.AcknowledgeRequest{Provider: "a", Notes: "see HTTPS://tickets.example/browse/OPS-1?jwt=eyJ and call back"}},
		{"external_ref", alerting.AcknowledgeRequest{Provider: "a", ExternalRef: "OPS-1\nOPS-2"}},
		{"external_ref", alerting.AcknowledgeRequest{Provider: "a", ExternalRef: "https://tickets.example/x#access_token=abc"}},
		{"external_ref", alerting.AcknowledgeRequest{Provider: "a", ExternalRef: "https://tickets.example:abc/OPS-1"}},
		{"notes", alerting.AcknowledgeRequest{Provider: "a", Notes: "bell \a here"}},
		{"notes", alerting.AcknowledgeRequest{Provider: "a", Notes: "fixed \u202egnp.exe"}},
	}
	for _, tc := range cases {
		var fieldErr *alerting.FieldError
		if err := tc.req.Validate(); !errors.As(err, &fieldErr) || fieldErr.Field != tc.field {
			t.Errorf("%s: got %v, want a field error naming %s", tc.field, err, tc.field)
		}
	}
	ok := alerting.AcknowledgeRequest{Provider: "a", ExternalRef: long(200), Notes: long(2000)}
	if err := ok.Validate(); err != nil {
		t.Errorf("limits: got %v, want valid at exactly 200 and 2000 characters", err)
	}
	plainLinks := alerting.AcknowledgeRequest{Provider: "a", ExternalRef: "https://tickets.example/browse/OPS-1#comment-2",
		Notes: "Tracked in https://tickets.example/browse/OPS-1, paged on-call.\n\tSecond line."}
	if err := plainLinks.Validate(); err != nil {
		t.Errorf("links without credentials: got %v, want valid", err)
	}
}

func TestAcknowledgeRequestLineSeparators(t *testing.T) {
	for _, c := range []rune{'\u2028', '\u2029'} {
		req := alerting.AcknowledgeRequest{Provider: "a", ExternalRef: "OPS-1" + string(c) + "level=ERROR msg=forged"}
		err := req.Validate()
		var fieldErr *alerting.FieldError
		if !errors.As(err, &fieldErr) || fieldErr.Field != "external_ref" {
			t.Fatalf("external_ref with %U: got %v, want a field error naming external_ref", c, err)
		}
		if want := fmt.Sprintf("%U", c); !strings.Contains(fieldErr.Error(), want) {
			t.Errorf("external_ref with %U: got message %q, want it to name %s", c, fieldErr.Error(), want)
		}
	}
}

func TestAcknowledgeRequestBidiControls(t *testing.T) {
	// U+200E and U+200F are the left-to-right and right-to-left marks. The
	// others are the first and last of the embedding and isolate ranges.
	controls := []rune{'\u200e', '\u200f', '\u202a', '\u202e', '\u2066', '\u2069'}
	for _, c := range controls {
		t.Run(fmt.Sprintf("external_ref %U", c), func(t *testing.T) {
			req := alerting.AcknowledgeRequest{Provider: "a", ExternalRef: "OPS-" + string(c) + "1"}
			var fieldErr *alerting.FieldError
			if err := req.Validate(); !errors.As(err, &fieldErr) || fieldErr.Field != "external_ref" {
				t.Errorf("got %v, want a field error naming external_ref", err)
			}
		})
		t.Run(fmt.Sprintf("notes %U", c), func(t *testing.T) {
			req := alerting.AcknowledgeRequest{Provider: "a", Notes: "fixed " + string(c) + "in OPS-1"}
			var fieldErr *alerting.FieldError
			if err := req.Validate(); !errors.As(err, &fieldErr) || fieldErr.Field != "notes" {
				t.Errorf("got %v, want a field error naming notes", err)
			}
		})
	}
}

func TestRepeatAttachesTicketReference(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha"})
	healthID := f.deliver(t, nil).Health.HealthID
	f.acknowledge(t, healthID, "alpha", "acknowledged")

	repeat, err := f.service.Acknowledge(context.Background(), alerting.AcknowledgeRequest{
		HealthID: healthID, Provider: "alpha", State: "acknowledged", ExternalRef: "OPS-9", Actor: "owner",
	})
	if err != nil {
		t.Fatalf("Acknowledge: %v", err)
	}
	if !repeat.Repeat || repeat.Current.ExternalRef != "OPS-9" {
		t.Errorf("repeat with a reference: got repeat %v and current reference %q, want a repeat that attaches OPS-9", repeat.Repeat, repeat.Current.ExternalRef)
	}

	plain := f.acknowledge(t, healthID, "alpha", "acknowledged")
	if plain.Current.ExternalRef != "OPS-9" {
		t.Errorf("repeat without a reference: got current reference %q, want OPS-9 kept", plain.Current.ExternalRef)
	}
	stored, err := f.service.AcknowledgementPage(context.Background(), healthID, "alpha")
	if err != nil {
		t.Fatalf("AcknowledgementPage: %v", err)
	}
	if got := fmt.Sprintf("%+v", stored); !strings.Contains(got, "OPS-9") {
		t.Errorf("stored state: got %s, want the reference OPS-9", got)
	}
}

func TestAcknowledgeRejectsCredentials(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha-secret-path"})
	healthID := f.deliver(t, func(r *alerting.DeliverRequest) { r.Provider = "alpha" }).Health.HealthID
	before := dbtest.CountRows(t, f.db)

	cases := []struct {
		name, externalRef, notes, field string
	}{
		{"configured URL in notes", "", "posted to " + f.receiver.URL + "/webhook/alpha-secret-path", "notes"},
		{"configured path in notes", "", "path /webhook/alpha-secret-path", "notes"},
		{"bearer credential as reference", "Bearer abc123def456ghi789", "", "external_ref"},
		{"password assignment in notes", "", "used password=hunter2x to log in", "notes"},
		{"webhook link without scheme", "hooks.slack.com/services/T0/B0/abcdefgh", "", "external_ref"},
	}
	for _, tc := range cases {
		_, err := f.service.Acknowledge(context.Background(), alerting.AcknowledgeRequest{
			HealthID: healthID, Provider: "alpha", ExternalRef: tc.externalRef, Notes: tc.notes, Actor: "owner",
		})
		var fieldErr *alerting.FieldError
		if !errors.As(err, &fieldErr) {
			t.Errorf("%s: got %v, want a field error", tc.name, err)
			continue
		}
		if fieldErr.Field != tc.field {
			t.Errorf("%s: field: got %q, want %q", tc.name, fieldErr.Field, tc.field)
		}
	}
	assertRowsUnchanged(t, before, dbtest.CountRows(t, f.db))

	_, err := f.service.Acknowledge(context.Background(), alerting.AcknowledgeRequest{
		HealthID: healthID, Provider: "alpha", ExternalRef: "OPS-12",
		Notes: "Rotated the token; password: reset by ops. Basic troubleshooting done.", Actor: "owner",
	})
	if err != nil {
		t.Errorf("prose that names credentials: got %v, want it accepted", err)
	}
}

// The acknowledgement page of a closed occurrence points to the
// destination's outstanding acknowledgement of a newer one.
func TestAcknowledgementPageNamesOtherOutstanding(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha"})
	first := f.deliver(t, nil)
	f.acknowledge(t, first.Health.HealthID, "alpha", "acknowledged")

	page, err := f.service.AcknowledgementPage(context.Background(), first.Health.HealthID, "alpha")
	if err != nil {
		t.Fatalf("AcknowledgementPage: %v", err)
	}
	if page.OtherOutstanding != nil {
		t.Errorf("other outstanding before a new occurrence: got %+v, want none", page.OtherOutstanding)
	}

	f.clock.Advance(time.Minute)
	f.ingestFreshRetryPlan(t, "fresh")
	second := f.deliver(t, nil)
	page, err = f.service.AcknowledgementPage(context.Background(), first.Health.HealthID, "alpha")
	if err != nil {
		t.Fatalf("AcknowledgementPage: %v", err)
	}
	if page.OtherOutstanding == nil || page.OtherOutstanding.HealthID != second.Health.HealthID {
		t.Fatalf("other outstanding: got %+v, want the occurrence of %s", page.OtherOutstanding, second.Health.HealthID)
	}
	if page.OtherOutstanding.AcknowledgementState != models.AcknowledgementPending {
		t.Errorf("other outstanding state: got %q, want pending", page.OtherOutstanding.AcknowledgementState)
	}

	// The newer occurrence's own page names no other.
	page, err = f.service.AcknowledgementPage(context.Background(), second.Health.HealthID, "alpha")
	if err != nil {
		t.Fatalf("AcknowledgementPage: %v", err)
	}
	if page.OtherOutstanding != nil {
		t.Errorf("other outstanding on the newer page: got %+v, want none", page.OtherOutstanding)
	}
}

// A state change keeps the current ticket reference unless the action
// sends a new one or clears it.
func TestStateChangeKeepsTicketReference(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha"})
	healthID := f.deliver(t, nil).Health.HealthID
	act := func(req alerting.AcknowledgeRequest) alerting.AcknowledgeResult {
		t.Helper()
		req.HealthID, req.Provider, req.Actor = healthID, "alpha", "owner"
		result, err := f.service.Acknowledge(context.Background(), req)
		if err != nil {
			t.Fatalf("Acknowledge %+v: %v", req, err)
		}
		return result
	}

	act(alerting.AcknowledgeRequest{State: "escalated", ExternalRef: "INC-500"})
	resolved := act(alerting.AcknowledgeRequest{State: "resolved", Notes: "fixed"})
	if resolved.Current.ExternalRef != "INC-500" {
		t.Errorf("state change without a reference: got current reference %q, want INC-500 kept", resolved.Current.ExternalRef)
	}
	if resolved.Acknowledgement.ExternalRef != "" {
		t.Errorf("action without a reference: got %q stored on the action, want it empty", resolved.Acknowledgement.ExternalRef)
	}

	replaced := act(alerting.AcknowledgeRequest{State: "escalated", ExternalRef: "INC-501"})
	if replaced.Current.ExternalRef != "INC-501" {
		t.Errorf("state change with a reference: got current reference %q, want INC-501", replaced.Current.ExternalRef)
	}

	cleared := act(alerting.AcknowledgeRequest{State: "resolved", ClearExternalRef: true})
	if cleared.Current.ExternalRef != "" {
		t.Errorf("state change that clears the reference: got %q, want it empty", cleared.Current.ExternalRef)
	}

	page, err := f.service.AcknowledgementPage(context.Background(), healthID, "alpha")
	if err != nil {
		t.Fatalf("AcknowledgementPage: %v", err)
	}
	if page.Current.ExternalRef != "" || page.Current.AcknowledgementState != "resolved" {
		t.Errorf("stored state: got %q with reference %q, want resolved without a reference",
			page.Current.AcknowledgementState, page.Current.ExternalRef)
	}
}

func TestClearAndSetReferenceRejected(t *testing.T) {
	req := alerting.AcknowledgeRequest{Provider: "a", ExternalRef: "OPS-1", ClearExternalRef: true}
	var fieldErr *alerting.FieldError
	if err := req.Validate(); !errors.As(err, &fieldErr) || fieldErr.Field != "external_ref" {
		t.Errorf("got %v, want a field error naming external_ref", err)
	}
}
