package retry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// storedDelivery returns a delivery of schedule run subjectID to connector,
// created at created. A nil completed leaves it in flight.
func storedDelivery(id, subjectID, connector, origin string, success bool, class string, created time.Time, completed *time.Time) models.Delivery {
	record := models.Delivery{
		ID: id, SubjectKind: models.SubjectExecutiveReport, SubjectID: subjectID, SubjectKey: "rep_" + subjectID,
		Connector: connector, ConnectorKind: "webhook", State: models.DeliveryInFlight, Success: success, ErrorClass: class,
		Attempts: "[]", RequestSummary: "{}", IdempotencyKey: "idem-" + id, Origin: origin, Actor: "tester",
		StartedAt: created, CreatedAt: created,
	}
	if completed != nil {
		record.State = models.DeliveryCompleted
		record.CompletedAt = completed
	}
	return record
}

func storeDeliveries(t testing.TB, db *gorm.DB, records ...models.Delivery) {
	t.Helper()
	if err := db.CreateInBatches(records, 50).Error; err != nil {
		t.Fatalf("store deliveries: %v", err)
	}
}

func openGroupsByKey(t testing.TB, db *gorm.DB) map[string]models.DeliveryGroup {
	t.Helper()
	groups, err := models.OpenDeliveryGroups(context.Background(), db, models.SubjectExecutiveReport)
	if err != nil {
		t.Fatalf("OpenDeliveryGroups: %v", err)
	}
	out := map[string]models.DeliveryGroup{}
	for _, g := range groups {
		out[g.SubjectID+"/"+g.Connector] = g
	}
	return out
}

// TestGroupStateFollowsDeliveries checks the stored state of each group
// against the rule: a success closes every failure created before it, and
// the newest failure after the latest success is the one a retry follows.
func TestGroupStateFollowsDeliveries(t *testing.T) {
	at := func(minutes int) time.Time { return decideNow.Add(time.Duration(minutes) * time.Minute) }
	done := func(minutes int) *time.Time { t := at(minutes); return &t }
	cases := []struct {
		name         string
		deliveries   []models.Delivery
		wantOpen     bool
		wantFailures int
		wantLatest   string
		wantInFlight *time.Time
	}{
		{"failure alone is open", []models.Delivery{
			storedDelivery("d1", "r1", "slack", models.OriginSend, false, "server_error", at(0), done(1)),
		}, true, 1, "d1", nil},
		{"later success closes", []models.Delivery{
			storedDelivery("d1", "r1", "slack", models.OriginSend, false, "server_error", at(0), done(1)),
			storedDelivery("d2", "r1", "slack", models.OriginSend, true, "", at(2), done(3)),
		}, false, 0, "", nil},
		{"failure after success counts alone", []models.Delivery{
			storedDelivery("d1", "r1", "slack", models.OriginSend, false, "server_error", at(0), done(1)),
			storedDelivery("d2", "r1", "slack", models.OriginSend, true, "", at(2), done(3)),
			storedDelivery("d3", "r1", "slack", models.OriginRetry, false, "timeout", at(4), done(5)),
		}, true, 1, "d3", nil},
		{"success of another destination does not close", []models.Delivery{
			storedDelivery("d1", "r1", "slack", models.OriginSend, false, "server_error", at(0), done(1)),
			storedDelivery("d2", "r1", "teams", models.OriginSend, true, "", at(2), done(3)),
		}, true, 1, "d1", nil},
		// Order is by creation, so a failure that completes after a success
		// created later stays closed.
		{"failure completed after a later success stays closed", []models.Delivery{
			storedDelivery("d2", "r1", "slack", models.OriginSend, true, "", at(2), done(3)),
			storedDelivery("d1", "r1", "slack", models.OriginSend, false, "server_error", at(0), done(9)),
		}, false, 0, "", nil},
		{"two failures stored newest first", []models.Delivery{
			storedDelivery("d2", "r1", "slack", models.OriginRetry, false, "server_error", at(2), done(3)),
			storedDelivery("d1", "r1", "slack", models.OriginSend, false, "server_error", at(0), done(1)),
		}, true, 2, "d2", nil},
		{"same creation time orders by id", []models.Delivery{
			storedDelivery("d1", "r1", "slack", models.OriginSend, false, "server_error", at(0), done(1)),
			storedDelivery("d2", "r1", "slack", models.OriginSend, true, "", at(0), done(1)),
		}, false, 0, "", nil},
		{"retry in flight after the failure", []models.Delivery{
			storedDelivery("d1", "r1", "slack", models.OriginSend, false, "server_error", at(0), done(1)),
			storedDelivery("d2", "r1", "slack", models.OriginRetry, false, "", at(2), nil),
		}, true, 1, "d1", ptr(at(2))},
		{"first send in flight is no retry under way", []models.Delivery{
			storedDelivery("d1", "r1", "slack", models.OriginSend, false, "server_error", at(0), done(1)),
			storedDelivery("d2", "r1", "slack", models.OriginSend, false, "", at(2), nil),
		}, true, 1, "d1", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := dbtest.Open(t)
			for _, record := range tc.deliveries {
				storeDeliveries(t, db, record)
			}
			group, open := openGroupsByKey(t, db)["r1/slack"]
			if open != tc.wantOpen {
				t.Fatalf("open: got %v, want %v (%+v)", open, tc.wantOpen, group)
			}
			if !open {
				return
			}
			if group.FailureCount != tc.wantFailures || group.LastFailureID != tc.wantLatest {
				t.Errorf("failures: got %d, latest %q; want %d, latest %q", group.FailureCount, group.LastFailureID, tc.wantFailures, tc.wantLatest)
			}
			if group.SubjectKey != "rep_r1" || group.LastIdempotencyKey != "idem-"+tc.wantLatest {
				t.Errorf("keys: got subject key %q and idempotency key %q", group.SubjectKey, group.LastIdempotencyKey)
			}
			if (group.InFlightSince == nil) != (tc.wantInFlight == nil) ||
				(tc.wantInFlight != nil && !group.InFlightSince.Equal(*tc.wantInFlight)) {
				t.Errorf("in flight since: got %v, want %v", group.InFlightSince, tc.wantInFlight)
			}
		})
	}
}

// TestGroupStateFollowsCompletion completes an in-flight retry in place, as
// a worker records its outcome, and checks that the group follows.
func TestGroupStateFollowsCompletion(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	first := decideNow.Add(time.Second)
	storeDeliveries(t, db, storedDelivery("d1", "r1", "slack", models.OriginSend, false, "server_error", decideNow, &first))
	retried := storedDelivery("d2", "r1", "slack", models.OriginRetry, false, "", decideNow.Add(time.Hour), nil)
	storeDeliveries(t, db, retried)

	completed := decideNow.Add(time.Hour + time.Second)
	retryAfter := completed.Add(10 * time.Minute)
	retried.ErrorClass, retried.StatusCode, retried.CompletedAt, retried.RetryAfter = "rate_limited", 429, &completed, &retryAfter
	if err := models.CompleteDelivery(ctx, db, &retried); err != nil {
		t.Fatalf("CompleteDelivery: %v", err)
	}
	group := openGroupsByKey(t, db)["r1/slack"]
	if group.FailureCount != 2 || group.LastFailureID != "d2" || group.InFlightSince != nil || group.LastStatusCode != 429 ||
		group.LastErrorClass != "rate_limited" || group.LastFailureAt == nil || !group.LastFailureAt.Equal(completed) ||
		group.LastRetryAfter == nil || !group.LastRetryAfter.Equal(retryAfter) {
		t.Fatalf("after a failed retry: got %+v", group)
	}

	success := storedDelivery("d3", "r1", "slack", models.OriginRetry, false, "", decideNow.Add(2*time.Hour), nil)
	storeDeliveries(t, db, success)
	success.Success = true
	success.CompletedAt = ptr(decideNow.Add(2*time.Hour + time.Second))
	if err := models.CompleteDelivery(ctx, db, &success); err != nil {
		t.Fatalf("CompleteDelivery: %v", err)
	}
	if group, open := openGroupsByKey(t, db)["r1/slack"]; open {
		t.Fatalf("after a delivered retry: got an open group %+v", group)
	}
}

// TestDatabaseRulesAgreeWithDecide stores each decision table case as
// deliveries and checks that the counts and selection the database makes
// for a worker run agree with Decide.
func TestDatabaseRulesAgreeWithDecide(t *testing.T) {
	for _, tc := range decideTable() {
		t.Run(tc.name, func(t *testing.T) {
			db := dbtest.Open(t)
			service := newTestService(db, nil, func() time.Time { return decideNow }, &fakeSource{})
			service.InFlightTimeout = 5 * time.Minute
			for i, failure := range tc.failures {
				completed := failure.At
				record := storedDelivery(failure.DeliveryID, "run_1", "webhook", models.OriginSend, false, failure.Class,
					failure.At.Add(-time.Duration(len(tc.failures)-i)*time.Second), &completed)
				record.StatusCode, record.RetryAfter, record.IdempotencyKey = failure.StatusCode, failure.RetryAfter, failure.IdempotencyKey
				storeDeliveries(t, db, record)
			}
			if tc.inFlight != nil {
				storeDeliveries(t, db, storedDelivery("dlv_in_flight", "run_1", "webhook", models.OriginRetry, false, "", *tc.inFlight, nil))
			}

			want := Decide(tc.policy, groupOfFailures(tc.failures, tc.inFlight), decideNow, service.InFlightTimeout)
			due, open, err := service.decideDue(context.Background(), models.SubjectExecutiveReport, tc.policy, decideNow, MaxRetryDeliveriesLimit, nil)
			if err != nil {
				t.Fatalf("decideDue: %v", err)
			}
			wantOpen := OpenFailures{PlanCounts: PlanCounts{DecisionCount: 1}, NextRetryAt: want.NextRetryAt}
			switch want.Action {
			case ActionRetry:
				wantOpen.RetryCount = 1
			case ActionWait:
				wantOpen.WaitCount = 1
			case ActionSuppress:
				wantOpen.SuppressCount = 1
			}
			checkTally(t, open, wantOpen)
			if got := len(due); got != wantOpen.RetryCount {
				t.Fatalf("due decisions: got %d, want %d", got, wantOpen.RetryCount)
			}
			if len(due) == 1 && (due[0].Reason != want.Reason || due[0].LastDeliveryID != want.LastDeliveryID || due[0].FailureCount != want.FailureCount) {
				t.Errorf("due decision: got %+v, want %+v", due[0], want)
			}
		})
	}
}

func checkTally(t *testing.T, got, want OpenFailures) {
	t.Helper()
	if got.PlanCounts != want.PlanCounts {
		t.Errorf("counts: got %+v, want %+v", got.PlanCounts, want.PlanCounts)
	}
	switch {
	case (got.NextRetryAt == nil) != (want.NextRetryAt == nil):
		t.Errorf("next retry: got %v, want %v", got.NextRetryAt, want.NextRetryAt)
	// SQLite works out how far a Retry-After time lies past the failure
	// from Julian day numbers, which keep about a millisecond.
	case got.NextRetryAt != nil && got.NextRetryAt.Sub(*want.NextRetryAt).Abs() > time.Millisecond:
		t.Errorf("next retry: got %v, want %v", *got.NextRetryAt, *want.NextRetryAt)
	}
}

// TestDatabaseRulesAgreeOnManyGroups stores many groups with random
// histories and checks, under several policies, that the database's tally
// and selection equal what Decide makes of every open group.
func TestDatabaseRulesAgreeOnManyGroups(t *testing.T) {
	db := dbtest.Open(t)
	random := rand.New(rand.NewPCG(7, 11))
	classes := []string{"server_error", "timeout", "rate_limited", "gone", "client_error", "auth_error", ClassInterrupted}
	var records []models.Delivery
	for g := range 300 {
		subject := fmt.Sprintf("run_%03d", g)
		created := decideNow.Add(-time.Duration(random.IntN(72*60)) * time.Minute)
		for n := range 1 + random.IntN(5) {
			id := fmt.Sprintf("dlv_%03d_%d", g, n)
			completed := created.Add(time.Duration(random.IntN(90)) * time.Second)
			record := storedDelivery(id, subject, "webhook", models.OriginRetry, random.IntN(6) == 0, classes[random.IntN(len(classes))], created, &completed)
			if record.Success {
				record.ErrorClass = ""
			}
			if record.ErrorClass == "rate_limited" && random.IntN(2) == 0 {
				record.RetryAfter = ptr(completed.Add(time.Duration(random.IntN(600)) * time.Minute))
			}
			if random.IntN(12) == 0 {
				record.State, record.CompletedAt, record.Success, record.ErrorClass = models.DeliveryInFlight, nil, false, ""
			}
			records = append(records, record)
			created = created.Add(time.Duration(1+random.IntN(240)) * time.Minute)
		}
	}
	random.Shuffle(len(records), func(i, j int) { records[i], records[j] = records[j], records[i] })
	storeDeliveries(t, db, records...)
	checkGroupState(t, db, records)

	policies := []Policy{
		DefaultPolicy(),
		{MaxRetryAttempts: 5, RetryDelayMinutes: 10, BackoffMultiplier: 3},
		{MaxRetryAttempts: 20, RetryDelayMinutes: 0, AllowImmediateRetry: true, BackoffMultiplier: 1.5},
		{MaxRetryAttempts: 1, RetryDelayMinutes: 60, BackoffMultiplier: 1},
	}
	service := newTestService(db, nil, func() time.Time { return decideNow }, &fakeSource{})
	for _, policy := range policies {
		t.Run(fmt.Sprintf("%d attempts, %d minutes, ×%g", policy.MaxRetryAttempts, policy.RetryDelayMinutes, policy.BackoffMultiplier), func(t *testing.T) {
			all, err := service.decide(context.Background(), models.SubjectExecutiveReport, policy, decideNow)
			if err != nil {
				t.Fatalf("decide: %v", err)
			}
			plan, _ := planRecords(models.SubjectExecutiveReport, policy, all, false, "", decideNow)
			var wantDue []Decision
			for _, d := range all {
				if d.Action == ActionRetry && len(wantDue) < 10 {
					wantDue = append(wantDue, d)
				}
			}
			if policy == DefaultPolicy() && (plan.RetryCount == 0 || plan.WaitCount == 0 || plan.SuppressCount == 0) {
				t.Fatalf("the stored groups must give every action; got %d retry, %d wait, %d suppress",
					plan.RetryCount, plan.WaitCount, plan.SuppressCount)
			}

			due, open, err := service.decideDue(context.Background(), models.SubjectExecutiveReport, policy, decideNow, 10, nil)
			if err != nil {
				t.Fatalf("decideDue: %v", err)
			}
			checkTally(t, open, openFailuresOf(plan))
			if len(due) != len(wantDue) {
				t.Fatalf("due: got %d, want %d", len(due), len(wantDue))
			}
			for i := range due {
				if due[i].SubjectID != wantDue[i].SubjectID || due[i].Reason != wantDue[i].Reason {
					t.Errorf("due %d: got %s (%s), want %s (%s)", i, due[i].SubjectID, due[i].Reason, wantDue[i].SubjectID, wantDue[i].Reason)
				}
			}
		})
	}
}

// checkGroupState compares the stored state of every group with the state
// worked out from its deliveries in Go.
func checkGroupState(t *testing.T, db *gorm.DB, records []models.Delivery) {
	t.Helper()
	type state struct {
		failures   int
		latest     *models.Delivery
		inFlight   *models.Delivery
		retryAfter *time.Time
	}
	after := func(a, b models.Delivery) bool {
		return a.CreatedAt.After(b.CreatedAt) || a.CreatedAt.Equal(b.CreatedAt) && a.ID > b.ID
	}
	lastSuccess := map[string]models.Delivery{}
	for _, r := range records {
		key := r.SubjectID + "/" + r.Connector
		if s, ok := lastSuccess[key]; r.Success && (!ok || after(r, s)) {
			lastSuccess[key] = r
		}
	}
	want := map[string]*state{}
	for i, r := range records {
		key := r.SubjectID + "/" + r.Connector
		if s, ok := lastSuccess[key]; ok && !after(r, s) {
			continue
		}
		if want[key] == nil {
			want[key] = &state{}
		}
		w := want[key]
		switch {
		case r.State == models.DeliveryInFlight:
			if r.Origin == models.OriginRetry && (w.inFlight == nil || after(r, *w.inFlight)) {
				w.inFlight = &records[i]
			}
		case !r.Success:
			w.failures++
			if w.latest == nil || after(r, *w.latest) {
				w.latest = &records[i]
			}
			if r.RetryAfter != nil && (w.retryAfter == nil || r.RetryAfter.After(*w.retryAfter)) {
				w.retryAfter = r.RetryAfter
			}
		}
	}
	got := openGroupsByKey(t, db)
	open := 0
	for key, w := range want {
		if w.failures == 0 {
			continue
		}
		open++
		g, ok := got[key]
		if !ok {
			t.Errorf("group %s: not open, want %d failures", key, w.failures)
			continue
		}
		if g.FailureCount != w.failures || g.LastFailureID != w.latest.ID || !g.LastFailureAt.Equal(*w.latest.CompletedAt) {
			t.Errorf("group %s: got %d failures, latest %s at %v; want %d, %s at %v", key, g.FailureCount, g.LastFailureID,
				g.LastFailureAt, w.failures, w.latest.ID, *w.latest.CompletedAt)
		}
		if (g.InFlightSince == nil) != (w.inFlight == nil) || w.inFlight != nil && !g.InFlightSince.Equal(w.inFlight.StartedAt) {
			t.Errorf("group %s: in flight since %v, want %v", key, g.InFlightSince, w.inFlight)
		}
		if (g.LastRetryAfter == nil) != (w.retryAfter == nil) || w.retryAfter != nil && !g.LastRetryAfter.Equal(*w.retryAfter) {
			t.Errorf("group %s: Retry-After %v, want the latest of its open failures %v", key, g.LastRetryAfter, w.retryAfter)
		}
	}
	if len(got) != open {
		t.Errorf("open groups: got %d, want %d", len(got), open)
	}
}

// TestGroupStateFollowsCreationOrder completes and writes deliveries out of
// creation order. The state still follows creation order: a success closes
// only what was created before it, and an in-flight retry created before
// the latest success is no retry under way.
func TestGroupStateFollowsCreationOrder(t *testing.T) {
	at := func(minutes int) time.Time { return decideNow.Add(time.Duration(minutes) * time.Minute) }
	done := func(minutes int) *time.Time { t := at(minutes); return &t }
	ctx := context.Background()

	t.Run("success completed after a newer failure", func(t *testing.T) {
		db := dbtest.Open(t)
		storeDeliveries(t, db, storedDelivery("d1", "r1", "slack", models.OriginSend, false, "server_error", at(0), done(1)))
		success := storedDelivery("d2", "r1", "slack", models.OriginRetry, false, "", at(2), nil)
		storeDeliveries(t, db, success)
		storeDeliveries(t, db, storedDelivery("d3", "r1", "slack", models.OriginSend, false, "timeout", at(3), done(4)))

		success.Success, success.CompletedAt = true, done(5)
		if err := models.CompleteDelivery(ctx, db, &success); err != nil {
			t.Fatalf("CompleteDelivery: %v", err)
		}

		group, open := openGroupsByKey(t, db)["r1/slack"]
		if !open {
			t.Fatal("group closed, want it open with the failure created after the success")
		}
		if group.FailureCount != 1 || group.LastFailureID != "d3" {
			t.Errorf("failures: got %d, latest %q; want 1, latest d3", group.FailureCount, group.LastFailureID)
		}
	})

	t.Run("in-flight retry created before the latest success", func(t *testing.T) {
		db := dbtest.Open(t)
		storeDeliveries(t, db,
			storedDelivery("d1", "r1", "slack", models.OriginSend, false, "server_error", at(0), done(1)),
			storedDelivery("d3", "r1", "slack", models.OriginSend, true, "", at(3), done(4)),
			storedDelivery("d4", "r1", "slack", models.OriginSend, false, "timeout", at(5), done(6)))
		storeDeliveries(t, db, storedDelivery("d2", "r1", "slack", models.OriginRetry, false, "", at(2), nil))

		group, open := openGroupsByKey(t, db)["r1/slack"]
		if !open {
			t.Fatal("group closed, want it open with the failure created after the success")
		}
		if group.FailureCount != 1 || group.LastFailureID != "d4" {
			t.Errorf("failures: got %d, latest %q; want 1, latest d4", group.FailureCount, group.LastFailureID)
		}
		if group.InFlightSince != nil {
			t.Errorf("in flight since: got %v, want none", *group.InFlightSince)
		}
	})
}

// insertAlertDelivery stores one failed health alert delivery of plan
// planID, whose alert is fingerprint, to connector.
func insertAlertDelivery(t *testing.T, db *gorm.DB, planID, fingerprint, connector string, at time.Time) {
	t.Helper()
	storeAlertDelivery(t, db, planID, fingerprint, connector, false, at)
}

// storeAlertDelivery stores one completed health alert delivery of plan
// planID, whose alert is fingerprint, to connector: a success (200) or a
// failure (503).
func storeAlertDelivery(t *testing.T, db *gorm.DB, planID, fingerprint, connector string, success bool, at time.Time) {
	t.Helper()
	record := models.Delivery{
		ID: models.NewID("dlv", at), SubjectKind: models.SubjectHealthAlert, SubjectID: planID, SubjectKey: fingerprint,
		Connector: connector, State: models.DeliveryInFlight, Attempts: "[]", RequestSummary: "{}",
		IdempotencyKey: "idem-" + planID + "-" + connector, Origin: models.OriginSend, Actor: "release.manager",
		StartedAt: at, CreatedAt: at,
	}
	if err := models.CreateDelivery(db, &record); err != nil {
		t.Fatalf("CreateDelivery: %v", err)
	}
	completed := at.Add(time.Second)
	record.ErrorClass, record.StatusCode, record.AttemptCount, record.ConnectorKind, record.CompletedAt = "server_error", 503, 1, "webhook", &completed
	if success {
		record.Success, record.ErrorClass, record.StatusCode = true, "", 200
	}
	if err := models.CompleteDelivery(context.Background(), db, &record); err != nil {
		t.Fatalf("CompleteDelivery: %v", err)
	}
}

// Six older plans of one alert failed to teams, and a newer plan failed
// to slack and webhook. Teams is retried once per run, so a run of three
// fills its other two places with the newer destinations.
func TestAlertRunFillsLimitWithDistinctDestinations(t *testing.T) {
	db := dbtest.Open(t)
	start := serviceStart.Add(-3 * time.Hour)
	for i := range 6 {
		insertAlertDelivery(t, db, fmt.Sprintf("alp_old_%d", i), "fp_shared", "teams", start.Add(time.Duration(i)*time.Minute))
	}
	insertAlertDelivery(t, db, "alp_new", "fp_shared", "slack", start.Add(time.Hour))
	insertAlertDelivery(t, db, "alp_new", "fp_shared", "webhook", start.Add(time.Hour+time.Second))
	service := newTestService(db, nil, (&testClock{now: serviceStart}).Now, &fakeSource{})

	request := RunRequest{MaxRetryDeliveries: 3, Policy: immediatePolicy(), Schedule: DefaultSchedule(), Actor: "release.manager"}
	run, err := service.Run(context.Background(), models.SubjectHealthAlert, request)
	if err != nil {
		t.Fatalf("dry Run: %v", err)
	}
	var destinations []string
	for _, decision := range run.SelectedDecisions {
		destinations = append(destinations, decision.Provider)
	}
	slices.Sort(destinations)
	if got := strings.Join(destinations, ","); got != "slack,teams,webhook" {
		t.Errorf("selected destinations: got %q, want slack,teams,webhook", got)
	}
}

// A permanent failure of one alert plan that a later plan's send of the
// same alert repaired is still suppressed, but its reason names the
// delivery that reached the destination, not a fix the operator need not
// make.
func TestPlanNamesLaterDeliveryOfPermanentFailure(t *testing.T) {
	db := dbtest.Open(t)
	failedAt := time.Now().Add(-time.Hour).UTC()
	goneFailure := models.Delivery{
		ID: models.NewID("dlv", failedAt), SubjectKind: models.SubjectHealthAlert, SubjectID: "plan_a", SubjectKey: "fp_gone",
		Connector: "webhook", State: models.DeliveryInFlight, Attempts: "[]", RequestSummary: "{}",
		IdempotencyKey: "idem-plan_a", Origin: models.OriginSend, Actor: "release.manager", StartedAt: failedAt, CreatedAt: failedAt,
	}
	if err := models.CreateDelivery(db, &goneFailure); err != nil {
		t.Fatal(err)
	}
	completed := failedAt.Add(time.Second)
	goneFailure.ErrorClass, goneFailure.StatusCode, goneFailure.AttemptCount, goneFailure.ConnectorKind, goneFailure.CompletedAt = "gone", 410, 1, "webhook", &completed
	if err := models.CompleteDelivery(context.Background(), db, &goneFailure); err != nil {
		t.Fatal(err)
	}
	deliveredAt := failedAt.Add(time.Minute)
	later := models.Delivery{
		ID: models.NewID("dlv", deliveredAt), SubjectKind: models.SubjectHealthAlert, SubjectID: "plan_b", SubjectKey: "fp_gone",
		Connector: "webhook", State: models.DeliveryCompleted, Success: true, StatusCode: 200, AttemptCount: 1, ConnectorKind: "webhook",
		Attempts: "[]", RequestSummary: "{}", IdempotencyKey: "idem-plan_b", Origin: models.OriginSend, Actor: "release.manager",
		StartedAt: deliveredAt, CompletedAt: &deliveredAt, CreatedAt: deliveredAt,
	}
	if err := models.CreateDeliveries(db, []models.Delivery{later}); err != nil {
		t.Fatal(err)
	}
	service := newTestService(db, nil, time.Now, &fakeSource{})

	plan, err := service.Plan(context.Background(), models.SubjectHealthAlert, DefaultPolicy(), "release.manager")
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if len(plan.Decisions) != 1 {
		t.Fatalf("decisions: got %d, want plan_a's one", len(plan.Decisions))
	}
	decision := plan.Decisions[0]
	if decision.Action != ActionSuppress || !strings.Contains(decision.Reason, "was delivered to this destination after this failure") ||
		!strings.Contains(decision.Reason, later.ID) {
		t.Errorf("decision: got %s %q, want suppress naming delivery %s", decision.Action, decision.Reason, later.ID)
	}
}
