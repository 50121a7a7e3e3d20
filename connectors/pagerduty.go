package connectors

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// pagerDutySpec triggers incidents through the PagerDuty Events API v2.
var pagerDutySpec = kindSpec{
	addressURL: true,
	required:   [][]secretRole{{roleRoutingKey}},
	optional:   []secretRole{roleURL},
	defaultURL: pagerDutyEventsURL,
	build:      buildPagerDutyRequest,
	classify:   classifyPagerDutyResponse,
	// The Events API limits the event rate of each routing key, so a quick
	// retry of a 429, which waits at most 2 seconds by default, would most
	// likely be rejected again.
	deferRateLimited: true,
}

// Events API v2 limits, from the PagerDuty Events API v2 reference.
const (
	pagerDutyMaxSummary  = 1024
	pagerDutyMaxDedupKey = 255
)

// pagerDutyEventsURL is the Events API v2 endpoint.
const pagerDutyEventsURL = "https://events.pagerduty.com/v2/enqueue"

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
		DedupKey:    limitKey(msg.IdempotencyKey, pagerDutyMaxDedupKey),
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

// pagerDutyReply is the JSON body of an Events API v2 response, such as
// {"status":"success","message":"Event processed","dedup_key":"…"}.
type pagerDutyReply struct {
	Status   string `json:"status"`
	Message  string `json:"message"`
	DedupKey string `json:"dedup_key"`
}

// maxQuotedDedupKeyLength is the longest dedup_key of a reply that a
// problem quotes, in characters.
const maxQuotedDedupKeyLength = 64

// classifyPagerDutyResponse accepts only HTTP 202 with "status":"success",
// the reply of the Events API v2 to an accepted event. Another 2xx reply,
// such as a proxy's page, does not confirm the event and fails as a client
// error. An accepted event whose reply carries another dedup_key than the
// one sent stays a success, and the problem reports the mismatch.
func classifyPagerDutyResponse(sent *outboundRequest, statusCode int, body []byte) (Class, string) {
	class, problem := classifyStatus(sent, statusCode, body)
	if class != ClassOK {
		return class, problem
	}
	var reply pagerDutyReply
	if statusCode != http.StatusAccepted || json.Unmarshal(body, &reply) != nil || reply.Status != "success" {
		return ClassClientError, fmt.Sprintf("PagerDuty returned HTTP %d without the HTTP 202 reply \"status\":\"success\" that confirms an event; "+
			"check that the URL is the Events API v2 endpoint, such as %s", statusCode, pagerDutyEventsURL)
	}

	var event struct {
		DedupKey string `json:"dedup_key"`
	}
	if json.Unmarshal(sent.body, &event) == nil && reply.DedupKey != event.DedupKey {
		// A long key is described, not cut, because the redaction of the
		// problem happens later and cannot recognize part of a secret.
		returned := "no dedup_key"
		switch length := utf8.RuneCountInString(reply.DedupKey); {
		case length > maxQuotedDedupKeyLength:
			returned = fmt.Sprintf("a dedup_key of %d characters", length)
		case length > 0:
			returned = fmt.Sprintf("dedup_key %q", reply.DedupKey)
		}
		return ClassOK, fmt.Sprintf("PagerDuty accepted the event but returned %s instead of the one sent, "+
			"so a repeated delivery of this message may open a second incident", returned)
	}
	return ClassOK, ""
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
