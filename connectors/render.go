package connectors

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Truncation markers. Every kind marks cut text visibly so that a reader
// knows the destination shows less than the console.
const (
	ellipsis        = "…"
	truncatedMarker = "… (truncated)"
)

// truncateText cuts text to at most maxLength characters (runes), ending with
// marker when it was cut.
func truncateText(text string, maxLength int, marker string) string {
	if maxLength <= 0 {
		return ""
	}
	if utf8.RuneCountInString(text) <= maxLength {
		return text
	}
	markerRunes := []rune(marker)
	if maxLength <= len(markerRunes) {
		return string([]rune(ellipsis)[:1])
	}
	runes := []rune(text)
	prefix := strings.TrimRightFunc(string(runes[:maxLength-len(markerRunes)]), unicode.IsSpace)
	return prefix + marker
}

// keyHashLength is the number of hexadecimal digits of the SHA-256 hash that
// limitKey appends. These 128 bits make a collision of two cut keys
// negligibly likely.
const keyHashLength = 32

// limitKey returns key when it has at most maxLength characters (runes).
// A longer key keeps its start, and its end is replaced with "-" and a hash
// of the whole key, so keys that differ only after the cut stay distinct.
// maxLength must exceed keyHashLength.
func limitKey(key string, maxLength int) string {
	if utf8.RuneCountInString(key) <= maxLength {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	prefix := []rune(key)[:maxLength-keyHashLength-1]
	return string(prefix) + "-" + hex.EncodeToString(sum[:])[:keyHashLength]
}

// levelStyle is the styling a kind applies for a Message.Level.
type levelStyle int

const (
	styleNeutral levelStyle = iota
	styleCritical
	styleWarning
	styleHealthy
)

// styleOf maps a level to its styling. Levels other than critical, warning
// and healthy, such as "at_risk", get neutral styling.
func styleOf(level string) levelStyle {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "critical":
		return styleCritical
	case "warning":
		return styleWarning
	case "healthy":
		return styleHealthy
	}
	return styleNeutral
}

// levelLabel returns a level for display, for example "At risk" for "at_risk".
func levelLabel(level string) string {
	level = strings.TrimSpace(strings.ReplaceAll(level, "_", " "))
	if level == "" {
		return "Unknown"
	}
	first, size := utf8.DecodeRuneInString(level)
	return string(unicode.ToUpper(first)) + strings.ToLower(level[size:])
}

// eventLabel returns an event name for display.
func eventLabel(event string) string {
	switch event {
	case EventRetryHealthAlert:
		return "Retry health alert"
	case EventExecutiveRecoveryReport:
		return "Executive recovery report"
	case "":
		return "Notification"
	}
	return levelLabel(event)
}

// prepareMessage fills the fields that Send derives: a stable idempotency key
// when the caller gave none, the occurrence time, the link text and a title,
// which Slack and Teams require. It drops
// a link that is not an absolute http or https URL, because Slack, Teams and
// e-mail clients reject or mangle relative links.
func prepareMessage(msg Message, now time.Time) Message {
	if msg.OccurredAt.IsZero() {
		msg.OccurredAt = now
	}
	msg.OccurredAt = msg.OccurredAt.UTC()
	if strings.TrimSpace(msg.IdempotencyKey) == "" {
		msg.IdempotencyKey = deriveIdempotencyKey(msg)
	}
	if !isAbsoluteHTTPURL(msg.Link) {
		msg.Link = ""
	}
	if msg.Link != "" && strings.TrimSpace(msg.LinkText) == "" {
		msg.LinkText = "Open in Evidence Console"
	}
	if strings.TrimSpace(msg.Title) == "" {
		msg.Title = eventLabel(msg.Event)
	}
	if msg.OmittedCount < 0 {
		msg.OmittedCount = 0
	}
	return msg
}

// deriveIdempotencyKey hashes the fields that identify a logical message, so
// that two sends of the same message share one key.
func deriveIdempotencyKey(msg Message) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{
		msg.Event, msg.Title, msg.Summary, msg.OccurredAt.UTC().Format(time.RFC3339Nano),
	}, "\x00")))
	return "msg_" + hex.EncodeToString(sum[:12])
}

func isAbsoluteHTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// formatTime returns the occurrence time as shown to people.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// itemLine returns one item as a single plain-text line.
func itemLine(item Item) string {
	line := strings.TrimSpace(item.Title)
	if severity := strings.TrimSpace(item.Severity); severity != "" {
		line = "[" + strings.ToUpper(severity) + "] " + line
	}
	if detail := strings.TrimSpace(item.Detail); detail != "" {
		line += " — " + detail
	}
	return line
}

// omittedLine returns the "and N more" line, or "" when nothing was left out.
func omittedLine(count int) string {
	switch {
	case count <= 0:
		return ""
	case count == 1:
		return "and 1 more item not shown"
	}
	return fmt.Sprintf("and %d more items not shown", count)
}

// plainText renders msg as plain text, used by the e-mail body and by kinds
// whose description field takes plain text.
func plainText(msg Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", msg.Title)
	fmt.Fprintf(&b, "Level: %s\n", levelLabel(msg.Level))
	if msg.Summary != "" {
		fmt.Fprintf(&b, "\n%s\n", msg.Summary)
	}
	if len(msg.Facts) > 0 {
		b.WriteString("\n")
		for _, fact := range msg.Facts {
			fmt.Fprintf(&b, "%s: %s\n", fact.Label, fact.Value)
		}
	}
	if len(msg.Items) > 0 {
		b.WriteString("\n")
		for _, item := range msg.Items {
			fmt.Fprintf(&b, "- %s\n", itemLine(item))
		}
	}
	if line := omittedLine(msg.OmittedCount); line != "" {
		fmt.Fprintf(&b, "- %s\n", line)
	}
	if msg.Link != "" {
		fmt.Fprintf(&b, "\n%s: %s\n", msg.LinkText, msg.Link)
	}
	fmt.Fprintf(&b, "\n%s at %s\n", eventLabel(msg.Event), formatTime(msg.OccurredAt))
	return b.String()
}

// marshalJSON encodes a request body without escaping <, > and &, which
// JSON does not require and which make bodies harder to read in receivers.
func marshalJSON(value any) ([]byte, error) {
	var buffer bytes.Buffer
	encoder := json.NewEncoder(&buffer)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(value); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buffer.Bytes(), []byte("\n")), nil
}
