package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// retryPlanWith returns an executive report retry plan with the given number
// of retry decisions.
func retryPlanWith(id string, retries int) models.RetryPlan {
	return models.RetryPlan{ID: id, SubjectKind: models.SubjectExecutiveReport, MaxRetryAttempts: 3, RetryDelayMinutes: 30,
		BackoffMultiplier: 2, DecisionCount: retries, RetryCount: retries, Actor: "release.manager",
		CreatedAt: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
}

func retryableCount(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	counts, err := models.AuditCounts(context.Background(), db)
	if err != nil {
		t.Fatalf("AuditCounts: %v", err)
	}
	return counts[models.RetryableDecisionCounter(models.SubjectExecutiveReport)]
}

// The retryable decision counter starts from the plans stored before its
// migration and then follows every insert, update and delete of a plan.
func TestRetryableDecisionCounterFollowsPlans(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	files, err := models.RenderedMigrations(models.DialectOf(db))
	if err != nil {
		t.Fatalf("render migrations: %v", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("connection pool: %v", err)
	}
	dialect := goose.DialectSQLite3
	if models.DialectOf(db) == models.DialectPostgres {
		dialect = goose.DialectPostgres
	}
	provider, err := goose.NewProvider(dialect, sqlDB, files, goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true))
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}
	if _, err := provider.DownTo(ctx, 63); err != nil {
		t.Fatalf("down to version 63: %v", err)
	}

	before := retryPlanWith("rtp_before", 4)
	if err := db.Create(&before).Error; err != nil {
		t.Fatalf("store plan before the migration: %v", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if got := retryableCount(t, db); got != 4 {
		t.Errorf("after the migration: got %d, want 4 from the plan stored before it", got)
	}

	steps := []struct {
		name  string
		apply func() error
		want  int64
	}{
		{"insert", func() error {
			plan := retryPlanWith("rtp_after", 2)
			return db.Create(&plan).Error
		}, 6},
		{"update", func() error {
			return db.Model(&models.RetryPlan{}).Where("id = ?", "rtp_after").Update("retry_count", 5).Error
		}, 9},
		{"delete", func() error {
			return db.Where("id = ?", "rtp_before").Delete(&models.RetryPlan{}).Error
		}, 5},
	}
	for _, step := range steps {
		if err := step.apply(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got := retryableCount(t, db); got != step.want {
			t.Errorf("after %s: got %d, want %d", step.name, got, step.want)
		}
	}

	if err := models.CompactAuditCounts(ctx, db); err != nil {
		t.Fatalf("CompactAuditCounts: %v", err)
	}
	if got := retryableCount(t, db); got != 5 {
		t.Errorf("after compaction: got %d, want 5", got)
	}
	if _, err := provider.DownTo(ctx, 63); err != nil {
		t.Fatalf("down to version 63 again: %v", err)
	}
	if got := retryableCount(t, db); got != 0 {
		t.Errorf("after rolling back: got %d, want 0, because the counter is removed", got)
	}
}
