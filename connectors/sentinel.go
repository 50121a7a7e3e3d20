package connectors

import (
	"net/url"
	"regexp"
	"strings"
	"time"
)

// sentinelSpec sends a record to a Log Analytics workspace read by
// Microsoft Sentinel, through the Azure Monitor Logs Ingestion API. The URL
// is the data collection endpoint. The credential is either an app
// registration's client secret, with which the connector gets and renews
// Microsoft Entra access tokens itself, or a fixed bearer token, which
// expires and must then be replaced in its source and the console restarted.
var sentinelSpec = kindSpec{
	required:      [][]secretRole{{roleURL}, {roleClientSecret, roleToken, roleAuthorization}},
	settings:      []string{"dcr_immutable_id", "stream_name", "tenant_id", "client_id", "authority_host"},
	defaultScheme: "Bearer",
	tokenScope:    sentinelTokenScope,
	validate:      validateSentinelConfig,
	checkEndpoint: checkSentinelEndpoint,
	build:         buildSentinelRequest,
}

// sentinelTokenScope is the scope of access tokens for the Logs Ingestion
// API in the Azure public cloud. The double slash is part of it: the
// resource is https://monitor.azure.com/ and the scope name /.default.
const sentinelTokenScope = "https://monitor.azure.com//.default"

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
	return validateEntraClient(name, cfg)
}

// sentinelIngestionPath is the start of the path the connector appends to
// the endpoint, followed by the rule's immutable ID, /streams/ and the stream.
const sentinelIngestionPath = "/dataCollectionRules/"

// checkSentinelEndpoint rejects a URL that already contains the ingestion
// path, such as the full URL copied from a request example. The connector
// appends that path itself, and the doubled path would fail every send with
// HTTP 404. The message describes the path without quoting its first
// segment: the URL is a secret as a whole, so the redactor replaces each of
// its path segments of 8 or more characters wherever the message is logged,
// stored or shown, and would turn that word into [redacted].
func checkSentinelEndpoint(endpoint *url.URL) string {
	if !strings.Contains(strings.ToLower(endpoint.Path), strings.ToLower(sentinelIngestionPath)) {
		return ""
	}
	return "contains the Logs Ingestion API path, which ends in /streams/ and the stream name, but " +
		"url must be the data collection endpoint without a path, such as https://my-dce-a1b2.eastus-1.ingest.monitor.azure.com, " +
		"because the connector appends that path from dcr_immutable_id and stream_name"
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

	target, err := url.Parse(joinURLPath(d, sentinelIngestionPath+d.config.DCRImmutableID+"/streams/"+d.config.StreamName))
	if err != nil {
		return nil, err
	}
	query := target.Query()
	query.Set("api-version", sentinelAPIVersion)
	target.RawQuery = query.Encode()
	return newJSONRequest(d, target.String(), encoded), nil
}
