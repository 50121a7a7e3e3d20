package evidence

import (
	"net/url"
	"strings"
)

// sensitiveKeyParts mark object keys whose values are never kept in the raw
// item: upstream tooling sometimes copies connector settings into evidence.
var sensitiveKeyParts = []string{
	"token", "secret", "password", "passwd", "authorization", "api_key", "apikey",
	"webhook_url", "cookie", "credential", "private_key", "routing_key", "signature",
}

// scrub returns a public-safe copy of a decoded record: values under
// sensitive keys become "[redacted]", and URLs keep only scheme and host.
func scrub(value any) any {
	switch v := value.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for key, inner := range v {
			if isSensitiveKey(key) {
				out[key] = "[redacted]"
				continue
			}
			out[key] = scrub(inner)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, inner := range v {
			out[i] = scrub(inner)
		}
		return out
	case string:
		return scrubURL(v)
	default:
		return v
	}
}

func isSensitiveKey(key string) bool {
	lower := strings.ToLower(key)
	for _, part := range sensitiveKeyParts {
		if strings.Contains(lower, part) {
			return true
		}
	}
	return false
}

// scrubURL reduces an absolute http(s) URL to scheme and host, because paths
// and queries of webhook URLs carry secrets.
func scrubURL(s string) string {
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return s
	}
	parsed, err := url.Parse(s)
	if err != nil || parsed.Host == "" {
		return "[redacted]"
	}
	if parsed.Path == "" && parsed.RawQuery == "" && parsed.User == nil {
		return s
	}
	return parsed.Scheme + "://" + parsed.Host + "/[redacted]"
}
