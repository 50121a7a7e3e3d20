package connectors

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
// *Redactor redact URLs and credential-looking words only. It is safe for
// concurrent use, and secrets registered while it is in use, such as an
// access token, apply to every later call.
type Redactor struct {
	// state contains the secrets and their derived forms. A change builds a
	// new state and stores it whole, so readers take no lock.
	state atomic.Pointer[redactorState]

	// mu serializes changes of the inputs below and of state.
	mu         sync.Mutex
	configured []string            // secrets given to NewRedactor
	ignored    []string            // values passed to ignoreInTypedText
	runtime    map[string][]string // secrets registered while running, by owner
	// expectsRuntime is set when secrets may be registered later, so that
	// LogHandler and ResponseScrubber filter even while none is known.
	expectsRuntime atomic.Bool

	// headerValues caches sanitized header values, because every request
	// repeats most of its headers, and running the redaction patterns on
	// each was the largest processor cost of building a request summary.
	// headerState is the state the cached values were sanitized with.
	headerMu     sync.Mutex
	headerValues map[string]string
	headerState  *redactorState
}

// redactorState is an immutable set of secrets with the forms in which the
// Redactor looks for them.
type redactorState struct {
	secrets []string // longest first
	values  []string // the wholeValues of every secret
	typed   []string // the encodedForms of every value, for FindCredential
	// typedLower is typed in lower case, for the checks of input that
	// ignore case.
	typedLower []string
	// splitLower is typedLower without paths of words, for finding a
	// secret split by white space (see HasSplitConfiguredSecret).
	splitLower []string
	// caseless matches every secret in any letter case, for removing
	// secrets from stored text.
	caseless *regexp.Regexp
	replacer *strings.Replacer
	// runs finds parts of random-looking secrets, and is nil when there
	// are none (see secretRunLength).
	runs *secretRunIndex
}

// emptyRedactorState is the state of a nil or zero Redactor.
var emptyRedactorState = &redactorState{}

// NewRedactor returns a Redactor for the given secret values. A URL value
// also covers its path, query, query values, long path segments and user
// information, so a fragment of the URL quoted in an error is still redacted.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{configured: slices.Clone(secrets)}
	r.state.Store(newRedactorState(r.configured, nil))
	return r
}

// current returns the redactor's state, which is empty for a nil or zero
// Redactor.
func (r *Redactor) current() *redactorState {
	if r == nil {
		return emptyRedactorState
	}
	if state := r.state.Load(); state != nil {
		return state
	}
	return emptyRedactorState
}

// newRedactorState derives the forms of secrets. The values in ignored
// are still redacted, but FindCredential does not match them.
func newRedactorState(secrets, ignored []string) *redactorState {
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
	values = slices.DeleteFunc(values, func(value string) bool { return slices.Contains(ignored, value) })

	// strings.Replacer picks the first matching old string at each
	// position, so longer secrets must come before their own prefixes.
	sort.SliceStable(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })

	pairs := make([]string, 0, 2*len(all))
	for _, secret := range all {
		pairs = append(pairs, secret, Redacted)
	}
	state := &redactorState{secrets: all, values: values, replacer: strings.NewReplacer(pairs...)}
	if len(all) > 0 {
		quoted := make([]string, len(all))
		for i, secret := range all {
			quoted[i] = regexp.QuoteMeta(secret)
		}
		// RE2 prefers the earlier alternative, so longer secrets still
		// come before their own prefixes.
		state.caseless = regexp.MustCompile("(?i)(?:" + strings.Join(quoted, "|") + ")")
	}
	state.typed = typedForms(values)
	state.typedLower = lowerAll(state.typed)
	state.splitLower = withoutWordPaths(state.typedLower)
	state.runs = newSecretRunIndex(secrets, ignored)
	return state
}

// typedForms returns the encodedForms of every value, without repeats.
func typedForms(values []string) []string {
	seen := map[string]bool{}
	var forms []string
	for _, value := range values {
		for _, form := range encodedForms(value) {
			if !seen[form] {
				seen[form] = true
				forms = append(forms, form)
			}
		}
	}
	return forms
}

// encodedForms returns value and the encodings in which it can be quoted or
// pasted: with escaped slashes as in JSON, URL-encoded, base64 and hex.
func encodedForms(value string) []string {
	forms := []string{value, strings.ReplaceAll(value, "/", `\/`), url.QueryEscape(value), url.PathEscape(value)}
	forms = append(forms, base64Forms(value)...)
	forms = append(forms, base64Cores(value)...)
	forms = append(forms, hexForms(value)...)
	return forms
}

// secretVariants returns the forms in which a secret value can appear in
// error messages and response bodies.
func secretVariants(secret string) []string {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return nil
	}
	variants := encodedForms(secret)

	u, err := url.Parse(secret)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return variants
	}

	// The URL without its scheme appears in some proxy and DNS errors.
	variants = append(variants, strings.TrimPrefix(secret, u.Scheme+"://"))
	if u.Path != "" && u.Path != "/" {
		// A receiver can quote the path it was sent in base64 or hex, so
		// the path and its segments get every encoded form.
		variants = append(variants, u.EscapedPath())
		variants = append(variants, encodedForms(u.Path)...)
		for segment := range strings.SplitSeq(u.Path, "/") {
			if len(segment) >= minFragmentLength {
				variants = append(variants, encodedForms(segment)...)
			}
		}
	}
	if u.RawQuery != "" {
		variants = append(variants, u.RawQuery)
		for _, values := range u.Query() {
			for _, value := range values {
				if len(value) >= minFragmentLength {
					variants = append(variants, encodedForms(value)...)
				}
			}
		}
	}
	if u.User != nil {
		variants = append(variants, u.User.String())
		if password, ok := u.User.Password(); ok && password != "" {
			// net/http sends the user information as a Basic credential.
			variants = append(variants, encodedForms(password)...)
			variants = append(variants, base64Forms(u.User.Username()+":"+password)...)
		}
	}
	return variants
}

// ignoreInTypedText keeps FindCredential from matching these values, which
// are still redacted. A user name accompanies a secret but is not one, and
// people write e-mail addresses in notes.
func (r *Redactor) ignoreInTypedText(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ignored = append(r.ignored, values...)
	r.rebuild()
}

// base64Forms returns the standard and URL-safe base64 encodings of a
// secret of at least minFragmentLength bytes, with and without padding.
func base64Forms(secret string) []string {
	if len(secret) < minFragmentLength {
		return nil
	}
	data := []byte(secret)
	return []string{
		base64.StdEncoding.EncodeToString(data), base64.RawStdEncoding.EncodeToString(data),
		base64.URLEncoding.EncodeToString(data), base64.RawURLEncoding.EncodeToString(data),
	}
}

// base64Cores returns, for each of the three byte alignments at which a
// secret can start inside longer encoded data, the standard and URL-safe
// base64 characters that depend on the secret's bytes alone. Any base64
// text of data that contains the secret contains one of them, so "Bearer
// <token>" or "user:<password>" encoded together is still found.
func base64Cores(secret string) []string {
	if len(secret) < minFragmentLength {
		return nil
	}
	var cores []string
	for skip := range 3 {
		// With a prefix of 3-skip bytes modulo 3, the secret's byte at
		// index skip starts a new 3-byte group.
		whole := (len(secret) - skip) / 3 * 3
		data := []byte(secret[skip : skip+whole])
		cores = append(cores, base64.RawStdEncoding.EncodeToString(data), base64.RawURLEncoding.EncodeToString(data))
	}
	return cores
}

// hexForms returns the lower- and upper-case hexadecimal encodings of a
// secret of at least minFragmentLength bytes.
func hexForms(secret string) []string {
	if len(secret) < minFragmentLength {
		return nil
	}
	encoded := hex.EncodeToString([]byte(secret))
	return []string{encoded, strings.ToUpper(encoded)}
}

// HasConfiguredSecret reports whether text contains a configured secret in
// one of the forms that RemoveConfiguredSecrets replaces, letter case
// included, so a text it reports can be cleaned. A nil *Redactor has none.
func (r *Redactor) HasConfiguredSecret(text string) bool {
	if r == nil {
		return false
	}
	return containsForm(text, r.current().typed, false)
}

// HasConfiguredSecretIgnoringCase reports whether text contains a
// configured secret as HasConfiguredSecret does, with letters of either
// case, or a run of one as secretRunLength defines it. Checks of input use
// it, because a copy of a secret in other letters, such as a lower-cased
// username, or most of a secret gives it away.
func (r *Redactor) HasConfiguredSecretIgnoringCase(text string) bool {
	if r == nil {
		return false
	}
	return containsForm(text, r.current().typedLower, true) || r.hasSecretRun(text)
}

// hasSecretRun reports whether text, decoded as containsForm decodes it,
// contains a run of a configured secret in any letter case.
func (r *Redactor) hasSecretRun(text string) bool {
	runs := r.current().runs
	if runs == nil {
		return false
	}
	typed := removeFormatCharacters(decodeJSONEscapes(text))
	if runs.found(typed) {
		return true
	}
	decoded := decodeHTMLAndPercent(typed)
	return decoded != typed && runs.found(decoded)
}

// HasSplitConfiguredSecret reports whether text contains a configured
// secret, in any letter case, split by white space or line breaks, as a
// server that wraps long lines sends it. It compares the text without its
// white space with every secret except paths of words, such as a secret
// URL's /teams/workflows/local, because words around slashes ("Teams /
// Workflows / Local") join into them. A secret with a credential-like part
// between its slashes, such as a base64 key, is still compared.
func (r *Redactor) HasSplitConfiguredSecret(text string) bool {
	if r == nil {
		return false
	}
	words := strings.Fields(text)
	if len(words) < 2 {
		return false
	}
	return containsForm(strings.Join(words, ""), r.current().splitLower, true)
}

// withoutWordPaths returns forms without the paths of words.
func withoutWordPaths(forms []string) []string {
	var kept []string
	for _, form := range forms {
		if !isWordPath(form) {
			kept = append(kept, form)
		}
	}
	return kept
}

// isWordPath reports whether form has a "/" and no part between its
// slashes that looks like a credential.
func isWordPath(form string) bool {
	if !strings.Contains(form, "/") {
		return false
	}
	for part := range strings.SplitSeq(form, "/") {
		if isCredentialSegment(part) {
			return false
		}
	}
	return true
}

// containsForm reports whether text, with JSON escapes, invisible
// characters and HTML and percent encodings undone, contains one of forms.
// With lower, text is compared in lower case, so forms must be lower case.
func containsForm(text string, forms []string, lower bool) bool {
	if len(forms) == 0 {
		return false
	}
	typed := removeFormatCharacters(decodeJSONEscapes(text))
	for _, candidate := range []string{typed, decodeHTMLAndPercent(typed)} {
		if lower {
			candidate = strings.ToLower(candidate)
		}
		if slices.ContainsFunc(forms, func(form string) bool { return strings.Contains(candidate, form) }) {
			return true
		}
	}
	return false
}

// lowerAll returns values in lower case.
func lowerAll(values []string) []string {
	lower := make([]string, len(values))
	for i, value := range values {
		lower[i] = strings.ToLower(value)
	}
	return lower
}

// removeFormatCharacters deletes the characters that can split a secret
// without showing. These are the Unicode format characters (category Cf),
// such as U+200B ZERO WIDTH SPACE, U+00AD SOFT HYPHEN and the bidirectional
// controls, and the nonspacing marks (category Mn), such as the variation
// selector U+FE0F and combining accents. The Hangul fillers and spaces
// other than ASCII ones, such as U+00A0 NO-BREAK SPACE, go too. The result
// is only matched against secrets, so an accent dropped from a word does
// no harm.
func removeFormatCharacters(text string) string {
	// Most text has none, so it is returned without a copy.
	first := -1
	for i, c := range text {
		if c >= utf8.RuneSelf && isInvisible(c) {
			first = i
			break
		}
	}
	if first < 0 {
		return text
	}
	var out strings.Builder
	out.Grow(len(text))
	out.WriteString(text[:first])
	for _, c := range text[first:] {
		if c < utf8.RuneSelf || !isInvisible(c) {
			out.WriteRune(c)
		}
	}
	return out.String()
}

// isInvisible reports whether c is a character that removeFormatCharacters
// deletes.
func isInvisible(c rune) bool {
	switch {
	case unicode.Is(unicode.Cf, c), unicode.Is(unicode.Mn, c):
		return true
	case c == '\u115F' || c == '\u1160' || c == '\u3164' || c == '\uFFA0':
		return true
	case c >= utf8.RuneSelf && unicode.IsSpace(c):
		return true
	}
	return false
}

func hasNonASCII(text string) bool {
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// maxPercentDecodings bounds how many times decodeHTMLAndPercent decodes
// %XX escapes, for a secret encoded more than once such as %2553.
const maxPercentDecodings = 3

// decodeHTMLAndPercent returns text with HTML character references
// replaced, then with every valid %XX escape decoded, again while that
// changes the text, up to maxPercentDecodings times. Other "%" signs stay.
func decodeHTMLAndPercent(text string) string {
	if strings.Contains(text, "&") {
		text = html.UnescapeString(text)
	}
	for range maxPercentDecodings {
		decoded := decodePercent(text)
		if decoded == text {
			break
		}
		text = decoded
	}
	return text
}

// decodePercent decodes every valid %XX escape of text once.
func decodePercent(text string) string {
	if !strings.Contains(text, "%") {
		return text
	}
	var out strings.Builder
	out.Grow(len(text))
	for i := 0; i < len(text); i++ {
		if text[i] == '%' && i+2 < len(text) && isHexDigit(text[i+1]) && isHexDigit(text[i+2]) {
			value, _ := strconv.ParseUint(text[i+1:i+3], 16, 8)
			out.WriteByte(byte(value))
			i += 2
			continue
		}
		out.WriteByte(text[i])
	}
	return out.String()
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// RedactCredentials replaces credential-like text, as Redact does, but
// keeps links and does not decode escapes, for messages that quote an
// example link or escape control characters on purpose.
func (r *Redactor) RedactCredentials(text string) string {
	return redactCredentialText(r.current().runs.replace(r.replaceSecrets(text)))
}

// replaceSecrets replaces every configured secret value in text.
func (r *Redactor) replaceSecrets(text string) string {
	replacer := r.current().replacer
	if replacer == nil {
		return text
	}
	return replacer.Replace(text)
}

// redactCredentialText replaces "Bearer <credential>"-style pairs, tokens of
// well-known formats and password=… assignments.
func redactCredentialText(text string) string {
	text = replaceSubmatches(text, credentialPattern, func(m []string) bool {
		// Bearer is rarely prose, but "basic connectivity" and "token
		// rotation" are, so the other schemes need a credential-like value.
		return strings.EqualFold(m[1], "bearer") || looksLikeCredential(m[3]) || len(m[3]) >= 24
	}, "${1}${2}"+Redacted)
	text = tokenPattern.ReplaceAllStringFunc(text, func(token string) string {
		if isWellKnownToken(token) {
			return Redacted
		}
		return token
	})
	return assignmentPattern.ReplaceAllString(text, "${1}${2}"+Redacted)
}

// wholeValues returns the forms of a secret that no one types by chance, for
// FindCredential. A URL here is itself a credential, as for webhook, Slack
// and Teams destinations, because addressURLSecrets has already reduced
// every site or API address to its secret parts. Its forms are the URL with
// and without its scheme and trailing slash, the part after the host and
// the path, its credential-like path segments, credential query values and
// password. The part after the host and the path count only when they have
// a credential-like part or at least minWordSegmentLength characters, so a
// short path such as /hook stays usable in notes. A URL with nothing after
// its host has no forms, because the host is public.
func wholeValues(secret string) []string {
	secret = strings.TrimSpace(secret)
	u, err := url.Parse(secret)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return slices.DeleteFunc([]string{secret}, func(value string) bool { return len(value) < minFragmentLength })
	}
	withoutScheme := strings.TrimPrefix(secret, u.Scheme+"://")
	// The authority ends at the first "/", "?" or "#", none of which it
	// may contain unescaped.
	afterHost := ""
	if end := strings.IndexAny(withoutScheme, "/?#"); end >= 0 {
		afterHost = withoutScheme[end:]
	}
	if strings.Trim(afterHost, "/?#") == "" {
		return nil
	}

	values := []string{secret, withoutScheme}
	if trimmed := strings.TrimSuffix(secret, "/"); trimmed != secret {
		values = append(values, trimmed, strings.TrimSuffix(withoutScheme, "/"))
	}
	segments := secretPathSegments(u)
	queryValues := secretQueryValues(u)
	hasSecretPart := len(segments) > 0 || len(queryValues) > 0
	if hasSecretPart || len(afterHost) >= minWordSegmentLength {
		values = append(values, afterHost)
	}
	if path := strings.TrimSuffix(u.Path, "/"); len(segments) > 0 || len(path) >= minWordSegmentLength {
		values = append(values, path, strings.TrimPrefix(path, "/"))
	}
	values = append(values, segments...)
	values = append(values, queryValues...)
	if password, ok := u.User.Password(); ok {
		values = append(values, password)
	}
	return slices.DeleteFunc(values, func(value string) bool { return len(value) < minFragmentLength })
}

// addressURLSecrets returns the secret parts of a site or API address: the
// password of its user information, its path segments that look like
// credentials, and the values of its credential query parameters.
func addressURLSecrets(raw string) []string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return []string{raw}
	}
	parts := append(secretPathSegments(u), secretQueryValues(u)...)
	if password, ok := u.User.Password(); ok && password != "" {
		parts = append(parts, password)
	}
	return parts
}

// secretPathSegments returns the segments of u's path that look like
// credentials. A path of words, such as /services/collector/event or a
// Jira site's /jira, has none.
func secretPathSegments(u *url.URL) []string {
	var segments []string
	for segment := range strings.SplitSeq(u.Path, "/") {
		if isCredentialSegment(segment) {
			segments = append(segments, segment)
		}
	}
	return segments
}

// segmentsAfter returns the non-empty segments of u's path after the first
// segment that equals one of markers, ignoring case, or none when no
// segment does.
func segmentsAfter(u *url.URL, markers ...string) []string {
	segments := strings.Split(u.Path, "/")
	for i, segment := range segments {
		if slices.ContainsFunc(markers, func(marker string) bool { return strings.EqualFold(segment, marker) }) {
			return slices.DeleteFunc(slices.Clone(segments[i+1:]), func(s string) bool { return s == "" })
		}
	}
	return nil
}

// secretQueryValues returns the values of u's query parameters that are
// credentials: those of a parameter named like a credential, such as sig
// or token, and those that look like one. A date or version, such as
// api-version=2016-06-01, is public.
func secretQueryValues(u *url.URL) []string {
	var values []string
	for key, list := range u.Query() {
		for _, value := range list {
			if len(value) >= minFragmentLength && (isCredentialQueryKey(key) || isCredentialValue(value)) {
				values = append(values, value)
			}
		}
	}
	return values
}

// credentialQueryWords are parts of query parameter names whose values are
// credentials, such as sig, token, api_key or client_secret.
var credentialQueryWords = []string{"sig", "token", "key", "secret", "pass", "pwd", "auth", "code", "credential"}

func isCredentialQueryKey(key string) bool {
	lower := strings.ToLower(key)
	return slices.ContainsFunc(credentialQueryWords, func(word string) bool { return strings.Contains(lower, word) })
}

// isCredentialValue reports whether a query value looks like a credential:
// a credential-like segment with both letters and digits, so dates, version
// numbers and paths of words are not taken for one.
func isCredentialValue(value string) bool {
	return isCredentialSegment(value) && strings.ContainsFunc(value, unicode.IsLetter) && strings.ContainsFunc(value, unicode.IsDigit)
}

// minWordSegmentLength is the length from which a path segment of letters,
// hyphens, dots and underscores alone is taken for a credential. English
// words in URL paths, such as "services" or "collector", are shorter.
const minWordSegmentLength = 16

// isCredentialSegment reports whether a URL path segment looks like a
// credential: at least minWordSegmentLength characters, or at least
// minFragmentLength with a digit or a symbol other than "-", "." and "_".
// Slack's and Teams' webhook paths end in such segments.
func isCredentialSegment(segment string) bool {
	if len(segment) >= minWordSegmentLength {
		return true
	}
	return len(segment) >= minFragmentLength && strings.ContainsFunc(segment, func(c rune) bool {
		return !unicode.IsLetter(c) && c != '-' && c != '.' && c != '_'
	})
}

// urlPattern matches an absolute URL up to the next space, quote or bracket.
var urlPattern = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]{1,15}://[^\s"'<>\x60]+`)

// credentialPattern matches an authorization scheme followed by a credential,
// as servers sometimes echo the Authorization header in error bodies.
var credentialPattern = regexp.MustCompile(`(?i)\b(bearer|basic|splunk|token)(\s+)([A-Za-z0-9._~+/=-]{8,})`)

// credentialNames are the names under which a value is a credential, as a
// regular expression alternation.
const credentialNames = `password|passwd|pwd|passphrase|secret|token|api[_-]?key|x-api-key|sig|signature|sessid|jsessionid`

// assignmentPattern matches a credential given as a name and a value, such
// as password=… in a connection string or "token": "…" in JSON.
var assignmentPattern = regexp.MustCompile(`(?i)\b([A-Za-z0-9_]*(?:` + credentialNames + `))(["']?\s*[=:]\s*["']?)([^\s"'&,;<>]{4,})`)

// webhookPattern matches links of well-known incoming webhooks written
// without a scheme, whose path is the secret.
var webhookPattern = regexp.MustCompile(
	`(?i)\b(hooks\.slack\.com|[a-z0-9-]+\.webhook\.office\.com|discord(?:app)?\.com/api/webhooks)/[^\s"'<>\x60]+`)

// tokenPattern matches credentials of well-known formats wherever they
// appear: Slack, GitHub and GitLab tokens, AWS access key IDs, Stripe and
// Google API keys, JSON Web Tokens and this console's own API tokens.
var tokenPattern = regexp.MustCompile(`\b(?:xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}|gh[pousr]_[A-Za-z0-9]{20,}|` +
	`github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}|(?:AKIA|ASIA)[A-Z0-9]{16}\b|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|` +
	`AIza[0-9A-Za-z_-]{35}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}|ecp_[A-Za-z0-9_-]{40,})`)

// jsonEscapePattern matches a JSON \uXXXX escape, with which a server can
// spell any character of an echoed secret.
var jsonEscapePattern = regexp.MustCompile(`\\u[0-9A-Fa-f]{4}`)

// Redact returns text with every secret value replaced, each URL reduced to
// its scheme and host, and each "Bearer <credential>"-style pair or
// password=… assignment redacted. JSON escapes (\uXXXX and \/) are decoded
// first, so an escaped secret is found too.
func (r *Redactor) Redact(text string) string {
	return r.redact(text, true)
}

// redact is Redact, which replaces runs of secrets (see secretRunLength)
// only withRuns. Whole secrets, encoded ones included, are replaced first,
// so a run never takes part of a whole secret and leaves the rest.
func (r *Redactor) redact(text string, withRuns bool) string {
	if text == "" {
		return ""
	}
	text = r.replaceSecrets(decodeJSONEscapes(text))
	text = r.replaceEncodedSecrets(text)
	if withRuns {
		text = r.current().runs.replace(text)
	}
	text = urlPattern.ReplaceAllStringFunc(text, redactURL)
	text = webhookPattern.ReplaceAllString(text, "${1}/"+Redacted)
	return redactCredentialText(text)
}

// replaceEncodedSecrets finds configured secrets that text spells with HTML
// character references, percent escapes or invisible format characters. When
// it finds one, it returns the decoded text with the secrets replaced, so the
// rest of the text loses its encoding too. Text without "&", "%" or non-ASCII
// characters is returned at once, because Redact runs on every response
// excerpt.
//
// NOTE: a secret split by white space or line breaks, as some servers wrap
// long lines, is not found here. Sanitize, through which every stored text
// passes, replaces such a text whole.
func (r *Redactor) replaceEncodedSecrets(text string) string {
	if len(r.current().secrets) == 0 || !strings.ContainsAny(text, "&%") && !hasNonASCII(text) {
		return text
	}
	decoded := decodeHTMLAndPercent(removeFormatCharacters(text))
	if decoded == text || !r.Contains(decoded) && !r.current().runs.found(decoded) {
		return text
	}
	return r.replaceSecrets(decoded)
}

// replaceSubmatches replaces each match of pattern in text for which
// replace returns true with template, expanded as regexp.Expand does.
func replaceSubmatches(text string, pattern *regexp.Regexp, replace func([]string) bool, template string) string {
	var out []byte
	last := 0
	for _, loc := range pattern.FindAllStringSubmatchIndex(text, -1) {
		match := make([]string, len(loc)/2)
		for i := range match {
			if loc[2*i] >= 0 {
				match[i] = text[loc[2*i]:loc[2*i+1]]
			}
		}
		if !replace(match) {
			continue
		}
		out = append(out, text[last:loc[0]]...)
		out = pattern.ExpandString(out, template, text, loc)
		last = loc[1]
	}
	if out == nil {
		return text
	}
	return string(append(out, text[last:]...))
}

// looksLikeCredential reports whether value, without trailing punctuation,
// has a digit or a symbol other than a hyphen, dot or underscore, and is
// not a ticket reference such as INC-4521. "hunter2" and "9f8e7d6c" look
// like credentials; "expired." and "rotated-by-ops" do not.
func looksLikeCredential(value string) bool {
	value = strings.TrimRight(value, ".,;:!?)")
	if ticketPattern.MatchString(value) {
		return false
	}
	return strings.ContainsFunc(value, func(c rune) bool {
		return unicode.IsDigit(c) || (!unicode.IsLetter(c) && c != '-' && c != '.' && c != '_')
	})
}

// ticketPattern matches a ticket reference such as OPS-123, INC-4521 or
// ServiceNow's CHG0012345.
var ticketPattern = regexp.MustCompile(`^(?:[A-Za-z]{2,10}-[0-9]+|[A-Z]{2,6}[0-9]{5,})$`)

// isWellKnownToken reports whether a tokenPattern match is a credential:
// an AWS access key ID also needs a digit, so a 20-letter word such as
// ASIAPACIFICSOUTHEAST is not taken for a key.
func isWellKnownToken(token string) bool {
	if strings.HasPrefix(token, "AKIA") || strings.HasPrefix(token, "ASIA") {
		return strings.ContainsFunc(token[4:], unicode.IsDigit) && strings.ContainsFunc(token[4:], unicode.IsUpper)
	}
	return true
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
// have pasted by mistake, or returns "". It finds a configured secret, a
// "Bearer <credential>"-style pair, a password=… assignment, a token of a
// well-known format or a link of a well-known incoming webhook. A nil
// *Redactor finds the patterns only.
func (r *Redactor) FindCredential(text string) string {
	if r != nil && containsForm(text, r.current().typedLower, true) {
		return "a secret of a configured destination"
	}
	if r.hasSecretRun(text) {
		return "part of a secret of a configured destination"
	}
	// Spaces or line breaks inside a secret still give it away.
	if r.HasSplitConfiguredSecret(text) {
		return "a secret of a configured destination, split by spaces"
	}
	decoded := removeFormatCharacters(decodeJSONEscapes(text))
	for _, match := range typedCredentialPattern.FindAllStringSubmatch(decoded, -1) {
		// "Bearer" is rarely prose, but "Basic troubleshooting" is.
		if strings.EqualFold(match[1], "bearer") || looksLikeCredential(match[2]) {
			return "an authorization credential"
		}
	}
	for _, match := range assignmentPattern.FindAllStringSubmatch(decoded, -1) {
		// A password given with "=" is one whatever it looks like. Other
		// names, and every name followed by a colon, need a value that
		// looks like a credential, so "password: reset by ops" is prose.
		separator := match[2]
		if strings.Contains(separator, ":") && !strings.ContainsAny(separator, "\"' \t") {
			// "secret:store-2" or "token:v2/rotation-1" is an id, while
			// "password: …" and "\"token\":\"…\"" are assignments.
			continue
		}
		strong := strings.Contains(separator, "=") && strongNamePattern.MatchString(match[1])
		if strong || looksLikeCredential(match[3]) {
			return "a password, token or signature assignment"
		}
	}
	for _, token := range tokenPattern.FindAllString(decoded, -1) {
		if isWellKnownToken(token) {
			return "a token of a well-known format"
		}
	}
	if webhookPattern.MatchString(decoded) {
		return "a webhook link, whose path is its secret"
	}
	return ""
}

// typedCredentialPattern is the stricter form of credentialPattern for text
// people write, where "token rotation" is prose.
var typedCredentialPattern = regexp.MustCompile(`(?i)\b(bearer|basic|token|splunk)\s+([A-Za-z0-9._~+/=-]{12,})`)

// strongNamePattern matches the credential names whose value is secret
// whatever it looks like.
var strongNamePattern = regexp.MustCompile(`(?i)(password|passwd|pwd|passphrase|secret)$`)

// Contains reports whether text contains one of the configured secret values.
func (r *Redactor) Contains(text string) bool {
	return slices.ContainsFunc(r.current().secrets, func(secret string) bool {
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
// with "…" when it was cut. Its result is stored, so configured secrets and
// runs of them are replaced in any letter case. A text that contains a
// secret split by white space, as a server that wraps long lines sends it,
// is replaced whole. The parts of such a secret cannot be distinguished
// from the words around them. Runs are replaced only after that check, so
// a run that ends at a space does not hide the rest of a split secret.
func (r *Redactor) Sanitize(text string, maxLength int) string {
	text = r.redact(text, false)
	text, _ = r.removeWholeSecrets(text)
	text = strings.Map(func(c rune) rune {
		if c == utf8.RuneError || unicode.IsControl(c) {
			return ' '
		}
		return c
	}, text)
	if r.HasSplitConfiguredSecret(text) {
		return Redacted
	}
	text, _ = r.removeSecretRuns(text)
	return truncateText(strings.Join(strings.Fields(text), " "), maxLength, ellipsis)
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

// maxCachedHeaderValues bounds the sanitized header value cache. Values
// that change with every request, such as idempotency keys, fill it, and it
// is emptied when full.
const maxCachedHeaderValues = 1024

// sanitizeHeaderValue returns Sanitize(value, MaxErrorLength), cached for
// values that a request header may repeat. A nil Redactor caches nothing.
func (r *Redactor) sanitizeHeaderValue(value string) string {
	if r == nil || len(value) > MaxErrorLength {
		return r.Sanitize(value, MaxErrorLength)
	}
	state := r.current()
	r.headerMu.Lock()
	sanitized, ok := r.headerValues[value]
	ok = ok && r.headerState == state
	r.headerMu.Unlock()
	if ok {
		return sanitized
	}
	sanitized = r.Sanitize(value, MaxErrorLength)
	r.headerMu.Lock()
	// A value cached before a secret was registered may contain it.
	if r.headerValues == nil || len(r.headerValues) >= maxCachedHeaderValues || r.headerState != state {
		r.headerValues = make(map[string]string)
		r.headerState = state
	}
	r.headerValues[value] = sanitized
	r.headerMu.Unlock()
	return sanitized
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
			value = redactor.sanitizeHeaderValue(value)
		}
		summary[http.CanonicalHeaderKey(name)] = value
	}
	return summary
}
