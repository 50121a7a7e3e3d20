// Package spec builds the OpenAPI 3 document of the JSON API. Response
// schemas are derived by reflection from the Go types the handlers encode,
// so they follow the code. Paths, parameters and request bodies are listed
// by hand in paths.go. `go generate ./openapi` writes the document to
// openapi/openapi.json, and a handler test fails when the two differ.
package spec

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"
)

// schema is one OpenAPI schema object; fields are emitted in key order by
// encoding/json, so the output is stable.
type schema = map[string]any

// components collects the named schemas of the document.
type components struct {
	schemas map[string]schema
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	rawJSONType = reflect.TypeFor[json.RawMessage]()
)

// ref returns a reference to the schema of t, adding t (and every named
// struct it contains) to the components the first time.
func (c *components) ref(t reflect.Type) schema {
	return c.schemaOf(t, false)
}

// schemaOf maps a Go type to the schema of its encoding/json output. Nil
// slices and maps encode as null, so they are nullable; pointers are
// nullable too.
func (c *components) schemaOf(t reflect.Type, nullable bool) schema {
	switch {
	case t == timeType:
		return withNullable(schema{"type": "string", "format": "date-time"}, nullable)
	case t == rawJSONType:
		return schema{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return c.schemaOf(t.Elem(), true)
	case reflect.Bool:
		return withNullable(schema{"type": "boolean"}, nullable)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return withNullable(schema{"type": "integer"}, nullable)
	case reflect.Float32, reflect.Float64:
		return withNullable(schema{"type": "number"}, nullable)
	case reflect.String:
		return withNullable(schema{"type": "string"}, nullable)
	case reflect.Slice, reflect.Array:
		return schema{"type": "array", "items": c.schemaOf(t.Elem(), false), "nullable": true}
	case reflect.Map:
		return schema{"type": "object", "additionalProperties": c.schemaOf(t.Elem(), false), "nullable": true}
	case reflect.Interface:
		return schema{}
	case reflect.Struct:
		if t.Name() == "" {
			return withNullable(c.structSchema(t), nullable)
		}
		name := componentName(t)
		if _, ok := c.schemas[name]; !ok {
			c.schemas[name] = schema{} // placeholder against recursion
			c.schemas[name] = c.structSchema(t)
		}
		ref := schema{"$ref": "#/components/schemas/" + name}
		if nullable {
			// OpenAPI 3.0 ignores siblings of $ref, so a nullable reference
			// is wrapped.
			return schema{"allOf": []any{ref}, "nullable": true}
		}
		return ref
	default:
		return schema{}
	}
}

func withNullable(s schema, nullable bool) schema {
	if nullable {
		s["nullable"] = true
	}
	return s
}

// structSchema lists the JSON fields of a struct, flattening embedded
// structs as encoding/json does. A field without omitempty or omitzero is
// always present, so it is required. No other field can appear, so
// additional properties are rejected.
func (c *components) structSchema(t reflect.Type) schema {
	properties := schema{}
	var required []string
	c.addFields(t, properties, &required)
	s := schema{"type": "object", "properties": properties, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func (c *components) addFields(t reflect.Type, properties schema, required *[]string) {
	for i := range t.NumField() {
		field := t.Field(i)
		tag := field.Tag.Get("json")
		if tag == "-" || (!field.IsExported() && !field.Anonymous) {
			continue
		}
		name, options, _ := strings.Cut(tag, ",")
		if field.Anonymous && name == "" {
			embedded := field.Type
			if embedded.Kind() == reflect.Pointer {
				embedded = embedded.Elem()
			}
			c.addFields(embedded, properties, required)
			continue
		}
		if name == "" {
			name = field.Name
		}
		properties[name] = c.schemaOf(field.Type, false)
		if !strings.Contains(options, "omitempty") && !strings.Contains(options, "omitzero") {
			*required = append(*required, name)
		}
	}
}

// componentName names a struct's schema after its package and type, such
// as audit.Dashboard.
func componentName(t reflect.Type) string {
	pkg := t.PkgPath()
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	return pkg + "." + t.Name()
}
