package connectors

import (
	"regexp"
	"strings"
	"time"
)

// serviceNowSpec creates a record, an incident by default, through the
// ServiceNow Table API.
//
// NOTE: the Table API has no idempotency key, so a retry after a timeout
// whose first request did reach ServiceNow creates a second record. Both
// carry the same correlation_id.
var serviceNowSpec = kindSpec{
	required:      [][]secretRole{{roleURL}, {roleToken, roleAuthorization}},
	settings:      []string{"table"},
	defaultScheme: "Bearer",
	validate:      validateServiceNowConfig,
	build:         buildServiceNowRequest,
}

// ServiceNow field lengths of the incident table in a default instance.
const (
	serviceNowMaxShortDescription = 160
	serviceNowMaxDescription      = 4000
	serviceNowMaxCorrelationID    = 100
	serviceNowDefaultTable        = "incident"
)

var serviceNowTablePattern = regexp.MustCompile(`^[a-z0-9_]{1,80}$`)

func validateServiceNowConfig(name string, cfg ConnectorConfig) error {
	if cfg.Table != "" && !serviceNowTablePattern.MatchString(cfg.Table) {
		return fieldError(name, "table", "invalid table name %q; use lower-case letters, digits and underscores", cfg.Table)
	}
	return nil
}

type serviceNowRecord struct {
	ShortDescription   string `json:"short_description"`
	Description        string `json:"description"`
	Urgency            string `json:"urgency"`
	Impact             string `json:"impact"`
	CorrelationID      string `json:"correlation_id"`
	CorrelationDisplay string `json:"correlation_display"`
}

func buildServiceNowRequest(d *destination, msg Message, _ time.Time) (*outboundRequest, error) {
	table := d.config.Table
	if table == "" {
		table = serviceNowDefaultTable
	}
	priority := serviceNowPriority(msg.Level)
	encoded, err := marshalJSON(serviceNowRecord{
		ShortDescription:   truncateText(singleLine(msg.Title), serviceNowMaxShortDescription, ellipsis),
		Description:        truncateText(plainText(msg), serviceNowMaxDescription, truncatedMarker),
		Urgency:            priority,
		Impact:             priority,
		CorrelationID:      truncateText(msg.IdempotencyKey, serviceNowMaxCorrelationID, ""),
		CorrelationDisplay: "Evidence Console",
	})
	if err != nil {
		return nil, err
	}
	request := newJSONRequest(d, joinURLPath(d, "/api/now/table/"+table), encoded)
	request.header.Set("Accept", "application/json")
	return request, nil
}

// serviceNowPriority maps a level to urgency and impact: 1 (high) for
// critical, 2 (medium) for warning and at_risk, 3 (low) otherwise.
func serviceNowPriority(level string) string {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "critical":
		return "1"
	case "warning", "at_risk":
		return "2"
	}
	return "3"
}
