package executive

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// BenchmarkCurrentReport builds the report over 20 000 executions, 5 000
// recoveries and 5 000 closures, to show the aggregates stay indexed.
func BenchmarkCurrentReport(b *testing.B) {
	db := dbtest.Open(b)
	seedBenchmark(b, db)

	service := &Service{DB: db, Now: func() time.Time { return testNow }}
	b.ResetTimer()
	for b.Loop() {
		if _, err := service.Current(context.Background(), DefaultParams()); err != nil {
			b.Fatalf("Current: %v", err)
		}
	}
}

// seedBenchmark stores the benchmark's evidence.
func seedBenchmark(b testing.TB, db *gorm.DB) {
	statuses := []string{ExecutionDelivered, ExecutionDelivered, ExecutionFailed, ExecutionSkipped}
	providers := []string{"slack", "teams", "jira", "servicenow", "pagerduty", "webhook"}

	executions := make([]models.AuditRetryExecution, 0, 20000)
	for i := range 20000 {
		executions = append(executions, models.AuditRetryExecution{
			ID: fmt.Sprintf("ex-%05d", i), Provider: providers[i%len(providers)], ExecutionStatus: statuses[i%len(statuses)],
			ExecutedAt: models.UTC(testNow.Add(-time.Duration(i) * 3 * time.Minute)), IngestedAt: testNow, Raw: "{}",
		})
	}
	playbooks := make([]models.RecoveryPlaybook, 0, 5000)
	entries := make([]models.RecoveryPlaybookProvider, 0, 5000)
	closures := make([]models.RecoveryClosure, 0, 5000)
	for i := range 5000 {
		generated := models.UTC(testNow.Add(-time.Duration(i) * 17 * time.Minute))
		id := fmt.Sprintf("pb-%05d", i)
		playbooks = append(playbooks, models.RecoveryPlaybook{ID: id, GeneratedAt: generated, IngestedAt: testNow, Raw: "{}"})
		entries = append(entries, models.RecoveryPlaybookProvider{PlaybookID: id, Provider: providers[i%len(providers)], Category: "server_error", FailureCount: 1, GeneratedAt: generated})
		if i%3 != 0 {
			state := []string{ClosureStateResolved, ClosureStateMitigated, "deferred"}[i%3]
			closures = append(closures, models.RecoveryClosure{ID: fmt.Sprintf("cl-%05d", i), PlaybookID: id, Provider: providers[i%len(providers)],
				ClosureState: state, ClosedAt: generated.Add(time.Hour), IngestedAt: testNow, Raw: "{}"})
		}
	}
	for _, rows := range []any{executions, playbooks, entries, closures} {
		if err := db.CreateInBatches(rows, 500).Error; err != nil {
			b.Fatalf("store rows: %v", err)
		}
	}
}
