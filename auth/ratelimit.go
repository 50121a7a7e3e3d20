package auth

import (
	"strings"
	"sync"
	"time"
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

// pruneThreshold is the number of tracked keys above which record drops
// every key whose failures all left the window, so many distinct usernames
// cannot grow the map without bound.
const pruneThreshold = 10000

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
// help. The result is the same whether or not the username exists.
func (s *Service) SignInBlock(username, clientIP string) (SignInBlock, bool) {
	now := s.now()
	limiter := s.failures()
	if retryAfter, blocked := limiter.retryAfter(addressKeyPrefix+clientIP, now); blocked {
		return SignInBlock{Scope: LimitAddress, Failures: failedAddressSignInLimit, Window: failedSignInWindow, RetryAfter: retryAfter}, true
	}
	if retryAfter, blocked := limiter.retryAfter(userKeyPrefix+NormalizeUsername(username), now); blocked {
		return SignInBlock{Scope: LimitUsername, Failures: failedSignInLimit, Window: failedSignInWindow, RetryAfter: retryAfter}, true
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

// failureLimiter counts recent failures per key in memory. Each server
// process keeps its own counts.
type failureLimiter struct {
	mu       sync.Mutex
	failures map[string][]time.Time
}

// blocked reports whether key reached its limit at now.
func (l *failureLimiter) blocked(key string, now time.Time) bool {
	_, blocked := l.retryAfter(key, now)
	return blocked
}

// retryAfter reports whether key reached its limit at now and, if so, how
// long until enough of its failures leave the window to allow one more
// attempt.
func (l *failureLimiter) retryAfter(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	recent := l.recent(key, now)
	limit := limitOf(key)
	if len(recent) < limit {
		return 0, false
	}
	// Failures are appended in time order, so after the one at index
	// len-limit leaves the window, fewer than limit remain.
	return recent[len(recent)-limit].Add(failedSignInWindow).Sub(now), true
}

// record adds a failure of key at now.
func (l *failureLimiter) record(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failures == nil {
		l.failures = map[string][]time.Time{}
	}
	if len(l.failures) >= pruneThreshold {
		for other := range l.failures {
			l.recent(other, now)
		}
	}
	l.failures[key] = append(l.recent(key, now), now)
}

// reset clears the failures of key after a successful sign-in.
func (l *failureLimiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}

// recent drops failures older than the window and returns the rest. The
// caller holds mu.
func (l *failureLimiter) recent(key string, now time.Time) []time.Time {
	kept := l.failures[key][:0]
	for _, at := range l.failures[key] {
		if now.Sub(at) < failedSignInWindow {
			kept = append(kept, at)
		}
	}
	if len(kept) == 0 {
		delete(l.failures, key)
		return nil
	}
	l.failures[key] = kept
	return kept
}
