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
// occurrence of the previous snapshot when the fingerprints match, and is
// the snapshot's own id otherwise, so one occurrence spans an unbroken run of
// evaluations with the same findings. The previous snapshot is the newest
// one, or else the newest one evaluated with the same thresholds, because an
// evaluation with other thresholds can find other problems while these
// persist. encodeReport receives the occurrence id and returns the Report
// text to store.
func CreateHealthSnapshot(ctx context.Context, db *gorm.DB, snapshot *HealthSnapshot, encodeReport func(occurrenceID string) (string, error)) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if DialectOf(tx) == DialectPostgres {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", healthSnapshotLockKey).Error; err != nil {
				return fmt.Errorf("models: unable to lock health snapshots: %w", err)
			}
		}
		occurrenceID, err := continuedOccurrence(tx, snapshot)
		if err != nil {
			return err
		}
		if occurrenceID == "" {
			occurrenceID = snapshot.ID
		}
		snapshot.OccurrenceID = occurrenceID

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

// continuedOccurrence returns the occurrence that snapshot continues, or ""
// when it starts a new one. It reads the newest snapshot and, when that one
// has another fingerprint, the newest snapshot with snapshot's thresholds.
func continuedOccurrence(tx *gorm.DB, snapshot *HealthSnapshot) (string, error) {
	var newest HealthSnapshot
	err := tx.Order("evaluated_at DESC, id DESC").Limit(1).Take(&newest).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("models: unable to read the previous health snapshot: %w", err)
	}
	if newest.Fingerprint == snapshot.Fingerprint {
		return newest.OccurrenceID, nil
	}
	if newest.ExpectedIntervalMinutes == snapshot.ExpectedIntervalMinutes && newest.StaleMetadataMinutes == snapshot.StaleMetadataMinutes {
		return "", nil
	}

	var sameThresholds HealthSnapshot
	err = tx.Where("expected_interval_minutes = ? AND stale_metadata_minutes = ?",
		snapshot.ExpectedIntervalMinutes, snapshot.StaleMetadataMinutes).
		Order("evaluated_at DESC, id DESC").Limit(1).Take(&sameThresholds).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("models: unable to read the previous health snapshot with the same thresholds: %w", err)
	}
	if sameThresholds.Fingerprint == snapshot.Fingerprint {
		return sameThresholds.OccurrenceID, nil
	}
	return "", nil
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
