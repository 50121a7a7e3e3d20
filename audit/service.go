// Package audit counts, lists, traces and exports the records the console
// produces: the rollback drill notification dashboard, the combined history,
// the audit chain of one record and the evidence export for auditors. It only
// reads; every record it returns was stored public-safe by the package that
// wrote it.
package audit

import (
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
)

// Service reads the stored records.
type Service struct {
	DB     *gorm.DB
	Now    func() time.Time
	Logger *slog.Logger
	// Secrets contains the configured destinations' secrets, which the
	// evidence export replaces wherever a stored value contains one. Nil
	// contains none.
	Secrets *connectors.Redactor
}
