package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/audit"
	"github.com/releaseops/evidence-console/evidence"
)

// queryInt reads an optional whole-number query or form parameter in
// [min, max]. An empty query parameter is absent and gets the default, as
// every query filter treats one, because a GET form sends an empty value
// for a field left blank. A form field or query parameter that has a value
// must be valid: a plus sign, a space, a fraction or text is rejected
// rather than replaced by the default, and so is an empty form field. It
// takes what a number input sends for a whole number, such as 30, 030,
// 30.0 or 3e1, because GET and POST forms send them as typed.
func queryInt(c echo.Context, name string, def, min, max int) (int, error) {
	values := c.QueryParams()
	fromQuery := true
	if c.Request().Method == "POST" {
		if form, err := c.FormParams(); err == nil && form.Has(name) {
			values, fromQuery = form, false
		}
	}
	if !values.Has(name) || (fromQuery && values.Get(name) == "") {
		return def, nil
	}
	raw := values.Get(name)
	n, ok := formWholeNumber(raw)
	if !ok || n < min || n > max {
		return 0, fieldError(name, "%s must be a whole number from %d to %d; got %q", name, min, max, raw)
	}
	return n, nil
}

// maxFilterLength is the maximum length in characters of a list filter's
// value, as the API document states.
const maxFilterLength = audit.MaxFilterLength

// rejectLongFilters returns a 400 naming the first of names whose query
// value is longer than maxFilterLength. The message gives the length, not
// the value, so a long value is not sent back.
func rejectLongFilters(c echo.Context, names ...string) error {
	values := c.QueryParams()
	for _, name := range names {
		if value := values.Get(name); tooLong(value, maxFilterLength) {
			return fieldError(name, "%s must have at most %d characters; got %d", name, maxFilterLength, utf8.RuneCountInString(value))
		}
	}
	return nil
}

// consoleID returns the id that a console section reads from the query, or
// "" when it is longer than maxFilterLength. The console rejects such a
// query with a 400 but still shows its sections, so they show the newest
// record, as without the id.
func consoleID(c echo.Context, name string) string {
	if id := c.QueryParam(name); !tooLong(id, maxFilterLength) {
		return id
	}
	return ""
}

// typedFilter returns a filter's query value for a rejected page to show
// again, cut to maxFilterLength characters, the maxlength of its input.
func typedFilter(values url.Values, name string) string {
	return cutRunes(values.Get(name), maxFilterLength)
}

// rejectEmptyString returns a 400 naming field when value, an optional
// JSON body field that names something (an id, a destination or a state),
// is sent as an empty or blank string. Leaving the field out is how a
// client asks for its default, so an empty value is most likely a mistake.
func rejectEmptyString(field string, value *string) error {
	if value != nil && strings.TrimSpace(*value) == "" {
		return fieldError(field, "%s is empty; send a value, or leave the field out", field)
	}
	return nil
}

// formWholeNumber parses a whole number typed in a form field as an HTML
// number input sends it: digits, or a number such as 3.0 or 1e1 whose
// value is whole. A plus sign, a space, a fraction or a hexadecimal form is
// rejected.
func formWholeNumber(raw string) (int, bool) {
	f, ok := formNumber(raw)
	if !ok || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// formNumber parses a number typed in a form field with the syntax an HTML
// number input sends, such as 2, 1.5, .5 or 1e3. A plus sign, a space, a
// hexadecimal form, NaN or an infinity is rejected, as the JSON API
// rejects them.
func formNumber(raw string) (float64, bool) {
	if !htmlNumberSyntax.MatchString(raw) {
		return 0, false
	}
	f, err := strconv.ParseFloat(raw, 64)
	return f, err == nil && !math.IsInf(f, 0)
}

// htmlNumberSyntax matches a valid floating-point number as HTML defines it.
var htmlNumberSyntax = regexp.MustCompile(`^-?([0-9]+(\.[0-9]+)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// rejectUnknownQuery returns a 400 naming every query parameter that is not
// one of accepted, in sorted order, so a misspelt parameter is not silently
// ignored. The error's field is the first of them. The error lists the
// accepted parameters in its message and in details.accepted_parameters.
// Every parameter takes one value, so a parameter given more than once is
// rejected too rather than read as its first value.
func rejectUnknownQuery(c echo.Context, accepted ...string) error {
	values := c.QueryParams()
	names := unknownNames(values, accepted)
	if len(names) == 0 {
		return rejectRepeatedQuery(values)
	}
	listed := joinNames(names)
	apiErr := fieldError(names[0], "%s %s of this endpoint; remove %s, or use one of %s",
		listed, pluralOf(names, "is not a query parameter", "are not query parameters"), pluralOf(names, "it", "them"), strings.Join(accepted, ", "))
	if len(accepted) == 0 {
		apiErr.Message = fmt.Sprintf("%s %s of this endpoint, which takes none; remove %s",
			listed, pluralOf(names, "is not a query parameter", "are not query parameters"), pluralOf(names, "it", "them"))
	}
	apiErr.Details = map[string]any{"accepted_parameters": append([]string{}, accepted...)}
	return apiErr
}

// unknownNames returns the names of values that are not one of accepted,
// sorted and escaped with escapedName, or nil when there is none.
func unknownNames(values url.Values, accepted []string) []string {
	var unknown []string
	for name := range values {
		if !slices.Contains(accepted, name) {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for i, name := range unknown {
		unknown[i] = escapedName(name)
	}
	return unknown
}

// maxListedNames is how many names joinNames lists before it counts the
// rest, so a message about many names keeps its fix within the length
// limit of error messages.
const maxListedNames = 10

// joinNames lists names as "a", "a and b" or "a, b and c", and after
// maxListedNames names as "a, b, … and 5 more".
func joinNames(names []string) string {
	if len(names) > maxListedNames {
		return strings.Join(names[:maxListedNames], ", ") + fmt.Sprintf(" and %d more", len(names)-maxListedNames)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// pluralOf returns singular when names has a single element and plural
// otherwise.
func pluralOf(names []string, singular, plural string) string {
	if len(names) == 1 {
		return singular
	}
	return plural
}

// rejectRepeatedQuery returns a 400 naming the first query parameter, in
// sorted order, that is given more than once, with its values quoted so
// the client sees what it sent, unless the parameter carries a credential.
func rejectRepeatedQuery(values url.Values) error {
	return rejectRepeated(values, true)
}

// credentialFields are the query and form fields whose values an error
// never quotes, because each is a password or a one-time secret.
var credentialFields = []string{"password", "password_confirmation", "token", csrfFormField}

// rejectRepeated returns the 400 of rejectRepeatedQuery. It quotes the
// values only when quote is true and the field is not a credential field.
func rejectRepeated(values url.Values, quote bool) error {
	var repeated []string
	for name, list := range values {
		if len(list) > 1 {
			repeated = append(repeated, name)
		}
	}
	if len(repeated) == 0 {
		return nil
	}
	slices.Sort(repeated)
	name := repeated[0]
	shownName := escapedName(name)
	if !quote || slices.Contains(credentialFields, name) {
		return fieldError(shownName, "%s is given %d times; send it once", shownName, len(values[name]))
	}
	var quotedValues []string
	for _, value := range values[name] {
		if len(quotedValues) == maxRepeatedValuesShown {
			quotedValues = append(quotedValues, "…")
			break
		}
		quotedValues = append(quotedValues, strconv.Quote(truncateForMessage(value)))
	}
	return fieldError(shownName, "%s is given %d times (%s); send it once", shownName, len(values[name]), strings.Join(quotedValues, ", "))
}

// maxRepeatedValuesShown bounds the values a repeated parameter's error
// quotes, so a long query does not make a long message.
const maxRepeatedValuesShown = 3

// decodeJSONBody decodes the request body into dst strictly. The body must
// be one JSON object. Unknown fields, wrong types, numbers out of range, a
// key given twice in one object, null values and trailing data are
// rejected with the field's full path named. An empty body leaves dst
// unchanged.
func decodeJSONBody(c echo.Context, dst any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return bodyReadError(err)
	}
	if err := checkBodyEncoding(c, body); err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	// The checks below walk the body once per nesting level they enter, so
	// a deep body is rejected before any of them.
	if jsonNestingExceeds(body, maxJSONNesting) {
		return &APIError{Status: http.StatusBadRequest, Code: CodeMalformedBody,
			Message: fmt.Sprintf("request body nests objects and arrays more than %d levels deep; send a flatter JSON object", maxJSONNesting)}
	}
	if !json.Valid(body) {
		return invalidJSONError(body, dst)
	}
	if kind := evidence.JSONKind(body); kind != "an object" {
		return &APIError{Status: http.StatusBadRequest, Code: CodeMalformedBody,
			Message: fmt.Sprintf("request body must be a JSON object, such as {}; got %s", kind)}
	}
	if err := unpairedSurrogateError(body); err != nil {
		return err
	}

	// encoding/json keeps the last of two equal keys and decodes null as
	// if the field were absent, so these are found by the walk before
	// anything is decoded.
	problem := findBodyProblem(body, reflect.TypeOf(dst))
	if problem != nil && (problem.kind == problemDuplicateKey || problem.kind == problemNull || problem.kind == problemNulCharacter) {
		return problem.fieldError()
	}

	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(dst); err != nil {
		return decodeError(problem, dst, err)
	}
	// encoding/json also accepts a key that differs from a field's name
	// only in case, so two spellings of one field could both be sent and
	// the last would win. The walk matches names exactly.
	if problem != nil && problem.kind == problemUnknownField {
		return problem.unknownFieldError()
	}
	return nil
}

// maxJSONNesting is the deepest nesting of objects and arrays a request
// body may have. No request field nests more than a few levels, and evidence
// records get the same limit.
const maxJSONNesting = 64

// jsonNestingExceeds reports whether body opens more than limit objects or
// arrays inside one another. It skips string contents and returns at the
// first level past limit, after one pass over the body at most.
func jsonNestingExceeds(body []byte, limit int) bool {
	depth := 0
	inString, escaped := false, false
	for _, b := range body {
		switch {
		case inString && escaped:
			escaped = false
		case inString && b == '\\':
			escaped = true
		case inString && b == '"':
			inString = false
		case inString:
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			depth++
			if depth > limit {
				return true
			}
		case b == '}' || b == ']':
			depth--
		}
	}
	return false
}

// checkBodyEncoding rejects a body that is not UTF-8 JSON text: a form, a
// malformed Content-Type, a charset other than UTF-8, a byte order mark or
// bytes that are not UTF-8, each of which would otherwise get the JSON
// parser's message about its first character or be read as UTF-8 anyway.
func checkBodyEncoding(c echo.Context, body []byte) error {
	malformed := func(message string) error {
		return &APIError{Status: http.StatusBadRequest, Code: CodeMalformedBody, Message: message}
	}
	mediaType, err := parseContentType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil {
		return err
	}
	switch {
	case mediaType == echo.MIMEApplicationForm || mediaType == echo.MIMEMultipartForm:
		// A form is a body of another media type, as the console's form
		// routes treat a JSON body.
		return &APIError{Status: http.StatusUnsupportedMediaType, Code: CodeMalformedBody,
			Message: "request body is a form; send a JSON object with Content-Type: application/json"}
	case mediaType != "" && mediaType != echo.MIMEApplicationJSON && !strings.HasSuffix(mediaType, "+json"):
		// A missing type is read as JSON, but a body declared as another
		// type, such as text/plain, is most likely not what the client
		// meant to send.
		return &APIError{Status: http.StatusUnsupportedMediaType, Code: CodeMalformedBody,
			Message: fmt.Sprintf("request body is declared as %.60s; send a JSON object with Content-Type: application/json", mediaType)}
	case bytes.HasPrefix(body, []byte("\xef\xbb\xbf")):
		return malformed("request body starts with a byte order mark; send UTF-8 JSON without one")
	case !utf8.Valid(body):
		valid := 0
		for valid < len(body) {
			r, size := utf8.DecodeRune(body[valid:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			valid += size
		}
		return malformed(fmt.Sprintf("request body is not UTF-8 text (byte %d is not); send the JSON encoded as UTF-8", valid+1))
	}
	return nil
}

// parseContentType returns the media type of a request's Content-Type
// header, or "" for a missing header. It returns a 415 for a
// header that does not parse, or whose charset is not UTF-8, because the
// body is always read as UTF-8.
func parseContentType(header string) (string, error) {
	if strings.TrimSpace(header) == "" {
		return "", nil
	}
	unsupported := func(format string, args ...any) error {
		return &APIError{Status: http.StatusUnsupportedMediaType, Code: CodeMalformedBody, Message: fmt.Sprintf(format, args...)}
	}
	mediaType, params, err := mime.ParseMediaType(header)
	if err != nil {
		return "", unsupported("the Content-Type header %s is malformed (%v); send Content-Type: application/json",
			strconv.Quote(truncateForMessage(header)), err)
	}
	if charset, ok := params["charset"]; ok && !strings.EqualFold(charset, "utf-8") {
		return "", unsupported("the Content-Type charset %s is not supported; send the JSON encoded as UTF-8, with Content-Type: application/json or application/json; charset=utf-8",
			strconv.Quote(truncateForMessage(charset)))
	}
	return mediaType, nil
}

// invalidJSONError returns the 400 of a body that is not one valid JSON
// value: the decoder's error for the first value, or trailing data after it.
func invalidJSONError(body []byte, dst any) error {
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(dst); err != nil {
		return decodeError(findBodyProblem(body, reflect.TypeOf(dst)), dst, err)
	}
	return &APIError{Status: http.StatusBadRequest, Code: CodeMalformedBody, Message: "request body has data after the JSON object; send one object"}
}

// decodeError turns a failed decode into a 400. problem is the first
// problem the body walk found, or nil. encoding/json names an unknown field
// by its bare key and calls a number too large for its field a type
// mismatch, so for those two errors the walk's problem gives the field's
// full path.
func decodeError(problem *bodyProblem, dst any, err error) error {
	var typeErr *json.UnmarshalTypeError
	unknownField, isUnknown := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !errors.As(err, &typeErr) && !isUnknown {
		return jsonError(err)
	}
	switch {
	case problem == nil:
	// A key in another case than its field comes first in the document,
	// though encoding/json accepted it and reported a later problem.
	case problem.kind == problemUnknownField && problem.caseOf != "":
		return problem.unknownFieldError()
	// encoding/json quotes the key with %q, as strconv.Quote does.
	case isUnknown && problem.kind == problemUnknownField && strconv.Quote(problem.path.last()) == unknownField:
		return problem.unknownFieldError()
	case typeErr != nil && problem.kind == problemOutOfRange && problem.path.fieldPath() == typeErr.Field:
		return problem.outOfRangeError(dst)
	}
	// The walk found no problem, or not the one encoding/json reported
	// first, so the decoder's own error is the one to report.
	return jsonError(err)
}

func bodyReadError(err error) error {
	var tooLarge *echo.HTTPError
	if errors.As(err, &tooLarge) {
		return err
	}
	if bodyTooLarge(err) {
		return echo.ErrStatusRequestEntityTooLarge
	}
	return &APIError{Status: 400, Code: CodeMalformedBody, Message: "unable to read the request body"}
}

// bodyTooLarge reports whether reading a body failed on the body limit,
// which the limited reader reports only in its message.
func bodyTooLarge(err error) bool {
	return strings.Contains(err.Error(), "too large")
}

// jsonError turns a decoding error into a 400 that names the field.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
		if field == "" {
			field = "(body)"
		}
		return fieldError(field, "%s must be a JSON %s; got %s", field, jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value)
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return &APIError{Status: 400, Code: CodeMalformedBody, Message: fmt.Sprintf("request body is not valid JSON (at byte %d): %v", syntaxErr.Offset, err)}
	}
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldError(field, "%s is not a field of this request; remove it", field)
	}
	var fieldErr *APIError
	if errors.As(err, &fieldErr) {
		return fieldErr
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &APIError{Status: 400, Code: CodeMalformedBody, Message: "request body is truncated JSON"}
	}
	return &APIError{Status: 400, Code: CodeMalformedBody, Message: "request body is not valid JSON: " + err.Error()}
}

func jsonTypeName(kind string) string {
	switch kind {
	case "bool":
		return "boolean (true or false, without quotes)"
	case "int", "int64", "int32", "uint", "uint64":
		return "whole number"
	case "float64", "float32":
		return "number"
	case "string":
		return "string"
	case "slice":
		return "list"
	case "map", "struct":
		return "object"
	}
	return kind
}

// hasJSONBody reports whether the request body is JSON: a JSON content type,
// or any API path. Bodies sent to the JSON API are always read as JSON, so a
// client that leaves out the content type cannot have a field such as
// execute: true silently ignored.
func hasJSONBody(c echo.Context) bool {
	return strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEApplicationJSON) ||
		strings.HasPrefix(c.Request().URL.Path, runtimePrefix+"/")
}
