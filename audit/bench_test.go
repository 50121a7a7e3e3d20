package audit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// BenchmarkDashboard measures the dashboard over 10 thousand and 1 million
// stored records; docs/BENCHMARKS.md records the PostgreSQL results.
func BenchmarkDashboard(b *testing.B) {
	for _, rows := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			service := seededService(b, rows)
			b.ResetTimer()
			for b.Loop() {
				if _, err := service.Dashboard(context.Background()); err != nil {
					b.Fatalf("Dashboard: %v", err)
				}
			}
		})
	}
}

// BenchmarkHistoryFirstPage measures the first unfiltered page (50 items,
// with the exact total) of the combined history.
func BenchmarkHistoryFirstPage(b *testing.B) {
	for _, rows := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			service := seededService(b, rows)
			b.ResetTimer()
			for b.Loop() {
				if _, err := service.History(context.Background(), HistoryQuery{Limit: DefaultHistoryLimit}); err != nil {
					b.Fatalf("History: %v", err)
				}
			}
		})
	}
}

func seededService(b *testing.B, rows int) *Service {
	b.Helper()
	db := dbtest.Open(b)
	seedRecords(b, db, rows)
	service := &Service{DB: db, Now: func() time.Time { return benchNow }}

	// Bulk seeding leaves one pending delta per row. Compaction folds them
	// into audit_counts, as the server's background compaction would; VACUUM
	// then removes the deleted delta rows, as autovacuum would, so the timed
	// reads see the steady state.
	if err := service.CompactCounts(context.Background()); err != nil {
		b.Fatalf("fold the seeded deltas: %v", err)
	}
	if models.DialectOf(db) == models.DialectPostgres {
		if err := db.Exec("VACUUM ANALYZE").Error; err != nil {
			b.Fatalf("vacuum: %v", err)
		}
	}
	return service
}

var benchNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// seedRecords stores about rows history records with SQL: 10% health
// snapshots, 10% alert plans (two destinations each), 40% deliveries (half
// alert, half executive; every tenth failed), 10% acknowledgements, 5%
// executive reports with one schedule run each, 5% retry plans with one
// decision each, 5% worker runs and 10% retry executions.
func seedRecords(b *testing.B, db *gorm.DB, rows int) {
	b.Helper()
	postgres := models.DialectOf(db) == models.DialectPostgres
	series := func(n int) string {
		if postgres {
			return fmt.Sprintf("SELECT generate_series(1, %d) AS n", n)
		}
		return fmt.Sprintf("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %d) SELECT n FROM s", n)
	}
	minutesAgo := func(expr string) string {
		if postgres {
			return fmt.Sprintf("(TIMESTAMPTZ '2026-05-01 12:00:00+00' - make_interval(mins => %s))", expr)
		}
		return fmt.Sprintf("strftime('%%Y-%%m-%%d %%H:%%M:%%S+00:00', '2026-05-01 12:00:00', '-' || (%s) || ' minutes')", expr)
	}
	part := func(percent int) int { return max(rows*percent/100, 1) }
	snapshots, plans, deliveries, acks := part(10), part(10), part(40), part(10)
	reports, retryPlans, runs, executions := part(5), part(5), part(5), part(10)
	failed := "n % 10 = 0"

	statements := []string{
		fmt.Sprintf(`INSERT INTO health_snapshots (id, fingerprint, occurrence_id, alert_level, finding_count, expected_interval_minutes, stale_metadata_minutes, actor, evaluated_at, report)
			SELECT 'h-' || n, 'fp-' || (n %% 7), 'h-' || n, CASE WHEN n %% 3 = 0 THEN 'critical' ELSE 'warning' END, n %% 4, 30, 120, 'bench', %s, '{}' FROM (%s) s`,
			minutesAgo("n"), series(snapshots)),
		fmt.Sprintf(`INSERT INTO alert_plans (id, health_id, occurrence_id, fingerprint, alert_level, requested_providers, suppression_window_minutes, max_alerts, force, actor, created_at)
			SELECT 'p-' || n, 'h-' || n, 'h-' || n, 'fp-' || (n %% 7), 'critical', 'all', 60, 20, false, 'bench', %s FROM (%s) s`,
			minutesAgo("n"), series(plans)),
		fmt.Sprintf(`INSERT INTO alert_plan_destinations (plan_id, provider, health_id, occurrence_id, fingerprint, decision, reason, suppressed_by_delivery, acknowledgement_required, created_at)
			SELECT 'p-' || n, d.provider, 'h-' || n, 'h-' || n, 'fp-' || (n %% 7), CASE WHEN n %% 5 = 0 AND d.provider = 'teams' THEN 'suppressed' ELSE 'selected' END, '', '', true, %s
			FROM (%s) s CROSS JOIN (SELECT 'slack' AS provider UNION ALL SELECT 'teams') d`, minutesAgo("n"), series(plans)),
		fmt.Sprintf(`INSERT INTO deliveries (id, subject_kind, subject_id, subject_key, connector, connector_kind, host, method, state, success, status_code, error_class, attempt_count, attempts, error, response_excerpt, request_summary, idempotency_key, origin, retry_execution_id, actor, started_at, completed_at, created_at)
			SELECT 'd-' || n, CASE WHEN n %% 2 = 0 THEN 'health_alert' ELSE 'executive_report' END,
				CASE WHEN n %% 2 = 0 THEN 'p-' || (n %% %d + 1) ELSE 'r-' || (n %% %d + 1) END, 'key', CASE WHEN n %% 3 = 0 THEN 'teams' ELSE 'slack' END,
				'webhook', '127.0.0.1', 'POST', 'completed', NOT (%s), 200, CASE WHEN %s THEN 'server_error' ELSE 'ok' END, 1, '[]', '', '', '{}', 'k-' || n, 'send', '', 'bench', %s, %s, %s
			FROM (%s) s`, plans, reports, failed, failed, minutesAgo("n"), minutesAgo("n"), minutesAgo("n"), series(deliveries)),
		fmt.Sprintf(`INSERT INTO alert_acknowledgements (id, health_id, occurrence_id, provider, plan_id, sequence, acknowledgement_state, repeat, external_ref, notes, actor, created_at)
			SELECT 'a-' || n, 'h-' || n, 'h-' || n, 'slack', 'p-' || n, 1, CASE WHEN n %% 4 = 0 THEN 'dismissed' ELSE 'acknowledged' END, false, '', '', 'bench', %s FROM (%s) s`,
			minutesAgo("n"), series(acks)),
		`INSERT INTO alert_acknowledgement_states (occurrence_id, provider, acknowledgement_state, sequence, acknowledgement_id, health_id, external_ref, actor, updated_at)
			SELECT occurrence_id, provider, acknowledgement_state, sequence, id, health_id, '', actor, created_at FROM alert_acknowledgements`,
		fmt.Sprintf(`INSERT INTO executive_reports (id, status, recovery_slo_minutes, period_days, period_start, period_end, execution_count, failed_execution_count, open_recovery_count, slo_breach_count, escalation_count, key_risk_count, actor, generated_at, report)
			SELECT 'rep-' || n, 'warning', 240, 7, %s, %s, 1, 0, 0, 0, 0, 0, 'bench', %s, '{}' FROM (%s) s`,
			minutesAgo("n + 10080"), minutesAgo("n"), minutesAgo("n"), series(reports)),
		fmt.Sprintf(`INSERT INTO executive_schedule_runs (id, report_id, interval_minutes, enabled, cadence, window_start, window_end, actor, created_at)
			SELECT 'r-' || n, 'rep-' || n, 1440, true, 'daily', %s, %s, 'bench', %s FROM (%s) s`,
			minutesAgo("n + 1440"), minutesAgo("n"), minutesAgo("n"), series(reports)),
		fmt.Sprintf(`INSERT INTO retry_plans (id, subject_kind, max_retry_attempts, retry_delay_minutes, allow_immediate_retry, backoff_multiplier, decision_count, retry_count, wait_count, suppress_count, actor, created_at)
			SELECT 'rp-' || n, 'executive_report', 3, 30, false, 2, 1, 1, 0, 0, 'bench', %s FROM (%s) s`, minutesAgo("n"), series(retryPlans)),
		fmt.Sprintf(`INSERT INTO retry_decisions (id, plan_id, position, subject_kind, subject_id, subject_key, connector, action, reason, failure_count, last_error_class, last_delivery_id, idempotency_key, selected, state)
			SELECT 'rd-' || n, 'rp-' || n, 0, 'executive_report', 'r-' || (n %% %d + 1), 'key', 'slack', 'retry', '', 1, 'server_error', '', 'k', true, 'claimed' FROM (%s) s`,
			reports, series(retryPlans)),
		fmt.Sprintf(`INSERT INTO retry_worker_runs (id, subject_kind, plan_id, dry_run, actor, max_retry_deliveries, schedule_enabled, schedule_interval_minutes, schedule_cadence, window_start, window_end, retryable_count, selected_count, delivered_count, failed_count, skipped_count, reconciled_count, state, created_at)
			SELECT 'w-' || n, 'executive_report', 'rp-' || n, n %% 2 = 0, 'bench', 5, true, 60, 'hourly', %s, %s, 1, 1, 1, 0, 0, 0, 'completed', %s FROM (%s) s`,
			minutesAgo("n + 60"), minutesAgo("n"), minutesAgo("n"), series(runs)),
		fmt.Sprintf(`INSERT INTO retry_executions (id, decision_id, worker_run_id, plan_id, subject_kind, subject_id, subject_key, connector, outcome, reason, delivery_id, idempotency_key, started_at)
			SELECT 'x-' || n, 'xd-' || n, 'w-' || (n %% %d + 1), 'rp-' || (n %% %d + 1), 'executive_report', 'r-' || (n %% %d + 1), 'key', 'slack',
				CASE WHEN %s THEN 'failed' ELSE 'delivered' END, '', '', 'k', %s FROM (%s) s`,
			runs, runs, reports, failed, minutesAgo("n"), series(executions)),
	}
	for _, statement := range statements {
		if err := db.Exec(statement).Error; err != nil {
			b.Fatalf("seed records: %v", err)
		}
	}
	if postgres {
		if err := db.Exec("ANALYZE").Error; err != nil {
			b.Fatalf("analyze: %v", err)
		}
	}
}
