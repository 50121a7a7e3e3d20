package health

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// BenchmarkEvaluate measures one recovery retry health evaluation over 10
// thousand and 1 million stored evidence rows. `make bench` runs it on
// PostgreSQL; docs/BENCHMARKS.md records the results.
func BenchmarkEvaluate(b *testing.B) {
	for _, rows := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			db := dbtest.Open(b)
			seedEvidence(b, db, rows)
			service := &Service{DB: db, Now: func() time.Time { return now }}

			b.ResetTimer()
			for b.Loop() {
				if _, err := service.Evaluate(context.Background(), DefaultParams()); err != nil {
					b.Fatalf("evaluate: %v", err)
				}
			}
		})
	}
}

// seedEvidence stores rows evidence rows in bulk with SQL: 40% worker runs,
// 30% retry plans and 30% executions (every tenth one failed), with the
// running totals and latest-execution pairs that ingestion would maintain.
func seedEvidence(b *testing.B, db *gorm.DB, rows int) {
	b.Helper()
	runs, plans := rows*4/10, rows*3/10
	executions := rows - runs - plans

	series := func(n int) string {
		if models.DialectOf(db) == models.DialectPostgres {
			return fmt.Sprintf("SELECT generate_series(1, %d) AS n", n)
		}
		return fmt.Sprintf("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %d) SELECT n FROM s", n)
	}
	minutesAgo := func(expr string) string {
		if models.DialectOf(db) == models.DialectPostgres {
			return fmt.Sprintf("(TIMESTAMPTZ '2026-05-01 12:00:00+00' - make_interval(mins => %s))", expr)
		}
		return fmt.Sprintf("strftime('%%Y-%%m-%%d %%H:%%M:%%S+00:00', '2026-05-01 12:00:00', '-' || (%s) || ' minutes')", expr)
	}

	statements := []string{
		fmt.Sprintf(`INSERT INTO escalation_worker_runs (id, dry_run, selected_retry_count, acknowledgement_pending_count, schedule_enabled, created_at, ingested_at, raw)
			SELECT 'run-' || n, false, n %% 5, 0, n %% 50 <> 0, %s, %s, '{}' FROM (%s) s`, minutesAgo("n"), minutesAgo("0"), series(runs)),
		fmt.Sprintf(`INSERT INTO escalation_retry_plans (id, retryable_count, created_at, ingested_at, raw)
			SELECT 'plan-' || n, n %% 7, %s, %s, '{}' FROM (%s) s`, minutesAgo("n"), minutesAgo("0"), series(plans)),
		fmt.Sprintf(`INSERT INTO escalation_retry_executions (id, plan_id, provider, execution_status, created_at, ingested_at, raw)
			SELECT 'exec-' || n, 'plan-' || n, 'slack', CASE WHEN n %% 10 = 0 THEN 'failed' ELSE 'delivered' END, %s, %s, '{}' FROM (%s) s`,
			minutesAgo("n"), minutesAgo("0"), series(executions)),
		`INSERT INTO escalation_execution_pairs (plan_id, provider, latest_execution_id, latest_status, latest_at, open_failure)
			SELECT plan_id, provider, id, execution_status, created_at, execution_status <> 'delivered' FROM escalation_retry_executions`,
		fmt.Sprintf(`INSERT INTO evidence_counts (name, value) VALUES
			('%s', %d), ('%s', %d), ('%s', %d), ('%s', %d), ('%s', %d)`,
			models.CountWorkerRuns, runs, models.CountRetryPlans, plans, models.CountExecutions, executions,
			models.CountExecutionsFailed, executions/10, models.CountOpenExecutionFailures, executions/10),
	}
	for _, statement := range statements {
		if err := db.Exec(statement).Error; err != nil {
			b.Fatalf("seed evidence: %v", err)
		}
	}
	if models.DialectOf(db) == models.DialectPostgres {
		if err := db.Exec("ANALYZE").Error; err != nil {
			b.Fatalf("analyze: %v", err)
		}
	}
}
