package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/releaseops/evidence-console/models/dbtest"
)

func TestFirstUserCreatedOnce(t *testing.T) {
	db := dbtest.Open(t)
	now := limitStart
	servers := []*Service{limiterService(db, &now), limiterService(db, &now)}
	ctx := context.Background()

	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = servers[i%2].CreateUser(ctx, NewUser{
				Username: fmt.Sprintf("admin%d", i), Role: RoleAdmin, Password: "first-admin-password", CreatedBy: "setup link", FirstUser: true,
			})
		}()
	}
	wg.Wait()

	created := 0
	for i, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, ErrNotFirstUser):
			t.Errorf("first user %d: got %v, want created or ErrNotFirstUser", i, err)
		}
	}
	if created != 1 {
		t.Errorf("first users created: got %d, want 1", created)
	}
	if count, err := servers[0].CountUsers(ctx); err != nil || count != 1 {
		t.Errorf("users: got %d (%v), want 1", count, err)
	}
}
