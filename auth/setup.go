package auth

import (
	"sync"
	"time"
)

// SetupTokenLifetime is how long the first-admin setup link stays valid.
const SetupTokenLifetime = time.Hour

// SetupToken is the one-time secret of the "create the first admin" link,
// kept only in memory (as a hash) by the process that printed it.
type SetupToken struct {
	mu        sync.Mutex
	hash      string
	expiresAt time.Time
}

// Issue creates a new setup token valid until now+SetupTokenLifetime and
// returns it; any earlier token stops working.
func (t *SetupToken) Issue(now time.Time) (string, error) {
	secret, err := randomString(32)
	if err != nil {
		return "", err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.hash = hashSecret(secret)
	t.expiresAt = now.Add(SetupTokenLifetime)
	return secret, nil
}

// Valid reports whether secret is the current, unexpired token.
func (t *SetupToken) Valid(secret string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.hash != "" && now.Before(t.expiresAt) && EqualTokens(hashSecret(secret), t.hash)
}

// Consume checks secret like Valid and, on success, makes the token unusable
// so it works only once.
func (t *SetupToken) Consume(secret string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hash == "" || !now.Before(t.expiresAt) || !EqualTokens(hashSecret(secret), t.hash) {
		return false
	}
	t.hash = ""
	return true
}
