package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// AcquireAlertSendLease takes the send lease of an alert fingerprint for
// holder until expiresAt. It fails to take it, without an error, while
// another holder has a lease that has not expired at now.
func AcquireAlertSendLease(ctx context.Context, db *gorm.DB, fingerprint, holder string, now, expiresAt time.Time) (bool, error) {
	var granted []string
	err := db.WithContext(ctx).Raw(`INSERT INTO alert_send_leases (fingerprint, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (fingerprint) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE alert_send_leases.expires_at < ?
		RETURNING holder`, fingerprint, holder, UTC(expiresAt), UTC(now)).Scan(&granted).Error
	if err != nil {
		return false, fmt.Errorf("models: unable to take the send lease of alert %s: %w", fingerprint, err)
	}
	return len(granted) == 1 && granted[0] == holder, nil
}

// ReleaseAlertSendLease frees the send lease of an alert fingerprint if
// holder still has it.
func ReleaseAlertSendLease(ctx context.Context, db *gorm.DB, fingerprint, holder string) error {
	err := db.WithContext(ctx).Exec("DELETE FROM alert_send_leases WHERE fingerprint = ? AND holder = ?", fingerprint, holder).Error
	if err != nil {
		return fmt.Errorf("models: unable to free the send lease of alert %s: %w", fingerprint, err)
	}
	return nil
}

// AlertSendLeaseExpiry returns when the send lease of an alert fingerprint
// expires, or ok false when no lease is stored.
func AlertSendLeaseExpiry(ctx context.Context, db *gorm.DB, fingerprint string) (time.Time, bool, error) {
	var expires []time.Time
	err := db.WithContext(ctx).Raw("SELECT expires_at FROM alert_send_leases WHERE fingerprint = ?", fingerprint).Scan(&expires).Error
	if err != nil {
		return time.Time{}, false, fmt.Errorf("models: unable to read the send lease of alert %s: %w", fingerprint, err)
	}
	if len(expires) == 0 {
		return time.Time{}, false, nil
	}
	return expires[0].UTC(), true, nil
}

// AlertSendLeaseHolder returns the holder of the send lease of an alert
// fingerprint, or "" when no lease is stored.
func AlertSendLeaseHolder(ctx context.Context, db *gorm.DB, fingerprint string) (string, error) {
	var holders []string
	err := db.WithContext(ctx).Raw("SELECT holder FROM alert_send_leases WHERE fingerprint = ?", fingerprint).Scan(&holders).Error
	if err != nil {
		return "", fmt.Errorf("models: unable to read the send lease of alert %s: %w", fingerprint, err)
	}
	if len(holders) == 0 {
		return "", nil
	}
	return holders[0], nil
}
