package audit

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/audit/audittest"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// fixtureStart and at are the fixture's clock, see audittest.
var fixtureStart = audittest.Start

func at(minutes int) time.Time { return audittest.At(minutes) }

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestService(db *gorm.DB) *Service {
	return &Service{DB: db, Now: func() time.Time { return at(60) }, Logger: quietLogger()}
}

func openFixture(t *testing.T) (*gorm.DB, *Service) {
	t.Helper()
	db := dbtest.Open(t)
	audittest.Seed(t, db)
	return db, newTestService(db)
}
