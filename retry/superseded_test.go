package retry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// storedAlertDelivery returns a delivery of alert plan planID, whose alert
// is fingerprint, to connector, created at created. A nil completed leaves
// it in flight.
func storedAlertDelivery(id, planID, fingerprint, connector string, success bool, class string, created time.Time, completed *time.Time) models.Delivery {
	record := storedDelivery(id, planID, connector, models.OriginRetry, success, class, created, completed)
	record.SubjectKind, record.SubjectKey = models.SubjectHealthAlert, fingerprint
	return record
}

// Two plans of one alert failed at a destination. Only the newest failure
// is retried, and the older plan's decision names it.
func TestAlertPlanRetriesNewestFailureOnly(t *testing.T) {
	db := dbtest.Open(t)
	start := serviceStart.Add(-time.Hour)
	insertAlertDelivery(t, db, "apl_old", "fp_1", "webhook", start)
	insertAlertDelivery(t, db, "apl_new", "fp_1", "webhook", start.Add(time.Minute))
	insertAlertDelivery(t, db, "apl_old", "fp_1", "slack", start)
	service := newTestService(db, nil, func() time.Time { return serviceStart }, &fakeSource{})

	plan, err := service.Plan(context.Background(), models.SubjectHealthAlert, immediatePolicy(), "release.manager")
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	actions := map[string]DecisionView{}
	for _, decision := range plan.Decisions {
		actions[decision.SubjectID+"/"+decision.Provider] = decision
	}
	newest := actions["apl_new/webhook"]
	if newest.Action != ActionRetry {
		t.Errorf("apl_new/webhook: got %s %q, want retry", newest.Action, newest.Reason)
	}
	older := actions["apl_old/webhook"]
	want := fmt.Sprintf("alert fp_1 failed later at this destination (delivery %s of plan apl_new); that failure is retried instead", newest.LastDeliveryID)
	if older.Action != ActionSuppress || older.Reason != want {
		t.Errorf("apl_old/webhook: got %s %q, want suppress %q", older.Action, older.Reason, want)
	}
	if other := actions["apl_old/slack"]; other.Action != ActionRetry {
		t.Errorf("apl_old/slack: got %s %q, want retry, because no newer plan failed at slack", other.Action, other.Reason)
	}

	due, open, err := service.decideDue(context.Background(), models.SubjectHealthAlert, immediatePolicy(), serviceStart, MaxRetryDeliveriesLimit, nil)
	if err != nil {
		t.Fatalf("decideDue: %v", err)
	}
	checkTally(t, open, OpenFailures{PlanCounts: plan.Counts, NextRetryAt: plan.NextRetryAt})
	var selected []string
	for _, decision := range due {
		selected = append(selected, decision.SubjectID+"/"+decision.Connector)
	}
	if got := strings.Join(selected, ","); got != "apl_old/slack,apl_new/webhook" {
		t.Errorf("selected: got %q, want apl_old/slack,apl_new/webhook", got)
	}
}

// Two plans' failures of one alert at a destination completed at the same
// moment. The greater delivery ID counts as the newer, in Go and in the
// database alike.
func TestAlertFailuresAtSameMomentTieOnID(t *testing.T) {
	db := dbtest.Open(t)
	failedAt := serviceStart.Add(-time.Hour)
	storeDeliveries(t, db,
		storedAlertDelivery("dlv_b", "apl_first", "fp_1", "webhook", false, "server_error", failedAt.Add(-time.Minute), &failedAt),
		storedAlertDelivery("dlv_a", "apl_second", "fp_1", "webhook", false, "server_error", failedAt.Add(-time.Minute), &failedAt))
	service := newTestService(db, nil, func() time.Time { return serviceStart }, &fakeSource{})

	decisions, err := service.decide(context.Background(), models.SubjectHealthAlert, immediatePolicy(), serviceStart)
	if err != nil {
		t.Fatalf("decide: %v", err)
	}
	for _, decision := range decisions {
		want := ActionSuppress
		if decision.LastDeliveryID == "dlv_b" {
			want = ActionRetry
		}
		if decision.Action != want {
			t.Errorf("decision after %s: got %s %q, want %s", decision.LastDeliveryID, decision.Action, decision.Reason, want)
		}
	}
	due, open, err := service.decideDue(context.Background(), models.SubjectHealthAlert, immediatePolicy(), serviceStart, MaxRetryDeliveriesLimit, nil)
	if err != nil {
		t.Fatalf("decideDue: %v", err)
	}
	checkTally(t, open, OpenFailures{PlanCounts: PlanCounts{DecisionCount: 2, RetryCount: 1, SuppressCount: 1}})
	if len(due) != 1 || due[0].LastDeliveryID != "dlv_b" {
		t.Errorf("due: got %+v, want the retry after dlv_b", due)
	}
}

// TestDatabaseRulesAgreeOnAlertGroups stores many alert plans that share
// fingerprints and destinations, with random histories whose failures
// often complete at the same moment. Under several policies, the
// database's tally and selection must equal what decide makes of every
// open group.
func TestDatabaseRulesAgreeOnAlertGroups(t *testing.T) {
	db := dbtest.Open(t)
	random := rand.New(rand.NewPCG(3, 5))
	classes := []string{"server_error", "timeout", "rate_limited", "gone", "client_error", ClassInterrupted}
	connectorNames := []string{"alpha", "beta", "gamma"}
	var records []models.Delivery
	for plan := range 120 {
		planID := fmt.Sprintf("apl_%03d", plan)
		fingerprint := fmt.Sprintf("fp_%02d", random.IntN(25))
		for _, connector := range connectorNames {
			if random.IntN(3) == 0 {
				continue
			}
			// Whole minutes make failures of different plans complete at
			// the same moment often.
			created := decideNow.Add(-time.Duration(random.IntN(8*60)) * time.Minute)
			for n := range 1 + random.IntN(4) {
				id := fmt.Sprintf("dlv_%03d_%s_%d", plan, connector, n)
				completed := created.Add(time.Duration(random.IntN(3)) * time.Minute)
				record := storedAlertDelivery(id, planID, fingerprint, connector, random.IntN(8) == 0,
					classes[random.IntN(len(classes))], created, &completed)
				if record.Success {
					record.ErrorClass = ""
				}
				if record.ErrorClass == "rate_limited" && random.IntN(2) == 0 {
					record.RetryAfter = ptr(completed.Add(time.Duration(random.IntN(600)) * time.Minute))
				}
				if random.IntN(15) == 0 {
					record.State, record.CompletedAt, record.Success, record.ErrorClass = models.DeliveryInFlight, nil, false, ""
				}
				records = append(records, record)
				created = created.Add(time.Duration(1+random.IntN(120)) * time.Minute)
			}
		}
	}
	random.Shuffle(len(records), func(i, j int) { records[i], records[j] = records[j], records[i] })
	storeDeliveries(t, db, records...)

	policies := []Policy{
		DefaultPolicy(),
		{MaxRetryAttempts: 5, RetryDelayMinutes: 10, BackoffMultiplier: 3},
		{MaxRetryAttempts: 20, RetryDelayMinutes: 0, AllowImmediateRetry: true, BackoffMultiplier: 1.5},
		{MaxRetryAttempts: 2, RetryDelayMinutes: 60, BackoffMultiplier: 1},
	}
	service := newTestService(db, nil, func() time.Time { return decideNow }, &fakeSource{})
	for _, policy := range policies {
		t.Run(fmt.Sprintf("%d attempts, %d minutes, ×%g", policy.MaxRetryAttempts, policy.RetryDelayMinutes, policy.BackoffMultiplier), func(t *testing.T) {
			all, err := service.decide(context.Background(), models.SubjectHealthAlert, policy, decideNow)
			if err != nil {
				t.Fatalf("decide: %v", err)
			}
			plan, _ := planRecords(models.SubjectHealthAlert, policy, all, false, "", decideNow)
			checkOneLiveDecisionPerPair(t, all)
			superseded := 0
			var wantDue []Decision
			for _, d := range all {
				if strings.Contains(d.Reason, "failed later at this destination") {
					superseded++
				}
				if d.Action == ActionRetry && len(wantDue) < 10 {
					wantDue = append(wantDue, d)
				}
			}
			if superseded == 0 || plan.RetryCount == 0 {
				t.Fatalf("the stored groups must give superseded and retried decisions; got %d superseded, %d retry", superseded, plan.RetryCount)
			}

			due, open, err := service.decideDue(context.Background(), models.SubjectHealthAlert, policy, decideNow, 10, nil)
			if err != nil {
				t.Fatalf("decideDue: %v", err)
			}
			checkTally(t, open, openFailuresOf(plan))
			if len(due) != len(wantDue) {
				t.Fatalf("due: got %d, want %d", len(due), len(wantDue))
			}
			for i := range due {
				if due[i].SubjectID != wantDue[i].SubjectID || due[i].Connector != wantDue[i].Connector || due[i].Reason != wantDue[i].Reason {
					t.Errorf("due %d: got %s/%s (%s), want %s/%s (%s)", i, due[i].SubjectID, due[i].Connector, due[i].Reason,
						wantDue[i].SubjectID, wantDue[i].Connector, wantDue[i].Reason)
				}
			}
		})
	}
}

// checkOneLiveDecisionPerPair checks that no alert is retried or waits at a
// destination in more than one group.
func checkOneLiveDecisionPerPair(t *testing.T, decisions []Decision) {
	t.Helper()
	live := map[[2]string]string{}
	for _, d := range decisions {
		if d.Action == ActionSuppress {
			continue
		}
		pair := [2]string{d.SubjectKey, d.Connector}
		if other, ok := live[pair]; ok {
			t.Errorf("alert %s at %s: groups of plans %s and %s are both retried or waiting, want one", d.SubjectKey, d.Connector, other, d.SubjectID)
		}
		live[pair] = d.SubjectID
	}
}

// newerFailureSource stores, when a live run first reads a message, a
// failure of another plan of the same alert at the same destination, as a
// send of that plan finishing between the selection and the send would.
type newerFailureSource struct {
	t     *testing.T
	db    *gorm.DB
	clock *testClock
	once  sync.Once
}

func (s *newerFailureSource) Message(_ context.Context, subjectID, connector string) (connectors.Message, error) {
	s.once.Do(func() { insertAlertDelivery(s.t, s.db, "apl_newer", "fp_1", connector, s.clock.Now()) })
	return connectors.Message{IdempotencyKey: "alert-" + subjectID, Event: connectors.EventRetryHealthAlert,
		Title: "Retry health alert", Level: "warning", Summary: "alert", OccurredAt: serviceStart}, nil
}

// A live run selected a plan's retry of an alert, and another plan's send
// of that alert failed at the destination before the retry was sent. The
// retry yields, because the newer failure now governs the next retry.
func TestAlertRetryYieldsToNewerFailure(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	clock := &testClock{now: serviceStart}
	source := &newerFailureSource{t: t, db: db, clock: clock}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/alerts"}), clock.Now, source)
	insertAlertDelivery(t, db, "apl_older", "fp_1", "webhook", serviceStart.Add(-time.Hour))

	run, err := service.Run(context.Background(), models.SubjectHealthAlert, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := len(server.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
	if run.Counts.SkippedCount != 1 || len(run.Executions) != 1 {
		t.Fatalf("run counts: got %+v, want one skipped execution", run.Counts)
	}
	if reason := run.Executions[0].Reason; !strings.Contains(reason, "alert fp_1 failed later at this destination") || !strings.Contains(reason, "apl_newer") {
		t.Errorf("skip reason: got %q, want it to name the newer failure of plan apl_newer", reason)
	}
}
