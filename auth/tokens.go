package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// apiTokenPrefix starts every personal API token, so a leaked token is easy
// to recognise in a secret scanner.
const apiTokenPrefix = "ecp_"

// displayPrefixLength is how many leading characters of a token are stored
// and shown to tell tokens apart: "ecp_" and 8 random characters.
const displayPrefixLength = 12

// newAPIToken returns a new token (the "ecp_" prefix and 256 random bits),
// its display prefix and its SHA-256 hash.
func newAPIToken() (token, prefix, hash string, err error) {
	random, err := randomString(32)
	if err != nil {
		return "", "", "", err
	}
	token = apiTokenPrefix + random
	return token, token[:displayPrefixLength], hashSecret(token), nil
}

// hashSecret returns the hex SHA-256 of a high-entropy secret (an API token
// or a session secret). A fast hash is enough because such secrets cannot be
// guessed, unlike passwords.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CSRFToken returns the CSRF token of the session with the given cookie
// secret. It is derived from the secret, so it is never stored and changes
// with every new session.
func CSRFToken(sessionSecret string) string {
	mac := hmac.New(sha256.New, []byte(sessionSecret))
	mac.Write([]byte("evidence-console csrf"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// EqualTokens compares two tokens in constant time.
func EqualTokens(a, b string) bool {
	return a != "" && hmac.Equal([]byte(a), []byte(b))
}
