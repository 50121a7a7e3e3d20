package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
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
	_, blocked, err := service.retryAfter(context.Background(), key, now)
	if err != nil {
		t.Fatalf("blocked(%s): %v", key, err)
	}
	return blocked
}

// mustRecord counts one failed attempt at at against keys.
func mustRecord(t *testing.T, service *Service, at time.Time, keys ...string) {
	t.Helper()
	if _, blocked, err := service.reserveAttempt(context.Background(), at, keys...); err != nil || blocked {
		t.Fatalf("reserveAttempt: got blocked %t, error %v; want the attempt counted", blocked, err)
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
	if err := service.releaseAttempt(context.Background(), nil, "user:a"); err != nil {
		t.Fatalf("releaseAttempt: %v", err)
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
	for i := range failedSignInLimit {
		mustRecord(t, service, limitStart.Add(time.Duration(i)*time.Minute), "user:a")
	}

	wait, blocked, err := service.retryAfter(context.Background(), "user:a", limitStart.Add(7*time.Minute))

	if err != nil || !blocked {
		t.Fatalf("retryAfter: got blocked %t, error %v; want blocked", blocked, err)
	}
	// Failures at minutes 0 to 4: once the one at minute 0 leaves the
	// window, four remain.
	if want := 8 * time.Minute; wait != want {
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

func TestParallelAttemptsStayWithinLimit(t *testing.T) {
	db := dbtest.Open(t)
	now := limitStart
	first, second := limiterService(db, &now), limiterService(db, &now)
	ctx := context.Background()
	if _, err := first.CreateUser(ctx, NewUser{Username: "victim", Role: RoleViewer, Password: "victim-long-password", CreatedBy: "test"}); err != nil {
		t.Fatalf("create user: %v", err)
	}

	const attempts = 12
	results := make(chan error, attempts)
	var wg sync.WaitGroup
	for i := range attempts {
		service := first
		if i%2 == 1 {
			service = second
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := service.CheckPassword(ctx, "victim", "wrong-password-value", fmt.Sprintf("192.0.2.%d", i+1))
			results <- err
		}()
	}
	wg.Wait()
	close(results)

	checked, limited := 0, 0
	for err := range results {
		switch {
		case errors.Is(err, ErrInvalidCredentials):
			checked++
		case errors.Is(err, ErrRateLimited):
			limited++
		default:
			t.Errorf("attempt: got %v, want wrong credentials or the rate limit", err)
		}
	}
	if checked != failedSignInLimit || limited != attempts-failedSignInLimit {
		t.Errorf("parallel attempts: got %d passwords checked and %d limited, want %d and %d",
			checked, limited, failedSignInLimit, attempts-failedSignInLimit)
	}
}

func TestSuccessTakesBackItsAttempt(t *testing.T) {
	db := dbtest.Open(t)
	now := limitStart
	service := limiterService(db, &now)
	ctx := context.Background()
	if _, err := service.CreateUser(ctx, NewUser{Username: "carol", Role: RoleViewer, Password: "carol-long-password", CreatedBy: "test"}); err != nil {
		t.Fatalf("create user: %v", err)
	}
	for range failedAddressSignInLimit {
		if _, err := service.CheckPassword(ctx, "carol", "carol-long-password", "192.0.2.9"); err != nil {
			t.Fatalf("sign-in: %v", err)
		}
	}

	if _, err := service.CheckPassword(ctx, "someone-else", "wrong-password-value", "192.0.2.9"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("failure after %d successes from one address: got %v, want it checked, because successes do not count",
			failedAddressSignInLimit, err)
	}
}

func TestLimitKeysDependOnTheSecret(t *testing.T) {
	first := &Service{LimitKeySecret: []byte("first-secret")}
	second := &Service{LimitKeySecret: []byte("second-secret")}

	if first.storedKey("user:alice") == second.storedKey("user:alice") {
		t.Error("stored keys under two secrets: got equal, want different, so a database copy alone cannot be tested against guesses")
	}
	if first.storedKey("user:alice") != (&Service{LimitKeySecret: []byte("first-secret")}).storedKey("user:alice") {
		t.Error("stored keys under one secret: got different, want equal, so servers sharing it share their counts")
	}
}
