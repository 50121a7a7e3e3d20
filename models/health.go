package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// HealthSnapshot is a persisted recovery retry health evaluation. Report is
// the evaluation as JSON, exactly as it was returned when it was built.
type HealthSnapshot struct {
	ID                      string `gorm:"primaryKey"`
	Fingerprint             string
	OccurrenceID            string
	AlertLevel              string
	FindingCount            int
	ExpectedIntervalMinutes int
	StaleMetadataMinutes    int
	Actor                   string
	EvaluatedAt             time.Time
	Report                  string
}

// CreateHealthSnapshot stores snapshot. Its OccurrenceID continues the
// previous snapshot's occurrence when the fingerprint is unchanged, and is the
// snapshot's own id otherwise, so one occurrence spans an unbroken run of
// evaluations with the same findings. encodeReport receives the occurrence id
// and returns the Report text to store.
func CreateHealthSnapshot(ctx context.Context, db *gorm.DB, snapshot *HealthSnapshot, encodeReport func(occurrenceID string) (string, error)) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if DialectOf(tx) == DialectPostgres {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", healthSnapshotLockKey).Error; err != nil {
				return fmt.Errorf("models: unable to lock health snapshots: %w", err)
			}
		}
		var previous HealthSnapshot
		err := tx.Order("evaluated_at DESC, id DESC").Limit(1).Take(&previous).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			snapshot.OccurrenceID = snapshot.ID
		case err != nil:
			return fmt.Errorf("models: unable to read the previous health snapshot: %w", err)
		case previous.Fingerprint == snapshot.Fingerprint:
			snapshot.OccurrenceID = previous.OccurrenceID
		default:
			snapshot.OccurrenceID = snapshot.ID
		}

		report, err := encodeReport(snapshot.OccurrenceID)
		if err != nil {
			return fmt.Errorf("models: unable to encode health snapshot %s: %w", snapshot.ID, err)
		}
		snapshot.Report = report
		if err := tx.Create(snapshot).Error; err != nil {
			return fmt.Errorf("models: unable to store health snapshot %s: %w", snapshot.ID, err)
		}
		return nil
	})
}

// ErrNotFound is returned by lookups of a single record that does not exist.
var ErrNotFound = errors.New("not found")

// HealthSnapshotByID returns one snapshot or ErrNotFound.
func HealthSnapshotByID(ctx context.Context, db *gorm.DB, id string) (*HealthSnapshot, error) {
	var snapshot HealthSnapshot
	err := db.WithContext(ctx).Where("id = ?", id).Take(&snapshot).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read health snapshot %s: %w", id, err)
	}
	return &snapshot, nil
}

// LatestHealthSnapshot returns the newest snapshot, or nil when none exists.
func LatestHealthSnapshot(ctx context.Context, db *gorm.DB) (*HealthSnapshot, error) {
	var snapshot HealthSnapshot
	err := db.WithContext(ctx).Order("evaluated_at DESC, id DESC").Limit(1).Take(&snapshot).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the newest health snapshot: %w", err)
	}
	return &snapshot, nil
}

// healthSnapshotLockKey serialises snapshot creation on PostgreSQL so two
// concurrent builds agree on the occurrence they continue.
const healthSnapshotLockKey = 7426002
