package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/audit"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/connectors/receiver"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/executive"
	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/openapi"
	"github.com/releaseops/evidence-console/openapi/spec"
	"github.com/releaseops/evidence-console/retry"
)

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Document)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("validate openapi.json: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentIsCurrent(t *testing.T) {
	built, err := spec.Build()
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	if !bytes.Equal(built, openapi.Document) {
		t.Fatalf("openapi/openapi.json differs from the spec package; run go generate ./openapi")
	}
	loadOpenAPI(t)
}

// TestOpenAPICoversEveryJSONRoute checks that every registered JSON route
// (the /runtime/ API, /healthz and /readyz) has an operation.
func TestOpenAPICoversEveryJSONRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	newTestServer(t)
	for key := range routePermissions {
		method, path, _ := strings.Cut(key, " ")
		if !strings.HasPrefix(path, "/runtime/") && path != "/healthz" && path != "/readyz" {
			continue
		}
		openAPIPath := echoPathToOpenAPI(path)
		item := doc.Paths.Find(openAPIPath)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s %s: no operation %s in openapi.json", method, path, openAPIPath)
		}
	}
}

// echoPathToOpenAPI turns /a/:id into /a/{id}.
func echoPathToOpenAPI(path string) string {
	segments := strings.Split(path, "/")
	for i, segment := range segments {
		if name, ok := strings.CutPrefix(segment, ":"); ok {
			segments[i] = "{" + name + "}"
		}
	}
	return strings.Join(segments, "/")
}

// apiServer is the router with every service wired to loopback connectors:
// "webhook" succeeds and "failing" returns 500 (no Retry-After).
func newAPIServer(t *testing.T) *testServer {
	t.Helper()
	s := newTestServer(t)
	rcv, err := receiver.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start receiver: %v", err)
	}
	t.Cleanup(func() { _ = rcv.Close() })
	env := map[string]string{"OPENAPI_WEBHOOK_URL": rcv.URL + "/webhook/openapi", "OPENAPI_FAILING_URL": rcv.URL + "/fail/500/webhook"}
	cfg := connectors.FileConfig{Connectors: map[string]connectors.ConnectorConfig{
		"webhook": {Kind: connectors.KindWebhook, URLEnv: "OPENAPI_WEBHOOK_URL"},
		"failing": {Kind: connectors.KindWebhook, URLEnv: "OPENAPI_FAILING_URL"},
	}}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	registry, err := connectors.NewRegistry(cfg, func(name string) (string, bool) { value, ok := env[name]; return value, ok },
		connectors.WithBackoff(time.Millisecond, time.Millisecond), connectors.WithLogger(logger))
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	db, clock := s.db, func() time.Time { return testNow }
	newDelivery := func() *delivery.Service {
		return &delivery.Service{DB: db, Sender: registry, Now: clock, Logger: logger}
	}
	healthService := &health.Service{DB: db, Now: clock, Logger: logger}
	executiveService := &executive.Service{DB: db, Now: clock, Destinations: registry, PublicURL: s.handler.PublicURL,
		Logger: logger, Delivery: newDelivery()}
	s.handler.Alerts = &alerting.Service{DB: db, Health: healthService, Destinations: registry, Delivery: newDelivery(),
		PublicURL: s.handler.PublicURL, Now: clock, Logger: logger}
	s.handler.Executive = executiveService
	s.handler.Retry = &retry.Service{DB: db, Delivery: newDelivery(), Connectors: registry,
		Sources: map[string]retry.MessageSource{models.SubjectExecutiveReport: retry.MessageSourceFunc(executiveService.ExecutiveMessage)},
		Now:     clock, Logger: logger, SendOptions: connectors.SendOptions{Timeout: 2 * time.Second}, InFlightTimeout: time.Minute}
	s.handler.Audit = &audit.Service{DB: db, Now: clock, Logger: logger}
	return s
}

// apiCall is one representative request; capture, when set, reads values
// later calls use from the decoded response.
type apiCall struct {
	method, path, body string
	status             int
	capture            func(body map[string]any)
}

// TestOpenAPIResponsesMatch runs representative requests through the real
// router and validates each request and response against openapi.json.
func TestOpenAPIResponsesMatch(t *testing.T) {
	doc := loadOpenAPI(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("build router: %v", err)
	}
	s := newAPIServer(t)
	ids := map[string]string{}
	captureString := func(name string, path ...string) func(map[string]any) {
		return func(body map[string]any) {
			var value any = body
			for _, key := range path {
				object, _ := value.(map[string]any)
				value = object[key]
			}
			if text, ok := value.(string); ok {
				ids[name] = text
			}
		}
	}
	captureExecution := func(body map[string]any) {
		executions, _ := body["executions"].([]any)
		for _, item := range executions {
			execution, _ := item.(map[string]any)
			if id, ok := execution["execution_id"].(string); ok {
				ids["execution"] = id
			}
		}
	}

	base := executiveRetryPath
	calls := []apiCall{
		{method: "GET", path: "/healthz", status: 200},
		{method: "GET", path: "/readyz", status: 200},
		{method: "POST", path: runtimePrefix + "/evidence", body: `{"records": []}`, status: 200},
		{method: "POST", path: runtimePrefix + "/evidence", body: `{"record": []}`, status: 400},
		{method: "GET", path: auditDelivery + "/recovery-escalations/retry-health", status: 200},
		{method: "GET", path: auditDelivery + "/recovery-escalations/retry-health?expected_interval_minutes=0", status: 400},
		{method: "POST", path: alertRetryPath + "/deliver", body: `{"provider": "all", "retries": 0}`, status: 201,
			capture: captureString("health", "plan", "health_id")},
		{method: "GET", path: alertRetryPath, status: 200},
		{method: "GET", path: auditDelivery + "/recovery-escalations/retry-health-alert-dashboard", status: 200},
		{method: "POST", path: alertRetryPath + "/{health}/acknowledgements", body: `{"provider": "webhook", "external_ref": "CHG-1"}`, status: 201},
		{method: "POST", path: alertRetryPath + "/{health}/acknowledgements",
			body: `{"provider": "webhook", "acknowledgement_state": "x", "notes": "Bearer abcdefghijklmnop1234"}`, status: 400},
		{method: "POST", path: alertRetryPath + "/{health}/acknowledgements", body: `{"provider": "webhook", "colour": "red"}`, status: 400},
		{method: "POST", path: alertRetryPath + "/missing/acknowledgements", body: `{"provider": "webhook"}`, status: 404},
		{method: "GET", path: auditDelivery + "/connectors", status: 200},
		{method: "GET", path: executiveReportPath, status: 200},
		{method: "POST", path: executiveReportPath + "/schedule-run", body: `{}`, status: 201,
			capture: captureString("run", "schedule_run", "run_id")},
		{method: "GET", path: executiveReportPath + "/schedule-runs", status: 200},
		{method: "POST", path: executiveReportPath + "/schedule-runs/{run}/deliver", body: `{"provider": "webhook,failing", "retries": 0}`, status: 200},
		{method: "POST", path: base + "/delivery-retry-plan", body: `{"retry_policy": {"retry_delay_minutes": 0, "allow_immediate_retry": true}}`,
			status: 201, capture: captureString("plan", "retry_plan_id")},
		{method: "GET", path: base + "/delivery-retry-plans/{plan}", status: 200},
		{method: "POST", path: base + "/delivery-retry-worker-run", body: `{}`, status: 201},
		{method: "POST", path: base + "/delivery-retry-worker-run",
			body:   `{"execute": true, "retry_policy": {"retry_delay_minutes": 0, "allow_immediate_retry": true}}`,
			status: 201, capture: func(body map[string]any) { captureString("worker", "worker_run_id")(body); captureExecution(body) }},
		{method: "GET", path: base + "/delivery-retry-worker-runs", status: 200},
		{method: "GET", path: base + "/delivery-retry-worker-runs/{worker}", status: 200},
		{method: "GET", path: base + "/delivery-retry-health", status: 200},
		{method: "POST", path: alertRetryPath + "/retry-plan", body: `{}`, status: 201},
		{method: "POST", path: alertRetryPath + "/retry-worker-run", body: `{}`, status: 201, capture: captureString("alertworker", "worker_run_id")},
		{method: "GET", path: alertRetryPath + "/retry-worker-runs", status: 200},
		{method: "GET", path: alertRetryPath + "/retry-worker-runs/{alertworker}", status: 200},
		{method: "GET", path: base + "/delivery-retry-worker-runs/{alertworker}", status: 404},
		{method: "GET", path: alertRetryPath + "/retry-health", status: 200},
		{method: "GET", path: alertRetryPath + "/retry-health?stale_metadata_minutes=0", status: 400},
		{method: "GET", path: runtimePrefix + "/dashboard", status: 200},
		{method: "GET", path: runtimePrefix + "?limit=500", status: 200},
		{method: "GET", path: runtimePrefix + "?delivery_success=maybe", status: 400},
		{method: "GET", path: runtimePrefix + "/audit/retry_execution/{execution}", status: 200},
		{method: "GET", path: runtimePrefix + "/audit/delivery/missing", status: 404},
		{method: "GET", path: "/openapi.json", status: 200},
	}
	for _, call := range calls {
		path := call.path
		for name, id := range ids {
			path = strings.ReplaceAll(path, "{"+name+"}", id)
		}
		if strings.Contains(path, "{") {
			t.Errorf("%s %s: an earlier call did not return the id it needs", call.method, call.path)
			continue
		}
		rec := validateCall(t, doc, router, s, call.method, path, call.body, call.status)
		if call.capture != nil && rec != nil {
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err == nil {
				call.capture(body)
			}
		}
	}
	if ids["execution"] == "" {
		t.Errorf("live worker run: got no execution, want one for the audit chain call")
	}
}

// validateCall sends one request through the router, checks its status and
// validates the request and the response against the document.
func validateCall(t *testing.T, doc *openapi3.T, router routers.Router, s *testServer, method, path, body string, status int) *httptest.ResponseRecorder {
	t.Helper()
	contentType := ""
	if body != "" {
		contentType = "application/json"
	}
	rec := s.do(method, path, contentType, body)
	if rec.Code != status {
		t.Errorf("%s %s: got status %d, want %d: %s", method, path, rec.Code, status, rec.Body.String())
		return nil
	}

	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	route, pathParams, err := router.FindRoute(req)
	if err != nil {
		t.Errorf("%s %s: no operation in openapi.json: %v", method, path, err)
		return rec
	}
	options := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
	input := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route, Options: options}
	if status < 400 {
		if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
			t.Errorf("%s %s: request does not match openapi.json: %v", method, path, err)
		}
	}
	response := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input, Status: rec.Code, Header: rec.Header(),
		Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), Options: options,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), response); err != nil {
		t.Errorf("%s %s: response %d does not match openapi.json: %v", method, path, rec.Code, err)
	}
	return rec
}

func TestOpenAPIDocumentIsPublic(t *testing.T) {
	s := newTestServer(t)
	s.anonymous()
	rec := s.getJSON("/openapi.json")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json without credentials: got status %d, want 200", rec.Code)
	}
	if !bytes.Equal(rec.Body.Bytes(), openapi.Document) {
		t.Errorf("GET /openapi.json: body differs from the embedded document")
	}
}

// TestOpenAPIDocumentsBodyErrors checks that every operation with a request
// body documents the 413 and 415 that the server returns before reading it,
// and that the server returns both with a body the document describes.
func TestOpenAPIDocumentsBodyErrors(t *testing.T) {
	doc := loadOpenAPI(t)
	for path, item := range doc.Paths.Map() {
		for method, operation := range item.Operations() {
			if operation.RequestBody == nil {
				continue
			}
			for _, status := range []int{http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType} {
				if operation.Responses.Status(status) == nil {
					t.Errorf("%s %s: status %d is not documented", method, path, status)
				}
			}
		}
	}

	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("build router: %v", err)
	}
	s := newAPIServer(t)
	path := executiveReportPath + "/schedule-run"
	tooLarge := `{"schedule": {"cadence": "` + strings.Repeat("x", 10<<20) + `"}}`
	cases := []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"text body", "text/plain", `{"schedule": {"interval_minutes": 60}}`, http.StatusUnsupportedMediaType, CodeMalformedBody},
		{"body over the limit", "application/json", tooLarge, http.StatusRequestEntityTooLarge, CodeBodyTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.do(http.MethodPost, path, tc.contentType, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d: %.200s", rec.Code, tc.status, rec.Body.String())
			}
			if code := errorOf(t, rec.Body.String()).Code; code != tc.code {
				t.Errorf("error code = %q, want %q", code, tc.code)
			}
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(""))
			route, pathParams, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("no operation in openapi.json: %v", err)
			}
			options := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
			response := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route, Options: options},
				Status:                 rec.Code, Header: rec.Header(), Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), Options: options,
			}
			if err := openapi3filter.ValidateResponse(context.Background(), response); err != nil {
				t.Errorf("response %d does not match openapi.json: %v", rec.Code, err)
			}
		})
	}
}

// TestOpenAPIScheduleMatchesServer checks that a schedule the document
// rejects is rejected by the server too, and the reverse for one at the
// limits, for the schedule-run and the retry worker run bodies.
func TestOpenAPIScheduleMatchesServer(t *testing.T) {
	doc := loadOpenAPI(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("build router: %v", err)
	}
	s := newAPIServer(t)

	cases := []struct {
		name, schedule string
		valid          bool
	}{
		{"interval below minimum", `{"interval_minutes": 4}`, false},
		{"interval above maximum", `{"interval_minutes": 10081}`, false},
		{"cadence too long", `{"cadence": "` + strings.Repeat("c", executive.MaxCadenceLength+1) + `"}`, false},
		{"limits", `{"interval_minutes": 5, "cadence": "` + strings.Repeat("c", executive.MaxCadenceLength) + `"}`, true},
	}
	paths := []string{executiveReportPath + "/schedule-run", executiveRetryPath + "/delivery-retry-worker-run"}
	for _, path := range paths {
		for _, tc := range cases {
			body := `{"schedule": ` + tc.schedule + `}`
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			route, pathParams, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("%s: no operation in openapi.json: %v", path, err)
			}
			options := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
			input := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route, Options: options}
			documentErr := openapi3filter.ValidateRequest(context.Background(), input)
			if (documentErr == nil) != tc.valid {
				t.Errorf("%s %s: document validation error %v, want valid %t", path, tc.name, documentErr, tc.valid)
			}

			rec := s.postJSON(path, body)
			if accepted := rec.Code < 400; accepted != tc.valid {
				t.Errorf("%s %s: server status %d, want accepted %t: %s", path, tc.name, rec.Code, tc.valid, rec.Body.String())
			}
		}
	}
}
