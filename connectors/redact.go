package connectors

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Redacted replaces every secret value and every sensitive header value.
const Redacted = "[redacted]"

// minFragmentLength is the shortest URL path segment or query value that is
// redacted on its own. Shorter fragments, such as "v2" or "api", are common
// words, and the whole URL that contains them is redacted anyway.
const minFragmentLength = 8

// Redactor replaces configured secret values, and the path and query of any
// URL, with "[redacted]" in arbitrary text. The zero value and a nil
// *Redactor redact URLs and credential-looking words only.
type Redactor struct {
	secrets  []string // longest first
	values   []string // the wholeValues of every secret
	replacer *strings.Replacer
}

// NewRedactor returns a Redactor for the given secret values. A URL value
// also covers its path, query, query values, long path segments and user
// information, so a fragment of the URL quoted in an error is still redacted.
func NewRedactor(secrets ...string) *Redactor {
	seen := map[string]bool{}
	var all, values []string
	for _, secret := range secrets {
		values = append(values, wholeValues(secret)...)
		for _, variant := range secretVariants(secret) {
			if variant == "" || seen[variant] {
				continue
			}
			seen[variant] = true
			all = append(all, variant)
		}
	}

	// strings.Replacer picks the first matching old string at each
	// position, so longer secrets must come before their own prefixes.
	sort.SliceStable(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })

	pairs := make([]string, 0, 2*len(all))
	for _, secret := range all {
		pairs = append(pairs, secret, Redacted)
	}
	return &Redactor{secrets: all, values: values, replacer: strings.NewReplacer(pairs...)}
}

// secretVariants returns the forms in which a secret value can appear in
// error messages and response bodies.
func secretVariants(secret string) []string {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return nil
	}
	variants := []string{secret, strings.ReplaceAll(secret, "/", `\/`), url.QueryEscape(secret)}
	if len(secret) >= minFragmentLength {
		variants = append(variants, base64.StdEncoding.EncodeToString([]byte(secret)))
	}

	u, err := url.Parse(secret)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return variants
	}

	// The URL without its scheme appears in some proxy and DNS errors.
	variants = append(variants, strings.TrimPrefix(secret, u.Scheme+"://"))
	if u.Path != "" && u.Path != "/" {
		variants = append(variants, u.Path, u.EscapedPath(), strings.ReplaceAll(u.Path, "/", `\/`))
		for segment := range strings.SplitSeq(u.Path, "/") {
			if len(segment) >= minFragmentLength {
				variants = append(variants, segment)
			}
		}
	}
	if u.RawQuery != "" {
		variants = append(variants, u.RawQuery)
		for _, values := range u.Query() {
			for _, value := range values {
				if len(value) >= minFragmentLength {
					variants = append(variants, value, url.QueryEscape(value))
				}
			}
		}
	}
	if u.User != nil {
		variants = append(variants, u.User.String())
		if password, ok := u.User.Password(); ok && password != "" {
			// net/http sends the user information as a Basic credential.
			variants = append(variants, password,
				base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+password)))
		}
	}
	return variants
}

// wholeValues returns the forms of a secret that no one types by chance, for
// FindCredential: the value, a URL without its scheme, a URL path of more
// than one segment, its query values and password. Single path segments are
// left out, because words such as "services" are segments of many URLs.
func wholeValues(secret string) []string {
	secret = strings.TrimSpace(secret)
	values := []string{secret}
	u, err := url.Parse(secret)
	if err == nil && u.Scheme != "" && u.Host != "" {
		values = append(values, strings.TrimPrefix(secret, u.Scheme+"://"))
		if strings.Count(strings.Trim(u.Path, "/"), "/") >= 1 {
			values = append(values, u.Path)
		}
		for _, list := range u.Query() {
			values = append(values, list...)
		}
		if password, ok := u.User.Password(); ok {
			values = append(values, password)
		}
	}
	return slices.DeleteFunc(values, func(value string) bool { return len(value) < minFragmentLength })
}

// urlPattern matches an absolute URL up to the next space, quote or bracket.
var urlPattern = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]{1,15}://[^\s"'<>\x60]+`)

// credentialPattern matches an authorization scheme followed by a credential,
// as servers sometimes echo the Authorization header in error bodies.
var credentialPattern = regexp.MustCompile(`(?i)\b(bearer|basic|splunk|token)(\s+)[A-Za-z0-9._~+/=-]{8,}`)

// assignmentPattern matches a credential given as a name and a value, such
// as password=… in a connection string or "token": "…" in JSON.
var assignmentPattern = regexp.MustCompile(
	`(?i)\b(password|passwd|pwd|secret|client_secret|token|access_token|api_?key|x-api-key|sig|signature|jsessionid)` +
		`("?\s*[=:]\s*"?)[^\s"'&,;<>]{4,}`)

// webhookPattern matches links of well-known incoming webhooks written
// without a scheme, whose path is the secret.
var webhookPattern = regexp.MustCompile(
	`(?i)\b(hooks\.slack\.com|[a-z0-9-]+\.webhook\.office\.com|discord(?:app)?\.com/api/webhooks)/[^\s"'<>\x60]+`)

// tokenPattern matches credentials of well-known formats wherever they
// appear: Slack, GitHub and GitLab tokens, AWS access key IDs, Stripe and
// Google API keys, JSON Web Tokens and this console's own API tokens.
var tokenPattern = regexp.MustCompile(`\b(?:xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}|gh[pousr]_[A-Za-z0-9]{20,}|` +
	`github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}|(?:AKIA|ASIA)[A-Z0-9]{16}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|` +
	`AIza[0-9A-Za-z_-]{35}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}|ecp_[A-Za-z0-9_-]{16,})`)

// jsonEscapePattern matches a JSON \uXXXX escape, with which a server can
// spell any character of an echoed secret.
var jsonEscapePattern = regexp.MustCompile(`\\u[0-9A-Fa-f]{4}`)

// Redact returns text with every secret value replaced, each URL reduced to
// its scheme and host, and each "Bearer <credential>"-style pair or
// password=… assignment redacted. JSON escapes (\uXXXX and \/) are decoded
// first, so an escaped secret is found too.
func (r *Redactor) Redact(text string) string {
	if text == "" {
		return ""
	}
	text = decodeJSONEscapes(text)
	if r != nil && r.replacer != nil {
		text = r.replacer.Replace(text)
	}
	text = urlPattern.ReplaceAllStringFunc(text, redactURL)
	text = webhookPattern.ReplaceAllString(text, "${1}/"+Redacted)
	text = credentialPattern.ReplaceAllString(text, "${1}${2}"+Redacted)
	text = tokenPattern.ReplaceAllString(text, Redacted)
	return assignmentPattern.ReplaceAllString(text, "${1}${2}"+Redacted)
}

// decodeJSONEscapes replaces \uXXXX escapes with their characters and \/
// with a slash. A lone surrogate becomes U+FFFD.
func decodeJSONEscapes(text string) string {
	if !strings.Contains(text, `\`) {
		return text
	}
	text = jsonEscapePattern.ReplaceAllStringFunc(text, func(escape string) string {
		code, _ := strconv.ParseUint(escape[2:], 16, 32)
		return string(rune(code))
	})
	return strings.ReplaceAll(text, `\/`, "/")
}

// FindCredential describes the first credential in text that a person may
// have pasted by mistake, or returns "": a configured secret, a
// "Bearer <credential>"-style pair, a password=… assignment or a link of a
// well-known incoming webhook. A nil *Redactor finds the patterns only.
func (r *Redactor) FindCredential(text string) string {
	decoded := decodeJSONEscapes(text)
	if r != nil && slices.ContainsFunc(r.values, func(value string) bool { return strings.Contains(decoded, value) }) {
		return "a secret of a configured destination"
	}
	for _, match := range typedCredentialPattern.FindAllStringSubmatch(decoded, -1) {
		// A credential has a digit or a symbol, so "Basic troubleshooting" is prose.
		if strings.ContainsFunc(match[2], func(c rune) bool { return !unicode.IsLetter(c) }) {
			return "an authorization credential"
		}
	}
	for _, match := range typedColonPattern.FindAllStringSubmatch(decoded, -1) {
		// "password: hunter2" gives a credential, "password: reset" prose.
		if strings.ContainsFunc(match[2], func(c rune) bool { return !unicode.IsLetter(c) }) {
			return "a password, token or signature assignment"
		}
	}
	switch {
	case typedAssignmentPattern.MatchString(decoded):
		return "a password, token or signature assignment"
	case tokenPattern.MatchString(decoded):
		return "a token of a well-known format"
	case webhookPattern.MatchString(decoded):
		return "a webhook link, whose path is its secret"
	}
	return ""
}

// typedCredentialPattern and typedAssignmentPattern are the stricter forms
// of credentialPattern and assignmentPattern for text people write, where
// "token rotation" or "password: reset by ops" is prose.
var (
	typedCredentialPattern = regexp.MustCompile(`(?i)\b(bearer|basic)\s+([A-Za-z0-9._~+/=-]{12,})`)
	typedAssignmentPattern = regexp.MustCompile(
		`(?i)\b(password|passwd|pwd|secret|client_secret|token|access_token|api_?key|sig|signature|jsessionid)=[^\s"'&,;<>]{4,}`)
	typedColonPattern = regexp.MustCompile(`(?i)\b(password|passwd|pwd|secret|client_secret|token|access_token|api_?key)\s*:\s*([^\s"'&,;<>]{4,})`)
)

// Contains reports whether text contains one of the configured secret values.
func (r *Redactor) Contains(text string) bool {
	if r == nil {
		return false
	}
	return slices.ContainsFunc(r.secrets, func(secret string) bool {
		return strings.Contains(text, secret)
	})
}

// redactURL keeps the scheme and host of a URL and replaces the rest.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Redacted
	}
	rest := strings.TrimPrefix(raw, u.Scheme+"://")
	if u.User != nil {
		rest = rest[strings.Index(rest, "@")+1:]
	}
	rest = strings.TrimPrefix(rest, u.Host)
	base := u.Scheme + "://" + u.Host
	if rest == "" || rest == "/" || rest == "/"+Redacted {
		return base + rest
	}
	return base + "/" + Redacted
}

// Sanitize redacts text, replaces control characters and runs of white space
// with one space, and truncates the result to maxLength characters, ending
// with "…" when it was cut.
func (r *Redactor) Sanitize(text string, maxLength int) string {
	text = r.Redact(text)
	text = strings.Map(func(c rune) rune {
		if c == utf8.RuneError || unicode.IsControl(c) {
			return ' '
		}
		return c
	}, text)
	text = strings.Join(strings.Fields(text), " ")
	return truncateText(text, maxLength, ellipsis)
}

// DescribeError returns a redacted, single-line description of err that is
// at most MaxErrorLength characters long. A *url.Error is rebuilt from its
// operation and inner error only, because its URL may be a secret.
func (r *Redactor) DescribeError(err error) string {
	if err == nil {
		return ""
	}
	text := err.Error()
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		text = urlErr.Op + ": " + describeInnerError(urlErr.Err)
	}
	return r.Sanitize(text, MaxErrorLength)
}

// describeInnerError unwraps nested *url.Error values, which a proxy or a
// redirect can produce, so that no URL survives.
func describeInnerError(err error) string {
	if err == nil {
		return "unknown error"
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Op + ": " + describeInnerError(urlErr.Err)
	}
	return err.Error()
}

// sensitiveHeaderWords are the substrings that mark a header name as a
// credential carrier, matched case-insensitively.
var sensitiveHeaderWords = []string{
	"auth", "token", "key", "secret", "signature", "cookie", "password", "session", "credential",
}

// publicHeaders are lower-case header names that contain one of those words
// but carry no secret: the idempotency key is stored and shown as a field of
// every delivery.
var publicHeaders = []string{"idempotency-key"}

// IsSensitiveHeader reports whether a header with this name may carry a
// credential: any name containing auth (such as Authorization), token, key,
// secret, signature, cookie, password, session or credential, except
// publicHeaders.
func IsSensitiveHeader(name string) bool {
	lower := strings.ToLower(name)
	if slices.Contains(publicHeaders, lower) {
		return false
	}
	return slices.ContainsFunc(sensitiveHeaderWords, func(word string) bool {
		return strings.Contains(lower, word)
	})
}

// RedactHeaders returns the first value of each header, keyed by canonical
// name, with the values of sensitive headers replaced by "[redacted]".
func RedactHeaders(header http.Header) map[string]string {
	return redactHeaders(header, nil)
}

func redactHeaders(header http.Header, redactor *Redactor) map[string]string {
	summary := make(map[string]string, len(header))
	for name, values := range header {
		value := ""
		if len(values) > 0 {
			value = values[0]
		}
		if IsSensitiveHeader(name) || redactor.Contains(value) {
			value = Redacted
		} else {
			value = redactor.Sanitize(value, MaxErrorLength)
		}
		summary[http.CanonicalHeaderKey(name)] = value
	}
	return summary
}
