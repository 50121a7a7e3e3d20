package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func TestAlertSendLeaseExpiresAndFrees(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	take := func(holder string, at time.Time) bool {
		t.Helper()
		acquired, err := models.AcquireAlertSendLease(ctx, db, "fp-1", holder, at, at.Add(time.Minute))
		if err != nil {
			t.Fatalf("AcquireAlertSendLease(%s): %v", holder, err)
		}
		return acquired
	}

	if !take("a", now) {
		t.Fatal("a: got no lease, want the free lease")
	}
	if take("b", now.Add(30*time.Second)) {
		t.Error("b before a's lease expires: got the lease, want none")
	}
	if !take("b", now.Add(61*time.Second)) {
		t.Error("b after a's lease expired: got no lease, want it")
	}
	// A late release by a frees nothing that b holds.
	if err := models.ReleaseAlertSendLease(ctx, db, "fp-1", "a"); err != nil {
		t.Fatal(err)
	}
	if take("c", now.Add(90*time.Second)) {
		t.Error("c while b holds the lease: got it, want none")
	}
	if err := models.ReleaseAlertSendLease(ctx, db, "fp-1", "b"); err != nil {
		t.Fatal(err)
	}
	if !take("c", now.Add(90*time.Second)) {
		t.Error("c after b freed the lease: got no lease, want it")
	}
}

func TestAlertSendLeaseExpiry(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

	if _, ok, err := models.AlertSendLeaseExpiry(ctx, db, "fp-1"); err != nil || ok {
		t.Fatalf("expiry with no lease: got ok %v, error %v; want no lease", ok, err)
	}
	if _, err := models.AcquireAlertSendLease(ctx, db, "fp-1", "a", now, now.Add(7*time.Minute)); err != nil {
		t.Fatal(err)
	}
	expires, ok, err := models.AlertSendLeaseExpiry(ctx, db, "fp-1")
	if err != nil || !ok {
		t.Fatalf("expiry of a held lease: got ok %v, error %v; want the lease", ok, err)
	}
	if want := now.Add(7 * time.Minute); !expires.Equal(want) {
		t.Errorf("expiry: got %s, want %s", expires, want)
	}
}
