package handlers

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// rangeChecker is a JSON request body that checks its numeric fields with
// the domain validation, without side effects, and returns the error as an
// *APIError. When a number does not fit its Go field, decodeJSONBody calls it
// on a body holding only that field, set to the nearest value the field can
// hold, so the error states the range the domain already enforces.
type rangeChecker interface {
	checkRanges() error
}

// pathStep is one step from a JSON value into a child: an object key, or an
// array index when index is not negative.
type pathStep struct {
	key   string
	index int
}

// jsonPath locates a value inside a request body.
type jsonPath []pathStep

func (p jsonPath) child(key string) jsonPath {
	return append(p[:len(p):len(p)], pathStep{key: key, index: -1})
}

func (p jsonPath) element(index int) jsonPath {
	return append(p[:len(p):len(p)], pathStep{index: index})
}

// String formats the path as the API names fields: retry_policy.max_attempts
// for a nested object and items[2].name inside an array.
func (p jsonPath) String() string {
	var out strings.Builder
	for _, step := range p {
		if step.index >= 0 {
			fmt.Fprintf(&out, "[%d]", step.index)
			continue
		}
		if out.Len() > 0 {
			out.WriteByte('.')
		}
		out.WriteString(escapedName(step.key))
	}
	return out.String()
}

// escapedName returns a field or parameter name from the request with each
// character that strconv.IsPrint rejects written as a \u escape. Such a
// character is a control character or a bidirectional override (U+202E),
// so an error that repeats the name shows what was sent, as %q does.
func escapedName(name string) string {
	var out strings.Builder
	for _, r := range name {
		switch {
		case strconv.IsPrint(r):
			out.WriteRune(r)
		case r > 0xFFFF:
			fmt.Fprintf(&out, `\U%08x`, r)
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.String()
}

// fieldPath formats the path without array indices, as the Field of
// encoding/json's UnmarshalTypeError does.
func (p jsonPath) fieldPath() string {
	keys := make([]string, 0, len(p))
	for _, step := range p {
		if step.index < 0 {
			keys = append(keys, step.key)
		}
	}
	return strings.Join(keys, ".")
}

// last returns the final object key of the path.
func (p jsonPath) last() string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i].index < 0 {
			return p[i].key
		}
	}
	return ""
}

// problemKind is the kind of problem the body walk found in one value.
type problemKind int

const (
	// problemUnknownField is a key the object does not have.
	problemUnknownField problemKind = iota + 1
	// problemOutOfRange is a number outside the range of its Go type.
	problemOutOfRange
	// problemDuplicateKey is a key an object already had. encoding/json
	// keeps the last value, so {"execute":false,"execute":true} would
	// start a live run.
	problemDuplicateKey
	// problemNull is a null field value, which encoding/json treats as
	// absent.
	problemNull
	// problemNulCharacter is a string with a NUL character (\u0000), which
	// PostgreSQL's text type cannot store.
	problemNulCharacter
)

// bodyProblem is the first problem of a body in document order.
type bodyProblem struct {
	path jsonPath
	kind problemKind
	// accepted lists the JSON names of the enclosing object's fields, and
	// caseOf is the one an unknown key differs from only in case.
	accepted []string
	caseOf   string
	// literal is the number as sent. target is the Go type the number did
	// not fit or, for a null, the type of the value expected, or nil when
	// that value decodes itself.
	literal string
	target  reflect.Type
}

// fieldError returns the 400 of a duplicate key or a null value.
func (p *bodyProblem) fieldError() error {
	field := p.path.String()
	if p.kind == problemDuplicateKey {
		return fieldError(field, "%s is given twice; send it once", field)
	}
	if p.kind == problemNulCharacter {
		return fieldError(field, `%s contains a NUL character (\u0000); remove it`, field)
	}
	expected := expectedValue(p.target)
	if len(p.path) > 0 && p.path[len(p.path)-1].index >= 0 {
		return fieldError(field, "%s is null; send %s, or remove the element", field, expected)
	}
	return fieldError(field, "%s is null; send %s, or leave the field out if it has a default", field, expected)
}

// expectedValue names the JSON value that Go type t decodes from, with its
// article, or "a value" when t is nil.
func expectedValue(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean (true or false, without quotes)"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a value"
}

// unknownFieldError names the field by its full path and lists the fields
// its object accepts, in the message and in details.accepted_fields.
func (p *bodyProblem) unknownFieldError() error {
	field := p.path.String()
	object := "this request"
	if len(p.path) > 1 {
		object = p.path[:len(p.path)-1].String()
	}
	apiErr := fieldError(field, "%s is not a field of %s; remove it, or use one of %s", field, object, strings.Join(p.accepted, ", "))
	if p.caseOf != "" {
		apiErr.Message = fmt.Sprintf("%s is not a field of %s; field names are case-sensitive, so use %s", field, object, p.caseOf)
	}
	if len(p.accepted) == 0 {
		apiErr.Message = fmt.Sprintf("%s is not a field of %s, which has no fields; remove it", field, object)
	}
	apiErr.Details = map[string]any{"accepted_fields": p.accepted}
	return apiErr
}

// outOfRangeError names the field and the number sent. The range comes from
// the domain validation of dst when it has one for this field, and from the
// field's Go type otherwise.
func (p *bodyProblem) outOfRangeError(dst any) error {
	field := p.path.String()
	if rule := p.domainRule(dst); rule != "" {
		if rest, named := strings.CutPrefix(rule, field+" "); named {
			// The rule names the field already, so it is not named twice.
			return fieldError(field, "%s is out of range: it %s; got %s", field, rest, truncateForMessage(p.literal))
		}
		return fieldError(field, "%s is out of range because %s; got %s", field, rule, truncateForMessage(p.literal))
	}
	low, high, kind := typeBounds(p.target)
	return fieldError(field, "%s is out of range; send a %s from %s to %s; got %s", field, kind, low, high, truncateForMessage(p.literal))
}

// domainRule runs the range checks of dst's type on a copy that holds only
// the problem's field, set to the nearest value the field can hold. It
// returns the rule the check states for that field, without its "; got …"
// part, or "" when the type has no check or the check names another field.
func (p *bodyProblem) domainRule(dst any) string {
	dstType := reflect.TypeOf(dst)
	if dstType == nil || dstType.Kind() != reflect.Pointer {
		return ""
	}
	probe := reflect.New(dstType.Elem()).Interface()
	checker, ok := probe.(rangeChecker)
	if !ok {
		return ""
	}
	if err := json.Unmarshal(probeBody(p.path, nearestValue(p.literal, p.target)), probe); err != nil {
		return ""
	}
	var apiErr *APIError
	if err := checker.checkRanges(); !errors.As(err, &apiErr) || apiErr.Field != p.path.String() {
		return ""
	}
	rule := apiErr.Message
	if at := strings.LastIndex(rule, "; got "); at >= 0 {
		rule = rule[:at]
	}
	return rule
}

// probeBody is a JSON body that sets only the value at path to literal.
// Array elements before the indexed one are null, which decodes to zero.
func probeBody(path jsonPath, literal string) []byte {
	value := literal
	for i := len(path) - 1; i >= 0; i-- {
		if path[i].index >= 0 {
			value = "[" + strings.Repeat("null,", path[i].index) + value + "]"
			continue
		}
		key, _ := json.Marshal(path[i].key)
		value = "{" + string(key) + ":" + value + "}"
	}
	return []byte(value)
}

// findBodyProblem walks body along t, the type it is decoded into, and
// returns its first problem in document order, or nil: an unknown field, a
// number out of range, a key its object already had, or a null value. A key
// matches a field only by its exact JSON name. A value that decodes itself,
// such as a json.RawMessage, is checked for duplicate keys only, because
// its own decoder decides what its nulls mean.
func findBodyProblem(body []byte, t reflect.Type) *bodyProblem {
	if t == nil {
		return nil
	}
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.UseNumber()
	problem, err := walkValue(decoder, t, nil)
	if err != nil {
		return nil
	}
	return problem
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decodesItself reports whether values of t are decoded by their own
// UnmarshalJSON or UnmarshalText, whose rules the walk cannot know.
func decodesItself(t reflect.Type) bool {
	pointer := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshalerType) || pointer.Implements(jsonUnmarshalerType) ||
		t.Implements(textUnmarshalerType) || pointer.Implements(textUnmarshalerType)
}

// valueType returns t without the pointers that encoding/json follows.
func valueType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer && !decodesItself(t) {
		t = t.Elem()
	}
	return t
}

// walkValue walks the next value, of Go type t, at path. A null is a
// problem here, so callers that allow one read the token themselves.
func walkValue(decoder *json.Decoder, t reflect.Type, path jsonPath) (*bodyProblem, error) {
	t = valueType(t)
	token, err := decoder.Token()
	if err != nil {
		return nil, err
	}
	if token == nil {
		problem := &bodyProblem{path: path, kind: problemNull}
		if !decodesItself(t) {
			problem.target = t
		}
		return problem, nil
	}
	if decodesItself(t) {
		return walkUntyped(decoder, token, path)
	}
	switch token := token.(type) {
	case json.Delim:
		switch {
		case token == '{' && t.Kind() == reflect.Struct:
			return walkObject(decoder, t, path)
		case token == '{' && t.Kind() == reflect.Map:
			return walkMap(decoder, t, path)
		case token == '[' && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
			return walkArray(decoder, t, path)
		}
		// A type mismatch, which the decoder reports.
		return walkUntyped(decoder, token, path)
	case json.Number:
		if numberOutOfRange(token.String(), t) {
			return &bodyProblem{path: path, kind: problemOutOfRange, literal: token.String(), target: t}, nil
		}
	case string:
		return nulProblem(token, path), nil
	}
	return nil, nil
}

// nulProblem returns the problem of a string value with a NUL character,
// or nil.
func nulProblem(value string, path jsonPath) *bodyProblem {
	if strings.ContainsRune(value, 0) {
		return &bodyProblem{path: path, kind: problemNulCharacter}
	}
	return nil
}

func walkObject(decoder *json.Decoder, t reflect.Type, path jsonPath) (*bodyProblem, error) {
	fields := fieldsOf(t)
	seen := map[string]bool{}
	for decoder.More() {
		token, err := decoder.Token()
		if err != nil {
			return nil, err
		}
		key, _ := token.(string)
		field, ok := fields.lookup(key)
		if !ok {
			problem := &bodyProblem{path: path.child(key), kind: problemUnknownField, accepted: fields.names()}
			problem.caseOf, _ = fields.caseVariant(key)
			return problem, nil
		}
		if seen[key] {
			return &bodyProblem{path: path.child(key), kind: problemDuplicateKey}, nil
		}
		seen[key] = true
		if field.quoted {
			// A ",string" field holds its number inside a JSON string.
			if problem, err := walkQuoted(decoder, field, path.child(key)); problem != nil || err != nil {
				return problem, err
			}
			continue
		}
		if problem, err := walkValue(decoder, field.typ, path.child(field.name)); problem != nil || err != nil {
			return problem, err
		}
	}
	_, err := decoder.Token()
	return nil, err
}

// walkQuoted walks the value of a ",string" field, whose number is inside a
// JSON string.
func walkQuoted(decoder *json.Decoder, field jsonField, path jsonPath) (*bodyProblem, error) {
	token, err := decoder.Token()
	if err != nil {
		return nil, err
	}
	if token == nil {
		return &bodyProblem{path: path, kind: problemNull, target: valueType(field.typ)}, nil
	}
	return walkUntyped(decoder, token, path)
}

func walkMap(decoder *json.Decoder, t reflect.Type, path jsonPath) (*bodyProblem, error) {
	seen := map[string]bool{}
	for decoder.More() {
		token, err := decoder.Token()
		if err != nil {
			return nil, err
		}
		key, _ := token.(string)
		if seen[key] {
			return &bodyProblem{path: path.child(key), kind: problemDuplicateKey}, nil
		}
		seen[key] = true
		if problem, err := walkValue(decoder, t.Elem(), path.child(key)); problem != nil || err != nil {
			return problem, err
		}
	}
	_, err := decoder.Token()
	return nil, err
}

// walkArray walks the elements of a list. An element that decodes itself
// may be null: a json.RawMessage element, such as an evidence record, is
// judged by its own parser.
func walkArray(decoder *json.Decoder, t reflect.Type, path jsonPath) (*bodyProblem, error) {
	elementDecodesItself := decodesItself(valueType(t.Elem()))
	for index := 0; decoder.More(); index++ {
		// encoding/json drops the elements beyond a Go array's length.
		if elementDecodesItself || (t.Kind() == reflect.Array && index >= t.Len()) {
			if problem, err := walkNextUntyped(decoder, path.element(index)); problem != nil || err != nil {
				return problem, err
			}
			continue
		}
		if problem, err := walkValue(decoder, t.Elem(), path.element(index)); problem != nil || err != nil {
			return problem, err
		}
	}
	_, err := decoder.Token()
	return nil, err
}

// walkNextUntyped reads the next value and checks it for duplicate keys.
func walkNextUntyped(decoder *json.Decoder, path jsonPath) (*bodyProblem, error) {
	token, err := decoder.Token()
	if err != nil {
		return nil, err
	}
	return walkUntyped(decoder, token, path)
}

// walkUntyped reads the rest of the value that token starts, whose Go type
// the walk does not follow, and returns its first duplicate key at any
// depth.
func walkUntyped(decoder *json.Decoder, token json.Token, path jsonPath) (*bodyProblem, error) {
	switch token {
	case json.Delim('{'):
		seen := map[string]bool{}
		for decoder.More() {
			keyToken, err := decoder.Token()
			if err != nil {
				return nil, err
			}
			key, _ := keyToken.(string)
			if seen[key] {
				return &bodyProblem{path: path.child(key), kind: problemDuplicateKey}, nil
			}
			seen[key] = true
			if problem, err := walkNextUntyped(decoder, path.child(key)); problem != nil || err != nil {
				return problem, err
			}
		}
	case json.Delim('['):
		for index := 0; decoder.More(); index++ {
			if problem, err := walkNextUntyped(decoder, path.element(index)); problem != nil || err != nil {
				return problem, err
			}
		}
	default:
		if value, ok := token.(string); ok {
			return nulProblem(value, path), nil
		}
		return nil, nil
	}
	_, err := decoder.Token() // the closing delimiter
	return nil, err
}

// numberOutOfRange reports whether a JSON number is outside the range of
// t. A number in range that t still cannot hold, such as 2.5 for an int,
// is a type mismatch and not reported here.
func numberOutOfRange(literal string, t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		_, err := strconv.ParseInt(literal, 10, t.Bits())
		if err == nil || errors.Is(err, strconv.ErrRange) {
			return err != nil
		}
		value, err := strconv.ParseFloat(literal, 64)
		limit := math.Ldexp(1, t.Bits()-1)
		return math.IsInf(value, 0) || (err == nil && (value >= limit || value < -limit))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		_, err := strconv.ParseUint(literal, 10, t.Bits())
		if err == nil || errors.Is(err, strconv.ErrRange) {
			return err != nil
		}
		value, err := strconv.ParseFloat(literal, 64)
		return math.IsInf(value, 0) || (err == nil && (value < 0 || value >= math.Ldexp(1, t.Bits())))
	case reflect.Float32, reflect.Float64:
		_, err := strconv.ParseFloat(literal, t.Bits())
		return errors.Is(err, strconv.ErrRange)
	}
	return false
}

// nearestValue returns, as a JSON number, the maximum value of numeric type
// t, or its minimum when literal is negative.
func nearestValue(literal string, t reflect.Type) string {
	negative := strings.HasPrefix(literal, "-")
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		high := int64(math.MaxInt64 >> (64 - t.Bits()))
		if negative {
			return strconv.FormatInt(-high-1, 10)
		}
		return strconv.FormatInt(high, 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if negative {
			return "0"
		}
		return strconv.FormatUint(math.MaxUint64>>(64-t.Bits()), 10)
	case reflect.Float32, reflect.Float64:
		high := math.MaxFloat64
		if t.Bits() == 32 {
			high = math.MaxFloat32
		}
		if negative {
			high = -high
		}
		return strconv.FormatFloat(high, 'g', -1, t.Bits())
	}
	return literal
}

// typeBounds returns the lowest and highest value of a numeric type and
// what the API calls its values.
func typeBounds(t reflect.Type) (low, high, kind string) {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return nearestValue("-1", t), nearestValue("1", t), "whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "0", nearestValue("1", t), "whole number"
	}
	return nearestValue("-1", t), nearestValue("1", t), "number"
}

// jsonField is a struct field as encoding/json decodes it.
type jsonField struct {
	name string
	typ  reflect.Type
	// quoted is the ",string" option: the value is inside a JSON string.
	quoted bool
}

// jsonFields lists the fields of a struct type in declaration order.
type jsonFields []jsonField

// lookup finds the field of a key by its exact name. encoding/json also
// takes a key that differs only in case, but the API's field names are
// case-sensitive, so such a key is reported as unknown.
func (fields jsonFields) lookup(key string) (jsonField, bool) {
	for _, field := range fields {
		if field.name == key {
			return field, true
		}
	}
	return jsonField{}, false
}

// caseVariant returns the field name that key differs from only in case.
func (fields jsonFields) caseVariant(key string) (string, bool) {
	for _, field := range fields {
		if strings.EqualFold(field.name, key) {
			return field.name, true
		}
	}
	return "", false
}

func (fields jsonFields) names() []string {
	names := make([]string, len(fields))
	for i, field := range fields {
		names[i] = field.name
	}
	return names
}

var fieldCache sync.Map // reflect.Type → jsonFields

// fieldsOf returns the JSON fields of struct type t in declaration order.
// Fields of an embedded struct without a JSON name are promoted, unless a
// shallower field, or an earlier one at the same depth, has the name.
// NOTE: encoding/json drops both of two same-named fields at one depth
// unless exactly one is tagged; this keeps the first. decodeError reports
// the decoder's own error whenever the walk disagrees with it.
func fieldsOf(t reflect.Type) jsonFields {
	if cached, ok := fieldCache.Load(t); ok {
		return cached.(jsonFields)
	}

	var found []indexedField
	seen := map[string]bool{}
	visited := map[reflect.Type]bool{t: true}
	level := []embeddedStruct{{typ: t}}
	for len(level) > 0 {
		var next []embeddedStruct
		for _, parent := range level {
			fields, embedded := directFields(parent)
			for _, field := range fields {
				if !seen[field.name] {
					seen[field.name] = true
					found = append(found, field)
				}
			}
			for _, child := range embedded {
				if !visited[child.typ] {
					visited[child.typ] = true
					next = append(next, child)
				}
			}
		}
		level = next
	}

	slices.SortFunc(found, func(a, b indexedField) int { return slices.Compare(a.index, b.index) })
	fields := make(jsonFields, len(found))
	for i, field := range found {
		fields[i] = field.jsonField
	}
	fieldCache.Store(t, fields)
	return fields
}

// indexedField is a JSON field with its index sequence from the outer
// struct, the order encoding/json lists fields in.
type indexedField struct {
	jsonField
	index []int
}

// embeddedStruct is a struct type embedded without a JSON name, whose fields
// are promoted.
type embeddedStruct struct {
	typ   reflect.Type
	index []int
}

// directFields returns the JSON fields declared in parent itself and the
// embedded structs whose fields it promotes.
func directFields(parent embeddedStruct) ([]indexedField, []embeddedStruct) {
	var fields []indexedField
	var embedded []embeddedStruct
	for i := range parent.typ.NumField() {
		field := parent.typ.Field(i)
		tag := field.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, options, _ := strings.Cut(tag, ",")
		index := append(slices.Clone(parent.index), i)

		fieldType := field.Type
		if fieldType.Kind() == reflect.Pointer {
			fieldType = fieldType.Elem()
		}
		if field.Anonymous && name == "" && fieldType.Kind() == reflect.Struct {
			embedded = append(embedded, embeddedStruct{typ: fieldType, index: index})
			continue
		}

		if !field.IsExported() {
			continue
		}
		if name == "" {
			name = field.Name
		}
		fields = append(fields, indexedField{
			jsonField: jsonField{name: name, typ: field.Type, quoted: isQuoted(options, field.Type)},
			index:     index,
		})
	}
	return fields, embedded
}

// isQuoted reports the ",string" option, which encoding/json applies only
// to strings, booleans and numbers.
func isQuoted(options string, t reflect.Type) bool {
	if !strings.Contains(","+options+",", ",string,") {
		return false
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}
