package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// maxExportNesting is the deepest nesting of objects and arrays an export
// may have, counted from its top-level object. The ingestion endpoint gives
// its request bodies the same limit.
const maxExportNesting = 64

// exportShapes names the two accepted shapes of an export in messages.
const exportShapes = `{"items": [ … ]} or {"records": [ … ]}`

// ReadExport reads an export of the earlier system's metadata store,
// {"items": [ … ]}, and returns its records undecoded. {"records": [ … ]},
// the shape of the ingestion endpoint, is accepted too. It rejects what the
// endpoint rejects in a request body, because encoding/json would silently
// replace invalid UTF-8, keep the last of two equal keys and ignore unknown
// keys and trailing data. An element of the list that is not an object is
// left for Ingest to reject.
// NOTE: unlike the endpoint, it accepts a NUL character (\u0000) in a
// string. Ingest rejects one in every field it stores in a column, and the
// raw copy keeps it escaped.
func ReadExport(r io.Reader) ([]json.RawMessage, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("evidence: unable to read the export: %w", err)
	}
	if err := checkExportEncoding(data); err != nil {
		return nil, err
	}

	decoder := json.NewDecoder(bytes.NewReader(data))
	var top json.RawMessage
	if err := decoder.Decode(&top); err != nil {
		return nil, exportSyntaxError(err)
	}
	if _, err := decoder.Token(); err != io.EOF {
		return nil, fmt.Errorf("evidence: export has data after the JSON object that ends at byte %d; an export is one JSON object, %s", decoder.InputOffset(), exportShapes)
	}
	if top[0] != '{' {
		return nil, fmt.Errorf("evidence: export must be a JSON object, %s; got %s", exportShapes, JSONKind(top))
	}

	lists, err := readExportLists(top)
	if err != nil {
		return nil, err
	}
	items, hasItems := lists["items"]
	records, hasRecords := lists["records"]
	switch {
	case hasItems && hasRecords:
		return nil, errors.New(`evidence: export has both "items" and "records"; put all records in one of them`)
	case hasItems:
		return items, nil
	case hasRecords:
		return records, nil
	}
	return nil, errors.New(`evidence: export has no "items" or "records" list; expected ` + exportShapes)
}

// checkExportEncoding rejects an export that is empty or is not UTF-8 text
// without a byte order mark.
func checkExportEncoding(data []byte) error {
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return errors.New("evidence: export is empty; expected a JSON object, " + exportShapes)
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		return errors.New("evidence: export starts with a byte order mark; save it as UTF-8 without one")
	case !utf8.Valid(data):
		valid := 0
		for valid < len(data) {
			r, size := utf8.DecodeRune(data[valid:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			valid += size
		}
		return fmt.Errorf("evidence: export is not UTF-8 text (byte %d is not); save it encoded as UTF-8", valid+1)
	}
	return nil
}

// exportSyntaxError describes JSON that does not parse, with the byte
// offset of the problem when the parser gives one.
func exportSyntaxError(err error) error {
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return fmt.Errorf("evidence: export is not valid JSON (at byte %d): %v", syntaxErr.Offset, syntaxErr)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("evidence: export is not valid JSON: it ends before its JSON object does; check that the file is complete")
	}
	return fmt.Errorf("evidence: export is not valid JSON: %w", err)
}

// readExportLists returns the lists of the export's top-level object by
// key. It rejects a key other than items or records, a key given twice, a
// value that is not a list, and a record with a key given twice or nested
// too deeply.
func readExportLists(top json.RawMessage) (map[string][]json.RawMessage, error) {
	decoder := json.NewDecoder(bytes.NewReader(top))
	if _, err := decoder.Token(); err != nil { // the opening brace
		return nil, exportSyntaxError(err)
	}
	lists := map[string][]json.RawMessage{}
	for decoder.More() {
		token, err := decoder.Token()
		if err != nil {
			return nil, exportSyntaxError(err)
		}
		key, _ := token.(string)
		if key != "items" && key != "records" {
			return nil, fmt.Errorf(`evidence: export has the key %s, which is not "items" or "records"; remove it, or put the records in one of %s`, quoteForMessage(key), exportShapes)
		}
		if _, seen := lists[key]; seen {
			return nil, fmt.Errorf("evidence: export key %q is given twice; give it once", key)
		}

		var value json.RawMessage
		if err := decoder.Decode(&value); err != nil {
			return nil, exportSyntaxError(err)
		}
		if kind := JSONKind(value); kind != "an array" {
			if kind == "null" {
				return nil, fmt.Errorf(`evidence: export key %q is null; give a list of records, such as "%s": [ … ]`, key, key)
			}
			return nil, fmt.Errorf(`evidence: export key %q must be a list of records, such as "%s": [ … ]; got %s`, key, key, kind)
		}
		var list []json.RawMessage
		if err := json.Unmarshal(value, &list); err != nil {
			return nil, exportSyntaxError(err)
		}
		for i, record := range list {
			path := key + "[" + strconv.Itoa(i) + "]"
			if err := checkRecordKeys(record, path); err != nil {
				return nil, err
			}
		}
		lists[key] = list
	}
	return lists, nil
}

// checkRecordKeys rejects a record with a key given twice in one object,
// which encoding/json would decode as the last value, or with objects and
// arrays nested more than maxExportNesting levels deep in the export.
// path names the record in messages, such as items[2].
func checkRecordKeys(record json.RawMessage, path string) error {
	decoder := json.NewDecoder(bytes.NewReader(record))
	// The record sits two levels deep: in the top-level object and its list.
	return walkRecordValue(decoder, path, 2)
}

// walkRecordValue reads the next value of decoder, at path and depth.
func walkRecordValue(decoder *json.Decoder, path string, depth int) error {
	token, err := decoder.Token()
	if err != nil {
		return exportSyntaxError(err)
	}
	delim, ok := token.(json.Delim)
	if !ok || delim == '}' || delim == ']' {
		return nil
	}
	if depth+1 > maxExportNesting {
		return fmt.Errorf("evidence: export nests objects and arrays more than %d levels deep at %s; send a flatter record", maxExportNesting, quoteForMessage(path))
	}

	seen := map[string]bool{}
	for index := 0; decoder.More(); index++ {
		childPath := path + "[" + strconv.Itoa(index) + "]"
		if delim == '{' {
			keyToken, err := decoder.Token()
			if err != nil {
				return exportSyntaxError(err)
			}
			key, _ := keyToken.(string)
			childPath = path + "." + key
			if seen[key] {
				return fmt.Errorf("evidence: export field %s is given twice; give it once", quoteForMessage(childPath))
			}
			seen[key] = true
		}
		if err := walkRecordValue(decoder, childPath, depth+1); err != nil {
			return err
		}
	}
	if _, err := decoder.Token(); err != nil { // the closing delimiter
		return exportSyntaxError(err)
	}
	return nil
}

// JSONKind names the kind of a valid JSON value by its first byte, with
// its article, such as "an array", for messages.
func JSONKind(value []byte) string {
	switch bytes.TrimSpace(value)[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// quoteForMessage returns text for an error message: quoted with its
// control characters escaped, and cut to 60 characters.
func quoteForMessage(text string) string {
	if utf8.RuneCountInString(text) > 60 {
		text = truncateRunes(text, 60) + "…"
	}
	return strconv.Quote(text)
}
