package evidence

import (
	"strings"

	"github.com/releaseops/evidence-console/connectors"
)

// sensitiveKeyParts mark object keys whose values are never kept in the raw
// item, because upstream tooling sometimes copies connector settings into
// evidence. Keys are compared in lower case without "-", "_", "." or spaces.
var sensitiveKeyParts = []string{
	"token", "secret", "password", "passwd", "authorization", "apikey", "webhookurl", "cookie",
	"credential", "privatekey", "routingkey", "signature", "accesskey", "clientassertion",
	"connectionstring", "sessionkey", "bearer", "passphrase", "sshkey", "signingkey", "authheader", "privkey",
}

// sensitiveKeys are short keys that are sensitive only as a whole, because
// as parts they occur in harmless keys (pass in passed_count).
var sensitiveKeys = []string{"pass", "pwd", "auth", "sig", "dsn", "conn", "session", "key", "jwt", "otp", "pin", "creds"}

// scrub returns a public-safe copy of a decoded record: values under
// sensitive keys become "[redacted]", and strings are redacted as connector
// responses are, so a URL keeps only its scheme and host, credentials such
// as "Bearer …" or password=… are replaced, and so is every configured
// secret of secrets in any of its encoded forms. A nil secrets still
// redacts URLs and credential-looking text.
func scrub(value any, secrets *connectors.Redactor) any {
	switch v := value.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for key, inner := range v {
			if isSensitiveKey(key) {
				out[key] = connectors.Redacted
				continue
			}
			out[key] = scrub(inner, secrets)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, inner := range v {
			out[i] = scrub(inner, secrets)
		}
		return out
	case string:
		return secrets.Redact(v)
	default:
		return v
	}
}

func isSensitiveKey(key string) bool {
	normalized := strings.Map(func(c rune) rune {
		switch c {
		case '-', '_', '.', ' ':
			return -1
		}
		return c
	}, strings.ToLower(key))
	for _, part := range sensitiveKeyParts {
		if strings.Contains(normalized, part) {
			return true
		}
	}
	for _, whole := range sensitiveKeys {
		if normalized == whole {
			return true
		}
	}
	return false
}
