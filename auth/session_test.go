package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

var sessionStart = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// sessionFixture creates the viewer alice on a fresh database and returns
// her with a service whose clock reads *now.
func sessionFixture(t *testing.T, now *time.Time) (*Service, User) {
	t.Helper()
	service := limiterService(dbtest.Open(t), now)
	user, err := service.CreateUser(context.Background(), NewUser{Username: "alice", Role: RoleViewer, Password: "alice-long-password", CreatedBy: "test"})
	if err != nil {
		t.Fatalf("create alice: %v", err)
	}
	return service, user
}

// mustStartSession starts a session of userID and returns its secret.
func mustStartSession(t *testing.T, service *Service, userID string) string {
	t.Helper()
	secret, err := service.StartSession(context.Background(), userID, "password")
	if err != nil {
		t.Fatalf("start session: %v", err)
	}
	return secret
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	now := sessionStart
	service, alice := sessionFixture(t, &now)
	ctx := context.Background()
	secret := mustStartSession(t, service, alice.ID)

	// A request every hour keeps the session well inside the idle timeout,
	// so only the 12-hour lifetime can end it.
	for hour := 1; hour < 12; hour++ {
		now = sessionStart.Add(time.Duration(hour) * time.Hour)
		if _, err := service.SessionUser(ctx, secret); err != nil {
			t.Fatalf("request after %d hours: got %v, want the session accepted", hour, err)
		}
	}

	now = sessionStart.Add(DefaultSessionLifetime - time.Microsecond)
	if _, err := service.SessionUser(ctx, secret); err != nil {
		t.Errorf("one microsecond before the lifetime ends: got %v, want the session accepted", err)
	}

	now = sessionStart.Add(DefaultSessionLifetime)
	if _, err := service.SessionUser(ctx, secret); !errors.Is(err, ErrNoSession) {
		t.Errorf("exactly at the end of the lifetime: got %v, want ErrNoSession", err)
	}
	if _, err := models.UserSessionByID(ctx, service.DB, hashSecret(secret)); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("expired session lookup: got %v, want models.ErrNotFound (deleted)", err)
	}
}

func TestSessionIdleExpiry(t *testing.T) {
	now := sessionStart
	service, alice := sessionFixture(t, &now)
	ctx := context.Background()
	early := mustStartSession(t, service, alice.ID)
	exact := mustStartSession(t, service, alice.ID)

	now = sessionStart.Add(DefaultIdleTimeout - time.Microsecond)
	if _, err := service.SessionUser(ctx, early); err != nil {
		t.Errorf("idle one microsecond less than the timeout: got %v, want the session accepted", err)
	}

	now = sessionStart.Add(DefaultIdleTimeout)
	if _, err := service.SessionUser(ctx, exact); !errors.Is(err, ErrNoSession) {
		t.Errorf("idle exactly the timeout: got %v, want ErrNoSession", err)
	}
}

func TestSessionOfDisabledUser(t *testing.T) {
	now := sessionStart
	service, alice := sessionFixture(t, &now)
	ctx := context.Background()

	t.Run("SetDisabled", func(t *testing.T) {
		secret := mustStartSession(t, service, alice.ID)
		if err := service.SetDisabled(ctx, alice.ID, true, "test"); err != nil {
			t.Fatalf("disable alice: %v", err)
		}
		if _, err := service.SessionUser(ctx, secret); !errors.Is(err, ErrNoSession) {
			t.Errorf("session after SetDisabled: got %v, want ErrNoSession", err)
		}
		if err := service.SetDisabled(ctx, alice.ID, false, "test"); err != nil {
			t.Fatalf("enable alice: %v", err)
		}
		if _, err := service.SessionUser(ctx, secret); !errors.Is(err, ErrNoSession) {
			t.Errorf("session after enabling again: got %v, want ErrNoSession (disabling ended it)", err)
		}
	})

	// A sign-in that races with SetDisabled can store a session after
	// SetDisabled deleted the user's sessions, so SessionUser checks the
	// flag on every request as well.
	t.Run("session outlives the disable", func(t *testing.T) {
		secret := mustStartSession(t, service, alice.ID)
		if err := models.UpdateUser(ctx, service.DB, alice.ID, map[string]any{"disabled": true}); err != nil {
			t.Fatalf("set disabled: %v", err)
		}
		if _, err := service.SessionUser(ctx, secret); !errors.Is(err, ErrNoSession) {
			t.Errorf("session of a disabled user: got %v, want ErrNoSession", err)
		}
	})
}

func TestTokenRevoked(t *testing.T) {
	now := sessionStart
	service, alice := sessionFixture(t, &now)
	ctx := context.Background()
	secret, token, err := service.CreateToken(ctx, alice.ID, "laptop")
	if err != nil {
		t.Fatalf("create token: %v", err)
	}

	if _, err := service.TokenUser(ctx, secret); err != nil {
		t.Fatalf("token before revocation: got %v, want accepted", err)
	}
	if err := service.RevokeToken(ctx, alice.ID, token.ID, "test"); err != nil {
		t.Fatalf("revoke token: %v", err)
	}
	if _, err := service.TokenUser(ctx, secret); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("revoked token: got %v, want ErrInvalidToken", err)
	}
}

func TestTokenOfDisabledUser(t *testing.T) {
	now := sessionStart
	service, alice := sessionFixture(t, &now)
	ctx := context.Background()
	secret, _, err := service.CreateToken(ctx, alice.ID, "laptop")
	if err != nil {
		t.Fatalf("create token: %v", err)
	}

	if err := service.SetDisabled(ctx, alice.ID, true, "test"); err != nil {
		t.Fatalf("disable alice: %v", err)
	}
	if _, err := service.TokenUser(ctx, secret); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("token of a disabled user: got %v, want ErrInvalidToken", err)
	}

	if err := service.SetDisabled(ctx, alice.ID, false, "test"); err != nil {
		t.Fatalf("enable alice: %v", err)
	}
	if _, err := service.TokenUser(ctx, secret); err != nil {
		t.Errorf("token after enabling again: got %v, want accepted", err)
	}
}

func TestTokenLabelRejectsCredential(t *testing.T) {
	now := sessionStart
	service, alice := sessionFixture(t, &now)

	for _, label := range []string{"xoxb-123456789012-abcdefabcdef", "https://hooks.example.test/services/T/B/X"} {
		_, _, err := service.CreateToken(context.Background(), alice.ID, label)
		var invalid *ValidationError
		if !errors.As(err, &invalid) || invalid.Field != "name" {
			t.Errorf("label %q: got %v, want a ValidationError on name", label, err)
		}
	}
	if _, _, err := service.CreateToken(context.Background(), alice.ID, "ci-deploy 2026"); err != nil {
		t.Errorf("plain label: got %v, want nil", err)
	}
}

func TestTokenLabelRejectsInvisibleCharacters(t *testing.T) {
	now := sessionStart
	service, alice := sessionFixture(t, &now)

	for _, label := range []string{"ci\u202Eyolped", "ci\u200Bdeploy", "ci\u2066deploy", "ci\tdeploy"} {
		_, _, err := service.CreateToken(context.Background(), alice.ID, label)
		var invalid *ValidationError
		if !errors.As(err, &invalid) || invalid.Field != "name" || invalid.Credential {
			t.Errorf("label %q: got %v, want a ValidationError on name that may be shown again", label, err)
		}
	}
	if _, _, err := service.CreateToken(context.Background(), alice.ID, "Zoë's laptop"); err != nil {
		t.Errorf("label with an accent: got %v, want nil", err)
	}
}

func TestTokenLabelRejectsLineSeparators(t *testing.T) {
	now := sessionStart
	service, alice := sessionFixture(t, &now)

	for _, c := range []rune{'\u2028', '\u2029'} {
		_, _, err := service.CreateToken(context.Background(), alice.ID, "ci"+string(c)+"forged")
		var invalid *ValidationError
		if !errors.As(err, &invalid) || invalid.Field != "name" || invalid.Credential {
			t.Fatalf("label with %U: got %v, want a ValidationError on name that may be shown again", c, err)
		}
		if want := fmt.Sprintf("%U", c); !strings.Contains(invalid.Message, want) {
			t.Errorf("label with %U: got message %q, want it to name %s", c, invalid.Message, want)
		}
	}
}
