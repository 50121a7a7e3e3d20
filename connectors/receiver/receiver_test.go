package receiver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/connectors"
)

func post(t *testing.T, url, body string, header http.Header) (*http.Response, string) {
	t.Helper()
	request, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for name, values := range header {
		request.Header[name] = values
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer response.Body.Close()
	responseBody, _ := io.ReadAll(response.Body)
	return response, string(responseBody)
}

func startServer(t *testing.T) *Server {
	t.Helper()
	server, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = server.Close() })
	return server
}

func TestReceiverSuccessForms(t *testing.T) {
	server := startServer(t)
	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{path: "/slack/T000/B000/XXXX", wantStatus: 200, wantBody: "ok"},
		{path: "/services/T000/B000/XXXX", wantStatus: 200, wantBody: "ok"},
		{path: "/teams/workflow", wantStatus: 202, wantBody: ""},
		{path: "/webhook/evidence", wantStatus: 200, wantBody: `{"status":"ok"}` + "\n"},
		{path: "/anything", wantStatus: 200, wantBody: `{"status":"ok"}` + "\n"},
		{path: "/v2/enqueue", wantStatus: 202, wantBody: `{"dedup_key":"k1","message":"Event processed","status":"success"}` + "\n"},
		{path: "/jira/rest/api/2/issue", wantStatus: 201, wantBody: ""},
		{path: "/api/now/table/incident", wantStatus: 201, wantBody: ""},
		{path: "/services/collector/event", wantStatus: 200, wantBody: `{"code":0,"text":"Success"}` + "\n"},
		{path: "/api/v1/events", wantStatus: 202, wantBody: `{"status":"ok"}` + "\n"},
		{path: "/dataCollectionRules/dcr-1/streams/Custom-X", wantStatus: 204, wantBody: ""},
	}
	for _, test := range tests {
		response, body := post(t, server.URL+test.path, `{"dedup_key":"k1"}`, nil)
		if response.StatusCode != test.wantStatus {
			t.Errorf("POST %s: status got %d, want %d", test.path, response.StatusCode, test.wantStatus)
		}
		if test.wantBody != "" && body != test.wantBody {
			t.Errorf("POST %s: body got %q, want %q", test.path, body, test.wantBody)
		}
	}
	if got := len(server.Requests()); got != len(tests) {
		t.Errorf("Requests: got %d, want %d", got, len(tests))
	}
}

func TestReceiverRecordsRequests(t *testing.T) {
	server := startServer(t)
	header := http.Header{"Authorization": {"Bearer secret-token"}, "X-Team": {"release-ops"}}

	post(t, server.URL+"/webhook/one?x=1", `{"n":1}`, header)
	post(t, server.URL+"/fail/503/webhook", `{"n":2}`, nil)

	requests := server.Requests()
	if len(requests) != 2 {
		t.Fatalf("Requests: got %d, want 2", len(requests))
	}
	first := requests[0]
	checks := []struct{ name, got, want string }{
		{"Method", first.Method, http.MethodPost},
		{"Path", first.Path, "/webhook/one"},
		{"Query", first.Query, "x=1"},
		{"Body", string(first.Body), `{"n":1}`},
		{"Authorization", first.Headers.Get("Authorization"), "Bearer secret-token"},
		{"second Path", requests[1].Path, "/fail/503/webhook"},
	}
	for _, check := range checks {
		if check.got != check.want {
			t.Errorf("%s: got %q, want %q", check.name, check.got, check.want)
		}
	}
	if first.StatusCode != 200 || requests[1].StatusCode != 503 {
		t.Errorf("StatusCode: got %d and %d, want 200 and 503", first.StatusCode, requests[1].StatusCode)
	}
	if first.Time.IsZero() {
		t.Errorf("Time: got zero, want the arrival time")
	}

	server.Reset()
	if got := len(server.Requests()); got != 0 {
		t.Errorf("Requests after Reset: got %d, want 0", got)
	}
}

func TestReceiverFailurePaths(t *testing.T) {
	server := startServer(t)
	tests := []struct {
		path           string
		wantStatus     int
		wantRetryAfter string
	}{
		{path: "/fail/503/slack/T/B/X", wantStatus: 503, wantRetryAfter: "120"},
		{path: "/fail/429/webhook", wantStatus: 429, wantRetryAfter: "120"},
		{path: "/fail/410/slack", wantStatus: 410},
		{path: "/fail/401/jira", wantStatus: 401},
		// A mistyped failure address is an error, not a success.
		{path: "/fail/abc/webhook", wantStatus: 404},
		{path: "/fail/200/webhook", wantStatus: 404},
		{path: "/fail", wantStatus: 404},
		{path: "/fail/+503/webhook", wantStatus: 404},
		{path: "/fail/0503/webhook", wantStatus: 404},
	}
	for _, test := range tests {
		response, _ := post(t, server.URL+test.path, "{}", nil)
		if response.StatusCode != test.wantStatus {
			t.Errorf("POST %s: status got %d, want %d", test.path, response.StatusCode, test.wantStatus)
		}
		if got := response.Header.Get("Retry-After"); got != test.wantRetryAfter {
			t.Errorf("POST %s: Retry-After got %q, want %q", test.path, got, test.wantRetryAfter)
		}
	}
}

func TestReceiverHangUntilClientGivesUp(t *testing.T) {
	server := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	request, _ := http.NewRequestWithContext(ctx, http.MethodPost, server.URL+"/hang/webhook", strings.NewReader("{}"))

	started := time.Now()
	response, err := http.DefaultClient.Do(request)
	if err == nil {
		response.Body.Close()
		t.Fatalf("POST /hang/: got status %d, want a timeout", response.StatusCode)
	}
	if elapsed := time.Since(started); elapsed > 2*time.Second {
		t.Errorf("elapsed: got %v, want about 100ms", elapsed)
	}
	if got := len(server.Requests()); got != 1 {
		t.Errorf("Requests: got %d, want 1", got)
	}
}

func TestReceiverPageRedactsHeaders(t *testing.T) {
	receiver := New()
	recorder := httptest.NewRecorder()
	request := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(`{"title":"Retry health"}`))
	request.Header.Set("Authorization", "Bearer page-secret-token")
	request.Header.Set("Webhook-Signature", "v1,page-secret-signature")
	receiver.ServeHTTP(recorder, request)

	for _, path := range []string{"/", "/requests.json"} {
		recorder = httptest.NewRecorder()
		receiver.ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, path, nil))
		page := recorder.Body.String()
		if recorder.Code != http.StatusOK {
			t.Errorf("GET %s: status got %d, want 200", path, recorder.Code)
		}
		for _, secret := range []string{"page-secret-token", "page-secret-signature"} {
			if strings.Contains(page, secret) {
				t.Errorf("GET %s: page contains %q, want it redacted", path, secret)
			}
		}
		if !strings.Contains(page, "Retry health") {
			t.Errorf("GET %s: page lacks the body text %q", path, "Retry health")
		}
	}

	var listed []map[string]any
	if err := json.Unmarshal(recorder.Body.Bytes(), &listed); err != nil || len(listed) != 1 {
		t.Errorf("GET /requests.json: got %v (%v), want one request", listed, err)
	}
}

func TestReceiverWithRegistry(t *testing.T) {
	server := startServer(t)
	cfg := connectors.FileConfig{Connectors: map[string]connectors.ConnectorConfig{
		"slack":     {URLEnv: "SLACK_URL"},
		"teams":     {URLEnv: "TEAMS_URL"},
		"webhook":   {URLEnv: "WEBHOOK_URL"},
		"slack-503": {Kind: connectors.KindSlack, URLEnv: "FAILING_URL"},
		"slow":      {Kind: connectors.KindWebhook, URLEnv: "HANG_URL"},
	}}
	env := map[string]string{
		"SLACK_URL":   server.URL + "/slack/T000/B000/XXXX",
		"TEAMS_URL":   server.URL + "/teams/workflow",
		"WEBHOOK_URL": server.URL + "/webhook/evidence",
		"FAILING_URL": server.URL + "/fail/503/slack",
		"HANG_URL":    server.URL + "/hang/webhook",
	}
	registry, err := connectors.NewRegistry(cfg, func(name string) (string, bool) {
		value, ok := env[name]
		return value, ok
	})
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	msg := connectors.Message{Event: connectors.EventRetryHealthAlert, Title: "Retry health: warning", Level: "warning"}
	tests := []struct {
		name      string
		wantClass connectors.Class
	}{
		{"slack", connectors.ClassOK},
		{"teams", connectors.ClassOK},
		{"webhook", connectors.ClassOK},
		{"slack-503", connectors.ClassServerError},
		{"slow", connectors.ClassTimeout},
	}
	for _, test := range tests {
		result := registry.Send(context.Background(), test.name, msg, connectors.SendOptions{Timeout: 200 * time.Millisecond})
		if result.Class != test.wantClass {
			t.Errorf("%s: Class got %q, want %q (error %q)", test.name, result.Class, test.wantClass, result.Error)
		}
	}
	if got := len(server.Requests()); got != len(tests) {
		t.Errorf("Requests: got %d, want %d", got, len(tests))
	}
}

func TestReceiverLookupsFindCreatedRecords(t *testing.T) {
	server := startServer(t)
	cfg := connectors.FileConfig{Connectors: map[string]connectors.ConnectorConfig{
		"jira":       {URLEnv: "JIRA_URL", TokenEnv: "TOKEN", ProjectKey: "OPS"},
		"jira-cloud": {Kind: connectors.KindJira, URLEnv: "JIRA_URL", TokenEnv: "TOKEN", ProjectKey: "OPS", APIVersion: "3"},
		"servicenow": {URLEnv: "SERVICENOW_URL", TokenEnv: "TOKEN"},
	}}
	env := map[string]string{"JIRA_URL": server.URL + "/jira", "SERVICENOW_URL": server.URL, "TOKEN": "receiver-token"}
	registry, err := connectors.NewRegistry(cfg, func(name string) (string, bool) {
		value, ok := env[name]
		return value, ok
	})
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	tests := []struct {
		connector string
		key       string
		wantName  string
	}{
		{connector: "jira", key: "xrun_0001:jira", wantName: "OPS-1"},
		{connector: "jira-cloud", key: "xrun_0001:jira-cloud", wantName: "OPS-2"},
		{connector: "servicenow", key: "apl_0001:servicenow", wantName: "INC0000003"},
	}
	for _, test := range tests {
		msg := connectors.Message{Event: connectors.EventExecutiveRecoveryReport, Title: "Recovery report", Level: "warning", IdempotencyKey: test.key}
		first := registry.Send(context.Background(), test.connector, msg, connectors.SendOptions{})
		if !first.Success || first.Attempts[0].ExistingRecord != "" {
			t.Fatalf("%s first send: got success %v, existing record %q (%s), want a new record",
				test.connector, first.Success, first.Attempts[0].ExistingRecord, first.Error)
		}
		again := registry.Send(context.Background(), test.connector, msg, connectors.SendOptions{})
		if !again.Success || again.Attempts[0].ExistingRecord != test.wantName {
			t.Errorf("%s second send: got success %v, existing record %q (%s), want %s found",
				test.connector, again.Success, again.Attempts[0].ExistingRecord, again.Error, test.wantName)
		}
	}
	if got := len(server.Requests()); got != len(tests) {
		t.Errorf("recorded creates: got %d, want %d", got, len(tests))
	}
	lookups := server.Lookups()
	if len(lookups) != 2*len(tests) || lookups[0].Found != "" || lookups[1].Found != "OPS-1" {
		t.Errorf("lookups: got %+v, want one that found nothing, then one that found OPS-1, per destination", lookups)
	}
	page, err := http.Get(server.URL + "/")
	if err != nil {
		t.Fatalf("GET /: %v", err)
	}
	body, _ := io.ReadAll(page.Body)
	_ = page.Body.Close()
	if !strings.Contains(string(body), "found INC0000003") || !strings.Contains(string(body), "none found") {
		t.Errorf("page: got no lookup lines, want each lookup with what it found")
	}

	// A label nothing was created with finds nothing.
	response, err := http.Get(server.URL + `/jira/rest/api/2/search?jql=project+%3D+%22OPS%22+AND+labels+%3D+%22unknown%22`)
	if err != nil {
		t.Fatalf("GET search: %v", err)
	}
	defer response.Body.Close()
	var found struct {
		Issues []any `json:"issues"`
	}
	if err := json.NewDecoder(response.Body).Decode(&found); err != nil || response.StatusCode != http.StatusOK || len(found.Issues) != 0 {
		t.Errorf("search for an unknown label: got status %d, %v (%v), want 200 and no issues", response.StatusCode, found.Issues, err)
	}
}
