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

// SignInLimit is one rate limit an attempt must pass: the opaque key it
// counts and the number of failures it allows.
type SignInLimit struct {
	Key      string
	Failures int
}

// ReserveSignInAttempt stores one failure under each limit's key for an
// attempt about to be checked, unless a limit has already reached its count
// of failures after since. It returns the IDs of the stored rows, or the
// index of the first limit reached and no IDs. The count and the store run
// under a lock on the keys, so attempts made at the same moment, on any
// server, are counted one after the other and never pass a limit together.
// Failures from before deleteBefore are deleted in the same transaction.
func ReserveSignInAttempt(ctx context.Context, db *gorm.DB, limits []SignInLimit, at, since, deleteBefore time.Time) ([]int64, int, error) {
	var ids []int64
	reached := -1
	keys := make([]string, 0, len(limits))
	for _, limit := range limits {
		keys = append(keys, "sign-in-limit:"+limit.Key)
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockNames(tx, keys...); err != nil {
			return err
		}
		for i, limit := range limits {
			var count int64
			err := tx.Model(&SignInFailure{}).Where("limit_key = ? AND failed_at > ?", limit.Key, UTC(since)).Count(&count).Error
			if err != nil {
				return err
			}
			if count >= int64(limit.Failures) {
				reached = i
				return nil
			}
		}
		if err := tx.Where("failed_at < ?", UTC(deleteBefore)).Delete(&SignInFailure{}).Error; err != nil {
			return err
		}
		rows := make([]SignInFailure, 0, len(limits))
		for _, limit := range limits {
			rows = append(rows, SignInFailure{LimitKey: limit.Key, FailedAt: UTC(at)})
		}
		if err := tx.Create(&rows).Error; err != nil {
			return err
		}
		for _, row := range rows {
			ids = append(ids, row.ID)
		}
		return nil
	})
	if err != nil {
		return nil, -1, fmt.Errorf("models: unable to reserve a sign-in attempt: %w", err)
	}
	return ids, reached, nil
}

// ReleaseSignInAttempt deletes the rows an attempt reserved, once it
// succeeded, together with every failure of clearKey.
func ReleaseSignInAttempt(ctx context.Context, db *gorm.DB, ids []int64, clearKey string) error {
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if len(ids) > 0 {
			if err := tx.Where("id IN ?", ids).Delete(&SignInFailure{}).Error; err != nil {
				return err
			}
		}
		return tx.Where("limit_key = ?", clearKey).Delete(&SignInFailure{}).Error
	})
	if err != nil {
		return fmt.Errorf("models: unable to release a sign-in attempt: %w", err)
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
