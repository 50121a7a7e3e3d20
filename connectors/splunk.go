package connectors

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// splunkSpec sends an event to a Splunk HTTP Event Collector. The URL is
// either the collector's base URL, to which /services/collector/event is
// appended, or a full endpoint path other than the raw endpoint.
var splunkSpec = kindSpec{
	addressURL:    true,
	required:      [][]secretRole{{roleURL}, {roleToken}},
	settings:      []string{"index", "sourcetype", "source"},
	defaultScheme: "Splunk",
	validate:      validateSplunkConfig,
	checkEndpoint: checkSplunkEndpoint,
	build:         buildSplunkRequest,
	classify:      classifySplunkResponse,
}

// Defaults for the HEC event metadata.
const (
	splunkDefaultSource     = "evidence-console"
	splunkDefaultSourcetype = "evidence_console:notification"
	splunkEventPath         = "/services/collector/event"
	splunkRawPath           = "/services/collector/raw"
)

func validateSplunkConfig(name string, cfg ConnectorConfig) error {
	for field, value := range map[string]string{"index": cfg.Index, "sourcetype": cfg.Sourcetype, "source": cfg.Source} {
		if c, found := FirstControlOrSeparator(value); found {
			return fieldError(name, field, "contains the %s; use a single line of text", DescribeControlOrSeparator(c))
		}
		if len(value) > 255 {
			return fieldError(name, field, "must be a single line of at most 255 characters")
		}
	}
	return nil
}

// checkSplunkEndpoint rejects the raw endpoint, which would index the JSON
// event envelope as one line of literal text.
func checkSplunkEndpoint(endpoint *url.URL) string {
	path := strings.ToLower(strings.TrimRight(endpoint.Path, "/"))
	if strings.HasSuffix(path, splunkRawPath) || strings.Contains(path, splunkRawPath+"/") {
		return "contains the HEC raw endpoint " + splunkRawPath + ", which indexes the event as plain text; " +
			"use the collector's base URL, such as https://splunk.example.com:8088, or its " + splunkEventPath + " endpoint"
	}
	return ""
}

// splunkTime is an epoch time that marshals as seconds with exactly three
// decimals, such as 1767323045.123, never in exponent notation.
type splunkTime time.Time

func (t splunkTime) MarshalJSON() ([]byte, error) {
	milliseconds := time.Time(t).UnixMilli()
	sign := ""
	if milliseconds < 0 {
		sign = "-"
		milliseconds = -milliseconds
	}
	return fmt.Appendf(nil, "%s%d.%03d", sign, milliseconds/1000, milliseconds%1000), nil
}

type splunkEvent struct {
	Time       splunkTime  `json:"time"`
	Source     string      `json:"source"`
	Sourcetype string      `json:"sourcetype"`
	Index      string      `json:"index,omitempty"`
	Event      webhookBody `json:"event"`
}

func buildSplunkRequest(d *destination, msg Message, _ time.Time) (*outboundRequest, error) {
	event := splunkEvent{
		Time:       splunkTime(msg.OccurredAt),
		Source:     valueOr(d.config.Source, splunkDefaultSource),
		Sourcetype: valueOr(d.config.Sourcetype, splunkDefaultSourcetype),
		Index:      d.config.Index,
		Event:      neutralBody(msg),
	}
	encoded, err := marshalJSON(event)
	if err != nil {
		return nil, err
	}
	target := d.endpoint.String()
	if strings.Trim(d.endpoint.Path, "/") == "" {
		target = joinURLPath(d, splunkEventPath)
	}
	return newJSONRequest(d, target, encoded), nil
}

// splunkReply is the JSON body of every HTTP Event Collector response, such
// as {"text":"Success","code":0}.
type splunkReply struct {
	Text string `json:"text"`
	Code *int   `json:"code"`
}

// splunkReplyCode describes one HEC status code.
type splunkReplyCode struct {
	class  Class
	text   string
	remedy string // fix for the operator, or "" for a transient failure
}

// splunkReplyCodes lists the HEC status codes from Splunk's "Troubleshoot
// HTTP Event Collector" table. A code not listed here is classified by its
// HTTP status.
var splunkReplyCodes = map[int]splunkReplyCode{
	1:  {ClassAuthError, "token disabled", "enable the token in Splunk or configure another one in token_env or token_file"},
	2:  {ClassAuthError, "token is required", "configure the HEC token in token_env or token_file"},
	3:  {ClassAuthError, "invalid authorization", "check that authorization_scheme is Splunk or unset"},
	4:  {ClassAuthError, "invalid token", "configure a token that this HTTP Event Collector knows in token_env or token_file"},
	5:  {ClassClientError, "no data", "check that the URL is the collector's event endpoint"},
	6:  {ClassClientError, "invalid data format", "check that the URL is the collector's event endpoint"},
	7:  {ClassClientError, "incorrect index", "set index to an index the token may write to, or allow the index for the token in Splunk"},
	8:  {ClassServerError, "internal server error", ""},
	9:  {ClassServerError, "server is busy", ""},
	10: {ClassClientError, "data channel is missing", "turn off indexer acknowledgement for the token in Splunk"},
	11: {ClassClientError, "invalid data channel", "turn off indexer acknowledgement for the token in Splunk"},
	12: {ClassClientError, "event field is required", "check that the URL is the collector's event endpoint"},
	13: {ClassClientError, "event field cannot be blank", "check that the URL is the collector's event endpoint"},
	14: {ClassClientError, "ACK is disabled", "check that the URL is the collector's event endpoint"},
	15: {ClassClientError, "error in handling indexed fields", "check that the URL is the collector's event endpoint"},
	16: {ClassClientError, "query string authorization is not enabled", "remove the token from the URL's query and configure it in token_env or token_file"},
	17: {ClassClientError, "HEC is healthy", "the URL is the health endpoint; use the collector's base URL or " + splunkEventPath},
	18: {ClassServerError, "HEC is unhealthy, queues are full", ""},
	19: {ClassServerError, "HEC is unhealthy, ack service unavailable", ""},
	20: {ClassServerError, "HEC is unhealthy, queues are full, ack service unavailable", ""},
}

// classifySplunkResponse accepts only HTTP 200 with the HEC reply code 0,
// because Splunk Web, a load balancer or a proxy can respond 200 with a
// page of its own. A known HEC code sets the class and names the fix. Other
// failures are classified by their HTTP status.
func classifySplunkResponse(sent *outboundRequest, statusCode int, body []byte) (Class, string) {
	var reply splunkReply
	hasCode := json.Unmarshal(body, &reply) == nil && reply.Code != nil
	if statusCode == http.StatusOK && hasCode && *reply.Code == 0 {
		return ClassOK, ""
	}
	if hasCode {
		if known, ok := splunkReplyCodes[*reply.Code]; ok {
			problem := fmt.Sprintf("Splunk HEC returned HTTP %d with code %d (%s)", statusCode, *reply.Code, known.text)
			if known.remedy != "" {
				problem += "; " + known.remedy
			}
			return known.class, problem
		}
	}

	class, problem := classifyStatus(sent, statusCode, body)
	if class != ClassOK {
		if hasCode {
			problem += fmt.Sprintf(" with HEC code %d", *reply.Code)
		}
		return class, problem
	}
	// A 2xx without code 0 does not come from a collector that indexed the
	// event, and repeating the request does not change that.
	return ClassClientError, fmt.Sprintf("Splunk HEC returned HTTP %d without the reply code 0 that confirms an event; "+
		"check that the URL is the HTTP Event Collector, not Splunk Web or a proxy", statusCode)
}

// neutralBody returns the generic webhook body, used as the event of kinds
// that index arbitrary JSON.
func neutralBody(msg Message) webhookBody {
	payload := msg.Payload
	if payload == nil {
		payload = map[string]any{}
	}
	return webhookBody{
		Event:          msg.Event,
		IdempotencyKey: msg.IdempotencyKey,
		Title:          msg.Title,
		Level:          msg.Level,
		Summary:        msg.Summary,
		Facts:          nonNil(msg.Facts),
		Items:          nonNil(msg.Items),
		OmittedCount:   msg.OmittedCount,
		Link:           msg.Link,
		OccurredAt:     msg.OccurredAt,
		Payload:        payload,
	}
}

func valueOr(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}
