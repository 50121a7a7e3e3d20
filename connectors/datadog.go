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

func buildDatadogRequest(d *destination, msg Message, _ time.Time) (*outboundRequest, error) {
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
	encoded, err := marshalJSON(datadogEvent{
		Title:          truncateText(singleLine(msg.Title), datadogMaxTitle, ellipsis),
		Text:           truncateText(plainText(msg), datadogMaxText, truncatedMarker),
		AlertType:      datadogAlertType(msg.Level),
		Priority:       priority,
		DateHappened:   msg.OccurredAt.Unix(),
		AggregationKey: truncateText(msg.IdempotencyKey, datadogMaxAggregationKey, ""),
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
