package connectors

import (
	"strings"
	"time"
)

// datadogSpec posts an event through the Datadog Events API v1. The URL
// selects the Datadog site, for example https://api.datadoghq.eu; the path
// /api/v1/events is appended when the URL has none.
var datadogSpec = kindSpec{
	addressURL:          true,
	required:            [][]secretRole{{roleURL}, {roleAPIKey}},
	defaultAPIKeyHeader: "DD-API-KEY",
	// Datadog's "Rate Limits" API page documents this header, the seconds
	// until the next reset, and no Retry-After.
	rateLimitResetHeader: "X-RateLimit-Reset",
	build:                buildDatadogRequest,
}

// Datadog Events API v1 limits, in characters.
const (
	datadogMaxTitle          = 100
	datadogMaxText           = 4000
	datadogMaxAggregationKey = 100
	datadogEventsPath        = "/api/v1/events"
)

// datadogMaxEventAge is the age of the oldest date_happened sent. The
// Events API v1 ("Post an event") accepts events no older than 18 hours,
// and the minute of margin covers the time the request takes to arrive.
const datadogMaxEventAge = 18*time.Hour - time.Minute

type datadogEvent struct {
	Title          string   `json:"title"`
	Text           string   `json:"text"`
	AlertType      string   `json:"alert_type"`
	Priority       string   `json:"priority"`
	DateHappened   int64    `json:"date_happened"`
	AggregationKey string   `json:"aggregation_key"`
	SourceTypeName string   `json:"source_type_name"`
	Tags           []string `json:"tags"`
}

// buildDatadogRequest renders the event. An event older than
// datadogMaxEventAge, such as a retry sent a day later, is dated now, and
// its text starts with the time it occurred.
func buildDatadogRequest(d *destination, msg Message, now time.Time) (*outboundRequest, error) {
	priority := "normal"
	if styleOf(msg.Level) == styleHealthy {
		priority = "low"
	}
	tags := []string{"source:evidence-console"}
	for _, tag := range []struct{ name, value string }{{"event", msg.Event}, {"level", msg.Level}} {
		if value := strings.ToLower(strings.TrimSpace(tag.value)); value != "" {
			tags = append(tags, tag.name+":"+strings.ReplaceAll(value, " ", "_"))
		}
	}
	happened, text := msg.OccurredAt, plainText(msg)
	if now.Sub(happened) > datadogMaxEventAge {
		text = "Occurred at " + happened.UTC().Format(time.RFC3339) + ".\n\n" + text
		happened = now
	}
	encoded, err := marshalJSON(datadogEvent{
		Title:          truncateText(singleLine(msg.Title), datadogMaxTitle, ellipsis),
		Text:           truncateText(text, datadogMaxText, truncatedMarker),
		AlertType:      datadogAlertType(msg.Level),
		Priority:       priority,
		DateHappened:   happened.Unix(),
		AggregationKey: limitKey(msg.IdempotencyKey, datadogMaxAggregationKey),
		SourceTypeName: "evidence-console",
		Tags:           tags,
	})
	if err != nil {
		return nil, err
	}
	target := d.endpoint.String()
	if strings.Trim(d.endpoint.Path, "/") == "" {
		target = joinURLPath(d, datadogEventsPath)
	}
	return newJSONRequest(d, target, encoded), nil
}

// datadogAlertType maps a level to error, warning, success or info.
func datadogAlertType(level string) string {
	switch styleOf(level) {
	case styleCritical:
		return "error"
	case styleWarning:
		return "warning"
	case styleHealthy:
		return "success"
	}
	if strings.EqualFold(strings.TrimSpace(level), "at_risk") {
		return "warning"
	}
	return "info"
}
