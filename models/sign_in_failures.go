package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// SignInFailure is one failed sign-in as one rate limit counts it. LimitKey
// is an opaque hash chosen by the caller, never a username or address.
type SignInFailure struct {
	ID       int64     `gorm:"primaryKey"`
	LimitKey string    `gorm:"column:limit_key"`
	FailedAt time.Time `gorm:"column:failed_at"`
}

// RecordSignInFailure stores one failure at failedAt under each key. In the
// same transaction it deletes every failure from before deleteBefore,
// which no limit counts any more.
func RecordSignInFailure(ctx context.Context, db *gorm.DB, keys []string, failedAt, deleteBefore time.Time) error {
	rows := make([]SignInFailure, 0, len(keys))
	for _, key := range keys {
		rows = append(rows, SignInFailure{LimitKey: key, FailedAt: UTC(failedAt)})
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("failed_at < ?", UTC(deleteBefore)).Delete(&SignInFailure{}).Error; err != nil {
			return err
		}
		return tx.Create(&rows).Error
	})
	if err != nil {
		return fmt.Errorf("models: unable to record a failed sign-in: %w", err)
	}
	return nil
}

// RecentSignInFailures returns the times of the newest failures of key
// after since, at most limit of them, newest first.
func RecentSignInFailures(ctx context.Context, db *gorm.DB, key string, since time.Time, limit int) ([]time.Time, error) {
	var times []time.Time
	err := db.WithContext(ctx).Model(&SignInFailure{}).Where("limit_key = ? AND failed_at > ?", key, UTC(since)).
		Order("failed_at DESC").Limit(limit).Pluck("failed_at", &times).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read failed sign-ins: %w", err)
	}
	for i := range times {
		times[i] = UTC(times[i])
	}
	return times, nil
}

// ClearSignInFailures deletes every failure of key.
func ClearSignInFailures(ctx context.Context, db *gorm.DB, key string) error {
	if err := db.WithContext(ctx).Where("limit_key = ?", key).Delete(&SignInFailure{}).Error; err != nil {
		return fmt.Errorf("models: unable to clear failed sign-ins: %w", err)
	}
	return nil
}
