package handlers

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func TestUnstorableTextRejected(t *testing.T) {
	s := newTestServer(t)
	s.loadSample()
	cases := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		wantField   string
	}{
		{"NUL in a path id", http.MethodGet, auditDelivery + "/recovery-executive-report/delivery-retry-plans/%00", "", "", "path"},
		{"bad UTF-8 in a path id", http.MethodPost, auditDelivery + "/recovery-escalations/retry-health-alerts/%c3/acknowledgements",
			echo.MIMEApplicationJSON, `{"provider":"slack"}`, "path"},
		{"NUL in a query value", http.MethodGet, auditDelivery + "/recovery-escalations/retry-health-alerts?provider=%00", "", "", "provider"},
		{"bad UTF-8 in a query value", http.MethodGet, auditDelivery + "/recovery-escalations/retry-health-alerts?health_id=%c3", "", "", "health_id"},
		{"NUL in a JSON string", http.MethodPost, auditDelivery + "/recovery-escalations/retry-health-alerts/deliver",
			echo.MIMEApplicationJSON, `{"provider":"sl\u0000ack"}`, "provider"},
		{"NUL in a nested JSON string", http.MethodPost, auditDelivery + "/recovery-executive-report/delivery-retry-worker-run",
			echo.MIMEApplicationJSON, `{"schedule":{"cadence":"daily\u0000"}}`, "schedule.cadence"},
		{"NUL in a form field", http.MethodPost, "/console/executive-retry/plan", echo.MIMEApplicationForm, "max_retry_attempts=3%00", "max_retry_attempts"},
		{"malformed query escape", http.MethodGet, runtimePrefix + "?provider=%zz", "", "", "query"},
		{"semicolon in a query", http.MethodGet, runtimePrefix + "?limit=1;x=2", "", "", "query"},
		{"malformed form escape", http.MethodPost, "/console/retry-health", echo.MIMEApplicationForm, "stale_metadata_minutes=7%zz", "form"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.getJSON(runtimePrefix + "/dashboard").Body.String()

			rec := s.do(tc.method, tc.path, tc.contentType, tc.body, echo.HeaderAccept, echo.MIMEApplicationJSON)

			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status: got %d, want 400 (body %s)", rec.Code, rec.Body.String())
			}
			if !strings.Contains(rec.Body.String(), `"field":"`+tc.wantField+`"`) {
				t.Errorf("body: got %s, want field %s named", rec.Body.String(), tc.wantField)
			}
			if after := s.getJSON(runtimePrefix + "/dashboard").Body.String(); after != before {
				t.Errorf("dashboard changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func TestBodyEncodingRejected(t *testing.T) {
	s := newTestServer(t)
	path := auditDelivery + "/recovery-escalations/retry-health-alerts/deliver"
	cases := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		want        string
	}{
		{"form", echo.MIMEApplicationForm, "provider=slack", http.StatusUnsupportedMediaType, "request body is a form; send a JSON object"},
		{"byte order mark", echo.MIMEApplicationJSON, "\xef\xbb\xbf{}", http.StatusBadRequest, "byte order mark"},
		{"not UTF-8", echo.MIMEApplicationJSON, "{\"provider\":\"sl\xffack\"}", http.StatusBadRequest, "request body is not UTF-8 text (byte 16 is not)"},
		{"plain text", "text/plain; charset=utf-8", `{"provider":"slack"}`, http.StatusUnsupportedMediaType, "declared as text/plain; send a JSON object"},
		{"latin1 charset", "application/json; charset=latin1", `{}`, http.StatusUnsupportedMediaType, `charset \"latin1\" is not supported; send the JSON encoded as UTF-8`},
		{"utf-16 charset", "application/json; charset=utf-16", "{\x00}\x00", http.StatusUnsupportedMediaType, `charset \"utf-16\" is not supported`},
		{"empty parameter", "application/json;;", `{}`, http.StatusUnsupportedMediaType, `Content-Type header \"application/json;;\" is malformed`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := dbtest.CountRows(t, s.db)

			rec := s.do(http.MethodPost, path, tc.contentType, tc.body)

			if rec.Code != tc.wantStatus {
				t.Fatalf("status: got %d, want %d (body %s)", rec.Code, tc.wantStatus, rec.Body.String())
			}
			assertNothingStored(t, before, dbtest.CountRows(t, s.db))
			if !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("body: got %s, want %q", rec.Body.String(), tc.want)
			}
		})
	}
}

func TestBodyCharsetUTF8Accepted(t *testing.T) {
	s := newAlertServer(t, map[string]destination{"slack": {kind: connectors.KindSlack, url: "{receiver}/slack/T/B/X"}})
	path := auditDelivery + "/recovery-escalations/retry-health-alerts/deliver"
	for _, contentType := range []string{"application/json; charset=utf-8", "application/json; charset=UTF-8", `application/json; charset="Utf-8"`} {
		rec := s.do(http.MethodPost, path, contentType, `{}`)
		if rec.Code != http.StatusCreated {
			t.Errorf("%s: status = %d, want 201 (body %s)", contentType, rec.Code, rec.Body.String())
		}
	}
}

func TestErrorRepeatsNoHugeValue(t *testing.T) {
	s := newAlertServer(t, map[string]destination{"slack": {kind: connectors.KindSlack, url: "{receiver}/slack/T/B/X"}})
	huge := strings.Repeat("x", 100_000)
	cases := []struct {
		name string
		path string
		body string
	}{
		{"unknown destination", auditDelivery + "/recovery-escalations/retry-health-alerts/deliver", `{"provider":"` + huge + `"}`},
		{"long cadence", auditDelivery + "/recovery-executive-report/delivery-retry-worker-run", `{"schedule":{"cadence":"` + huge + `"}}`},
		{"unknown field", auditDelivery + "/recovery-executive-report/delivery-retry-plan", `{"` + huge + `":1}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.postJSON(tc.path, tc.body)

			if rec.Code < 400 || rec.Code >= 500 {
				t.Fatalf("status: got %d, want a 4xx", rec.Code)
			}
			if size := rec.Body.Len(); size > 3000 {
				t.Errorf("response: got %d bytes, want at most 3000", size)
			}
			if !strings.Contains(rec.Body.String(), "…") || strings.Contains(rec.Body.String(), "……") {
				t.Errorf("response: got %.300s, want the value cut and marked once", rec.Body.String())
			}
			if strings.Contains(s.logs.String(), strings.Repeat("x", 1000)) {
				for _, line := range strings.Split(s.logs.String(), "\n") {
					if strings.Contains(line, strings.Repeat("x", 1000)) {
						t.Errorf("log: got the value in full, want it cut: %.300s", line)
					}
				}
			}
		})
	}
}

func TestShortenedKeepsShortMessages(t *testing.T) {
	e := fieldError("provider", `provider %q is not configured; configured destinations: %s`, "slak", "slack, teams")

	got := shortened(e, nil)

	if got.Message != e.Message || got.Field != e.Field {
		t.Errorf("shortened: got %q, %q; want the message and field unchanged", got.Message, got.Field)
	}
}

func TestUnstorableMultipartFieldRejected(t *testing.T) {
	s := newTestServer(t)
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	if err := form.WriteField("max_retry_attempts", "3\x00"); err != nil {
		t.Fatalf("write field: %v", err)
	}
	if err := form.Close(); err != nil {
		t.Fatalf("close form: %v", err)
	}

	rec := s.do(http.MethodPost, "/console/executive-retry/plan", form.FormDataContentType(), body.String(), echo.HeaderAccept, echo.MIMEApplicationJSON)

	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"field":"max_retry_attempts"`) {
		t.Errorf("multipart form with a NUL: got %d %s, want a 400 naming max_retry_attempts", rec.Code, rec.Body.String())
	}
}

// A form body over the limit gets the same 413 whether or not the client
// sent its length first.
func TestOversizedFormBodyWithoutLength(t *testing.T) {
	s := newTestServer(t)
	body := "notes=" + strings.Repeat("x", 11<<20)
	for _, sendLength := range []bool{true, false} {
		var reader io.Reader = strings.NewReader(body)
		if !sendLength {
			// httptest.NewRequest leaves the length unknown for a reader
			// of a type it does not know, as for a chunked body.
			reader = io.MultiReader(reader)
		}
		req := httptest.NewRequest(http.MethodPost, "/console/retry-health", reader)
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
		req.Header.Set(echo.HeaderAccept, echo.MIMEApplicationJSON)
		for name, value := range s.headers {
			req.Header.Set(name, value)
		}
		rec := httptest.NewRecorder()
		s.e.ServeHTTP(rec, req)

		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("length sent %v: status %d, want 413: %.300s", sendLength, rec.Code, rec.Body.String())
		}
		if !strings.Contains(rec.Body.String(), CodeBodyTooLarge) || !strings.Contains(rec.Body.String(), "10 MiB") {
			t.Errorf("length sent %v: got %.300s, want %s and the 10 MiB limit", sendLength, rec.Body.String(), CodeBodyTooLarge)
		}
	}
}
