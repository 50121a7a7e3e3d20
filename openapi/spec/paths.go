package spec

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/audit"
	"github.com/releaseops/evidence-console/evidence"
	"github.com/releaseops/evidence-console/executive"
	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/retry"
)

// Path prefixes of the JSON API, as in handlers/routes.go.
const (
	runtimePrefix = "/runtime/go-pilot/rollback-drill-notifications"
	auditDelivery = runtimePrefix + "/acknowledgements/audit-delivery"
	alerts        = auditDelivery + "/recovery-escalations/retry-health-alerts"
	executiveBase = auditDelivery + "/recovery-executive-report"
)

// operation describes one JSON endpoint.
type operation struct {
	method, path, id, summary, permission string
	parameters                            []schema
	body                                  schema
	// responses maps a status code to the Go value whose type is encoded.
	responses map[string]any
	// errors lists the error statuses the endpoint documents.
	errors []string
	// liveRun marks a worker run, whose live runs need a second permission.
	liveRun bool
	// errorBodies maps an error status to the Go value encoded in place of
	// errorResponse, and errorDescriptions to its description, for an
	// error whose body contains more than the common one.
	errorBodies       map[string]any
	errorDescriptions map[string]string
}

// Response wrappers the handlers build with a map literal.
type (
	healthStatus struct {
		Status string `json:"status"`
	}
	readyStatus struct {
		Status   string `json:"status"`
		Database string `json:"database"`
	}
	connectorList struct {
		Connectors []alerting.ConnectorStatus `json:"connectors"`
	}
	workerRunList struct {
		WorkerRuns []retry.RunSummary `json:"worker_runs"`
		Total      int64              `json:"total"`
		Limit      int                `json:"limit"`
		Offset     int                `json:"offset"`
	}
	// apiError is handlers.APIError, the body of every error response.
	apiError struct {
		Status  int    `json:"status"`
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
		Details any    `json:"details,omitempty"`
	}
	errorResponse struct {
		Error apiError `json:"error"`
	}
	// invalidField is one entry of the details of an error that lists
	// every invalid request field.
	invalidField struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	}
	// invalidFieldsDetails are the details of a 400 of an endpoint that
	// lists every invalid field: invalid_fields, or for an unknown body
	// field or query parameter the names it accepts.
	invalidFieldsDetails struct {
		InvalidFields      []invalidField `json:"invalid_fields,omitempty"`
		AcceptedFields     []string       `json:"accepted_fields,omitempty"`
		AcceptedParameters []string       `json:"accepted_parameters,omitempty"`
	}
	// invalidFieldsError is apiError with invalidFieldsDetails.
	invalidFieldsError struct {
		Status  int                   `json:"status"`
		Code    string                `json:"code"`
		Message string                `json:"message"`
		Field   string                `json:"field,omitempty"`
		Details *invalidFieldsDetails `json:"details,omitempty"`
	}
	invalidFieldsResponse struct {
		Error invalidFieldsError `json:"error"`
	}
)

func query(name, description string, s schema) schema {
	return schema{"name": name, "in": "query", "required": false, "description": description, "schema": s}
}

func requiredQuery(name, description string, s schema) schema {
	return schema{"name": name, "in": "query", "required": true, "description": description, "schema": s}
}

func pathParam(name, description string) schema {
	return schema{"name": name, "in": "path", "required": true, "description": description, "schema": schema{"type": "string"}}
}

// pageLimit and pageOffset are the paging parameters, with the same bounds
// on every list.
var pageLimit = query("limit", "Page size.", withDefault(integer(1, 500), 50, "Page size, 1 to 500."))

func pageOffset(description string) schema {
	return query("offset", description, withDefault(integer(0, 1<<31-1), 0, description+" 0 to 2147483647."))
}

func integer(min, max int) schema {
	return schema{"type": "integer", "minimum": min, "maximum": max}
}

// withDefault returns a copy of s with a default value and a description.
func withDefault(s schema, value any, description string) schema {
	out := schema{"default": value, "description": description}
	for key, v := range s {
		out[key] = v
	}
	return out
}

func enum(values ...string) schema {
	list := make([]any, len(values))
	for i, v := range values {
		list[i] = v
	}
	return schema{"type": "string", "enum": list}
}

// object is a request body schema with the given properties; unknown fields
// are rejected by every JSON endpoint.
func object(properties schema, required ...string) schema {
	s := schema{"type": "object", "properties": properties, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

var (
	str     = schema{"type": "string"}
	boolean = schema{"type": "boolean"}
	// filterText is a list filter's text value. A longer one is a 400.
	filterText = schema{"type": "string", "maxLength": audit.MaxFilterLength}

	destinations = schema{
		"description": "One or more configured destination names, comma-separated or as a list, or \"all\" for every enabled destination.",
		"oneOf":       []any{str, schema{"type": "array", "items": str}},
	}

	thresholdParams = []schema{
		query("expected_interval_minutes", "Expected worker interval in minutes.", integer(1, 10080)),
		query("stale_metadata_minutes", "Age in minutes after which a retry plan is stale.", integer(1, 10080)),
	}
	retryPolicy = object(schema{
		"max_retry_attempts":    integer(1, 20),
		"retry_delay_minutes":   integer(0, 10080),
		"allow_immediate_retry": boolean,
		"backoff_multiplier":    schema{"type": "number", "minimum": 1, "maximum": 10},
	})
	scheduleInput = object(schema{
		"interval_minutes": withDefault(integer(executive.MinIntervalMinutes, executive.MaxIntervalMinutes), executive.DefaultIntervalMinutes,
			"Schedule interval in minutes; the run's window is the interval-aligned window that contains the generation time."),
		"enabled": withDefault(boolean, true, "Whether the schedule is enabled."),
		"cadence": schema{"type": "string", "maxLength": executive.MaxCadenceLength,
			"description": "Label of the schedule, derived from the interval when absent. hourly, daily and weekly (any case) imply 60, 1440 and 10080 minutes, and a different interval_minutes is a 422. Any other label needs interval_minutes, else a 422."},
	})
	// retryScheduleInput is the schedule a worker run records. Its defaults
	// differ from a report schedule's, as retry.ResolveSchedule sets them.
	retryScheduleInput = object(schema{
		"interval_minutes": schema{"type": "integer", "minimum": executive.MinIntervalMinutes, "maximum": executive.MaxIntervalMinutes,
			"description": fmt.Sprintf("Schedule interval in minutes; the run's schedule window is the interval that ends when the run starts. "+
				"Without cadence and interval_minutes, or with the cadence %q alone, it is %d; any other cadence label than hourly, daily or weekly needs it, else a 422.",
				retry.DefaultScheduleCadence, retry.DefaultScheduleIntervalMinutes)},
		"enabled": withDefault(boolean, true, "Whether the schedule is enabled. A disabled schedule is recorded and reported by retry health; it does not stop a manual run."),
		"cadence": schema{"type": "string", "maxLength": executive.MaxCadenceLength,
			"description": fmt.Sprintf("Label of the schedule, %q when absent. hourly, daily and weekly (any case) imply 60, 1440 and 10080 minutes, and a different interval_minutes is a 422.",
				retry.DefaultScheduleCadence)},
	})
	retryPlanBody = object(schema{"retry_policy": retryPolicy})
	retryRunBody  = object(schema{
		"dry_run": boolean, "execute": boolean, "max_retry_deliveries": integer(1, 25),
		"retry_policy": retryPolicy, "schedule": retryScheduleInput,
		"retries": integer(0, 5), "timeout_seconds": schema{"type": "number", "minimum": 0.1, "maximum": 60},
		"destinations": schema{"type": "array", "items": schema{"type": "string"}, "minItems": 1,
			"description": "Only retries to these configured destinations; leave it out for every destination."},
	})
)

// operations lists every JSON endpoint registered with h.route.
func operations() []operation {
	return []operation{
		{method: "get", path: "/healthz", id: "getLiveness", summary: "Report that the process is up.", permission: "public",
			responses: map[string]any{"200": healthStatus{}}},
		{method: "get", path: "/readyz", id: "getReadiness", summary: "Report whether the database answers.", permission: "public",
			responses: map[string]any{"200": readyStatus{}, "503": readyStatus{}}},
		{method: "post", path: runtimePrefix + "/evidence", id: "ingestEvidence", permission: "evidence.ingest",
			summary:   "Ingest upstream evidence records, idempotent on each record's id.",
			body:      object(schema{"records": schema{"type": "array", "items": schema{"type": "object"}}}, "records"),
			responses: map[string]any{"200": evidence.Result{}, "422": evidence.Result{}}, errors: []string{"400"}},
		{method: "get", path: auditDelivery + "/recovery-escalations/retry-health", id: "getRetryHealth", permission: "console.read",
			summary: "Evaluate recovery retry health now, writing nothing.", parameters: thresholdParams,
			responses: map[string]any{"200": health.Report{}}, errors: []string{"400"}},
		{method: "post", path: alerts + "/deliver", id: "deliverRetryHealthAlert", permission: "alert.send",
			summary: "Evaluate health, plan the alert with duplicate suppression and deliver it.",
			body: object(schema{
				"provider": destinations, "force": boolean, "expected_interval_minutes": integer(1, 10080),
				"stale_metadata_minutes": integer(1, 10080), "suppression_window_minutes": integer(1, 10080),
				"max_alerts": integer(1, 100), "retries": integer(0, 5),
				"timeout_seconds": schema{"type": "number", "minimum": 0.1, "maximum": 60},
			}),
			responses: map[string]any{"201": alerting.DeliverResult{}}, errors: []string{"400", "409", "422"}},
		{method: "get", path: alerts, id: "listRetryHealthAlerts", permission: "console.read",
			summary: "List alert plans, deliveries and acknowledgements, newest first.",
			parameters: []schema{
				query("health_id", "Only records of this health snapshot.", filterText),
				query("provider", "Only deliveries and acknowledgement actions of this destination, and plans that include it.", filterText),
				query("metadata_kind", "Only records of this kind; plan, delivery and acknowledgement are accepted for the full names.", enum(append(alerting.MetadataKinds(), "plan", "delivery", "acknowledgement")...)),
				query("acknowledgement_state", "Only acknowledgement actions in this state.", filterText),
				query("suppressed", "Only plans that suppressed a destination (true) or did not (false); deliveries and acknowledgement actions are left out either way.", enum("true", "false")),
				pageLimit, pageOffset("Records to skip."),
			},
			responses: map[string]any{"200": alerting.HistoryPage{}}, errors: []string{"400"}},
		{method: "get", path: auditDelivery + "/recovery-escalations/retry-health-alert-dashboard", id: "getRetryHealthAlertDashboard",
			permission: "console.read", summary: "Count alert plans, deliveries and acknowledgements exactly, with one page of the outstanding acknowledgements.",
			parameters: []schema{
				query("outstanding_limit", "Outstanding acknowledgements per page.",
					withDefault(integer(1, 500), alerting.DefaultOutstandingLimit, "Outstanding acknowledgements per page, 1 to 500; empty counts as absent.")),
				query("outstanding_offset", "Outstanding acknowledgements to skip.",
					withDefault(integer(0, 1<<31-1), 0, "Outstanding acknowledgements to skip, 0 to 2147483647; empty counts as absent.")),
			},
			responses: map[string]any{"200": alerting.Dashboard{}}, errors: []string{"400"}},
		{method: "post", path: alerts + "/{health_id}/acknowledgements", id: "acknowledgeRetryHealthAlert", permission: "alert.acknowledge",
			summary:    "Record an acknowledgement action of one destination.",
			parameters: []schema{pathParam("health_id", "The alerted health snapshot.")},
			body: object(schema{
				"provider": str,
				"acknowledgement_state": withDefault(enum("acknowledged", "dismissed", "escalated", "resolved"), "acknowledged",
					"Absent means acknowledged, which closes the outstanding acknowledgement; send escalated or dismissed to keep it open."),
				"external_ref": schema{"type": "string", "maxLength": 200,
					"description": "Ticket reference that becomes the current one. Absent keeps the current reference, also when the state changes; an empty string clears it."},
				"notes":   schema{"type": "string", "maxLength": 2000},
				"plan_id": str,
			}, "provider"),
			responses:   map[string]any{"201": alerting.AcknowledgeResult{}, "200": alerting.AcknowledgeResult{}},
			errors:      []string{"400", "404", "422"},
			errorBodies: map[string]any{"400": invalidFieldsResponse{}},
			errorDescriptions: map[string]string{"400": "Invalid request (code invalid_field when a field is invalid); nothing was stored. " +
				"field and message describe the first invalid field. details.invalid_fields lists every invalid field, the first included, " +
				"each as an object with field and message, so one correction can fix them all. " +
				"An unknown body field or query parameter gives details.accepted_fields or details.accepted_parameters instead."}},
		{method: "post", path: alerts + "/retry-plan", id: "planAlertRetry", permission: "retry.plan",
			summary: "Plan retries of failed health alert deliveries.", body: retryPlanBody,
			responses: map[string]any{"201": retry.PlanView{}}, errors: []string{"400", "422"}},
		{method: "post", path: alerts + "/retry-worker-run", id: "runAlertRetry", permission: "retry.plan", liveRun: true,
			summary: "Run the health alert delivery retry worker once (dry run unless execute is true).", body: retryRunBody,
			responses: map[string]any{"201": retry.RunView{}}, errors: []string{"400", "403", "422", "503"}},
		{method: "get", path: alerts + "/retry-worker-runs", id: "listAlertRetryRuns", permission: "console.read",
			summary:    "List health alert delivery retry worker runs, newest first.",
			parameters: []schema{pageLimit, pageOffset("Runs to skip.")},
			responses:  map[string]any{"200": workerRunList{}}, errors: []string{"400"}},
		{method: "get", path: alerts + "/retry-worker-runs/{run_id}", id: "getAlertRetryRun", permission: "console.read",
			summary: "Read one health alert delivery retry worker run with its executions.", parameters: []schema{pathParam("run_id", "Worker run id.")},
			responses: map[string]any{"200": retry.RunView{}}, errors: []string{"400", "404"}},
		{method: "get", path: alerts + "/retry-health", id: "getAlertRetryHealth", permission: "console.read",
			summary: "Evaluate health alert delivery retry health now, writing nothing.", parameters: thresholdParams,
			responses: map[string]any{"200": retry.HealthReport{}}, errors: []string{"400"}},
		{method: "get", path: auditDelivery + "/connectors", id: "listConnectors", permission: "console.read",
			summary:   "List the configured destinations and their readiness, without secrets.",
			responses: map[string]any{"200": connectorList{}}, errors: []string{"400"}},
		{method: "get", path: executiveBase, id: "getExecutiveReport", permission: "executive_report.read",
			summary: "Build the current executive recovery report, writing nothing.",
			parameters: []schema{
				query("recovery_slo_minutes", "Recovery SLO in minutes.", integer(1, 525600)),
				query("period_days", "Report period in days.", integer(1, 366)),
			},
			responses: map[string]any{"200": executive.Report{}}, errors: []string{"400"}},
		{method: "post", path: executiveBase + "/schedule-run", id: "runExecutiveSchedule", permission: "alert.send",
			summary: "Persist the report and a schedule run with its window.",
			body: object(schema{"schedule": scheduleInput, "recovery_slo_minutes": integer(1, 525600),
				"period_days": integer(1, 366)}),
			responses: map[string]any{"201": executive.RunResult{}}, errors: []string{"400", "422"}},
		{method: "get", path: executiveBase + "/schedule-runs", id: "listExecutiveScheduleRuns", permission: "executive_report.read",
			summary:    "List schedule runs, newest first.",
			parameters: []schema{pageLimit, pageOffset("Runs to skip.")},
			responses:  map[string]any{"200": executive.RunList{}}, errors: []string{"400"}},
		{method: "post", path: executiveBase + "/schedule-runs/{run_id}/deliver", id: "deliverExecutiveReport", permission: "alert.send",
			summary:    "Deliver a schedule run's report; run_id latest is the newest run.",
			parameters: []schema{pathParam("run_id", "Schedule run id, or latest.")},
			body: object(schema{"provider": destinations, "retries": integer(0, 5),
				"timeout_seconds": schema{"type": "number", "minimum": 0.1, "maximum": 60}, "run_id": str}),
			responses: map[string]any{"200": executive.DeliverResult{}}, errors: []string{"400", "404", "409", "422"}},
		{method: "post", path: executiveBase + "/delivery-retry-plan", id: "planExecutiveRetry", permission: "retry.plan",
			summary: "Plan retries of failed executive report deliveries.", body: retryPlanBody,
			responses: map[string]any{"201": retry.PlanView{}}, errors: []string{"400", "422"}},
		{method: "get", path: executiveBase + "/delivery-retry-plans/{plan_id}", id: "getExecutiveRetryPlan", permission: "console.read",
			summary: "Read one retry plan with its decisions.", parameters: []schema{pathParam("plan_id", "Retry plan id.")},
			responses: map[string]any{"200": retry.PlanView{}}, errors: []string{"400", "404"}},
		{method: "post", path: executiveBase + "/delivery-retry-worker-run", id: "runExecutiveRetry", permission: "retry.plan", liveRun: true,
			summary: "Run the executive delivery retry worker once (dry run unless execute is true).", body: retryRunBody,
			responses: map[string]any{"201": retry.RunView{}}, errors: []string{"400", "403", "422", "503"}},
		{method: "get", path: executiveBase + "/delivery-retry-worker-runs", id: "listExecutiveRetryRuns", permission: "console.read",
			summary:    "List executive report delivery retry worker runs, newest first.",
			parameters: []schema{pageLimit, pageOffset("Runs to skip.")},
			responses:  map[string]any{"200": workerRunList{}}, errors: []string{"400"}},
		{method: "get", path: executiveBase + "/delivery-retry-worker-runs/{run_id}", id: "getExecutiveRetryRun", permission: "console.read",
			summary: "Read one executive report delivery retry worker run with its executions.", parameters: []schema{pathParam("run_id", "Worker run id.")},
			responses: map[string]any{"200": retry.RunView{}}, errors: []string{"400", "404"}},
		{method: "get", path: executiveBase + "/delivery-retry-health", id: "getExecutiveRetryHealth", permission: "console.read",
			summary: "Evaluate executive delivery retry health now.", parameters: thresholdParams,
			responses: map[string]any{"200": retry.HealthReport{}}, errors: []string{"400"}},
		{method: "get", path: runtimePrefix + "/dashboard", id: "getDashboard", permission: "console.read",
			summary:   "Count health evaluations, retry health alerts, executive reports and executive delivery retries exactly (not health alert delivery retries) and derive the overall alert level.",
			responses: map[string]any{"200": audit.Dashboard{}}, errors: []string{"400"}},
		{method: "get", path: runtimePrefix, id: "listHistory", permission: "console.read",
			summary: "List the combined history of every record kind, newest first (created time, then id).",
			parameters: []schema{
				query("provider", "Only deliveries, acknowledgements and retry executions of this destination, and alert and retry plans that include it; a plan's provider lists its destinations, comma-separated.", filterText),
				query("metadata_kind", "Only records of this kind.", enum(audit.MetadataKinds()...)),
				query("acknowledgement_state", "Only acknowledgement actions in this state.", enum("acknowledged", "dismissed", "escalated", "resolved")),
				query("connector_delivery_source", "Only records of this delivery subject kind.", enum("health_alert", "executive_report")),
				query("delivery_success", "Only deliveries and retry executions that succeeded (true) or failed (false).", enum("true", "false", "")),
				query("alert_level", "Only health snapshots, alert plans and executive reports of this level.", enum("healthy", "warning", "critical")),
				pageLimit, pageOffset("Records to skip."),
			},
			responses: map[string]any{"200": audit.HistoryPage{}}, errors: []string{"400"}},
		{method: "get", path: runtimePrefix + "/audit/{kind}/{id}", id: "getAuditChain", permission: "console.read",
			summary: "Trace the whole chain of records behind one record.",
			parameters: []schema{
				{"name": "kind", "in": "path", "required": true, "description": "Record kind.", "schema": enum(audit.ChainKinds()...)},
				pathParam("id", "Record id."),
			},
			responses: map[string]any{"200": audit.Chain{}}, errors: []string{"400", "404"}},
	}
}

// exportOperation is the evidence export, a zip download.
func exportOperation() schema {
	return schema{
		"operationId": "exportEvidence",
		"summary":     "Download the stored records in [from, to) as a zip of JSON Lines files with a hashed manifest.json.",
		"description": "Records are stored public-safe, and configured secrets that an older record still holds are replaced with [redacted]. Rows are streamed; an archive without manifest.json is incomplete. Needs permission audit.export.",
		"parameters": []schema{
			requiredQuery("from", "Start of the range, inclusive (RFC 3339).", schema{"type": "string", "format": "date-time"}),
			requiredQuery("to", "End of the range, exclusive (RFC 3339), at most 366 days after from.", schema{"type": "string", "format": "date-time"}),
			query("kinds", "Comma-separated export kinds; every kind when absent or empty: "+joinKinds(), str),
		},
		"responses": schema{
			"200": schema{"description": "The zip archive.", "content": schema{"application/zip": schema{"schema": schema{"type": "string", "format": "binary"}}}},
		},
	}
}

func joinKinds() string {
	out := ""
	for i, kind := range audit.ExportKinds() {
		if i > 0 {
			out += ", "
		}
		out += kind
	}
	return out
}

// apiDescription introduces the API and the input checks every operation
// shares.
var apiDescription = "JSON API of the Evidence Console. Authenticate with a personal API token (Authorization: Bearer) or a session cookie. " +
	"With a session cookie, a POST also needs the X-CSRF-Token header, whose value is the csrf-token meta tag of any console page. " +
	"A request body is read as UTF-8 JSON when it has no Content-Type or application/json; a form, any other declared type, a malformed Content-Type or a charset other than utf-8 is a 415. " +
	"A query parameter that an operation does not list, a body field that its schema does not list and a number outside a field's range " +
	"are rejected with a 400 whose field names the parameter or the field's full path, such as retry_policy.max_retry_attempts. " +
	"A query parameter with an empty value, such as provider= or limit=, is treated as absent, as the console's GET forms send one for a blank field. " +
	"A list filter's text value, such as provider or health_id, has at most " + strconv.Itoa(audit.MaxFilterLength) + " characters; a longer one is a 400 naming the parameter. " +
	"In a body, an optional field that names an id, a destination or a state (plan_id, run_id, acknowledgement_state) is a 400 when sent as an empty string; leave it out to get its default. " +
	"Free-text fields such as notes and external_ref may be empty."

// bodyErrorDescriptions describe the errors that every operation with a
// request body can return before the body is read.
var bodyErrorDescriptions = map[string]string{
	"413": "The request body is larger than the server accepts (code body_too_large); nothing was changed.",
	"415": "The request body is a form, is declared as another type than JSON such as text/plain, or has a malformed Content-Type or a charset other than utf-8 (code malformed_body); send UTF-8 JSON with Content-Type: application/json. Nothing was changed.",
}

// Build returns the OpenAPI document as indented JSON.
func Build() ([]byte, error) {
	c := &components{schemas: map[string]schema{}}
	errorRef := c.ref(reflect.TypeFor[errorResponse]())
	paths := map[string]schema{}
	for _, op := range operations() {
		responses := schema{}
		for status, value := range op.responses {
			description := "Success."
			if !strings.HasPrefix(status, "2") {
				code, _ := strconv.Atoi(status)
				description = http.StatusText(code) + "; the body describes the outcome."
			}
			responses[status] = schema{
				"description": description,
				"content":     schema{"application/json": schema{"schema": c.ref(reflect.TypeOf(value))}},
			}
		}
		errorStatuses := append([]string{"401", "403", "500"}, op.errors...)
		if op.permission == "public" {
			errorStatuses = append([]string{"500"}, op.errors...)
		}
		if op.body != nil {
			errorStatuses = append(errorStatuses, "413", "415")
		}
		for _, status := range errorStatuses {
			description, ok := bodyErrorDescriptions[status]
			if !ok {
				description = "Error; the body names the failed check and, when one field is at fault, the field."
			}
			if text, ok := op.errorDescriptions[status]; ok {
				description = text
			}
			body := errorRef
			if value, ok := op.errorBodies[status]; ok {
				body = c.ref(reflect.TypeOf(value))
			}
			responses[status] = schema{
				"description": description,
				"content":     schema{"application/json": schema{"schema": body}},
			}
		}
		description := "Needs permission " + op.permission + "."
		if op.liveRun {
			description = "Needs permission " + op.permission + ", and retry.run_live as well for a live run (execute true)."
		}
		operation := schema{
			"operationId": op.id, "summary": op.summary, "responses": responses,
			"description": description,
		}
		if len(op.parameters) > 0 {
			operation["parameters"] = op.parameters
		}
		if op.body != nil {
			// A body with required fields must be sent.
			_, needed := op.body["required"]
			operation["requestBody"] = schema{"required": needed, "content": schema{"application/json": schema{"schema": op.body}}}
		}
		if paths[op.path] == nil {
			paths[op.path] = schema{}
		}
		paths[op.path][op.method] = operation
	}
	export := exportOperation()
	export["responses"].(schema)["400"] = schema{"description": "Invalid parameter.", "content": schema{"application/json": schema{"schema": errorRef}}}
	for _, status := range []string{"401", "403"} {
		export["responses"].(schema)[status] = schema{"description": "Not signed in, or no audit.export permission.", "content": schema{"application/json": schema{"schema": errorRef}}}
	}
	paths[runtimePrefix+"/audit/export"] = schema{"get": export}
	paths["/openapi.json"] = schema{"get": schema{
		"operationId": "getOpenAPIDocument", "summary": "This document.", "description": "Public.",
		"responses": schema{"200": schema{"description": "The OpenAPI document.", "content": schema{"application/json": schema{"schema": schema{"type": "object"}}}}},
	}}
	paths["/metrics"] = schema{"get": schema{
		"operationId": "getMetrics", "summary": "Prometheus metrics in the text exposition format.", "description": "Public.",
		"responses": schema{"200": schema{"description": "Metrics.", "content": schema{"text/plain": schema{"schema": schema{"type": "string"}}}}},
	}}

	document := schema{
		"openapi": "3.0.3",
		"info": schema{
			"title":       "Evidence Console API",
			"version":     "1",
			"description": apiDescription,
		},
		"components": schema{
			"schemas": c.schemas,
			"securitySchemes": schema{
				"bearerToken": schema{"type": "http", "scheme": "bearer"},
			},
		},
		"security": []schema{{"bearerToken": []any{}}},
		"paths":    paths,
	}
	out, err := json.MarshalIndent(document, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
