package handlers

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/releaseops/evidence-console/connectors"
)

// maxNextLength is the length in bytes of the longest sign-in next path
// kept. Console addresses are far shorter, and a longer one leads to
// /console rather than being sent back in every sign-in page.
const maxNextLength = 2048

// tooLong reports whether value has more than maxLength characters. Forms
// check it before anything else, so a value over its field's maximum is
// not checked further, and only its first maxLength characters are shown
// again (see shownAgain).
func tooLong(value string, maxLength int) bool {
	return utf8.RuneCountInString(value) > maxLength
}

// shownAgain returns the first maxLength characters of an overlong value,
// for the form to show again for correction, or "" when they look like a
// credential or a link, which a page must not repeat.
func shownAgain(secrets *connectors.Redactor, value string, maxLength int) string {
	shown := strings.ToValidUTF8(value, "")
	if runes := []rune(shown); len(runes) > maxLength {
		shown = string(runes[:maxLength])
	}
	if secrets.FindCredential(shown) != "" || strings.Contains(shown, "://") {
		return ""
	}
	return shown
}

// tooLongMessage returns the form error for a field over its maximum, such
// as "The username is invalid: must have at most 64 characters."
func tooLongMessage(field string, maxLength int) string {
	return fmt.Sprintf("The %s is invalid: must have at most %d characters.", field, maxLength)
}
