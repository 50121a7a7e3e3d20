package handlers

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// unpairedSurrogateError returns a 400 naming the first string in body
// with a \u escape of a UTF-16 surrogate (U+D800 to U+DFFF) that is not part
// of a high and low pair, or nil. body must be valid JSON. encoding/json
// would silently replace such an escape with U+FFFD.
func unpairedSurrogateError(body []byte) error {
	offset := unpairedSurrogateOffset(body)
	if offset < 0 {
		return nil
	}
	field, isKey := stringPathAt(body, offset)
	name := field.String()
	if name == "" {
		name = "(body)"
	}
	escape := string(body[offset : offset+6])
	if isKey {
		return fieldError(name, `the field name %s contains the unpaired UTF-16 surrogate escape %s (at byte %d); send the character as UTF-8 or as a high and low surrogate pair`,
			strconv.Quote(field.last()), escape, offset+1)
	}
	return fieldError(name, `%s contains the unpaired UTF-16 surrogate escape %s (at byte %d); send the character as UTF-8 or as a high and low surrogate pair`,
		name, escape, offset+1)
}

// unpairedSurrogateOffset returns the byte offset of the first \u escape
// in body's strings that is a lone high surrogate or a lone low surrogate,
// or -1. body must be valid JSON, so every \u has four hex digits.
func unpairedSurrogateOffset(body []byte) int {
	inString := false
	for i := 0; i < len(body); i++ {
		switch {
		case !inString:
			inString = body[i] == '"'
		case body[i] == '"':
			inString = false
		case body[i] != '\\':
		case body[i+1] != 'u':
			i++ // a one-character escape such as \" or \\
		default:
			unit := hexUnit(body[i+2 : i+6])
			switch {
			case unit >= 0xD800 && unit <= 0xDBFF:
				next := i + 6
				if next+6 <= len(body) && body[next] == '\\' && body[next+1] == 'u' {
					if low := hexUnit(body[next+2 : next+6]); low >= 0xDC00 && low <= 0xDFFF {
						i = next + 5
						continue
					}
				}
				return i
			case unit >= 0xDC00 && unit <= 0xDFFF:
				return i
			}
			i += 5
		}
	}
	return -1
}

// hexUnit parses the four hex digits of a \u escape.
func hexUnit(digits []byte) int {
	unit, err := strconv.ParseUint(string(digits), 16, 16)
	if err != nil {
		return -1
	}
	return int(unit)
}

// stringPathAt returns the path of the string in body that contains byte
// offset, and whether that string is an object key rather than a value.
func stringPathAt(body []byte, offset int) (jsonPath, bool) {
	decoder := json.NewDecoder(bytes.NewReader(body))
	path, isKey, _ := findStringAt(decoder, nil, int64(offset))
	return path, isKey
}

// findStringAt reads the next value, at path, and returns the path of its
// first string that ends after offset, whether it is a key, and whether one
// was found.
func findStringAt(decoder *json.Decoder, path jsonPath, offset int64) (jsonPath, bool, bool) {
	token, err := decoder.Token()
	if err != nil {
		return nil, false, false
	}
	switch token {
	case json.Delim('{'):
		for decoder.More() {
			keyToken, err := decoder.Token()
			if err != nil {
				return nil, false, false
			}
			key, _ := keyToken.(string)
			if decoder.InputOffset() > offset {
				return path.child(key), true, true
			}
			if found, isKey, ok := findStringAt(decoder, path.child(key), offset); ok {
				return found, isKey, true
			}
		}
	case json.Delim('['):
		for index := 0; decoder.More(); index++ {
			if found, isKey, ok := findStringAt(decoder, path.element(index), offset); ok {
				return found, isKey, true
			}
		}
	default:
		_, isString := token.(string)
		return path, false, isString && decoder.InputOffset() > offset
	}
	_, _ = decoder.Token() // the closing delimiter
	return nil, false, false
}
