package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/releaseops/evidence-console/models"
)

// OneTimeSecretLifetime is how long a secret held for one page view waits
// for that page. The page normally follows within a second, as the redirect
// after the form post.
const OneTimeSecretLifetime = 10 * time.Minute

// HoldSecret stores value, such as a new API token, for one later page view
// by userID and returns the random reference that takes it back. The
// database row is encrypted with a key derived from the reference, which
// only the caller keeps, so neither the row nor the reference alone reveals
// value.
func (s *Service) HoldSecret(ctx context.Context, userID, value string) (string, error) {
	reference, err := randomString(32)
	if err != nil {
		return "", err
	}
	sealed, err := sealOneTimeSecret(reference, userID, value)
	if err != nil {
		return "", err
	}
	now := s.now()
	row := &models.OneTimeSecret{
		ID: hashSecret(reference), UserID: userID, Sealed: sealed,
		CreatedAt: now, ExpiresAt: now.Add(OneTimeSecretLifetime),
	}
	if err := models.StoreOneTimeSecret(ctx, s.DB, row, now); err != nil {
		return "", err
	}
	return reference, nil
}

// TakeSecret returns the value that HoldSecret stored for userID under
// reference and deletes it, so a second call with the same reference gets
// false. It also returns false for an unknown or expired reference.
func (s *Service) TakeSecret(ctx context.Context, userID, reference string) (string, bool, error) {
	if reference == "" {
		return "", false, nil
	}
	row, err := models.TakeOneTimeSecret(ctx, s.DB, hashSecret(reference), userID, s.now())
	if err != nil || row == nil {
		return "", false, err
	}
	value, err := openOneTimeSecret(reference, userID, row.Sealed)
	if err != nil {
		return "", false, err
	}
	return value, true, nil
}

// oneTimeSecretCipher returns AES-256-GCM keyed by the reference.
func oneTimeSecretCipher(reference string) (cipher.AEAD, error) {
	block, err := aes.NewCipher(deriveKey(reference, "one-time secret encryption key"))
	if err != nil {
		return nil, fmt.Errorf("auth: unable to create the one-time secret cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// sealOneTimeSecret encrypts value for userID and returns the nonce and
// ciphertext as unpadded URL-safe base64.
func sealOneTimeSecret(reference, userID, value string) (string, error) {
	aead, err := oneTimeSecretCipher(reference)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("auth: unable to read random bytes: %w", err)
	}
	sealed := aead.Seal(nonce, nonce, []byte(value), []byte(userID))
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// openOneTimeSecret reverses sealOneTimeSecret.
func openOneTimeSecret(reference, userID, sealed string) (string, error) {
	aead, err := oneTimeSecretCipher(reference)
	if err != nil {
		return "", err
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", errors.New("auth: a stored one-time secret is malformed")
	}
	value, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(userID))
	if err != nil {
		return "", errors.New("auth: a stored one-time secret does not decrypt with its reference")
	}
	return string(value), nil
}
