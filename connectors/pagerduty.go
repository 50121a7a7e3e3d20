package connectors

import (
	"strings"
	"time"
)

// pagerDutySpec triggers incidents through the PagerDuty Events API v2.
var pagerDutySpec = kindSpec{
	addressURL: true,
	required:   [][]secretRole{{roleRoutingKey}},
	optional:   []secretRole{roleURL},
	defaultURL: "https://events.pagerduty.com/v2/enqueue",
	build:      buildPagerDutyRequest,
}

// Events API v2 limits, from the PagerDuty Events API v2 reference.
const (
	pagerDutyMaxSummary  = 1024
	pagerDutyMaxDedupKey = 255
)

// pagerDutySource is the payload.source of every event.
const pagerDutySource = "evidence-console"

type pagerDutyEvent struct {
	RoutingKey  string           `json:"routing_key"`
	EventAction string           `json:"event_action"`
	DedupKey    string           `json:"dedup_key"`
	Payload     pagerDutyPayload `json:"payload"`
	Links       []pagerDutyLink  `json:"links,omitempty"`
	Client      string           `json:"client"`
	ClientURL   string           `json:"client_url,omitempty"`
}

type pagerDutyPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     time.Time      `json:"timestamp"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details"`
}

type pagerDutyLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// buildPagerDutyRequest sends every message as a "trigger" event. A healthy
// message gets severity info; it does not resolve an earlier incident,
// because each delivery has its own dedup_key.
func buildPagerDutyRequest(d *destination, msg Message, _ time.Time) (*outboundRequest, error) {
	summary := msg.Title
	if msg.Summary != "" {
		summary += ": " + msg.Summary
	}
	event := pagerDutyEvent{
		RoutingKey:  d.secrets[roleRoutingKey],
		EventAction: "trigger",
		DedupKey:    truncateText(msg.IdempotencyKey, pagerDutyMaxDedupKey, ""),
		Payload: pagerDutyPayload{
			Summary:       truncateText(summary, pagerDutyMaxSummary, truncatedMarker),
			Source:        pagerDutySource,
			Severity:      pagerDutySeverity(msg.Level),
			Timestamp:     msg.OccurredAt,
			Class:         msg.Event,
			CustomDetails: customDetails(msg),
		},
		Client:    "Evidence Console",
		ClientURL: msg.Link,
	}
	if msg.Link != "" {
		event.Links = []pagerDutyLink{{Href: msg.Link, Text: msg.LinkText}}
	}
	encoded, err := marshalJSON(event)
	if err != nil {
		return nil, err
	}
	return newJSONRequest(d, d.endpoint.String(), encoded), nil
}

// pagerDutySeverity maps a level to one of critical, error, warning and info.
func pagerDutySeverity(level string) string {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "critical":
		return "critical"
	case "warning", "at_risk":
		return "warning"
	}
	return "info"
}

// customDetails returns the facts, items and payload as one JSON object for
// kinds that show arbitrary details.
func customDetails(msg Message) map[string]any {
	facts := map[string]string{}
	for _, fact := range msg.Facts {
		facts[fact.Label] = fact.Value
	}
	details := map[string]any{
		"event":         msg.Event,
		"level":         msg.Level,
		"facts":         facts,
		"items":         nonNil(msg.Items),
		"omitted_count": msg.OmittedCount,
	}
	if len(msg.Payload) > 0 {
		details["payload"] = msg.Payload
	}
	return details
}
