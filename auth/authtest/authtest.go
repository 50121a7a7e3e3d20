// Package authtest creates users and API tokens for tests, so a handler test
// can act as a user with a given role by sending
// "Authorization: Bearer <token>".
package authtest

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/auth"
)

// Password is the password of every user CreateUser makes, for tests that
// sign in through the form.
const Password = "test-password-for-sign-in"

// CreateUser stores a user with role and returns it with a new personal API
// token. The test fails if either cannot be created.
func CreateUser(t testing.TB, db *gorm.DB, username string, role auth.Role) (auth.User, string) {
	t.Helper()
	service := &auth.Service{DB: db}
	user, err := service.CreateUser(context.Background(), auth.NewUser{Username: username, Role: role, Password: Password, CreatedBy: "authtest"})
	if err != nil {
		t.Fatalf("create user %s with role %s: %v", username, role, err)
	}
	token, _, err := service.CreateToken(context.Background(), user.ID, "test token")
	if err != nil {
		t.Fatalf("create API token for %s: %v", username, err)
	}
	return user, token
}
