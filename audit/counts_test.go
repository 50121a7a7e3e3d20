package audit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/audit/audittest"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// aggregateDashboard computes the dashboard counts with SQL aggregates over
// every row, the definition the trigger-maintained totals must match.
func aggregateDashboard(t *testing.T, db *gorm.DB) Dashboard {
	t.Helper()
	ctx := context.Background()
	count := func(sql string, args ...any) int64 {
		var n int64
		if err := db.Raw(sql, args...).Scan(&n).Error; err != nil {
			t.Fatalf("count %s: %v", sql, err)
		}
		return n
	}
	health, err := models.CountHealthSnapshots(ctx, db)
	if err != nil {
		t.Fatalf("CountHealthSnapshots: %v", err)
	}
	deliveries := func(kind string) DeliveryCounts {
		c, err := models.CountDeliveryOutcomes(ctx, db, kind)
		if err != nil {
			t.Fatalf("CountDeliveryOutcomes: %v", err)
		}
		return DeliveryCounts{DeliveryCount: c.DeliveryCount, SentCount: c.SentCount, FailedCount: c.FailedCount,
			InFlightCount: c.InFlightCount, OpenFailedCount: c.OpenFailureCount}
	}
	outstanding, err := models.CountOutstandingAcknowledgements(ctx, db)
	if err != nil {
		t.Fatalf("CountOutstandingAcknowledgements: %v", err)
	}
	// An alert failure to a destination is open until a success of the same
	// alert (fingerprint) there completes at or after it, whichever plan
	// sent either.
	alerts := deliveries(models.SubjectHealthAlert)
	alerts.OpenFailedCount = count(`SELECT COUNT(*) FROM (SELECT DISTINCT f.subject_key, f.connector FROM deliveries f
		WHERE f.subject_kind = ? AND f.state = 'completed' AND f.success = ?
		AND NOT EXISTS (SELECT 1 FROM deliveries s WHERE s.subject_kind = f.subject_kind AND s.subject_key = f.subject_key
			AND s.connector = f.connector AND s.success = ? AND s.completed_at >= COALESCE(f.completed_at, f.created_at))) open_pairs`,
		models.SubjectHealthAlert, false, true)
	kind := models.SubjectExecutiveReport
	retries := RetryCounts{
		PlanCount:              count("SELECT COUNT(*) FROM retry_plans WHERE subject_kind = ?", kind),
		RetryableDecisionCount: count("SELECT COALESCE(SUM(retry_count), 0) FROM retry_plans WHERE subject_kind = ?", kind),
		WorkerRunCount:         count("SELECT COUNT(*) FROM retry_worker_runs WHERE subject_kind = ?", kind),
		DryWorkerRunCount:      count("SELECT COUNT(*) FROM retry_worker_runs WHERE subject_kind = ? AND dry_run = ?", kind, true),
		LiveWorkerRunCount:     count("SELECT COUNT(*) FROM retry_worker_runs WHERE subject_kind = ? AND dry_run = ?", kind, false),
		ExecutionCount:         count("SELECT COUNT(*) FROM retry_executions WHERE subject_kind = ?", kind),
		ExecutionsByOutcome:    map[string]int64{},
		OpenFailedExecutionCount: count(`SELECT COUNT(*) FROM retry_executions x WHERE x.subject_kind = ? AND x.outcome IN ('failed', 'skipped')
			AND NOT EXISTS (SELECT 1 FROM deliveries later WHERE later.subject_kind = x.subject_kind AND later.subject_id = x.subject_id
			AND later.connector = x.connector AND later.success = ? AND later.created_at > x.started_at)
			AND EXISTS (SELECT 1 FROM deliveries f WHERE f.subject_kind = x.subject_kind AND f.subject_id = x.subject_id
			AND f.connector = x.connector AND f.state = 'completed' AND f.success = ?
			AND NOT EXISTS (SELECT 1 FROM deliveries s WHERE s.subject_kind = f.subject_kind AND s.subject_id = f.subject_id
			AND s.connector = f.connector AND s.success = ? AND (s.created_at > f.created_at OR (s.created_at = f.created_at AND s.id > f.id))))`,
			kind, true, false, true),
	}
	for _, outcome := range []string{"delivered", "failed", "skipped", "in_flight"} {
		retries.ExecutionsByOutcome[outcome] = count("SELECT COUNT(*) FROM retry_executions WHERE subject_kind = ? AND outcome = ?", kind, outcome)
	}
	return Dashboard{
		Health: HealthCounts{EvaluationCount: health.EvaluationCount, FindingCount: health.FindingCount},
		Alerts: AlertCounts{
			PlanCount: count("SELECT COUNT(*) FROM alert_plans"), Deliveries: alerts,
			SuppressionCount:                count("SELECT COUNT(*) FROM alert_plan_destinations WHERE decision = 'suppressed'"),
			AcknowledgementCount:            count("SELECT COUNT(*) FROM alert_acknowledgements"),
			OutstandingAcknowledgementCount: outstanding,
		},
		Executive: ExecutiveCounts{
			ReportCount: count("SELECT COUNT(*) FROM executive_reports"), ScheduleRunCount: count("SELECT COUNT(*) FROM executive_schedule_runs"),
			Deliveries: deliveries(kind),
		},
		ExecutiveRetries: retries,
	}
}

// checkCountsMatch compares every count of the dashboard with the aggregates.
func checkCountsMatch(t *testing.T, service *Service) {
	t.Helper()
	got, err := service.Dashboard(context.Background())
	if err != nil {
		t.Fatalf("Dashboard: %v", err)
	}
	want := aggregateDashboard(t, service.DB)
	pairs := []struct {
		name      string
		got, want any
	}{
		{"health", got.Health.EvaluationCount, want.Health.EvaluationCount},
		{"findings", got.Health.FindingCount, want.Health.FindingCount},
		{"alerts", fmt.Sprintf("%+v", got.Alerts), fmt.Sprintf("%+v", want.Alerts)},
		{"executive", fmt.Sprintf("%+v", got.Executive), fmt.Sprintf("%+v", want.Executive)},
		{"executive retries", fmt.Sprintf("%+v", got.ExecutiveRetries), fmt.Sprintf("%+v", want.ExecutiveRetries)},
	}
	for _, pair := range pairs {
		if pair.got != pair.want {
			t.Errorf("%s (%s): got %v from running totals, want %v from aggregates", pair.name, dbtest.Describe(), pair.got, pair.want)
		}
	}
}

func TestRunningTotalsMatchFixture(t *testing.T) {
	_, service := openFixture(t)
	checkCountsMatch(t, service)
}

func TestRunningTotalsMatchLiveRetry(t *testing.T) {
	live := runLiveRetry(t)
	checkCountsMatch(t, live.service)
}

func TestRunningTotalsFollowUpdatesAndDeletes(t *testing.T) {
	db, service := openFixture(t)
	steps := []string{
		// The in-flight e3 completes successfully.
		"UPDATE deliveries SET state = 'completed', success = TRUE WHERE id = 'e3'",
		// A later success closes the open failure of pB/email and repairs x4.
		"UPDATE deliveries SET success = TRUE, created_at = created_at WHERE id = 'd5'",
		"UPDATE alert_acknowledgement_states SET acknowledgement_state = 'resolved' WHERE occurrence_id = 'h3' AND provider = 'email'",
		"UPDATE retry_executions SET outcome = 'failed' WHERE id = 'x1'",
		"UPDATE health_snapshots SET finding_count = 7 WHERE id = 'h1'",
		"DELETE FROM alert_acknowledgements WHERE id = 'a2'",
	}
	for _, step := range steps {
		if err := db.Exec(step).Error; err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		checkCountsMatch(t, service)
	}
}

// TestRunningTotalsIgnoreClosedGroupExecutions stores the skip of a worker
// run that lost its claim to x1 and started after x1's delivery e4 closed
// s1/webhook. A closed group has nothing left to repair, so the skip is not
// counted, on the dashboard or in retry health.
func TestRunningTotalsIgnoreClosedGroupExecutions(t *testing.T) {
	db, service := openFixture(t)
	completed := audittest.At(28).Add(time.Second)
	late := models.RetryExecution{ID: "x5", DecisionID: "dec7", WorkerRunID: "w3", PlanID: "rp1",
		SubjectKind: models.SubjectExecutiveReport, SubjectID: "s1", SubjectKey: "key-s1", Connector: "webhook",
		Outcome: models.ExecutionSkipped, Reason: "already claimed by another worker run; sent at most once",
		IdempotencyKey: "idem-dec1", StartedAt: audittest.At(28), CompletedAt: &completed}
	before, err := service.Dashboard(context.Background())
	if err != nil {
		t.Fatalf("Dashboard: %v", err)
	}
	if err := db.Create(&late).Error; err != nil {
		t.Fatalf("create execution: %v", err)
	}

	checkCountsMatch(t, service)
	after, err := service.Dashboard(context.Background())
	if err != nil {
		t.Fatalf("Dashboard: %v", err)
	}
	if got, want := after.ExecutiveRetries.OpenFailedExecutionCount, before.ExecutiveRetries.OpenFailedExecutionCount; got != want {
		t.Errorf("open failed executions: got %d after the late skip, want %d as before", got, want)
	}
	counts, err := models.CountRetries(context.Background(), db, models.SubjectExecutiveReport)
	if err != nil {
		t.Fatalf("CountRetries: %v", err)
	}
	if counts.OpenFailedExecutions != after.ExecutiveRetries.OpenFailedExecutionCount {
		t.Errorf("retry health open failed executions: got %d, want the dashboard's %d",
			counts.OpenFailedExecutions, after.ExecutiveRetries.OpenFailedExecutionCount)
	}
}

func TestRunningTotalsCompactPendingDeltas(t *testing.T) {
	db := dbtest.Open(t)
	service := newTestService(db)
	series := "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 1500) SELECT n FROM s"
	err := db.Exec(`INSERT INTO health_snapshots (id, fingerprint, occurrence_id, alert_level, finding_count,
		expected_interval_minutes, stale_metadata_minutes, actor, evaluated_at, report)
		SELECT 'h-' || n, 'fp', 'h-' || n, 'warning', 2, 30, 120, 'bench', ?, '{}' FROM (`+series+`) s`, fixtureStart).Error
	if err != nil {
		t.Fatalf("insert snapshots: %v", err)
	}

	var pendingBefore int64
	if err := db.Raw("SELECT COUNT(*) FROM audit_count_deltas").Scan(&pendingBefore).Error; err != nil {
		t.Fatalf("count deltas: %v", err)
	}
	d, err := service.Dashboard(context.Background())
	if err != nil {
		t.Fatalf("Dashboard: %v", err)
	}
	if d.Health.EvaluationCount != 1500 || d.Health.FindingCount != 3000 {
		t.Errorf("health: got %d evaluations and %d findings, want 1500 and 3000", d.Health.EvaluationCount, d.Health.FindingCount)
	}
	var pending int64
	if err := db.Raw("SELECT COUNT(*) FROM audit_count_deltas").Scan(&pending).Error; err != nil {
		t.Fatalf("count deltas: %v", err)
	}
	if pending != pendingBefore {
		t.Errorf("pending deltas after the read: got %d, want %d (a read never compacts)", pending, pendingBefore)
	}
	if err := service.CompactCounts(context.Background()); err != nil {
		t.Fatalf("CompactCounts: %v", err)
	}
	if err := db.Raw("SELECT COUNT(*) FROM audit_count_deltas").Scan(&pending).Error; err != nil {
		t.Fatalf("count deltas: %v", err)
	}
	if pending != 0 {
		t.Errorf("pending deltas after compaction: got %d, want 0", pending)
	}
	again, err := service.Dashboard(context.Background())
	if err != nil {
		t.Fatalf("second Dashboard: %v", err)
	}
	if again.Health.EvaluationCount != 1500 {
		t.Errorf("after compaction: got %d evaluations, want 1500", again.Health.EvaluationCount)
	}
}

// seedingStatements returns the statements of a migration, rendered for
// db's dialect, that total the rows existing when it is applied. They follow
// the marker line and end before the first of ends that the text contains.
func seedingStatements(t *testing.T, db *gorm.DB, file, marker string, ends ...string) []string {
	t.Helper()
	text, err := os.ReadFile("../models/migrations/" + file)
	if err != nil {
		t.Fatalf("read the migration: %v", err)
	}
	tmpl, err := template.New("migration").Parse(string(text))
	if err != nil {
		t.Fatalf("parse the migration %s: %v", file, err)
	}
	var rendered bytes.Buffer
	data := struct {
		Timestamp  string
		PostgreSQL bool
	}{"TIMESTAMP", models.DialectOf(db) == models.DialectPostgres}
	if err := tmpl.Execute(&rendered, data); err != nil {
		t.Fatalf("render the migration %s: %v", file, err)
	}
	_, seeding, found := strings.Cut(rendered.String(), marker)
	if !found {
		t.Fatalf("seeding statements not found in the migration %s", file)
	}
	for _, end := range ends {
		seeding, _, _ = strings.Cut(seeding, end)
	}
	var statements []string
	for _, statement := range strings.Split(seeding, ";") {
		if isSQL(statement) {
			statements = append(statements, strings.TrimSpace(statement))
		}
	}
	return statements
}

// isSQL reports whether text has a line that is neither blank, a comment
// nor a template action.
func isSQL(text string) bool {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "--") && !strings.HasPrefix(line, "{{") {
			return true
		}
	}
	return false
}

// TestMigrationSeedsExistingRows runs the migrations' statements that total
// the rows existing when they are applied, on a database whose counters were
// emptied, and checks the totals against the aggregates.
func TestMigrationSeedsExistingRows(t *testing.T) {
	db, service := openFixture(t)
	counts := seedingStatements(t, db, "00050_audit_counts.sql", "-- Totals of the rows that exist when this migration runs.",
		"-- +goose StatementBegin", "-- SQLite has no trigger functions")
	if len(counts) < 10 || !strings.Contains(strings.Join(counts, ";"), "INSERT INTO audit_delivery_groups") {
		t.Fatalf("seeding statements of the count migration: got %d without the group seeding, want at least 10 with it", len(counts))
	}
	alertDestinations := seedingStatements(t, db, "00060_alert_destination_state.sql", "-- Totals of the pairs that exist when this migration runs.",
		"{{if .PostgreSQL}}", "-- +goose StatementBegin", "-- SQLite has no trigger functions")
	if len(alertDestinations) != 2 {
		t.Fatalf("seeding statements of the alert destination migration: got %d, want 2", len(alertDestinations))
	}
	retryable := seedingStatements(t, db, "00064_retryable_decision_count.sql", "-- The total of the plans that exist when this migration runs.",
		"-- +goose Down")
	if len(retryable) != 1 {
		t.Fatalf("seeding statements of the retryable decision migration: got %d, want 1", len(retryable))
	}

	for _, table := range []string{"audit_counts", "audit_count_deltas", "audit_delivery_groups", "audit_alert_destinations"} {
		if err := db.Exec("DELETE FROM " + table).Error; err != nil {
			t.Fatalf("empty %s: %v", table, err)
		}
	}
	for _, statement := range append(append(counts, alertDestinations...), retryable...) {
		if err := db.Exec(statement).Error; err != nil {
			t.Fatalf("seeding statement %q: %v", statement, err)
		}
	}
	checkCountsMatch(t, service)
}

// TestRunningTotalsUnderConcurrentWriters completes deliveries of the same
// groups and of the same alert destinations from several goroutines at
// once. The refreshes must still leave totals equal to the aggregates.
func TestRunningTotalsUnderConcurrentWriters(t *testing.T) {
	db := dbtest.Open(t)
	service := newTestService(db)
	ctx := context.Background()
	var pending []models.Delivery
	for i := range 24 {
		at := fixtureStart.Add(time.Duration(i) * time.Second)
		record := models.Delivery{
			ID: fmt.Sprintf("c-%02d", i), SubjectKind: models.SubjectExecutiveReport, SubjectID: fmt.Sprintf("run-%d", i%3),
			SubjectKey: "rep", Connector: "slack", State: models.DeliveryInFlight, Attempts: "[]", RequestSummary: "{}",
			Origin: models.OriginSend, Actor: "tester", StartedAt: at, CreatedAt: at,
		}
		if err := models.CreateDelivery(db, &record); err != nil {
			t.Fatalf("CreateDelivery: %v", err)
		}
		pending = append(pending, record)
	}
	// Health alert deliveries of two alerts to slack, each from its own
	// plan, so they share (alert, destination) pairs but no group.
	for i := range 12 {
		at := fixtureStart.Add(time.Duration(i) * time.Second)
		record := models.Delivery{
			ID: fmt.Sprintf("a-%02d", i), SubjectKind: models.SubjectHealthAlert, SubjectID: fmt.Sprintf("plan-%02d", i),
			SubjectKey: fmt.Sprintf("fp-%d", i%2), Connector: "slack", State: models.DeliveryInFlight, Attempts: "[]",
			RequestSummary: "{}", Origin: models.OriginSend, Actor: "tester", StartedAt: at, CreatedAt: at,
		}
		if err := models.CreateDelivery(db, &record); err != nil {
			t.Fatalf("CreateDelivery: %v", err)
		}
		pending = append(pending, record)
	}

	var wg sync.WaitGroup
	errs := make(chan error, len(pending))
	for i, record := range pending {
		wg.Add(1)
		go func() {
			defer wg.Done()
			completed := record.CreatedAt.Add(time.Minute)
			// The newest delivery of group run-0 (i = 21) succeeds, so only that
			// group ends without an open failure. Of the alerts, the newest
			// delivery of fp-0 (a-10) succeeds, and every one of fp-1 fails.
			record.Success = i%4 == 0 || i == 21
			if record.SubjectKind == models.SubjectHealthAlert {
				record.Success = record.ID == "a-10"
			}
			record.ErrorClass = "server_error"
			record.CompletedAt = &completed
			errs <- models.CompleteDelivery(ctx, db, &record)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("CompleteDelivery: %v", err)
		}
	}
	checkCountsMatch(t, service)
	d, err := service.Dashboard(ctx)
	if err != nil {
		t.Fatalf("Dashboard: %v", err)
	}
	if got := d.Executive.Deliveries.OpenFailedCount; got != 2 {
		t.Errorf("open failed groups: got %d, want 2 (run-1 and run-2)", got)
	}
	if got := d.Alerts.Deliveries.OpenFailedCount; got != 1 {
		t.Errorf("open failed alert destinations: got %d, want 1 (fp-1 to slack)", got)
	}
}
