package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/releaseops/evidence-console/models"
)

// Sign-in rate limits. A username with failedSignInLimit failures within
// failedSignInWindow, or a client address with failedAddressSignInLimit,
// is rejected until its oldest failure leaves the window. The address limit
// is higher because everyone behind one proxy shares an address. It still
// stops guessing across many usernames. One person's typos lock only their
// own username, so the rest of the team can still sign in.
const (
	failedSignInLimit        = 5
	failedAddressSignInLimit = 20
	failedSignInWindow       = 15 * time.Minute
)

// Key prefixes of the limiter, as CheckPassword builds the keys: the
// normalized username after userKeyPrefix, the client address after
// addressKeyPrefix.
const (
	userKeyPrefix    = "user:"
	addressKeyPrefix = "ip:"
)

// SignInLimitScope is the kind of key whose failures a sign-in rate limit
// counts: a username or a client address.
type SignInLimitScope string

// The scopes of the sign-in rate limits.
const (
	LimitUsername SignInLimitScope = "username"
	LimitAddress  SignInLimitScope = "address"
)

// SignInBlock describes the rate limit that rejects sign-ins.
type SignInBlock struct {
	Scope SignInLimitScope
	// Failures is the number of failures the limit allows in Window.
	Failures int
	Window   time.Duration
	// RetryAfter is the time until the oldest counted failure leaves the
	// window, after which one more attempt is allowed.
	RetryAfter time.Duration
}

// SignInBlock returns the rate limit that rejects sign-ins for username
// from clientIP now, and false when neither limit does. When both do, it
// returns the address limit, because trying another username would not
// help. The result is the same whether or not the username exists. When
// the failures cannot be read it logs the error and returns false.
func (s *Service) SignInBlock(ctx context.Context, username, clientIP string) (SignInBlock, bool) {
	now := s.now()
	for _, limit := range []struct {
		scope SignInLimitScope
		key   string
	}{{LimitAddress, addressKeyPrefix + clientIP}, {LimitUsername, userKeyPrefix + NormalizeUsername(username)}} {
		retryAfter, blocked, err := s.retryAfter(ctx, limit.key, now)
		if err != nil {
			s.logger().Error("reading failed sign-ins from the database failed", "client_ip", clientIP, "error", err)
			return SignInBlock{}, false
		}
		if blocked {
			return SignInBlock{Scope: limit.scope, Failures: limitOf(limit.key), Window: failedSignInWindow, RetryAfter: retryAfter}, true
		}
	}
	return SignInBlock{}, false
}

// limitOf returns the number of failures allowed for key in the window.
func limitOf(key string) int {
	if strings.HasPrefix(key, addressKeyPrefix) {
		return failedAddressSignInLimit
	}
	return failedSignInLimit
}

// storedKey returns the form of a limiter key that the database keeps: a
// hash, because an unknown username can be a password typed into the
// wrong field.
func storedKey(key string) string {
	sum := sha256.Sum256([]byte("sign-in-limit:" + key))
	return hex.EncodeToString(sum[:])
}

// blocked reports whether key reached its limit at now.
func (s *Service) blocked(ctx context.Context, key string, now time.Time) (bool, error) {
	_, blocked, err := s.retryAfter(ctx, key, now)
	return blocked, err
}

// retryAfter reports whether key reached its limit at now and, if so, how
// long until enough of its failures leave the window to allow one more
// attempt. The failures are kept in the database, so every server that
// shares it counts them, and they survive a restart.
func (s *Service) retryAfter(ctx context.Context, key string, now time.Time) (time.Duration, bool, error) {
	limit := limitOf(key)
	recent, err := models.RecentSignInFailures(ctx, s.DB, storedKey(key), now.Add(-failedSignInWindow), limit)
	if err != nil {
		return 0, false, err
	}
	if len(recent) < limit {
		return 0, false, nil
	}
	// recent holds the newest limit failures, newest first. Once the
	// oldest of them leaves the window, fewer than limit remain.
	return recent[limit-1].Add(failedSignInWindow).Sub(now), true, nil
}

// recordFailure counts one failure at now against each key, and deletes
// failures that have left the window.
func (s *Service) recordFailure(ctx context.Context, now time.Time, keys ...string) error {
	stored := make([]string, 0, len(keys))
	for _, key := range keys {
		stored = append(stored, storedKey(key))
	}
	return models.RecordSignInFailure(ctx, s.DB, stored, now, now.Add(-failedSignInWindow))
}

// resetFailures clears the failures of key after a successful sign-in.
func (s *Service) resetFailures(ctx context.Context, key string) error {
	return models.ClearSignInFailures(ctx, s.DB, storedKey(key))
}
