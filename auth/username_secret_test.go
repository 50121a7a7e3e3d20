package auth

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// usernameSecrets configures a tracker token that fits the username
// pattern, a mixed-case token and a Slack URL.
func usernameSecrets() *connectors.Redactor {
	return connectors.NewRedactor("local-receiver-token", "SEKRITtrackerTokenQ7w9",
		"http://127.0.0.1:8090/slack/services/T000/B000/Lr7dQ2vX9kM4pT8wN3bZ6cHj")
}

func TestCreateUserRejectsCredentialNames(t *testing.T) {
	var logs bytes.Buffer
	service := &Service{DB: dbtest.Open(t), Logger: slog.New(slog.NewTextHandler(&logs, nil)), Secrets: usernameSecrets()}
	ctx := context.Background()

	for _, username := range []string{
		"local-receiver-token",
		" Local-Receiver-Token ",
		"SEKRITtrackerTokenQ7w9",
		"sekrittrackertokenq7w9",
		"ops.local-receiver-token",
		"http://127.0.0.1:8090/slack/services/T000/B000/Lr7dQ2vX9kM4pT8wN3bZ6cHj",
		"ghp_abcdefghijklmnopqrstuvwxyz0123",
	} {
		_, err := service.CreateUser(ctx, NewUser{Username: username, Role: RoleViewer, Password: "viewer-long-password", CreatedBy: "test"})
		var invalid *ValidationError
		if !errors.As(err, &invalid) {
			t.Errorf("CreateUser(%q): error %v, want a *ValidationError", username, err)
			continue
		}
		if invalid.Field != "username" {
			t.Errorf("CreateUser(%q): field %q, want username", username, invalid.Field)
		}
		if !invalid.Credential {
			t.Errorf("CreateUser(%q): Credential false, want true so the value is not shown again", username)
		}
		if !strings.Contains(invalid.Message, "looks like a credential or a link") {
			t.Errorf("CreateUser(%q): message %q, want it to say the name looks like a credential", username, invalid.Message)
		}
	}

	count, err := service.CountUsers(ctx)
	if err != nil {
		t.Fatalf("count users: %v", err)
	}
	if count != 0 {
		t.Errorf("users: got %d, want 0", count)
	}
	for _, secret := range []string{"local-receiver-token", "sekrittrackertokenq7w9", strings.ToLower("Lr7dQ2vX9kM4pT8wN3bZ6cHj")} {
		if strings.Contains(strings.ToLower(logs.String()), secret) {
			t.Errorf("log contains %q:\n%s", secret, logs.String())
		}
	}
}

func TestCreateUserAllowsPlainNames(t *testing.T) {
	service := &Service{DB: dbtest.Open(t), Logger: slog.New(slog.DiscardHandler), Secrets: usernameSecrets()}
	for _, username := range []string{"alex.kim", "local", "receiver", "ops-alerts@acme.example", "token-rotation"} {
		if _, err := service.CreateUser(context.Background(), NewUser{Username: username, Role: RoleViewer, Password: "viewer-long-password", CreatedBy: "test"}); err != nil {
			t.Errorf("CreateUser(%q): error %v, want nil", username, err)
		}
	}
}

func TestSignInOIDCRejectsSecretUsername(t *testing.T) {
	var logs bytes.Buffer
	service := &Service{DB: dbtest.Open(t), Logger: slog.New(slog.NewTextHandler(&logs, nil)), Secrets: usernameSecrets()}

	_, err := service.SignInOIDC(context.Background(), OIDCIdentity{
		Subject: "https://idp.example.test|user-1", Username: "local-receiver-token", Role: RoleViewer,
	})

	var rejected *ErrOIDCRejected
	if !errors.As(err, &rejected) {
		t.Fatalf("SignInOIDC: error %v, want *ErrOIDCRejected", err)
	}
	if !strings.Contains(rejected.Reason, "looks like a credential") {
		t.Errorf("reason %q, want it to say the username looks like a credential", rejected.Reason)
	}
	if strings.Contains(rejected.Reason, "local-receiver-token") || strings.Contains(logs.String(), "local-receiver-token") {
		t.Errorf("reason or log repeats the username: %q\n%s", rejected.Reason, logs.String())
	}
	if count, _ := service.CountUsers(context.Background()); count != 0 {
		t.Errorf("users: got %d, want 0", count)
	}
}
