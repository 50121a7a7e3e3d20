package connectors

import (
	"fmt"
	"unicode"
)

// FirstControlOrSeparator returns the first character of s that does not
// belong in one line of text. That is a control character (Unicode category
// Cc: U+0000 to U+001F, such as tab, line feed and ESC, U+007F and U+0080 to
// U+009F), or the line or paragraph separator U+2028 or U+2029. The Unicode
// line breaking algorithm (UAX #14) breaks a line after either separator,
// so a one-line field that contains one could forge a line of a log or a
// message.
func FirstControlOrSeparator(s string) (rune, bool) {
	for _, c := range s {
		if unicode.In(c, unicode.Cc, unicode.Zl, unicode.Zp) {
			return c, true
		}
	}
	return 0, false
}

// DescribeControlOrSeparator names a character that FirstControlOrSeparator
// returns, such as "control character U+000A" or "line separator U+2028",
// for a message.
func DescribeControlOrSeparator(c rune) string {
	switch {
	case unicode.Is(unicode.Zl, c):
		return fmt.Sprintf("line separator %U", c)
	case unicode.Is(unicode.Zp, c):
		return fmt.Sprintf("paragraph separator %U", c)
	default:
		return fmt.Sprintf("control character %U", c)
	}
}
