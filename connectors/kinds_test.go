package connectors

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sendToServer sends the sample message to one connector whose URL points
// at a recording server, and returns the result and the one request.
func sendToServer(t *testing.T, kind Kind, config ConnectorConfig, env map[string]string, handler http.HandlerFunc, urlSuffix string) (Result, capturedRequest) {
	t.Helper()
	result, requests := sendToServerRequests(t, kind, config, env, handler, urlSuffix)
	if len(requests) != 1 {
		t.Fatalf("requests received: got %d, want 1", len(requests))
	}
	return result, requests[0]
}

// sendToServerRequests is sendToServer for kinds that send more than one
// request per attempt; it returns every request received.
func sendToServerRequests(t *testing.T, kind Kind, config ConnectorConfig, env map[string]string, handler http.HandlerFunc, urlSuffix string) (Result, []capturedRequest) {
	t.Helper()
	server := newRecordingServer(t, handler)
	config.URLEnv = "TARGET_URL"
	if env == nil {
		env = map[string]string{}
	}
	env["TARGET_URL"] = server.URL + urlSuffix
	registry := newTestRegistry(t, oneConnector(string(kind), config), env, nil)

	result := registry.Send(context.Background(), string(kind), sampleMessage(), SendOptions{})
	return result, server.captured()
}

func decodeJSON(t *testing.T, body []byte, target any) {
	t.Helper()
	if err := json.Unmarshal(body, target); err != nil {
		t.Fatalf("decode body: %v\n%s", err, body)
	}
}

func checkEqual[T comparable](t *testing.T, name string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", name, got, want)
	}
}

func TestPagerDutyEvent(t *testing.T) {
	result, request := sendToServer(t, KindPagerDuty,
		ConnectorConfig{RoutingKeyEnv: "PD_KEY"}, map[string]string{"PD_KEY": "R0UTING-KEY-0001"},
		func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"status":"success","message":"Event processed","dedup_key":"alert-2026-01-02-critical"}`))
		}, "/v2/enqueue")

	var event pagerDutyEvent
	decodeJSON(t, request.Body, &event)
	checkEqual(t, "Class", result.Class, ClassOK)
	checkEqual(t, "path", request.Path, "/v2/enqueue")
	checkEqual(t, "routing_key", event.RoutingKey, "R0UTING-KEY-0001")
	checkEqual(t, "event_action", event.EventAction, "trigger")
	checkEqual(t, "dedup_key", event.DedupKey, "alert-2026-01-02-critical")
	checkEqual(t, "severity", event.Payload.Severity, "critical")
	checkEqual(t, "source", event.Payload.Source, pagerDutySource)
	checkEqual(t, "links", len(event.Links), 1)
}

func TestPagerDutySeverity(t *testing.T) {
	tests := map[string]string{"critical": "critical", "warning": "warning", "at_risk": "warning", "healthy": "info", "": "info", "odd": "info"}
	for level, want := range tests {
		checkEqual(t, "pagerDutySeverity("+level+")", pagerDutySeverity(level), want)
	}
}

func TestJiraIssue(t *testing.T) {
	tests := []struct {
		version        string
		wantPath       string
		wantLookupPath string
	}{
		{version: "", wantPath: "/jira/rest/api/2/issue", wantLookupPath: "/jira/rest/api/2/search/jql"},
		{version: "3", wantPath: "/jira/rest/api/3/issue", wantLookupPath: "/jira/rest/api/3/search/jql"},
	}
	for _, test := range tests {
		result, requests := sendToServerRequests(t, KindJira,
			ConnectorConfig{TokenEnv: "JIRA_TOKEN", ProjectKey: "OPS", APIVersion: test.version},
			map[string]string{"JIRA_TOKEN": "jira-pat"},
			func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet {
					_, _ = w.Write([]byte(`{"issues":[]}`))
					return
				}
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte(`{"id":"10001","key":"OPS-1"}`))
			}, "/jira/")
		if len(requests) != 2 {
			t.Fatalf("requests received: got %d, want a lookup and a create", len(requests))
		}
		lookup, request := requests[0], requests[1]
		checkEqual(t, "lookup method", lookup.Method, http.MethodGet)
		checkEqual(t, "lookup path", lookup.Path, test.wantLookupPath)
		checkEqual(t, "lookup Authorization", lookup.Header.Get("Authorization"), "Bearer jira-pat")
		query, err := url.ParseQuery(lookup.Query)
		if err != nil {
			t.Fatalf("lookup query: %v", err)
		}
		checkEqual(t, "jql", query.Get("jql"), `project = "OPS" AND labels = "alert-2026-01-02-critical"`)
		checkEqual(t, "maxResults", query.Get("maxResults"), "1")
		checkEqual(t, "create method", request.Method, http.MethodPost)

		var issue struct {
			Fields struct {
				Project     jiraKey
				IssueType   jiraName `json:"issuetype"`
				Summary     string
				Description any
			}
		}
		decodeJSON(t, request.Body, &issue)
		checkEqual(t, "Class", result.Class, ClassOK)
		checkEqual(t, "path", request.Path, test.wantPath)
		checkEqual(t, "Authorization", request.Header.Get("Authorization"), "Bearer jira-pat")
		checkEqual(t, "project", issue.Fields.Project.Key, "OPS")
		checkEqual(t, "issuetype", issue.Fields.IssueType.Name, "Task")
		checkEqual(t, "summary", issue.Fields.Summary, "Retry health: critical")
		checkEqual(t, "ResponseExcerpt", result.ResponseExcerpt, `{"id":"10001","key":"OPS-1"}`)
		if test.version == "3" {
			document, ok := issue.Fields.Description.(map[string]any)
			if !ok || document["type"] != "doc" {
				t.Errorf("v3 description: got %v, want an Atlassian document", issue.Fields.Description)
			}
		} else if _, ok := issue.Fields.Description.(string); !ok {
			t.Errorf("v2 description: got %T, want a string", issue.Fields.Description)
		}
	}
}

func TestServiceNowIncident(t *testing.T) {
	result, requests := sendToServerRequests(t, KindServiceNow,
		ConnectorConfig{TokenEnv: "SN_CREDENTIALS", AuthorizationScheme: "Basic"},
		map[string]string{"SN_CREDENTIALS": "robot:pa55word"},
		func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				_, _ = w.Write([]byte(`{"result":[]}`))
				return
			}
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"result":{"number":"INC0010001"}}`))
		}, "")
	if len(requests) != 2 {
		t.Fatalf("requests received: got %d, want a lookup and a create", len(requests))
	}
	lookup, request := requests[0], requests[1]
	checkEqual(t, "lookup method", lookup.Method, http.MethodGet)
	checkEqual(t, "lookup path", lookup.Path, "/api/now/table/incident")
	query, err := url.ParseQuery(lookup.Query)
	if err != nil {
		t.Fatalf("lookup query: %v", err)
	}
	checkEqual(t, "sysparm_query", query.Get("sysparm_query"), "correlation_id=alert-2026-01-02-critical")
	checkEqual(t, "sysparm_limit", query.Get("sysparm_limit"), "1")
	checkEqual(t, "lookup Authorization", lookup.Header.Get("Authorization"), "Basic "+base64.StdEncoding.EncodeToString([]byte("robot:pa55word")))

	var record serviceNowRecord
	decodeJSON(t, request.Body, &record)
	checkEqual(t, "Class", result.Class, ClassOK)
	checkEqual(t, "path", request.Path, "/api/now/table/incident")
	checkEqual(t, "Authorization", request.Header.Get("Authorization"), "Basic "+base64.StdEncoding.EncodeToString([]byte("robot:pa55word")))
	checkEqual(t, "urgency", record.Urgency, "1")
	checkEqual(t, "correlation_id", record.CorrelationID, "alert-2026-01-02-critical")
}

func TestSplunkEvent(t *testing.T) {
	result, request := sendToServer(t, KindSplunk,
		ConnectorConfig{TokenEnv: "HEC_TOKEN", Index: "ops", Sourcetype: "console"},
		map[string]string{"HEC_TOKEN": "hec-0001"},
		func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"text":"Success","code":0}`))
		}, "")

	checkEqual(t, "Class", result.Class, ClassOK)
	checkEqual(t, "path", request.Path, "/services/collector/event")
	checkEqual(t, "Authorization", request.Header.Get("Authorization"), "Splunk hec-0001")
	timePattern := regexp.MustCompile(`^\{"time":1767322800\.000,`)
	if !timePattern.Match(request.Body) {
		t.Errorf("body: got %s, want it to start with a fixed-point time of three decimals", request.Body[:min(len(request.Body), 60)])
	}
	var event map[string]any
	decodeJSON(t, request.Body, &event)
	checkEqual(t, "index", event["index"], any("ops"))
	checkEqual(t, "sourcetype", event["sourcetype"], any("console"))
}

func TestSplunkTimeFormat(t *testing.T) {
	tests := []struct {
		milliseconds int64
		want         string
	}{
		{1767323045123, "1767323045.123"},
		{1767323045000, "1767323045.000"},
		{5, "0.005"},
		{-1500, "-1.500"},
	}
	for _, test := range tests {
		encoded, err := splunkTime(time.UnixMilli(test.milliseconds)).MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		checkEqual(t, "splunkTime", string(encoded), test.want)
	}
}

func TestDatadogEvent(t *testing.T) {
	result, request := sendToServer(t, KindDatadog,
		ConnectorConfig{APIKeyEnv: "DD_API_KEY"}, map[string]string{"DD_API_KEY": "dd-0001"},
		func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		}, "")

	var event datadogEvent
	decodeJSON(t, request.Body, &event)
	checkEqual(t, "Class", result.Class, ClassOK)
	checkEqual(t, "path", request.Path, "/api/v1/events")
	checkEqual(t, "DD-API-KEY", request.Header.Get("DD-API-KEY"), "dd-0001")
	checkEqual(t, "alert_type", event.AlertType, "error")
	checkEqual(t, "aggregation_key", event.AggregationKey, "alert-2026-01-02-critical")
	checkEqual(t, "Request header", result.Request.Headers["Dd-Api-Key"], Redacted)
}

func TestSentinelRecord(t *testing.T) {
	result, request := sendToServer(t, KindSentinel,
		ConnectorConfig{TokenEnv: "ENTRA_TOKEN", DCRImmutableID: "dcr-0123456789abcdef0123456789abcdef", StreamName: "Custom-Evidence_CL"},
		map[string]string{"ENTRA_TOKEN": "entra-0001"},
		func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }, "/")

	var records []sentinelRecord
	decodeJSON(t, request.Body, &records)
	checkEqual(t, "Class", result.Class, ClassOK)
	checkEqual(t, "path", request.Path, "/dataCollectionRules/dcr-0123456789abcdef0123456789abcdef/streams/Custom-Evidence_CL")
	checkEqual(t, "query", request.Query, "api-version=2023-01-01")
	checkEqual(t, "Authorization", request.Header.Get("Authorization"), "Bearer entra-0001")
	checkEqual(t, "records", len(records), 1)
	if len(records) == 1 {
		checkEqual(t, "Title", records[0].Title, "Retry health: critical")
		checkEqual(t, "TimeGenerated", records[0].TimeGenerated.Equal(sampleMessage().OccurredAt), true)
	}
}

func TestSentinelConfigValidation(t *testing.T) {
	tests := []struct {
		config    ConnectorConfig
		wantField string
	}{
		{ConnectorConfig{URLEnv: "U", TokenEnv: "T", StreamName: "Custom-X"}, "dcr_immutable_id"},
		{ConnectorConfig{URLEnv: "U", TokenEnv: "T", DCRImmutableID: "dcr-xyz", StreamName: "Custom-X"}, "dcr_immutable_id"},
		{ConnectorConfig{URLEnv: "U", TokenEnv: "T", DCRImmutableID: "dcr-0123456789abcdef0123456789abcdef"}, "stream_name"},
		{ConnectorConfig{URLEnv: "U", TokenEnv: "T", DCRImmutableID: "dcr-0123456789abcdef0123456789abcdef", StreamName: "X"}, "stream_name"},
	}
	for _, test := range tests {
		err := oneConnector("sentinel", test.config).Validate()
		configErr, ok := err.(*ConfigError)
		if !ok || configErr.Field != test.wantField {
			t.Errorf("Validate(%+v): got %v, want an error for field %q", test.config, err, test.wantField)
		}
	}
}

func TestSplunkReplyClasses(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		body         string
		wantClass    Class
		wantAttempts int
		wantError    string
	}{
		{"success", http.StatusOK, `{"text":"Success","code":0}`, ClassOK, 1, ""},
		{"login page", http.StatusOK, `<html><body>Splunk login</body></html>`, ClassClientError, 1, "not Splunk Web or a proxy"},
		{"empty 200", http.StatusOK, ``, ClassClientError, 1, "without the reply code 0"},
		{"204", http.StatusNoContent, ``, ClassClientError, 1, "HTTP 204"},
		{"health endpoint", http.StatusOK, `{"text":"HEC is healthy","code":17}`, ClassClientError, 1, "health endpoint"},
		{"token disabled", http.StatusForbidden, `{"text":"Token disabled","code":1}`, ClassAuthError, 1, "code 1 (token disabled)"},
		{"invalid token", http.StatusForbidden, `{"text":"Invalid token","code":4}`, ClassAuthError, 1, "code 4 (invalid token)"},
		{"incorrect index", http.StatusBadRequest, `{"text":"Incorrect index","code":7,"invalid-event-number":0}`, ClassClientError, 1, "set index"},
		{"channel missing", http.StatusBadRequest, `{"text":"Data channel is missing","code":10}`, ClassClientError, 1, "indexer acknowledgement"},
		{"server busy", http.StatusServiceUnavailable, `{"text":"Server is busy","code":9}`, ClassServerError, 2, "code 9 (server is busy)"},
		{"unknown code", http.StatusBadRequest, `{"text":"Something new","code":99}`, ClassClientError, 1, "HTTP 400 Bad Request with HEC code 99"},
		{"proxy 502", http.StatusBadGateway, `<html>bad gateway</html>`, ClassServerError, 2, "HTTP 502"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			server := newRecordingServer(t, respond(test.status, "", test.body))
			registry := newTestRegistry(t, oneConnector("splunk", ConnectorConfig{URLEnv: "URL", TokenEnv: "TOKEN"}),
				map[string]string{"URL": server.URL, "TOKEN": "hec-0001"}, nil)

			result := registry.Send(context.Background(), "splunk", sampleMessage(), SendOptions{Retries: 1})

			checkEqual(t, "Class", result.Class, test.wantClass)
			checkEqual(t, "Success", result.Success, test.wantClass == ClassOK)
			checkEqual(t, "AttemptCount", result.AttemptCount, test.wantAttempts)
			if !strings.Contains(result.Error, test.wantError) {
				t.Errorf("Error: got %q, want it to contain %q", result.Error, test.wantError)
			}
			if test.wantError == "" && result.Error != "" {
				t.Errorf("Error: got %q, want none", result.Error)
			}
		})
	}
}

func TestSplunkRawEndpointNotReady(t *testing.T) {
	tests := []struct {
		url       string
		wantReady bool
	}{
		{"https://splunk.example.test:8088", true},
		{"https://splunk.example.test:8088/services/collector/event", true},
		{"https://splunk.example.test:8088/services/collector", true},
		{"https://splunk.example.test:8088/services/collector/raw", false},
		{"https://splunk.example.test:8088/services/collector/raw/", false},
		{"https://splunk.example.test:8088/services/collector/raw/1.0", false},
		{"https://splunk.example.test:8088/proxy/Services/Collector/Raw?channel=x", false},
	}
	for _, test := range tests {
		registry := newTestRegistry(t, oneConnector("splunk", ConnectorConfig{URLEnv: "HEC_URL", TokenEnv: "TOKEN"}),
			map[string]string{"HEC_URL": test.url, "TOKEN": "hec-0001"}, nil)

		status, _ := registry.Status("splunk")

		checkEqual(t, "Ready for "+test.url, status.Ready, test.wantReady)
		if test.wantReady {
			continue
		}
		for _, want := range []string{"environment variable HEC_URL", "/services/collector/raw", "/services/collector/event"} {
			if !strings.Contains(status.Problem, want) {
				t.Errorf("Problem for %s: got %q, want it to contain %q", test.url, status.Problem, want)
			}
		}
	}
}

func TestSplunkRawEndpointSendsNothing(t *testing.T) {
	server := newRecordingServer(t, respond(http.StatusOK, "", `{"text":"Success","code":0}`))
	registry := newTestRegistry(t, oneConnector("splunk", ConnectorConfig{URLEnv: "URL", TokenEnv: "TOKEN"}),
		map[string]string{"URL": server.URL + "/services/collector/raw", "TOKEN": "hec-0001"}, nil)

	result := registry.Send(context.Background(), "splunk", sampleMessage(), SendOptions{})

	checkEqual(t, "Class", result.Class, ClassConfigError)
	checkEqual(t, "requests received", len(server.captured()), 0)
	if !strings.Contains(result.Error, "/services/collector/event") {
		t.Errorf("Error: got %q, want it to name /services/collector/event", result.Error)
	}
}

func TestPagerDutyReplyClasses(t *testing.T) {
	routingKey := "R0UTING-KEY-0001-abcdef0123456789"
	tests := []struct {
		name        string
		status      int
		body        string
		wantClass   Class
		wantError   string
		wantNoError bool
	}{
		{"accepted", http.StatusAccepted, `{"status":"success","message":"Event processed","dedup_key":"alert-2026-01-02-critical"}`, ClassOK, "", true},
		{"other dedup key", http.StatusAccepted, `{"status":"success","message":"Event processed","dedup_key":"other-key"}`, ClassOK, `returned dedup_key "other-key" instead of the one sent`, false},
		{"no dedup key", http.StatusAccepted, `{"status":"success","message":"Event processed"}`, ClassOK, "returned no dedup_key", false},
		{"long dedup key with routing key", http.StatusAccepted, `{"status":"success","dedup_key":"` + strings.Repeat("k", 40) + routingKey + `"}`, ClassOK, "returned a dedup_key of 73 characters instead", false},
		{"proxy page", http.StatusOK, `<html>maintenance</html>`, ClassClientError, "without the HTTP 202 reply", false},
		{"202 without status", http.StatusAccepted, `{"message":"queued"}`, ClassClientError, "Events API v2 endpoint", false},
		{"200 with success", http.StatusOK, `{"status":"success","dedup_key":"alert-2026-01-02-critical"}`, ClassClientError, "HTTP 200", false},
		{"invalid event", http.StatusBadRequest, `{"status":"invalid event","message":"Event object is invalid","errors":["routing_key ` + routingKey + ` is invalid"]}`, ClassClientError, "HTTP 400", false},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			var logs bytes.Buffer
			server := newRecordingServer(t, respond(test.status, "", test.body))
			registry := newTestRegistry(t, oneConnector("pagerduty", ConnectorConfig{URLEnv: "URL", RoutingKeyEnv: "PD_KEY"}),
				map[string]string{"URL": server.URL + "/v2/enqueue", "PD_KEY": routingKey}, &logs)

			result := registry.Send(context.Background(), "pagerduty", sampleMessage(), SendOptions{})

			checkEqual(t, "Class", result.Class, test.wantClass)
			checkEqual(t, "Success", result.Success, test.wantClass == ClassOK)
			if !strings.Contains(result.Error, test.wantError) {
				t.Errorf("Error: got %q, want it to contain %q", result.Error, test.wantError)
			}
			if test.wantNoError && result.Error != "" {
				t.Errorf("Error: got %q, want none", result.Error)
			}
			if test.wantClass == ClassOK && !test.wantNoError && !strings.Contains(logs.String(), "accepted with a problem") {
				t.Errorf("logs: got %s, want a warning about the reply", logs.String())
			}
			encoded, err := json.Marshal(result)
			if err != nil {
				t.Fatalf("encode result: %v", err)
			}
			if strings.Contains(string(encoded), routingKey) || strings.Contains(logs.String(), routingKey) {
				t.Errorf("routing key found in the result or the logs")
			}
			if keyStart := routingKey[:12]; strings.Contains(string(encoded), keyStart) || strings.Contains(logs.String(), keyStart) {
				t.Errorf("start of the routing key %q found in the result or the logs", keyStart)
			}
		})
	}
}

func TestDatadogEventDate(t *testing.T) {
	tests := []struct {
		name         string
		age          time.Duration
		wantHappened time.Time
		wantPrefix   string
	}{
		{"recent", 4 * time.Minute, fixedTime.Add(-4 * time.Minute), "Retry health: critical"},
		{"17 hours old", 17 * time.Hour, fixedTime.Add(-17 * time.Hour), "Retry health: critical"},
		{"3 days old", 72 * time.Hour, fixedTime, "Occurred at 2025-12-30T03:04:05Z.\n\nRetry health: critical"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			server := newRecordingServer(t, respond(http.StatusAccepted, "", `{"status":"ok"}`))
			registry := newTestRegistry(t, oneConnector("datadog", ConnectorConfig{URLEnv: "URL", APIKeyEnv: "DD_API_KEY"}),
				map[string]string{"URL": server.URL, "DD_API_KEY": "dd-0001"}, nil)
			msg := sampleMessage()
			msg.OccurredAt = fixedTime.Add(-test.age)

			result := registry.Send(context.Background(), "datadog", msg, SendOptions{})

			checkEqual(t, "Class", result.Class, ClassOK)
			requests := server.captured()
			if len(requests) != 1 {
				t.Fatalf("requests received: got %d, want 1", len(requests))
			}
			var event datadogEvent
			decodeJSON(t, requests[0].Body, &event)
			checkEqual(t, "date_happened", event.DateHappened, test.wantHappened.Unix())
			if !strings.HasPrefix(event.Text, test.wantPrefix) {
				t.Errorf("text: got %q, want it to start with %q", event.Text[:min(len(event.Text), 80)], test.wantPrefix)
			}
		})
	}
}

func TestSentinelFullIngestionURLNotReady(t *testing.T) {
	const full = "http://127.0.0.1:9/dataCollectionRules/dcr-0123456789abcdef0123456789abcdef/streams/Custom-Evidence_CL?api-version=2023-01-01"
	config := ConnectorConfig{
		URLEnv: "SENTINEL_URL", TokenEnv: "ENTRA_TOKEN",
		DCRImmutableID: "dcr-0123456789abcdef0123456789abcdef", StreamName: "Custom-Evidence_CL",
	}
	for _, endpoint := range []string{full, strings.ToLower(full)} {
		registry := newTestRegistry(t, oneConnector("sentinel", config),
			map[string]string{"SENTINEL_URL": endpoint, "ENTRA_TOKEN": "entra-0001"}, nil)

		status, _ := registry.Status("sentinel")
		checkEqual(t, "Ready", status.Ready, false)
		if !strings.Contains(status.Problem, "environment variable SENTINEL_URL") ||
			!strings.Contains(status.Problem, "url must be the data collection endpoint without a path") {
			t.Errorf("Problem: got %q, want it to name SENTINEL_URL and ask for the endpoint without a path", status.Problem)
		}
		result := registry.Send(context.Background(), "sentinel", sampleMessage(), SendOptions{})
		checkEqual(t, "Class", result.Class, ClassConfigError)
		checkEqual(t, "AttemptCount", result.AttemptCount, 0)
	}
}

// The not-ready message about the ingestion path reads the same after
// redaction, although the URL's path segments are secrets.
func TestSentinelIngestionPathMessageSurvivesRedaction(t *testing.T) {
	const full = "https://my-dce-a1b2.eastus-1.ingest.monitor.azure.com/dataCollectionRules/dcr-0123456789abcdef0123456789abcdef/streams/Custom-Evidence_CL?api-version=2023-01-01"
	config := ConnectorConfig{
		URLEnv: "SENTINEL_URL", TokenEnv: "ENTRA_TOKEN",
		DCRImmutableID: "dcr-0123456789abcdef0123456789abcdef", StreamName: "Custom-Evidence_CL",
	}
	registry := newTestRegistry(t, oneConnector("sentinel", config),
		map[string]string{"SENTINEL_URL": full, "ENTRA_TOKEN": "entra-0001"}, nil)
	status, _ := registry.Status("sentinel")
	if !strings.Contains(status.Problem, "Logs Ingestion API path, which ends in /streams/ and the stream name") {
		t.Errorf("Problem: got %q, want it to describe the ingestion path", status.Problem)
	}

	redactor := registry.Redactor()
	checkEqual(t, "Redact", redactor.Redact(status.Problem), status.Problem)
	checkEqual(t, "Sanitize", redactor.Sanitize(status.Problem, 1000), status.Problem)
	scrubbed, changed, complete := redactor.ResponseScrubber().Scrub(status.Problem)
	checkEqual(t, "Scrub", scrubbed, status.Problem)
	checkEqual(t, "Scrub changed", changed, false)
	checkEqual(t, "Scrub complete", complete, true)

	result := registry.Send(context.Background(), "sentinel", sampleMessage(), SendOptions{})
	if !strings.Contains(result.Error, "Logs Ingestion API path") || strings.Contains(result.Error, Redacted) {
		t.Errorf("Error: got %q, want the message without %s", result.Error, Redacted)
	}
}

func TestSentinelEndpointWithPathPrefix(t *testing.T) {
	result, request := sendToServer(t, KindSentinel,
		ConnectorConfig{TokenEnv: "ENTRA_TOKEN", DCRImmutableID: "dcr-0123456789abcdef0123456789abcdef", StreamName: "Custom-Evidence_CL"},
		map[string]string{"ENTRA_TOKEN": "entra-0001"},
		func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }, "/ingest/")

	checkEqual(t, "Class", result.Class, ClassOK)
	checkEqual(t, "path", request.Path, "/ingest/dataCollectionRules/dcr-0123456789abcdef0123456789abcdef/streams/Custom-Evidence_CL")
}
