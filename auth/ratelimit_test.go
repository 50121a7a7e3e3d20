package auth

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

var limitStart = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// limiterService returns a service on db whose clock reads *now.
func limiterService(db *gorm.DB, now *time.Time) *Service {
	return &Service{DB: db, Now: func() time.Time { return *now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// mustBlocked returns whether key has reached its limit at now.
func mustBlocked(t *testing.T, service *Service, key string, now time.Time) bool {
	t.Helper()
	blocked, err := service.blocked(context.Background(), key, now)
	if err != nil {
		t.Fatalf("blocked(%s): %v", key, err)
	}
	return blocked
}

func mustRecord(t *testing.T, service *Service, at time.Time, keys ...string) {
	t.Helper()
	if err := service.recordFailure(context.Background(), at, keys...); err != nil {
		t.Fatalf("recordFailure: %v", err)
	}
}

func TestLimiterWindow(t *testing.T) {
	now := limitStart
	service := limiterService(dbtest.Open(t), &now)
	for i := range failedSignInLimit {
		if mustBlocked(t, service, "user:a", limitStart) {
			t.Fatalf("blocked after %d failures, want %d allowed", i, failedSignInLimit)
		}
		mustRecord(t, service, limitStart.Add(time.Duration(i)*time.Minute), "user:a")
	}
	if !mustBlocked(t, service, "user:a", limitStart.Add(5*time.Minute)) {
		t.Error("not blocked after the limit, want blocked")
	}
	if mustBlocked(t, service, "user:b", limitStart) {
		t.Error("another key blocked, want keys counted apart")
	}
	if mustBlocked(t, service, "user:a", limitStart.Add(failedSignInWindow)) {
		t.Error("still blocked once the first failure left the window, want allowed")
	}
	if err := service.resetFailures(context.Background(), "user:a"); err != nil {
		t.Fatalf("resetFailures: %v", err)
	}
	if mustBlocked(t, service, "user:a", limitStart.Add(5*time.Minute)) {
		t.Error("blocked after reset, want allowed")
	}
}

func TestLimiterAddressLimit(t *testing.T) {
	now := limitStart
	service := limiterService(dbtest.Open(t), &now)
	for i := range failedAddressSignInLimit {
		at := limitStart.Add(time.Duration(i) * time.Second)
		if mustBlocked(t, service, "ip:192.0.2.1", at) {
			t.Fatalf("address blocked after %d failures, want %d allowed", i, failedAddressSignInLimit)
		}
		mustRecord(t, service, at, "ip:192.0.2.1")
	}
	if !mustBlocked(t, service, "ip:192.0.2.1", limitStart.Add(time.Minute)) {
		t.Errorf("address not blocked after %d failures, want blocked", failedAddressSignInLimit)
	}
}

func TestLimiterRetryAfter(t *testing.T) {
	now := limitStart
	service := limiterService(dbtest.Open(t), &now)
	for i := range failedSignInLimit + 2 {
		mustRecord(t, service, limitStart.Add(time.Duration(i)*time.Minute), "user:a")
	}

	wait, blocked, err := service.retryAfter(context.Background(), "user:a", limitStart.Add(7*time.Minute))

	if err != nil || !blocked {
		t.Fatalf("retryAfter: got blocked %t, error %v; want blocked", blocked, err)
	}
	// Failures at minutes 0 to 6: once the one at minute 2 leaves the
	// window, four remain.
	if want := 10 * time.Minute; wait != want {
		t.Errorf("retry after = %v, want %v", wait, want)
	}
	if _, blocked, _ := service.retryAfter(context.Background(), "user:a", limitStart.Add(7*time.Minute+wait)); blocked {
		t.Error("blocked after waiting the retry time, want allowed")
	}
}

func TestLimiterSharedByServers(t *testing.T) {
	db := dbtest.Open(t)
	now := limitStart
	first, second := limiterService(db, &now), limiterService(db, &now)
	for range failedSignInLimit {
		mustRecord(t, first, now, "user:alice")
	}

	block, blocked := second.SignInBlock(context.Background(), "Alice", "192.0.2.7")

	if !blocked || block.Scope != LimitUsername {
		t.Errorf("second server: got %+v, %t; want the username limit", block, blocked)
	}
}

func TestLimiterStoresNoUsername(t *testing.T) {
	db := dbtest.Open(t)
	now := limitStart
	service := limiterService(db, &now)
	const typed = "correct-horse-battery-staple"
	mustRecord(t, service, now, "user:"+typed, "ip:192.0.2.7")

	var keys []string
	if err := db.Model(&models.SignInFailure{}).Pluck("limit_key", &keys).Error; err != nil {
		t.Fatalf("read keys: %v", err)
	}
	if len(keys) != 2 {
		t.Fatalf("stored failures: got %d, want 2", len(keys))
	}
	for _, key := range keys {
		if strings.Contains(key, typed) || strings.Contains(key, "192.0.2.7") {
			t.Errorf("stored key %q contains what it counts, want a hash", key)
		}
	}
}

func TestLimiterDeletesOldFailures(t *testing.T) {
	db := dbtest.Open(t)
	now := limitStart
	service := limiterService(db, &now)
	mustRecord(t, service, limitStart, "user:a", "ip:192.0.2.1")

	mustRecord(t, service, limitStart.Add(failedSignInWindow+time.Second), "user:b")

	var stored int64
	if err := db.Model(&models.SignInFailure{}).Count(&stored).Error; err != nil {
		t.Fatalf("count: %v", err)
	}
	if stored != 1 {
		t.Errorf("stored failures: got %d, want 1 (those that left the window deleted)", stored)
	}
}
