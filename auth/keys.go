package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SessionKeyPairs derives, from each configured secret, the 32-byte hash
// key and the 32-byte AES-256 encryption key that gorilla/sessions expects,
// in the same order.
func SessionKeyPairs(secrets []string) [][]byte {
	pairs := make([][]byte, 0, 2*len(secrets))
	for _, secret := range secrets {
		pairs = append(pairs, deriveKey(secret, "session cookie hash key"), deriveKey(secret, "session cookie encryption key"))
	}
	return pairs
}

func deriveKey(secret, purpose string) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(purpose))
	return mac.Sum(nil)
}

// LoadOrCreateKeyFile returns the session secret kept in path, creating the
// file (mode 0600, folder 0700) with 32 random bytes in hex when it does not
// exist. It rejects a file that others can read.
func LoadOrCreateKeyFile(path string) (string, error) {
	content, err := os.ReadFile(path)
	if err == nil {
		info, statErr := os.Stat(path)
		if statErr != nil {
			return "", fmt.Errorf("auth: unable to check %s: %w", path, statErr)
		}
		if info.Mode().Perm()&0o077 != 0 {
			return "", fmt.Errorf("auth: session key file %s is readable by other users (mode %o); run chmod 600 %s", path, info.Mode().Perm(), path)
		}
		key := strings.TrimSpace(string(content))
		if len(key) < 32 {
			return "", fmt.Errorf("auth: session key file %s contains fewer than 32 characters; delete it to generate a new key", path)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("auth: unable to read session key file %s: %w", path, err)
	}

	random := make([]byte, 32)
	if _, err := rand.Read(random); err != nil {
		return "", fmt.Errorf("auth: unable to read random bytes: %w", err)
	}
	key := hex.EncodeToString(random)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("auth: unable to create the folder of %s: %w", path, err)
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it first; use its key.
		return LoadOrCreateKeyFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("auth: unable to create session key file %s: %w", path, err)
	}
	if _, err := file.WriteString(key + "\n"); err != nil {
		_ = file.Close()
		return "", fmt.Errorf("auth: unable to write session key file %s: %w", path, err)
	}
	if err := file.Close(); err != nil {
		return "", fmt.Errorf("auth: unable to write session key file %s: %w", path, err)
	}
	return key, nil
}
