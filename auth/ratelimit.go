package auth

import (
	"context"
	"crypto/hmac"
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

// storedKey returns the form of a limiter key that the database keeps: an
// HMAC-SHA256 under LimitKeySecret, because an unknown username can be a
// password typed into the wrong field.
func (s *Service) storedKey(key string) string {
	mac := hmac.New(sha256.New, s.LimitKeySecret)
	mac.Write([]byte("sign-in-limit:" + key))
	return hex.EncodeToString(mac.Sum(nil))
}

// retryAfter reports whether key reached its limit at now and, if so, how
// long until enough of its failures leave the window to allow one more
// attempt. The failures are kept in the database, so every server that
// shares it counts them, and they survive a restart.
func (s *Service) retryAfter(ctx context.Context, key string, now time.Time) (time.Duration, bool, error) {
	limit := limitOf(key)
	recent, err := models.RecentSignInFailures(ctx, s.DB, s.storedKey(key), now.Add(-failedSignInWindow), limit)
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

// reserveAttempt counts an attempt as a failure against each key before
// its password is checked, unless a key has reached its limit, in which
// case it stores nothing and reports blocked. Counting first means attempts
// sent in parallel, to one server or several, cannot all pass the limit
// while their passwords are being checked. It also deletes failures that
// have left the window.
func (s *Service) reserveAttempt(ctx context.Context, now time.Time, keys ...string) ([]int64, bool, error) {
	limits := make([]models.SignInLimit, 0, len(keys))
	for _, key := range keys {
		limits = append(limits, models.SignInLimit{Key: s.storedKey(key), Failures: limitOf(key)})
	}
	window := now.Add(-failedSignInWindow)
	ids, reached, err := models.ReserveSignInAttempt(ctx, s.DB, limits, now, window, window)
	return ids, reached >= 0, err
}

// releaseAttempt removes the failures an attempt reserved once it
// succeeded, and clears the failures of userKey.
func (s *Service) releaseAttempt(ctx context.Context, ids []int64, userKey string) error {
	return models.ReleaseSignInAttempt(ctx, s.DB, ids, s.storedKey(userKey))
}
