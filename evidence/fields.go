package evidence

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/releaseops/evidence-console/connectors"
)

// FieldError names the field of a record that is missing or invalid.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("field %q %s", e.Field, e.Problem)
}

// item is one decoded record. Numbers are kept as json.Number so integers are
// checked exactly.
type item map[string]any

// lookup follows a dotted path through nested objects.
func (it item) lookup(path string) (any, bool) {
	var current any = map[string]any(it)
	for _, part := range strings.Split(path, ".") {
		object, ok := current.(map[string]any)
		if !ok {
			return nil, false
		}
		current, ok = object[part]
		if !ok {
			return nil, false
		}
	}
	return current, current != nil
}

// firstPresent returns the first of paths present in it, or the first path
// when none is, so a missing-field error names the preferred field.
func (it item) firstPresent(paths ...string) string {
	for _, path := range paths {
		if _, ok := it.lookup(path); ok {
			return path
		}
	}
	return paths[0]
}

func (it item) text(path string) (string, error) {
	value, ok := it.lookup(path)
	if !ok {
		return "", &FieldError{Field: path, Problem: "is missing"}
	}
	s, ok := value.(string)
	if !ok {
		return "", &FieldError{Field: path, Problem: "must be a string"}
	}
	// The check comes before trimming, so a line break at either end is
	// rejected as it is in the middle and as optionalText rejects it.
	if err := checkText(path, s); err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", &FieldError{Field: path, Problem: "must not be empty"}
	}
	if utf8.RuneCountInString(s) > maxTextLength {
		return "", &FieldError{Field: path, Problem: fmt.Sprintf("must be at most %d characters", maxTextLength)}
	}
	return s, nil
}

// maxTextLength is the longest text field of a record, in characters.
const maxTextLength = 200

// checkText rejects text that no database column can store, a NUL
// character, which PostgreSQL's text type cannot hold, text with control or
// invisible characters, and text that can carry a secret. Typed fields are names, ids and states, which are stored,
// shown and sent to destinations as they are, so a link or credential in
// one is an upstream mistake.
func checkText(path, s string) error {
	if strings.ContainsRune(s, 0) {
		return &FieldError{Field: path, Problem: `must not contain a NUL character (\u0000)`}
	}
	// Names and ids are shown on pages, in log lines and in messages, where
	// a control character such as a line break or ESC could forge a line or
	// restyle a terminal. None of these fields is multi-line text.
	if c, found := connectors.FirstControlOrSeparator(s); found {
		return &FieldError{Field: path, Problem: fmt.Sprintf("contains the %s; send printable text on one line, without tabs",
			connectors.DescribeControlOrSeparator(c))}
	}
	// An invisible or text-direction character could make one name look
	// like another.
	if c, found := firstInvisible(s); found {
		return &FieldError{Field: path, Problem: fmt.Sprintf("contains the invisible or text-direction character %U; send printable text only", c)}
	}
	if strings.Contains(s, "://") {
		return &FieldError{Field: path, Problem: "contains a link, which can carry a secret; send the name or id alone"}
	}
	var redactor *connectors.Redactor
	if found := redactor.FindCredential(s); found != "" {
		return &FieldError{Field: path, Problem: "contains " + found + "; send the name or id alone"}
	}
	return nil
}

// optionalText returns the text at path, or "" when it is absent. Text
// longer than maxTextLength characters is cut to that length.
func (it item) optionalText(path string) (string, error) {
	value, ok := it.lookup(path)
	if !ok {
		return "", nil
	}
	s, ok := value.(string)
	if !ok {
		return "", &FieldError{Field: path, Problem: "must be a string"}
	}
	if err := checkText(path, s); err != nil {
		return "", err
	}
	return strings.TrimSpace(truncateRunes(s, maxTextLength)), nil
}

// describingText returns the text at path for an error report, or "" when
// it is absent or not usable text.
func (it item) describingText(path string) string {
	s, err := it.optionalText(path)
	if err != nil {
		return ""
	}
	return s
}

// truncateRunes cuts s to at most n characters, never inside one.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n])
}

func (it item) count(path string) (int, error) {
	value, ok := it.lookup(path)
	if !ok {
		return 0, &FieldError{Field: path, Problem: "is missing"}
	}
	number, ok := value.(json.Number)
	if !ok {
		if _, isText := value.(string); isText {
			return 0, &FieldError{Field: path, Problem: "must be a whole number from 0 to 1000000000, sent as a JSON number without quotes"}
		}
		return 0, &FieldError{Field: path, Problem: "must be a whole number from 0 to 1000000000"}
	}
	n, err := number.Int64()
	if err != nil && !strings.ContainsAny(number.String(), ".eE") {
		// Digits alone that do not fit an int64 are out of range.
		return 0, &FieldError{Field: path, Problem: "must be a whole number from 0 to 1000000000"}
	}
	if err != nil {
		return 0, &FieldError{Field: path, Problem: "must be a whole number from 0 to 1000000000, written without a fraction or exponent"}
	}
	if n < 0 || n > 1_000_000_000 {
		return 0, &FieldError{Field: path, Problem: "must be a whole number from 0 to 1000000000"}
	}
	return int(n), nil
}

func (it item) boolean(path string) (bool, error) {
	value, ok := it.lookup(path)
	if !ok {
		return false, &FieldError{Field: path, Problem: "is missing"}
	}
	b, ok := value.(bool)
	if !ok {
		return false, &FieldError{Field: path, Problem: "must be true or false (a JSON boolean)"}
	}
	return b, nil
}

// MaxClockSkew is how far after this server's clock an evidence time may
// lie. Upstream clocks drift a little, but a time further ahead would make
// the newest worker run or retry plan look fresh for good, so health would
// never find it missed or stale.
const MaxClockSkew = 5 * time.Minute

// timestamp reads the RFC 3339 time at path, which must lie after 1970 and
// at most MaxClockSkew after now.
func (it item) timestamp(path string, now time.Time) (time.Time, error) {
	value, ok := it.lookup(path)
	if !ok {
		return time.Time{}, &FieldError{Field: path, Problem: "is missing"}
	}
	s, ok := value.(string)
	if !ok {
		return time.Time{}, &FieldError{Field: path, Problem: "must be a timestamp string"}
	}
	t, err := ParseTimestamp(s)
	if err != nil {
		return time.Time{}, &FieldError{Field: path, Problem: err.Error()}
	}
	// No evidence predates the Unix epoch, and the zero time reads as a
	// missing value everywhere else.
	if t.Year() < 1970 {
		return time.Time{}, &FieldError{Field: path, Problem: fmt.Sprintf("is before 1970: %q; send the time the record was made", truncate(s, 40))}
	}
	if t.After(now.Add(MaxClockSkew)) {
		if !zonePattern.MatchString(strings.TrimSpace(s)) {
			return time.Time{}, &FieldError{Field: path, Problem: fmt.Sprintf("is %s when read as UTC, more than %s after this server's time %s; "+
				"a time without a zone is read as UTC, so send it with Z or its offset, such as +02:00",
				t.UTC().Format(time.RFC3339), MaxClockSkew, now.UTC().Format(time.RFC3339))}
		}
		return time.Time{}, &FieldError{Field: path, Problem: fmt.Sprintf("is %s, more than %s after this server's time %s; "+
			"send the time the record was made, and check the clock of the system that sent it",
			t.UTC().Format(time.RFC3339), MaxClockSkew, now.UTC().Format(time.RFC3339))}
	}
	return t, nil
}

// zonePattern matches the end of a time that gives its zone: Z or a UTC
// offset such as +02:00.
var zonePattern = regexp.MustCompile(`(?i)(z|[+-]\d\d(:?\d\d)?)$`)

func (it item) stringList(path string) ([]string, error) {
	value, ok := it.lookup(path)
	if !ok {
		return []string{}, nil
	}
	list, ok := value.([]any)
	if !ok {
		return nil, &FieldError{Field: path, Problem: "must be a list of strings"}
	}
	out := make([]string, 0, len(list))
	for _, element := range list {
		s, ok := element.(string)
		if !ok {
			return nil, &FieldError{Field: path, Problem: "must be a list of strings"}
		}
		if err := checkText(path, s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

var timestampLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// ParseTimestamp reads an ingested timestamp. It accepts RFC 3339 with "Z" or
// an offset, and the same without a zone (taken as UTC), each with or
// without fractional seconds and with "T" or a space between date and time.
// As RFC 3339 allows, "t" and "z" may be lower case.
func ParseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	// A timestamp has no letters other than T and Z, so upper case changes
	// nothing else.
	upper := strings.ToUpper(s)
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, upper); err == nil {
			return t.UTC().Truncate(time.Microsecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("is not a timestamp: %q; use RFC 3339, for example 2026-05-01T12:00:00Z", truncate(s, 40))
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return truncateRunes(s, n) + "…"
}

// firstInvisible returns the first Unicode format character (category Cf)
// in s, such as U+202E RIGHT-TO-LEFT OVERRIDE or U+200B ZERO WIDTH SPACE.
func firstInvisible(s string) (rune, bool) {
	for _, c := range s {
		if unicode.Is(unicode.Cf, c) {
			return c, true
		}
	}
	return 0, false
}
