package connectors

import (
	"encoding/json"
	"html"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// ResponseScrubber removes configured secrets from the pages and JSON
// documents the console sends, as a last guard for records stored before
// their text was checked against the configured secrets. It follows the
// secrets its Redactor registers while running, such as access tokens.
type ResponseScrubber struct {
	redactor *Redactor
	// forms is built for one state of the redactor and rebuilt when a
	// secret is registered.
	forms atomic.Pointer[scrubberForms]
	// build lets one request rebuild the patterns after a change while
	// the others wait for it, rather than each compiling the same ones.
	build sync.Mutex
}

// scrubberForms contains the patterns of one redactor state.
type scrubberForms struct {
	state *redactorState
	// replacer matches every written form in any letter case, and is nil
	// when the state has no forms.
	replacer *regexp.Regexp
	// written finds any form the replacer replaces, and typed any form
	// that typed text is checked for, in any letter case.
	written, typed *formIndex
}

// ResponseScrubber returns a scrubber for the configured secrets, or nil
// when none is configured and none can be registered while running.
//
// It replaces each whole secret value, not the URL path segments that
// Redact also replaces, because a segment such as "services" is an
// ordinary word on a page. Each value is replaced in the forms typed text
// is checked for (raw, URL-, base64- and hex-encoded) and in those forms as
// HTML and JSON write them, in any letter case, as stored text may contain a
// secret in other letters than the configuration. Runs of random-looking
// secrets, credential-like path segments included, are replaced as Redact
// replaces them (see secretRunLength).
func (r *Redactor) ResponseScrubber() *ResponseScrubber {
	if len(r.current().typed) == 0 && !r.mayAddSecrets() {
		return nil
	}
	scrubber := &ResponseScrubber{redactor: r}
	scrubber.current()
	return scrubber
}

// current returns the patterns for the redactor's current state, building
// them when a secret was registered since the last call.
func (s *ResponseScrubber) current() *scrubberForms {
	state := s.redactor.current()
	if forms := s.forms.Load(); forms != nil && forms.state == state {
		return forms
	}
	s.build.Lock()
	defer s.build.Unlock()
	state = s.redactor.current()
	if forms := s.forms.Load(); forms != nil && forms.state == state {
		return forms
	}
	forms := buildScrubberForms(state)
	s.forms.Store(forms)
	return forms
}

// buildScrubberForms is newScrubberForms; tests count its calls.
var buildScrubberForms = newScrubberForms

func newScrubberForms(state *redactorState) *scrubberForms {
	if len(state.typed) == 0 {
		return &scrubberForms{state: state}
	}
	seen := map[string]bool{}
	var forms []string
	for _, form := range state.typed {
		for _, written := range []string{form, html.EscapeString(form), jsonStringContent(form), jsonStringContent(html.EscapeString(form))} {
			if written != "" && !seen[written] {
				seen[written] = true
				forms = append(forms, written)
			}
		}
	}
	// RE2 prefers the earlier alternative at each position, so longer
	// forms must come before their own prefixes.
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	quoted := make([]string, len(forms))
	for i, form := range forms {
		quoted[i] = regexp.QuoteMeta(form)
	}
	return &scrubberForms{
		state:    state,
		replacer: regexp.MustCompile("(?i)(?:" + strings.Join(quoted, "|") + ")"),
		written:  newFormIndex(forms),
		typed:    newFormIndex(state.typed),
	}
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
	forms := s.current()
	if forms.replacer == nil {
		return body, false, true
	}
	// Replacing costs far more than finding, and most bodies hold nothing.
	cleaned = body
	if forms.written.foundIn(body) {
		cleaned = forms.replacer.ReplaceAllLiteralString(body, Redacted)
	}
	// Whole secrets are looked for before runs are replaced, because a
	// run can take one side of a split secret and hide the other.
	decoded := decodeForScrub(cleaned)
	complete = !forms.typed.foundIn(decoded)
	if withoutRuns := forms.state.runs.replace(cleaned); withoutRuns != cleaned {
		cleaned = withoutRuns
		decoded = decodeForScrub(cleaned)
	}
	changed = cleaned != body
	// Every run in cleaned is replaced, so only decoding can show one.
	if complete && decoded != cleaned {
		complete = !forms.state.runs.found(decoded)
	}
	return cleaned, changed, complete
}

// decodeForScrub undoes the escapes and encodings that can hide a secret.
func decodeForScrub(text string) string {
	return decodeHTMLAndPercent(removeFormatCharacters(decodeJSONEscapes(text)))
}

// formIndex finds any of a set of strings of at least formKeyLength bytes,
// in any ASCII letter case, in one pass over a text. A bit per hash of a
// form's first bytes, lower-cased, rules out almost every position at once.
// Only a position whose bit is set is compared with the forms that start
// with those bytes.
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
	if len(text) < formKeyLength {
		return false
	}
	// The key of each position is the one before it shifted by a byte.
	key := formKey(text, 0)
	for i := 0; i+formKeyLength <= len(text); i++ {
		if i > 0 {
			key = key>>8 | uint32(lowerASCII(text[i+formKeyLength-1]))<<24
		}
		bit := formBit(key)
		if x.bits[bit/64]&(1<<(bit%64)) == 0 {
			continue
		}
		for _, form := range x.forms[key] {
			if len(text)-i >= len(form) && strings.EqualFold(text[i:i+len(form)], form) {
				return true
			}
		}
	}
	return false
}

// formKey returns the formKeyLength bytes of text from at, with ASCII
// letters lower-cased.
func formKey(text string, at int) uint32 {
	return uint32(lowerASCII(text[at])) | uint32(lowerASCII(text[at+1]))<<8 |
		uint32(lowerASCII(text[at+2]))<<16 | uint32(lowerASCII(text[at+3]))<<24
}

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// formBit spreads keys over the bits by Fibonacci hashing.
func formBit(key uint32) uint32 {
	return (key * 2654435769) >> (32 - formIndexLog)
}
