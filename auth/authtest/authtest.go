// Package authtest creates users and API tokens for tests, so a handler test
// can act as a user with a given role by sending
// "Authorization: Bearer <token>".
package authtest

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/models"
)

// Password is the password of every user CreateUser makes, for tests that
// sign in through the form.
const Password = "test-password-for-sign-in"

// passwordHash is the argon2id hash of Password, computed once per test
// binary because hashing is deliberately slow.
var passwordHash = sync.OnceValues(func() (string, error) { return auth.HashPassword(Password) })

// CreateUser stores a user with role and the password Password, and returns
// it with a new personal API token. The test fails if either cannot be
// created.
func CreateUser(t testing.TB, db *gorm.DB, username string, role auth.Role) (auth.User, string) {
	t.Helper()
	if !role.Valid() {
		t.Fatalf("create user %s: %q is not a role", username, role)
	}
	hash, err := passwordHash()
	if err != nil {
		t.Fatalf("hash the test password: %v", err)
	}
	now := models.UTC(time.Now())
	record := &models.User{
		ID: models.NewID("usr", now), Username: auth.NormalizeUsername(username), Role: string(role), PasswordHash: hash,
		CreatedBy: "authtest", CreatedAt: now, UpdatedAt: now,
	}
	if err := models.CreateUser(context.Background(), db, record); err != nil {
		t.Fatalf("create user %s with role %s: %v", username, role, err)
	}
	service := &auth.Service{DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	user, err := service.UserByID(context.Background(), record.ID)
	if err != nil {
		t.Fatalf("read back user %s: %v", username, err)
	}
	token, _, err := service.CreateToken(context.Background(), user.ID, "test token")
	if err != nil {
		t.Fatalf("create API token for %s: %v", username, err)
	}
	return user, token
}
