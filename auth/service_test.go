package auth

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

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

func TestRecordPrunesStaleKeys(t *testing.T) {
	var limiter failureLimiter
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range pruneThreshold {
		limiter.record("user:"+strconv.Itoa(i), start)
	}
	limiter.record("user:late", start.Add(failedSignInWindow))
	if got := len(limiter.failures); got != 1 {
		t.Errorf("tracked keys after pruning = %d, want 1", got)
	}
}
