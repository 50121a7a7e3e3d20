// Package openapi embeds the OpenAPI 3 document of the JSON API, served at
// /openapi.json and checked against real responses by the handler tests.
package openapi

//go:generate go run ./gen

import _ "embed"

// Document is the OpenAPI 3 document as JSON.
//
//go:embed openapi.json
var Document []byte
