package auth

import (
	"sync"
	"time"
)

// Sign-in rate limit: after failedSignInLimit failures within
// failedSignInWindow for one username or one client address, further
// attempts for it are rejected until the oldest failure leaves the window.
const (
	failedSignInLimit  = 5
	failedSignInWindow = 15 * time.Minute
)

// pruneThreshold is the number of tracked keys above which record drops
// every key whose failures all left the window, so many distinct usernames
// cannot grow the map without bound.
const pruneThreshold = 10000

// failureLimiter counts recent failures per key in memory. Each server
// process keeps its own counts.
type failureLimiter struct {
	mu       sync.Mutex
	failures map[string][]time.Time
}

// blocked reports whether key reached the limit at now.
func (l *failureLimiter) blocked(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(key, now)) >= failedSignInLimit
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
