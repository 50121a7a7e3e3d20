package auth

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func TestCheckPasswordLogsNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	service := &Service{DB: dbtest.Open(t), Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx := context.Background()
	if _, err := service.CreateUser(ctx, NewUser{Username: "alice", Role: RoleViewer, Password: "alice-long-password", CreatedBy: "test"}); err != nil {
		t.Fatalf("create user: %v", err)
	}

	const typedPassword = "password-typed-as-username"
	if _, err := service.CheckPassword(ctx, typedPassword, "anything-at-all", "192.0.2.1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("unknown username: error = %v, want ErrInvalidCredentials", err)
	}
	if _, err := service.CheckPassword(ctx, "alice", "wrong-password-value", "192.0.2.1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("wrong password: error = %v, want ErrInvalidCredentials", err)
	}

	output := logs.String()
	for _, secret := range []string{typedPassword, "anything-at-all", "wrong-password-value", "alice-long-password"} {
		if strings.Contains(output, secret) {
			t.Errorf("log contains %q:\n%s", secret, output)
		}
	}
	if strings.Count(output, "sign-in failed") != 2 {
		t.Errorf("log has %d sign-in failures, want 2:\n%s", strings.Count(output, "sign-in failed"), output)
	}
	if !strings.Contains(output, "username=alice") || !strings.Contains(output, "reason=\"unknown username\"") {
		t.Errorf("log lacks the known username or the unknown-username reason:\n%s", output)
	}
}

func TestCheckPasswordLimitsPerUsernameAndAddress(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	service := &Service{DB: dbtest.Open(t), Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	for _, name := range []string{"alice", "bob"} {
		if _, err := service.CreateUser(ctx, NewUser{Username: name, Role: RoleViewer, Password: name + "-long-password", CreatedBy: "test"}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	const proxy = "192.0.2.10"

	for range failedSignInLimit {
		if _, err := service.CheckPassword(ctx, "alice", "wrong-password-value", proxy); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("alice's wrong password: error = %v, want ErrInvalidCredentials", err)
		}
	}
	if _, err := service.CheckPassword(ctx, "alice", "alice-long-password", proxy); !errors.Is(err, ErrRateLimited) {
		t.Errorf("alice after %d failures: error = %v, want ErrRateLimited", failedSignInLimit, err)
	}
	block, blocked := service.SignInBlock(ctx, "Alice", proxy)
	if !blocked || block.Scope != LimitUsername || block.Failures != failedSignInLimit {
		t.Errorf("alice's block = %+v, %t; want the username limit of %d", block, blocked, failedSignInLimit)
	}
	if _, err := service.CheckPassword(ctx, "bob", "bob-long-password", proxy); err != nil {
		t.Errorf("bob from the same address after alice's failures: error = %v, want signed in", err)
	}

	// Unknown usernames count against the address like known ones.
	for i := failedSignInLimit; i < failedAddressSignInLimit; i++ {
		if _, err := service.CheckPassword(ctx, "guess-"+strconv.Itoa(i), "wrong-password-value", proxy); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure %d from the address: error = %v, want ErrInvalidCredentials", i+1, err)
		}
	}
	if _, err := service.CheckPassword(ctx, "bob", "bob-long-password", proxy); !errors.Is(err, ErrRateLimited) {
		t.Errorf("bob after %d failures from the address: error = %v, want ErrRateLimited", failedAddressSignInLimit, err)
	}
	block, blocked = service.SignInBlock(ctx, "nobody-by-this-name", proxy)
	if !blocked || block.Scope != LimitAddress || block.Failures != failedAddressSignInLimit {
		t.Errorf("address block = %+v, %t; want the address limit of %d", block, blocked, failedAddressSignInLimit)
	}
	if block.RetryAfter != failedSignInWindow {
		t.Errorf("address retry after = %v, want %v (every failure happened now)", block.RetryAfter, failedSignInWindow)
	}
	if _, err := service.CheckPassword(ctx, "bob", "bob-long-password", "192.0.2.11"); err != nil {
		t.Errorf("bob from another address: error = %v, want signed in", err)
	}
}

func TestCreateUserTakenNameLogsNoError(t *testing.T) {
	_, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	db, _, err := models.Open(models.OpenOptions{URL: databaseURL, Logger: logger})
	if err != nil {
		t.Fatalf("open the test database with a logger: %v", err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	service := &Service{DB: db, Logger: logger}
	ctx := context.Background()
	if _, err := service.CreateUser(ctx, NewUser{Username: "ivan", Role: RoleViewer, Password: "ivan-long-password", CreatedBy: "test"}); err != nil {
		t.Fatalf("create ivan: %v", err)
	}

	_, err = service.CreateUser(ctx, NewUser{Username: " Ivan ", Role: RoleAdmin, Password: "other-long-password", CreatedBy: "test"})

	if !errors.Is(err, ErrUserExists) {
		t.Errorf("second ivan: error = %v, want ErrUserExists", err)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("log has an ERROR line for a taken username:\n%s", logs.String())
	}
	count, err := service.CountUsers(ctx)
	if err != nil {
		t.Fatalf("count users: %v", err)
	}
	if count != 1 {
		t.Errorf("users = %d, want 1", count)
	}
}

func TestHeldSecretExpiresAndIsTakenOnce(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	service := &Service{DB: dbtest.Open(t), Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	user, err := service.CreateUser(ctx, NewUser{Username: "alice", Role: RoleViewer, Password: "alice-long-password", CreatedBy: "test"})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}

	first, err := service.HoldSecret(ctx, user.ID, "first-secret-value")
	if err != nil {
		t.Fatalf("hold: %v", err)
	}
	if _, found, _ := service.TakeSecret(ctx, "another-user", first); found {
		t.Error("another user took the secret, want it bound to its user")
	}
	value, found, err := service.TakeSecret(ctx, user.ID, first)
	if err != nil || !found || value != "first-secret-value" {
		t.Fatalf("first take = %q, %v, %v; want the value", value, found, err)
	}
	if _, found, _ := service.TakeSecret(ctx, user.ID, first); found {
		t.Error("second take found the secret, want it deleted by the first")
	}

	late, err := service.HoldSecret(ctx, user.ID, "late-secret-value")
	if err != nil {
		t.Fatalf("hold: %v", err)
	}
	now = now.Add(OneTimeSecretLifetime + time.Second)
	if _, found, _ := service.TakeSecret(ctx, user.ID, late); found {
		t.Error("expired secret was found, want it gone after its lifetime")
	}
}
