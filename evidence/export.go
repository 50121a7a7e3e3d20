package evidence

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ReadExport reads an export of the earlier system's metadata store,
// {"items": [ … ]}, and returns its records undecoded. {"records": [ … ]},
// the shape of the ingestion endpoint, is accepted too.
func ReadExport(r io.Reader) ([]json.RawMessage, error) {
	var export struct {
		Items   []json.RawMessage `json:"items"`
		Records []json.RawMessage `json:"records"`
	}
	decoder := json.NewDecoder(r)
	if err := decoder.Decode(&export); err != nil {
		return nil, fmt.Errorf("evidence: export is not valid JSON: %w", err)
	}
	switch {
	case export.Items != nil:
		return export.Items, nil
	case export.Records != nil:
		return export.Records, nil
	}
	return nil, errors.New(`evidence: export has no "items" or "records" list; expected {"items": [ … ]} or {"records": [ … ]}`)
}
