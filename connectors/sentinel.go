package connectors

import (
	"net/url"
	"regexp"
	"time"
)

// sentinelSpec sends a record to a Log Analytics workspace read by
// Microsoft Sentinel, through the Azure Monitor Logs Ingestion API. The URL
// is the data collection endpoint. The token is a Microsoft Entra bearer
// token for https://monitor.azure.com. It expires, so the operator must
// refresh it in the environment.
var sentinelSpec = kindSpec{
	required:      [][]secretRole{{roleURL}, {roleToken, roleAuthorization}},
	settings:      []string{"dcr_immutable_id", "stream_name"},
	defaultScheme: "Bearer",
	validate:      validateSentinelConfig,
	build:         buildSentinelRequest,
}

// sentinelAPIVersion is the Logs Ingestion API version.
const sentinelAPIVersion = "2023-01-01"

var (
	sentinelDCRPattern    = regexp.MustCompile(`^dcr-[0-9a-f]{32}$`)
	sentinelStreamPattern = regexp.MustCompile(`^(Custom|Microsoft)-[A-Za-z0-9_]{1,100}$`)
)

func validateSentinelConfig(name string, cfg ConnectorConfig) error {
	switch {
	case cfg.DCRImmutableID == "":
		return fieldError(name, "dcr_immutable_id", "missing; set the immutable ID of the data collection rule, such as dcr-0123456789abcdef0123456789abcdef")
	case !sentinelDCRPattern.MatchString(cfg.DCRImmutableID):
		return fieldError(name, "dcr_immutable_id", `invalid ID; use "dcr-" followed by 32 lower-case hexadecimal digits`)
	case cfg.StreamName == "":
		return fieldError(name, "stream_name", "missing; set the stream declared in the data collection rule, such as Custom-EvidenceConsole_CL")
	case !sentinelStreamPattern.MatchString(cfg.StreamName):
		return fieldError(name, "stream_name", `invalid stream %q; use "Custom-" or "Microsoft-" followed by letters, digits and underscores`, cfg.StreamName)
	}
	return nil
}

// sentinelRecord is one row; its columns must match the stream declaration
// of the data collection rule.
type sentinelRecord struct {
	TimeGenerated  time.Time      `json:"TimeGenerated"`
	Event          string         `json:"Event"`
	IdempotencyKey string         `json:"IdempotencyKey"`
	Title          string         `json:"Title"`
	Level          string         `json:"Level"`
	Summary        string         `json:"Summary"`
	Facts          []Fact         `json:"Facts"`
	Items          []Item         `json:"Items"`
	OmittedCount   int            `json:"OmittedCount"`
	Link           string         `json:"Link"`
	Payload        map[string]any `json:"Payload"`
}

func buildSentinelRequest(d *destination, msg Message, _ time.Time) (*outboundRequest, error) {
	body := neutralBody(msg)
	records := []sentinelRecord{{
		TimeGenerated:  msg.OccurredAt,
		Event:          body.Event,
		IdempotencyKey: body.IdempotencyKey,
		Title:          body.Title,
		Level:          body.Level,
		Summary:        body.Summary,
		Facts:          body.Facts,
		Items:          body.Items,
		OmittedCount:   body.OmittedCount,
		Link:           body.Link,
		Payload:        body.Payload,
	}}
	encoded, err := marshalJSON(records)
	if err != nil {
		return nil, err
	}

	target, err := url.Parse(joinURLPath(d, "/dataCollectionRules/"+d.config.DCRImmutableID+"/streams/"+d.config.StreamName))
	if err != nil {
		return nil, err
	}
	query := target.Query()
	query.Set("api-version", sentinelAPIVersion)
	target.RawQuery = query.Encode()
	return newJSONRequest(d, target.String(), encoded), nil
}
