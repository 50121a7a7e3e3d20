package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// User is a person or system that signs in to the console.
type User struct {
	ID           string `gorm:"primaryKey"`
	Username     string
	Role         string
	PasswordHash string
	OIDCSubject  string `gorm:"column:oidc_subject"`
	Disabled     bool
	CreatedBy    string
	LastSignInAt *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// APIToken is a personal API token; the token itself is never stored.
type APIToken struct {
	ID         string `gorm:"primaryKey"`
	UserID     string
	Name       string
	Prefix     string
	TokenHash  string
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	CreatedAt  time.Time
}

// UserSession is a browser session, keyed by the hash of its cookie secret.
type UserSession struct {
	ID         string `gorm:"primaryKey"`
	UserID     string
	Method     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// ErrDuplicate is returned when a unique value (such as a username) is taken.
var ErrDuplicate = errors.New("already exists")

// CreateUser stores user, returning ErrDuplicate when the username or the
// single sign-on subject is taken.
func CreateUser(ctx context.Context, db *gorm.DB, user *User) error {
	err := db.WithContext(ctx).Create(user).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("models: unable to store user %s: %w", user.Username, err)
	}
	return nil
}

// ErrUsersExist rejects CreateFirstUser when a user exists.
var ErrUsersExist = errors.New("models: a user already exists")

// CreateFirstUser stores user only when no user exists yet, and returns
// ErrUsersExist otherwise. The check and the insert run under one lock, so
// of two first users created at the same moment, on any server, one is
// stored.
func CreateFirstUser(ctx context.Context, db *gorm.DB, user *User) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockNames(tx, "first-user"); err != nil {
			return err
		}
		var count int64
		if err := tx.Model(&User{}).Count(&count).Error; err != nil {
			return fmt.Errorf("models: unable to count users: %w", err)
		}
		if count > 0 {
			return ErrUsersExist
		}
		return CreateUser(ctx, tx, user)
	})
}

// UserByID returns one user or ErrNotFound.
func UserByID(ctx context.Context, db *gorm.DB, id string) (*User, error) {
	return takeUser(ctx, db, "id = ?", id)
}

// UserByUsername returns one user by lower-case username or ErrNotFound.
func UserByUsername(ctx context.Context, db *gorm.DB, username string) (*User, error) {
	return takeUser(ctx, db, "username = ?", username)
}

// UserByOIDCSubject returns the user linked to a single sign-on subject or
// ErrNotFound.
func UserByOIDCSubject(ctx context.Context, db *gorm.DB, subject string) (*User, error) {
	return takeUser(ctx, db, "oidc_subject = ? AND oidc_subject <> ''", subject)
}

func takeUser(ctx context.Context, db *gorm.DB, query string, value string) (*User, error) {
	var user User
	err := db.WithContext(ctx).Where(query, value).Take(&user).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read user: %w", err)
	}
	return &user, nil
}

// ListUsers returns every user ordered by username.
func ListUsers(ctx context.Context, db *gorm.DB) ([]User, error) {
	var users []User
	if err := db.WithContext(ctx).Order("username").Find(&users).Error; err != nil {
		return nil, fmt.Errorf("models: unable to list users: %w", err)
	}
	return users, nil
}

// CountUsers returns the number of users.
func CountUsers(ctx context.Context, db *gorm.DB) (int64, error) {
	var n int64
	if err := db.WithContext(ctx).Model(&User{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("models: unable to count users: %w", err)
	}
	return n, nil
}

// UpdateUser sets the given columns of one user, returning ErrNotFound when
// no user has id.
func UpdateUser(ctx context.Context, db *gorm.DB, id string, columns map[string]any) error {
	result := db.WithContext(ctx).Model(&User{}).Where("id = ?", id).Updates(columns)
	if result.Error != nil {
		return fmt.Errorf("models: unable to update user %s: %w", id, result.Error)
	}
	if result.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// CreateAPIToken stores token.
func CreateAPIToken(ctx context.Context, db *gorm.DB, token *APIToken) error {
	if err := db.WithContext(ctx).Create(token).Error; err != nil {
		return fmt.Errorf("models: unable to store API token for user %s: %w", token.UserID, err)
	}
	return nil
}

// APITokenByHash returns the token with the given SHA-256 hash or
// ErrNotFound.
func APITokenByHash(ctx context.Context, db *gorm.DB, hash string) (*APIToken, error) {
	var token APIToken
	err := db.WithContext(ctx).Where("token_hash = ?", hash).Take(&token).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read API token: %w", err)
	}
	return &token, nil
}

// ListAPITokens returns the tokens of one user, newest first.
func ListAPITokens(ctx context.Context, db *gorm.DB, userID string) ([]APIToken, error) {
	var tokens []APIToken
	if err := db.WithContext(ctx).Where("user_id = ?", userID).Order("created_at DESC, id DESC").Find(&tokens).Error; err != nil {
		return nil, fmt.Errorf("models: unable to list API tokens of user %s: %w", userID, err)
	}
	return tokens, nil
}

// RevokeAPIToken marks one token of userID revoked at now. Revoking a revoked
// token keeps its first revocation time. It returns ErrNotFound when userID
// has no token with tokenID.
func RevokeAPIToken(ctx context.Context, db *gorm.DB, userID, tokenID string, now time.Time) error {
	var token APIToken
	err := db.WithContext(ctx).Where("id = ? AND user_id = ?", tokenID, userID).Take(&token).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("models: unable to read API token %s: %w", tokenID, err)
	}
	if token.RevokedAt != nil {
		return nil
	}
	if err := db.WithContext(ctx).Model(&APIToken{}).Where("id = ?", tokenID).Update("revoked_at", UTC(now)).Error; err != nil {
		return fmt.Errorf("models: unable to revoke API token %s: %w", tokenID, err)
	}
	return nil
}

// TouchAPIToken records that a token was used at now.
func TouchAPIToken(ctx context.Context, db *gorm.DB, tokenID string, now time.Time) error {
	if err := db.WithContext(ctx).Model(&APIToken{}).Where("id = ?", tokenID).Update("last_used_at", UTC(now)).Error; err != nil {
		return fmt.Errorf("models: unable to record the use of API token %s: %w", tokenID, err)
	}
	return nil
}

// CreateUserSession stores session.
func CreateUserSession(ctx context.Context, db *gorm.DB, session *UserSession) error {
	if err := db.WithContext(ctx).Create(session).Error; err != nil {
		return fmt.Errorf("models: unable to store a session for user %s: %w", session.UserID, err)
	}
	return nil
}

// UserSessionByID returns one session or ErrNotFound.
func UserSessionByID(ctx context.Context, db *gorm.DB, id string) (*UserSession, error) {
	var session UserSession
	err := db.WithContext(ctx).Where("id = ?", id).Take(&session).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read session: %w", err)
	}
	return &session, nil
}

// TouchUserSession records activity on a session at now.
func TouchUserSession(ctx context.Context, db *gorm.DB, id string, now time.Time) error {
	if err := db.WithContext(ctx).Model(&UserSession{}).Where("id = ?", id).Update("last_seen_at", UTC(now)).Error; err != nil {
		return fmt.Errorf("models: unable to record session activity: %w", err)
	}
	return nil
}

// DeleteUserSession removes one session; a missing session is not an error.
func DeleteUserSession(ctx context.Context, db *gorm.DB, id string) error {
	if err := db.WithContext(ctx).Where("id = ?", id).Delete(&UserSession{}).Error; err != nil {
		return fmt.Errorf("models: unable to delete session: %w", err)
	}
	return nil
}

// DeleteUserSessionsOf removes every session of one user, so disabling the
// user signs them out everywhere at once.
func DeleteUserSessionsOf(ctx context.Context, db *gorm.DB, userID string) error {
	if err := db.WithContext(ctx).Where("user_id = ?", userID).Delete(&UserSession{}).Error; err != nil {
		return fmt.Errorf("models: unable to delete the sessions of user %s: %w", userID, err)
	}
	return nil
}

// DeleteExpiredUserSessions removes sessions that expired or went idle
// before the given times.
func DeleteExpiredUserSessions(ctx context.Context, db *gorm.DB, expiredBefore, idleBefore time.Time) (int64, error) {
	result := db.WithContext(ctx).Where("expires_at < ? OR last_seen_at < ?", UTC(expiredBefore), UTC(idleBefore)).Delete(&UserSession{})
	if result.Error != nil {
		return 0, fmt.Errorf("models: unable to delete expired sessions: %w", result.Error)
	}
	return result.RowsAffected, nil
}

// OneTimeSecret is a secret that one page shows once, stored sealed under
// a key that only the session cookie's reference can derive.
type OneTimeSecret struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	Sealed    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// StoreOneTimeSecret stores secret and deletes the rows that expired
// before now.
func StoreOneTimeSecret(ctx context.Context, db *gorm.DB, secret *OneTimeSecret, now time.Time) error {
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("expires_at < ?", UTC(now)).Delete(&OneTimeSecret{}).Error; err != nil {
			return err
		}
		return tx.Create(secret).Error
	})
	if err != nil {
		return fmt.Errorf("models: unable to store a one-time secret: %w", err)
	}
	return nil
}

// TakeOneTimeSecret deletes the row with id that belongs to userID and
// returns it, or nil when there is none, it has expired, or another request
// took it first. Only the request whose delete removed the row gets it. It
// also deletes the rows that expired before now, as StoreOneTimeSecret does.
func TakeOneTimeSecret(ctx context.Context, db *gorm.DB, id, userID string, now time.Time) (*OneTimeSecret, error) {
	var taken *OneTimeSecret
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("expires_at < ?", UTC(now)).Delete(&OneTimeSecret{}).Error; err != nil {
			return err
		}
		var row OneTimeSecret
		err := tx.Where("id = ? AND user_id = ?", id, userID).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		deleted := tx.Where("id = ?", id).Delete(&OneTimeSecret{})
		if deleted.Error != nil {
			return deleted.Error
		}
		if deleted.RowsAffected == 1 && row.ExpiresAt.After(UTC(now)) {
			taken = &row
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("models: unable to take a one-time secret: %w", err)
	}
	return taken, nil
}
