// Command gen writes openapi/openapi.json from the spec package. Run it with
// `go generate ./openapi`.
package main

import (
	"fmt"
	"os"

	"github.com/releaseops/evidence-console/openapi/spec"
)

func main() {
	document, err := spec.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "build the OpenAPI document:", err)
		os.Exit(1)
	}
	if err := os.WriteFile("openapi.json", document, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "write openapi.json:", err)
		os.Exit(1)
	}
}
