package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func TestTakeOneTimeSecretDeletesExpiredRows(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	user := &models.User{ID: "usr_1", Username: "erin", Role: "viewer", CreatedAt: now, UpdatedAt: now}
	if err := models.CreateUser(ctx, db, user); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	rows := []*models.OneTimeSecret{
		{ID: "expired", UserID: user.ID, Sealed: "sealed-1", CreatedAt: now.Add(-20 * time.Minute), ExpiresAt: now.Add(-10 * time.Minute)},
		{ID: "current", UserID: user.ID, Sealed: "sealed-2", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)},
	}
	for _, row := range rows {
		if err := db.Create(row).Error; err != nil {
			t.Fatalf("create %s: %v", row.ID, err)
		}
	}

	taken, err := models.TakeOneTimeSecret(ctx, db, "current", user.ID, now)
	if err != nil {
		t.Fatalf("TakeOneTimeSecret: %v", err)
	}
	if taken == nil || taken.Sealed != "sealed-2" {
		t.Fatalf("taken = %+v, want the current row", taken)
	}
	var left int64
	if err := db.Model(&models.OneTimeSecret{}).Count(&left).Error; err != nil {
		t.Fatalf("count one_time_secrets: %v", err)
	}
	if left != 0 {
		t.Errorf("rows left = %d, want 0 because the expired row is deleted by the take", left)
	}
}
