package connectors

import (
	"encoding/json"
	"html"
	"slices"
	"strings"
)

// ResponseScrubber removes configured secrets from the pages and JSON
// documents the console sends, as a last guard for records stored before
// their text was checked against the configured secrets.
type ResponseScrubber struct {
	replacer *strings.Replacer
	// written finds any form the replacer replaces, and typed any form
	// that typed text is checked for.
	written, typed *formIndex
}

// ResponseScrubber returns a scrubber for the configured secrets, or nil
// when none is configured.
//
// It replaces each whole secret value, not the URL path segments that
// Redact also replaces, because a segment such as "services" is an
// ordinary word on a page. Each value is replaced in the forms typed text
// is checked for (raw, URL-, base64- and hex-encoded) and in those forms as
// HTML and JSON write them.
func (r *Redactor) ResponseScrubber() *ResponseScrubber {
	if r == nil || len(r.typed) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var forms []string
	for _, form := range r.typed {
		for _, written := range []string{form, html.EscapeString(form), jsonStringContent(form), jsonStringContent(html.EscapeString(form))} {
			if written != "" && !seen[written] {
				seen[written] = true
				forms = append(forms, written)
			}
		}
	}
	// strings.Replacer picks the first matching old string at each
	// position, so longer forms must come before their own prefixes.
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(forms))
	for _, form := range forms {
		pairs = append(pairs, form, Redacted)
	}
	return &ResponseScrubber{replacer: strings.NewReplacer(pairs...), written: newFormIndex(forms), typed: newFormIndex(r.typed)}
}

// jsonStringContent returns text as encoding/json writes it inside a
// string, HTML characters escaped as \u003c, without the quotes.
func jsonStringContent(text string) string {
	encoded, err := json.Marshal(text)
	if err != nil {
		return ""
	}
	return string(encoded[1 : len(encoded)-1])
}

// Scrub returns body with every configured secret replaced by "[redacted]"
// and whether it replaced any. Complete is false when a secret is still
// there afterwards, spelled in a way the scrubber does not replace, such as
// split by invisible characters or escaped in another way, so the caller
// must not send body. A nil scrubber returns body unchanged.
func (s *ResponseScrubber) Scrub(body string) (cleaned string, changed, complete bool) {
	if s == nil {
		return body, false, true
	}
	// Replacing costs far more than finding, and most bodies hold nothing.
	cleaned = body
	if s.written.foundIn(body) {
		cleaned = s.replacer.Replace(body)
		changed = cleaned != body
	}
	decoded := decodeHTMLAndPercent(removeFormatCharacters(decodeJSONEscapes(cleaned)))
	return cleaned, changed, !s.typed.foundIn(decoded)
}

// formIndex finds any of a set of strings of at least formKeyLength bytes
// in one pass over a text. A bit per hash of a form's first bytes rules out
// almost every position at once. Only a position whose bit is set is
// compared with the forms that start with those bytes.
type formIndex struct {
	bits  [formIndexBits / 64]uint64
	forms map[uint32][]string
}

const (
	formKeyLength = 4
	formIndexLog  = 16
	formIndexBits = 1 << formIndexLog
)

func newFormIndex(forms []string) *formIndex {
	index := &formIndex{forms: map[uint32][]string{}}
	for _, form := range forms {
		if len(form) < formKeyLength {
			continue
		}
		key := formKey(form, 0)
		index.forms[key] = append(index.forms[key], form)
		bit := formBit(key)
		index.bits[bit/64] |= 1 << (bit % 64)
	}
	return index
}

// NOTE: a form shorter than formKeyLength bytes is never found; configured
// secret values are at least minFragmentLength bytes long.
func (x *formIndex) foundIn(text string) bool {
	for i := 0; i+formKeyLength <= len(text); i++ {
		key := formKey(text, i)
		bit := formBit(key)
		if x.bits[bit/64]&(1<<(bit%64)) == 0 {
			continue
		}
		for _, form := range x.forms[key] {
			if strings.HasPrefix(text[i:], form) {
				return true
			}
		}
	}
	return false
}

func formKey(text string, at int) uint32 {
	return uint32(text[at]) | uint32(text[at+1])<<8 | uint32(text[at+2])<<16 | uint32(text[at+3])<<24
}

// formBit spreads keys over the bits by Fibonacci hashing.
func formBit(key uint32) uint32 {
	return (key * 2654435769) >> (32 - formIndexLog)
}
