package connectors

import (
	"net/url"
	"slices"
	"strings"
	"unicode"
)

// Part of a secret gives most of it away: a copy without its first or last
// character, or either half quoted by a server that cut its reply, leaves
// little to guess. So a run of at least secretRunLength(len(secret))
// consecutive characters of a random-looking secret counts as the secret,
// in any ASCII letter case. The run is half the secret, rounded down so
// both halves of a secret of odd length are caught, and at least
// minFragmentLength characters, because shorter runs of even a random
// secret turn up in ordinary ids and words. Secrets shorter than
// minFragmentLength are only matched whole, and secrets made of words,
// such as /teams/workflows/local or local-receiver-token, only whole too,
// because their halves are words people type (see isMadeOfWords).
func secretRunLength(secretLength int) int {
	return max(minFragmentLength, secretLength/2)
}

// secretRunIndex finds runs of secrets as secretRunLength defines them. At
// each position of a text, the next minFragmentLength bytes, lower-cased,
// are a key. Every run contains, at one of its first step positions, the
// key of a part of its secret, so only every step-th position of a text is
// looked up in partBits. Where that finds one, the step positions before
// it that may start a run are looked up in startBits, then in starts, and
// only where a window starts in windows.
type secretRunIndex struct {
	// partBits has a bit per hash of the key at every position of every
	// secret, and startBits one for the keys that start a window.
	partBits, startBits [secretRunBits / 64]uint64
	// starts contains the key of the first bytes of every window.
	starts map[uint64]bool
	// step is the least number of keys in a window, for the shortest
	// window.
	step int
	// windows maps each lower-cased window of a secret to where it occurs.
	// Its keys are substrings of the lower-cased secrets, so they share
	// their memory.
	windows map[string][]secretWindow
	// lengths are the distinct window lengths, shortest first.
	lengths []int
}

// secretWindow is one occurrence of a window in a lower-cased secret.
type secretWindow struct {
	secret string
	offset int
}

const (
	secretRunBitsLog = 16
	secretRunBits    = 1 << secretRunBitsLog
)

// newSecretRunIndex returns the index of the random-looking parts of
// secrets, leaving out ignored values, or nil when there are none.
func newSecretRunIndex(secrets, ignored []string) *secretRunIndex {
	index := &secretRunIndex{starts: map[uint64]bool{}, windows: map[string][]secretWindow{}}
	seen := map[string]bool{}
	for _, secret := range secrets {
		// A "user:password" pair, as a Basic credential decodes, starts
		// with a user name, which is public. Its password is a secret of
		// its own, so the pair is left out.
		user, password, isPair := strings.Cut(secret, ":")
		if isPair && user != "" && !strings.Contains(secret, "://") && slices.Contains(secrets, password) {
			continue
		}
		for _, part := range randomSecretParts(secret) {
			if seen[part] || slices.Contains(ignored, part) {
				continue
			}
			seen[part] = true
			index.add(part)
		}
	}
	if len(index.windows) == 0 {
		return nil
	}
	slices.Sort(index.lengths)
	return index
}

// add indexes the windows of secret, which keeps its letter case so that
// readsAsWords can tell words from random letters.
func (x *secretRunIndex) add(original string) {
	secret := lowerASCIIText(original)
	length := secretRunLength(len(secret))
	if !slices.Contains(x.lengths, length) {
		x.lengths = append(x.lengths, length)
	}
	if step := length - minFragmentLength + 1; x.step == 0 || step < x.step {
		x.step = step
	}
	for offset := 0; offset+minFragmentLength <= len(secret); offset++ {
		setBit(&x.partBits, keyAt(secret, offset))
	}
	// A secret that mixes letters with digits or symbols, such as
	// Evidence2026!, often contains a word, and a run of letters alone
	// would then match that word in ordinary text. So a window of letters
	// alone is left out when the letters around it read as words. Random
	// letters, such as the tail of sk_live_QmZpRtXwKvNbLcYdHsJgFeTa or of
	// 9f_qmzprtxwkvnblcy, stay a window, so that half of such a secret is
	// still found. A secret of letters alone keeps every window.
	mixed := strings.ContainsFunc(secret, func(c rune) bool { return !isASCIILetter(c) })
	for offset := 0; offset+length <= len(secret); offset++ {
		window := secret[offset : offset+length]
		if mixed && !strings.ContainsFunc(window, func(c rune) bool { return !isASCIILetter(c) }) &&
			readsAsWords(wordRunAround(original, offset, offset+length)) {
			continue
		}
		x.windows[window] = append(x.windows[window], secretWindow{secret: secret, offset: offset})
		key := keyAt(window, 0)
		x.starts[key] = true
		setBit(&x.startBits, key)
	}
}

// readsAsWords reports whether run, a run of ASCII letters, reads as words
// rather than random letters: it is words as isWord defines them, and its
// letters have the vowels of words. About 23% of random letters are
// vowels, counting y, against roughly 40% in English words (an estimate),
// and words rarely put six consonants in a row.
// NOTE: the vowel test is an estimate. In a simulation of 20,000 runs of
// uniform random lower-case letters for each length from 9 to 15, a third
// to two fifths still passed it, and rare words with few vowels, such as
// strengths, fail it.
func readsAsWords(run string) bool {
	if !isWord(run) {
		return false
	}
	vowels, consonantsInRow := 0, 0
	for _, c := range strings.ToLower(run) {
		if strings.ContainsRune("aeiouy", c) {
			vowels++
			consonantsInRow = 0
			continue
		}
		consonantsInRow++
		if consonantsInRow > maxWordConsonantsInRow {
			return false
		}
	}
	return vowels*100 >= len(run)*minWordVowelPercent
}

// minWordVowelPercent and maxWordConsonantsInRow are the bounds that
// readsAsWords takes as the vowels of words.
const (
	minWordVowelPercent    = 25
	maxWordConsonantsInRow = 5
)

// wordRunAround returns the longest run of ASCII letters of text that
// contains text[start:end], which must be letters.
func wordRunAround(text string, start, end int) string {
	for start > 0 && isASCIILetter(rune(text[start-1])) {
		start--
	}
	for end < len(text) && isASCIILetter(rune(text[end])) {
		end++
	}
	return text[start:end]
}

// randomSecretParts returns the parts of a secret that runs are taken
// from. A URL's are its credential-like path segments, credential query
// values and password, because its scheme and host are public. Another
// value's are its fields between white space, so the scheme of
// "Bearer <token>" is not one. Parts shorter than minFragmentLength, paths
// of words and values made of words are left out.
func randomSecretParts(secret string) []string {
	secret = strings.TrimSpace(secret)
	var parts []string
	if u, err := url.Parse(secret); err == nil && u.Scheme != "" && u.Host != "" {
		// The whole path is left out, because its first half is often a
		// public route, such as /slack/services/T000/B000.
		parts = append(secretPathSegments(u), secretQueryValues(u)...)
		if password, ok := u.User.Password(); ok {
			parts = append(parts, password)
		}
	} else {
		parts = strings.Fields(secret)
	}
	return slices.DeleteFunc(parts, func(part string) bool {
		return len(part) < minFragmentLength || isWordPath(part) || isMadeOfWords(part)
	})
}

// isMadeOfWords reports whether value consists of words that "/", "-",
// ".", "_" or white space separate, such as local-receiver-token or
// Custom-Evidence_CL. It extends isWordPath, which also allows digits and
// symbols in short segments, to values without a slash.
func isMadeOfWords(value string) bool {
	words := strings.FieldsFunc(value, func(c rune) bool {
		return c == '/' || c == '-' || c == '.' || c == '_' || unicode.IsSpace(c)
	})
	return !slices.ContainsFunc(words, func(word string) bool { return !isWord(word) })
}

func isASCIILetter(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isWord reports whether word consists of letters only, in words shorter
// than minWordSegmentLength written together in camel case, such as
// dataCollectionRules. Each word after the first needs three letters, so
// a key of letters in mixed case, such as QwErTyUiOpAsDfGh, is no word.
func isWord(word string) bool {
	if strings.ContainsFunc(word, func(c rune) bool { return !unicode.IsLetter(c) }) {
		return false
	}
	start := 0
	previous := ' '
	for i, c := range word {
		if unicode.IsUpper(c) && unicode.IsLower(previous) {
			if start > 0 && i-start < 3 || i-start >= minWordSegmentLength {
				return false
			}
			start = i
		}
		previous = c
	}
	length := len(word) - start
	return length < minWordSegmentLength && (start == 0 || length >= 3)
}

// found reports whether text contains a run of a secret.
func (x *secretRunIndex) found(text string) bool {
	found := false
	x.scan(text, func(int, int) bool {
		found = true
		return false
	})
	return found
}

// scan calls visit with the start and end of every run of a secret in
// text, in any ASCII letter case, in order of start, each extended as far
// as it keeps matching the secret. It stops when visit returns false. It
// allocates only for a text in which a window may start, to lower-case it.
func (x *secretRunIndex) scan(text string, visit func(start, end int) bool) {
	if x == nil || len(text) < minFragmentLength {
		return
	}
	lower := ""
	next := 0 // the first position not yet looked at as a start
	for sample := 0; sample+minFragmentLength <= len(text); sample += x.step {
		if !hasBit(&x.partBits, keyAt(text, sample)) {
			continue
		}
		for start := max(next, sample-x.step+1); start <= sample; start++ {
			if key := keyAt(text, start); !hasBit(&x.startBits, key) || !x.starts[key] {
				continue
			}
			if lower == "" {
				lower = lowerASCIIText(text)
			}
			if !x.visitRuns(lower, start, visit) {
				return
			}
		}
		next = sample + 1
	}
}

// visitRuns calls visit with each run of a secret that starts at start in
// lower, a lower-cased text, and returns false when visit does.
func (x *secretRunIndex) visitRuns(lower string, start int, visit func(start, end int) bool) bool {
	for _, length := range x.lengths {
		if start+length > len(lower) {
			break
		}
		for _, window := range x.windows[lower[start:start+length]] {
			end, at := start+length, window.offset+length
			for end < len(lower) && at < len(window.secret) && lower[end] == window.secret[at] {
				end++
				at++
			}
			if !visit(start, end) {
				return false
			}
		}
	}
	return true
}

// replace returns text with every run of a secret replaced by
// "[redacted]", overlapping runs as one.
func (x *secretRunIndex) replace(text string) string {
	if x == nil {
		return text
	}
	var out strings.Builder
	last, start, end := 0, -1, -1
	flush := func() {
		if start < 0 {
			return
		}
		if out.Len() == 0 {
			out.Grow(len(text))
		}
		out.WriteString(text[last:start])
		out.WriteString(Redacted)
		last = end
	}
	x.scan(text, func(runStart, runEnd int) bool {
		if runStart < end {
			end = max(end, runEnd)
			return true
		}
		flush()
		start, end = runStart, runEnd
		return true
	})
	if start < 0 {
		return text
	}
	flush()
	out.WriteString(text[last:])
	return out.String()
}

// keyAt returns the minFragmentLength (8) bytes of text from at, with
// ASCII letters lower-cased, as a little-endian number.
func keyAt(text string, at int) uint64 {
	_ = text[at+7]
	key := uint64(text[at]) | uint64(text[at+1])<<8 | uint64(text[at+2])<<16 | uint64(text[at+3])<<24 |
		uint64(text[at+4])<<32 | uint64(text[at+5])<<40 | uint64(text[at+6])<<48 | uint64(text[at+7])<<56
	return lowerASCIIBytes(key)
}

// lowerASCIIBytes lower-cases the ASCII capitals among the 8 bytes of key
// at once. Bytes of 0x80 or more are kept.
func lowerASCIIBytes(key uint64) uint64 {
	const ones = 0x0101010101010101
	low7 := key & (0x7f * ones)
	// Adding to 7 bits carries into the high bit of each byte alone:
	// above 'Z', and from 'A' on.
	aboveZ := low7 + (0x7f-'Z')*ones
	fromA := low7 + (0x80-'A')*ones
	capital := ^key & (fromA &^ aboveZ) & (0x80 * ones)
	return key | capital>>2
}

// secretRunBit spreads keys over the bits by Fibonacci hashing.
func secretRunBit(key uint64) uint64 {
	return (key * 0x9E3779B97F4A7C15) >> (64 - secretRunBitsLog)
}

func setBit(bits *[secretRunBits / 64]uint64, key uint64) {
	bit := secretRunBit(key)
	bits[bit/64] |= 1 << (bit % 64)
}

func hasBit(bits *[secretRunBits / 64]uint64, key uint64) bool {
	bit := secretRunBit(key)
	return bits[bit/64]&(1<<(bit%64)) != 0
}

// lowerASCIIText returns text with ASCII letters lower-cased, with the same
// length, so positions in it are positions in text. Text without capitals
// is returned without a copy.
func lowerASCIIText(text string) string {
	if !strings.ContainsFunc(text, func(c rune) bool { return 'A' <= c && c <= 'Z' }) {
		return text
	}
	lower := []byte(text)
	for i, b := range lower {
		lower[i] = lowerASCII(b)
	}
	return string(lower)
}
