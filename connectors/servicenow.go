package connectors

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// serviceNowSpec creates a record, an incident by default, through the
// ServiceNow Table API.
//
// The Table API has no idempotency key. Each record carries the message's
// idempotency key as its correlation_id, and each attempt first queries the
// table for a record with it. A retry after a timeout whose first request did
// create the record therefore finds it instead of creating a second one.
var serviceNowSpec = kindSpec{
	addressURL:    true,
	required:      [][]secretRole{{roleURL}, {roleToken, roleAuthorization}},
	settings:      []string{"table"},
	defaultScheme: "Bearer",
	validate:      validateServiceNowConfig,
	build:         buildServiceNowRequest,
	lookup:        buildServiceNowLookup,
	found:         foundServiceNowRecord,
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
	table := serviceNowTable(d)
	priority := serviceNowPriority(msg.Level)
	encoded, err := marshalJSON(serviceNowRecord{
		ShortDescription:   truncateText(singleLine(msg.Title), serviceNowMaxShortDescription, ellipsis),
		Description:        truncateText(plainText(msg), serviceNowMaxDescription, truncatedMarker),
		Urgency:            priority,
		Impact:             priority,
		CorrelationID:      serviceNowCorrelationID(msg),
		CorrelationDisplay: "Evidence Console",
	})
	if err != nil {
		return nil, err
	}
	request := newJSONRequest(d, joinURLPath(d, "/api/now/table/"+table), encoded)
	request.header.Set("Accept", "application/json")
	return request, nil
}

// serviceNowCorrelationID returns the correlation_id of a message's record.
func serviceNowCorrelationID(msg Message) string {
	return limitKey(msg.IdempotencyKey, serviceNowMaxCorrelationID)
}

// serviceNowTable returns the configured table, incident by default.
func serviceNowTable(d *destination) string {
	if d.config.Table == "" {
		return serviceNowDefaultTable
	}
	return d.config.Table
}

// buildServiceNowLookup queries the table for a record with the message's
// correlation_id. In an encoded query "^" separates conditions, and "^^"
// stands for a literal "^".
func buildServiceNowLookup(d *destination, msg Message) ([]*outboundRequest, error) {
	query := url.Values{}
	query.Set("sysparm_query", "correlation_id="+strings.ReplaceAll(serviceNowCorrelationID(msg), "^", "^^"))
	query.Set("sysparm_limit", "1")
	query.Set("sysparm_fields", "number,sys_id")
	return []*outboundRequest{newLookupRequest(d, joinURLPathQuery(d, "/api/now/table/"+serviceNowTable(d), query))}, nil
}

// foundServiceNowRecord returns the number, or else the sys_id, of the
// first record of a query response, or "" when it lists none.
func foundServiceNowRecord(body []byte) (string, error) {
	var response struct {
		Result *[]struct {
			Number string `json:"number"`
			SysID  string `json:"sys_id"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &response); err != nil {
		return "", fmt.Errorf("query response is not JSON: %w", err)
	}
	if response.Result == nil {
		return "", errors.New(`query response has no "result" list`)
	}
	for _, record := range *response.Result {
		if record.Number != "" {
			return record.Number, nil
		}
		if record.SysID != "" {
			return record.SysID, nil
		}
	}
	if len(*response.Result) > 0 {
		return "", errors.New("query response lists a record without a number or a sys_id")
	}
	return "", nil
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
