package handlers

import (
	"bytes"
	"context"
	"errors"
	"github.com/releaseops/evidence-console/connectors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestClientGoneLoggedAsInfo(t *testing.T) {
	var logs bytes.Buffer
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(slog.New(slog.NewTextHandler(&logs, nil)), nil, nil)
	e.GET("/slow", func(echo.Context) error { return errors.New("database statement interrupted") })

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/slow", nil).WithContext(ctx))

	if rec.Body.Len() != 0 {
		t.Errorf("response body: got %q, want none for a client that left", rec.Body.String())
	}
	if !strings.Contains(logs.String(), "level=INFO") || !strings.Contains(logs.String(), "request ended by the client") {
		t.Errorf("log: got %q, want one info line about the client leaving", logs.String())
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("log: got %q, want no error", logs.String())
	}

	logs.Reset()
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/slow", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("connected client: got %d and log %q, want a 500 logged as an error", rec.Code, logs.String())
	}
}

func TestStoppingServerResponds503(t *testing.T) {
	var logs bytes.Buffer
	stopping := make(chan struct{})
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(slog.New(slog.NewTextHandler(&logs, nil)), stopping, nil)
	e.GET("/run", func(echo.Context) error { return errors.New("sql: database is closed") })
	e.GET("/bad", func(echo.Context) error { return fieldError("limit", "limit must be 1 to 100") })

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/run", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("before stopping: got %d, want 500", rec.Code)
	}

	close(stopping)
	logs.Reset()
	rec = httptest.NewRecorder()
	request := httptest.NewRequest(http.MethodGet, "/run", nil)
	request.Header.Set(echo.HeaderAccept, "application/json")
	e.ServeHTTP(rec, request)

	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status: got %d, want 503", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), `"code":"unavailable"`) || !strings.Contains(rec.Body.String(), "server stopped") {
		t.Errorf("body: got %s, want the unavailable code and a message that the server stopped", rec.Body.String())
	}
	if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "request ended by the stopping server") {
		t.Errorf("log: got %q, want one warning about the stopping server", logs.String())
	}

	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/bad", nil))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("client error while stopping: got %d, want it kept as 400", rec.Code)
	}
}

func TestRequestLogHasStatusAndNoToken(t *testing.T) {
	s := newAuditServer(t)
	var logs bytes.Buffer
	s.handler.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	rec := s.do(http.MethodGet, "/audit/delivery/xoxb-123456789012-abcdefabcdef", "", "", "Accept", "text/html")

	if rec.Code != http.StatusNotFound {
		t.Fatalf("status: got %d, want 404", rec.Code)
	}
	var requestLine string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "msg=request ") {
			requestLine = line
		}
	}
	if !strings.Contains(requestLine, "status=404") {
		t.Errorf("request log: got %q, want status=404", requestLine)
	}
	if strings.Contains(logs.String(), "xoxb-123456789012") {
		t.Errorf("log: got %q, want the token in the path redacted", logs.String())
	}
}

func TestErrorLogHasNoConfiguredSecret(t *testing.T) {
	const secret = "plainvalueSEKRIT"
	s := newAuditServer(t)
	var logs bytes.Buffer
	s.handler.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.handler.Secrets = connectors.NewRedactor(secret)
	s.e = NewServer(s.handler)

	// The secret looks like a word, so only the configured secrets catch it:
	// once in a path and once as a query parameter the page does not take.
	rec := s.do(http.MethodGet, "/audit/delivery/dlv_"+secret, "", "", "Accept", "text/html")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status of the path: got %d, want 404", rec.Code)
	}
	rec = s.do(http.MethodGet, "/history?"+secret+"=1", "", "", "Accept", "application/json")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status of the query: got %d, want 400", rec.Code)
	}

	if !strings.Contains(logs.String(), "msg=\"request rejected\"") {
		t.Fatalf("log: got %q, want the rejections logged", logs.String())
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("log: got %q, want the configured secret redacted", logs.String())
	}
}

func TestRequestIDKeptOnlyWhenPlain(t *testing.T) {
	const secret = "plainvalueSEKRIT"
	s := newAuditServer(t)
	var logs bytes.Buffer
	s.handler.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.handler.Secrets = connectors.NewRedactor(secret)
	s.e = NewServer(s.handler)

	tests := []struct {
		name, sent string
		keep       bool
	}{
		{"uuid", "3f2b1c9e-8d7a-4e6b-9c5d-2a1b0c9d8e7f", true},
		{"configured secret", secret, false},
		{"well-known token", "xoxb-123456789012-abcdefabcdef", false},
		{"spaces and markup", "<b>id 1</b>", false},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			rec := s.do(http.MethodGet, "/audit/delivery/missing", "", "", "Accept", "text/html", echo.HeaderXRequestID, test.sent)
			got := rec.Header().Get(echo.HeaderXRequestID)
			if test.keep && got != test.sent {
				t.Errorf("response X-Request-Id: got %q, want the plain id kept", got)
			}
			if !test.keep && (got == test.sent || got == "") {
				t.Errorf("response X-Request-Id: got %q, want a generated id in place of %q", got, test.sent)
			}
		})
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("log: got %q, want no configured secret", logs.String())
	}
}

func TestErrorResponseHasNoConfiguredSecret(t *testing.T) {
	const secret = "whsec_bG9jYWwtZGV2ZWxvcG1lbnQtc2lnbmluZy1zZWNyZXQ="
	s := newAPIServer(t)
	s.handler.Secrets = connectors.NewRedactor(secret)
	s.e = NewServer(s.handler)

	cases := []struct{ name, path, body string }{
		{"cadence", executiveReportPath + "/schedule-run", `{"schedule":{"cadence":"` + secret + `"}}`},
		{"provider, lower-cased", executiveReportPath + "/schedule-runs/latest/deliver", `{"provider":"` + secret + `"}`},
		{"acknowledgement provider", alertRetryPath + "/hlth_missing/acknowledgements",
			`{"provider":"` + secret + `","acknowledgement_state":"acknowledged"}`},
		{"unknown field name", executiveRetryRunPath, `{"` + secret + `":1}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.postJSON(tc.path, tc.body)
			if rec.Code < 400 || rec.Code >= 500 {
				t.Fatalf("status: got %d, want a 4xx: %s", rec.Code, rec.Body.String())
			}
			body := strings.ToLower(rec.Body.String())
			if strings.Contains(body, strings.ToLower(secret)) || strings.Contains(body, "bg9jywwtzgv2zwxvcg1lbnqtc2lnbmluzy1zzwnyzxq") {
				t.Errorf("response: got %s, want the configured secret redacted", rec.Body.String())
			}
		})
	}
}
