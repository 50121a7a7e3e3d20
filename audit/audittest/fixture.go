// Package audittest seeds a database with a fixed set of records of every
// kind the audit package counts, for the tests of audit and its handlers.
package audittest

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
)

// Total is the number of records Seed stores: 3 snapshots, 2 alert plans,
// 11 deliveries, 3 acknowledgements, 2 reports, 3 schedule runs, 3 retry
// plans, 4 worker runs and 4 executions. Alert plan destinations, retry
// decisions and acknowledgement states are not history records.
const Total = 35

// Start is the time of the fixture's first record. Every record is stored
// a whole number of minutes later, each at its own time.
var Start = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// At returns Start plus minutes.
func At(minutes int) time.Time { return Start.Add(time.Duration(minutes) * time.Minute) }

func create(t testing.TB, db *gorm.DB, records ...any) {
	t.Helper()
	for _, record := range records {
		if err := db.Create(record).Error; err != nil {
			t.Fatalf("create %T: %v", record, err)
		}
	}
}

// delivery is one completed (or, when inFlight, in-flight) delivery.
func delivery(id, kind, subjectID, connector string, minute int, success, inFlight bool, origin, executionID string) *models.Delivery {
	d := &models.Delivery{
		ID: id, SubjectKind: kind, SubjectID: subjectID, SubjectKey: "key-" + subjectID, Connector: connector,
		ConnectorKind: "webhook", Host: "127.0.0.1", Method: "POST", State: models.DeliveryCompleted, Success: success,
		StatusCode: 200, ErrorClass: "ok", AttemptCount: 1, Attempts: "[]", RequestSummary: "{}",
		IdempotencyKey: "idem-" + id, Origin: origin, RetryExecutionID: executionID, Actor: "fixture.actor",
		StartedAt: At(minute), CreatedAt: At(minute),
	}
	if !success {
		d.StatusCode, d.ErrorClass = 503, "server_error"
	}
	completed := At(minute).Add(time.Second)
	d.CompletedAt = &completed
	if inFlight {
		d.State, d.Success, d.StatusCode, d.ErrorClass, d.CompletedAt = models.DeliveryInFlight, false, 0, "", nil
	}
	return d
}

// Seed stores a known number of records of every kind and outcome, listed
// below; tests derive the counts they expect from this list. Total is the
// number of records it stores.
//
//	health snapshots: h1 healthy (0 findings), h2 warning (2), h3 critical (3, newest)
//	alert plans: pA on h2 (slack selected, teams suppressed), pB on h3 (slack, email selected)
//	alert deliveries: d1 pA/slack sent, d2 pB/slack failed, d3 pB/slack sent,
//	  d4 pB/email failed, d5 pB/email failed (retry x4): open failure pB/email
//	acknowledgements: a1 h2/slack acknowledged, a2 h3/email escalated, a3 h3/email dismissed;
//	  outstanding: h3/slack (pending) and h3/email (dismissed)
//	executive: reports r1, r2; schedule runs s1 (r1), s2 (r2), s3 (r2)
//	executive deliveries: e1 s1/webhook failed, e2 s2/slack failed, e3 s3/slack in flight,
//	  e4 s1/webhook sent (retry x1), e5 s2/slack failed (retry x2), e6 s3/slack sent:
//	  open failure s2/slack
//	retry plans: rp1 executive (dec1 s1 retry, dec2 s2 retry, dec6 s3 retry),
//	  rp2 executive (dec3 s2 wait, dec4 s3 suppress), rp3 health alert (dec5 pB/email retry)
//	worker runs: w1 executive dry, w2 executive dry, w3 executive live, w4 health alert live
//	executions: x1 delivered (e4), x2 failed (e5, open), x3 skipped (closed by e6),
//	  x4 health alert failed (d5)
func Seed(t testing.TB, db *gorm.DB) {
	t.Helper()
	snapshot := func(id, level string, findings, minute int) *models.HealthSnapshot {
		return &models.HealthSnapshot{ID: id, Fingerprint: "fp-" + id, OccurrenceID: id, AlertLevel: level,
			FindingCount: findings, ExpectedIntervalMinutes: 30, StaleMetadataMinutes: 120, Actor: "fixture.actor",
			EvaluatedAt: At(minute), Report: "{}"}
	}
	create(t, db, snapshot("h1", "healthy", 0, 1), snapshot("h2", "warning", 2, 2), snapshot("h3", "critical", 3, 3))

	plan := func(id, healthID, level, actor string, minute int) *models.AlertPlan {
		return &models.AlertPlan{ID: id, HealthID: healthID, OccurrenceID: healthID, Fingerprint: "fp-" + healthID,
			AlertLevel: level, RequestedProviders: "all", SuppressionWindowMinutes: 60, MaxAlerts: 20, Actor: actor,
			CreatedAt: At(minute)}
	}
	destination := func(planID, provider, healthID, decision string, minute int) *models.AlertPlanDestination {
		return &models.AlertPlanDestination{PlanID: planID, Provider: provider, HealthID: healthID, OccurrenceID: healthID,
			Fingerprint: "fp-" + healthID, Decision: decision, AcknowledgementRequired: decision == models.DecisionSelected,
			CreatedAt: At(minute)}
	}
	create(t, db, plan("pA", "h2", "warning", "alice", 4), plan("pB", "h3", "critical", "bob", 5),
		destination("pA", "slack", "h2", models.DecisionSelected, 4),
		destination("pA", "teams", "h2", models.DecisionSuppressed, 4),
		destination("pB", "slack", "h3", models.DecisionSelected, 5),
		destination("pB", "email", "h3", models.DecisionSelected, 5))

	alert := models.SubjectHealthAlert
	create(t, db,
		delivery("d1", alert, "pA", "slack", 6, true, false, models.OriginSend, ""),
		delivery("d2", alert, "pB", "slack", 7, false, false, models.OriginSend, ""),
		delivery("d3", alert, "pB", "slack", 8, true, false, models.OriginSend, ""),
		delivery("d4", alert, "pB", "email", 9, false, false, models.OriginSend, ""))

	ack := func(id, healthID, provider, state string, sequence, minute int) *models.AlertAcknowledgement {
		return &models.AlertAcknowledgement{ID: id, HealthID: healthID, OccurrenceID: healthID, Provider: provider,
			Sequence: sequence, AcknowledgementState: state, Actor: "owner", CreatedAt: At(minute)}
	}
	ackState := func(healthID, provider, state string, sequence int, ackID string) *models.AlertAcknowledgementState {
		return &models.AlertAcknowledgementState{OccurrenceID: healthID, Provider: provider, AcknowledgementState: state,
			Sequence: sequence, AcknowledgementID: ackID, HealthID: healthID, UpdatedAt: At(12)}
	}
	create(t, db,
		ack("a1", "h2", "slack", models.AcknowledgementAcknowledged, 1, 10),
		ack("a2", "h3", "email", models.AcknowledgementEscalated, 1, 11),
		ack("a3", "h3", "email", models.AcknowledgementDismissed, 2, 12),
		ackState("h2", "slack", models.AcknowledgementAcknowledged, 1, "a1"),
		ackState("h3", "slack", models.AcknowledgementPending, 0, ""),
		ackState("h3", "email", models.AcknowledgementDismissed, 2, "a3"))

	report := func(id string, minute int) *models.ExecutiveReport {
		return &models.ExecutiveReport{ID: id, Status: "warning", RecoverySLOMinutes: 240, PeriodDays: 7,
			PeriodStart: At(minute).Add(-7 * 24 * time.Hour), PeriodEnd: At(minute), ExecutionCount: 4,
			FailedExecutionCount: 1, KeyRiskCount: 1, Actor: "carol", GeneratedAt: At(minute), Report: "{}"}
	}
	run := func(id, reportID string, minute int) *models.ExecutiveScheduleRun {
		return &models.ExecutiveScheduleRun{ID: id, ReportID: reportID, IntervalMinutes: 1440, Enabled: true,
			Cadence: "daily", WindowStart: At(minute).Truncate(24 * time.Hour), WindowEnd: At(minute).Truncate(24 * time.Hour).Add(24 * time.Hour),
			Actor: "carol", CreatedAt: At(minute)}
	}
	create(t, db, report("r1", 13), report("r2", 14), run("s1", "r1", 15), run("s2", "r2", 16), run("s3", "r2", 17))

	executive := models.SubjectExecutiveReport
	create(t, db,
		delivery("e1", executive, "s1", "webhook", 18, false, false, models.OriginSend, ""),
		delivery("e2", executive, "s2", "slack", 19, false, false, models.OriginSend, ""),
		delivery("e3", executive, "s3", "slack", 20, false, true, models.OriginSend, ""))

	// A plan's counts tally its decisions below.
	retryPlan := func(id, kind string, minute, retries, waits, suppressions int) *models.RetryPlan {
		return &models.RetryPlan{ID: id, SubjectKind: kind, MaxRetryAttempts: 3, RetryDelayMinutes: 30,
			BackoffMultiplier: 2, DecisionCount: retries + waits + suppressions, RetryCount: retries,
			WaitCount: waits, SuppressCount: suppressions, Actor: "dave", CreatedAt: At(minute)}
	}
	decision := func(id, planID, kind, subjectID, connector, action string, position int) *models.RetryDecision {
		return &models.RetryDecision{ID: id, PlanID: planID, Position: position, SubjectKind: kind, SubjectID: subjectID,
			SubjectKey: "key-" + subjectID, Connector: connector, Action: action, FailureCount: 1,
			LastErrorClass: "server_error", State: models.DecisionNone}
	}
	create(t, db, retryPlan("rp1", executive, 21, 3, 0, 0), retryPlan("rp2", executive, 22, 0, 1, 1), retryPlan("rp3", alert, 23, 1, 0, 0),
		decision("dec1", "rp1", executive, "s1", "webhook", "retry", 0),
		decision("dec2", "rp1", executive, "s2", "slack", "retry", 1),
		decision("dec6", "rp1", executive, "s3", "slack", "retry", 2),
		decision("dec3", "rp2", executive, "s2", "slack", "wait", 0),
		decision("dec4", "rp2", executive, "s3", "slack", "suppress", 1),
		decision("dec5", "rp3", alert, "pB", "email", "retry", 0))

	workerRun := func(id, kind, planID string, dry bool, created time.Time) *models.RetryWorkerRun {
		return &models.RetryWorkerRun{ID: id, SubjectKind: kind, PlanID: planID, DryRun: dry, Actor: "dave",
			MaxRetryDeliveries: 5, ScheduleEnabled: true, ScheduleIntervalMinutes: 60, ScheduleCadence: "hourly",
			WindowStart: created, WindowEnd: created.Add(time.Hour), State: models.WorkerRunCompleted, CreatedAt: created}
	}
	create(t, db, workerRun("w1", executive, "rp1", true, At(24)), workerRun("w2", executive, "rp2", true, At(25)),
		workerRun("w3", executive, "rp1", false, At(26)), workerRun("w4", alert, "rp3", false, At(26).Add(30*time.Second)))

	execution := func(id, decisionID, runID, planID, kind, subjectID, connector, outcome, deliveryID string, minute int) *models.RetryExecution {
		completed := At(minute).Add(2 * time.Second)
		return &models.RetryExecution{ID: id, DecisionID: decisionID, WorkerRunID: runID, PlanID: planID,
			SubjectKind: kind, SubjectID: subjectID, SubjectKey: "key-" + subjectID, Connector: connector, Outcome: outcome,
			DeliveryID: deliveryID, IdempotencyKey: "idem-" + decisionID, StartedAt: At(minute), CompletedAt: &completed}
	}
	create(t, db,
		execution("x1", "dec1", "w3", "rp1", executive, "s1", "webhook", models.ExecutionDelivered, "e4", 27),
		delivery("e4", executive, "s1", "webhook", 27, true, false, models.OriginRetry, "x1"),
		execution("x2", "dec2", "w3", "rp1", executive, "s2", "slack", models.ExecutionFailed, "e5", 28),
		delivery("e5", executive, "s2", "slack", 28, false, false, models.OriginRetry, "x2"),
		execution("x3", "dec6", "w3", "rp1", executive, "s3", "slack", models.ExecutionSkipped, "", 29),
		execution("x4", "dec5", "w4", "rp3", alert, "pB", "email", models.ExecutionFailed, "d5", 30),
		delivery("d5", alert, "pB", "email", 30, false, false, models.OriginRetry, "x4"),
		delivery("e6", executive, "s3", "slack", 31, true, false, models.OriginSend, ""))
}
