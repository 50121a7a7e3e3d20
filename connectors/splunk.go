package connectors

import (
	"fmt"
	"strings"
	"time"
)

// splunkSpec sends an event to a Splunk HTTP Event Collector. The URL is
// either the collector's base URL, to which /services/collector/event is
// appended, or a full endpoint path.
var splunkSpec = kindSpec{
	addressURL:    true,
	required:      [][]secretRole{{roleURL}, {roleToken}},
	settings:      []string{"index", "sourcetype", "source"},
	defaultScheme: "Splunk",
	validate:      validateSplunkConfig,
	build:         buildSplunkRequest,
}

// Defaults for the HEC event metadata.
const (
	splunkDefaultSource     = "evidence-console"
	splunkDefaultSourcetype = "evidence_console:notification"
	splunkEventPath         = "/services/collector/event"
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
