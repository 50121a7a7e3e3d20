package handlers

import (
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/models/dbtest"
)

// formRejection is one request a form route must reject before it writes
// anything.
type formRejection struct {
	name        string
	path        string
	contentType string
	body        string
	wantStatus  int
	wantField   string
}

// assertFormRejected sends each request and checks its status and field,
// and that no table gained or lost a row.
func assertFormRejected(t *testing.T, s *testServer, cases []formRejection) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := dbtest.CountRows(t, s.db)
			rec := s.do(http.MethodPost, tc.path, tc.contentType, tc.body, echo.HeaderAccept, echo.MIMEApplicationJSON)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body: %s", rec.Code, tc.wantStatus, rec.Body.String())
			}
			apiErr := errorOf(t, rec.Body.String())
			if apiErr.Field != tc.wantField {
				t.Errorf("error field = %q, want %q (message %q)", apiErr.Field, tc.wantField, apiErr.Message)
			}
			if tc.wantField != "" && !strings.Contains(apiErr.Message, tc.wantField) {
				t.Errorf("message %q does not name %s", apiErr.Message, tc.wantField)
			}
			if tc.wantStatus == http.StatusUnsupportedMediaType && !strings.Contains(apiErr.Message, echo.MIMEApplicationForm) {
				t.Errorf("message %q does not name the accepted type %s", apiErr.Message, echo.MIMEApplicationForm)
			}
			if after := dbtest.CountRows(t, s.db); !maps.Equal(before, after) {
				t.Errorf("rows changed: before %v, after %v", before, after)
			}
		})
	}
}

func TestBuildHealthRejectsNonFormBody(t *testing.T) {
	s := newTestServer(t)
	s.loadSample()

	const path = "/console/retry-health"
	form := echo.MIMEApplicationForm
	json := echo.MIMEApplicationJSON
	assertFormRejected(t, s, []formRejection{
		{"JSON thresholds", path, json, `{"expected_interval_minutes":5000,"stale_metadata_minutes":7}`, http.StatusUnsupportedMediaType, ""},
		{"JSON zero", path, json, `{"expected_interval_minutes":0}`, http.StatusUnsupportedMediaType, ""},
		{"JSON unknown field", path, json, `{"bogus":1}`, http.StatusUnsupportedMediaType, ""},
		{"JSON type with text", path, json, `not json`, http.StatusUnsupportedMediaType, ""},
		{"plain text", path, echo.MIMETextPlain, `expected_interval_minutes=5`, http.StatusUnsupportedMediaType, ""},
		{"body without type", path, "", `expected_interval_minutes=5`, http.StatusUnsupportedMediaType, ""},
		{"repeated field", path, form, "expected_interval_minutes=5&expected_interval_minutes=0", http.StatusBadRequest, "expected_interval_minutes"},
		{"unknown field", path, form, "bogus=1", http.StatusBadRequest, "bogus"},
		{"repeated CSRF field", path, form, "_csrf=a&_csrf=b", http.StatusBadRequest, "_csrf"},
		{"query parameter", path + "?expected_interval_minutes=5000", form, "", http.StatusBadRequest, "expected_interval_minutes"},
	})
}

func TestBuildHealthReadsFormFields(t *testing.T) {
	s := newTestServer(t)
	s.loadSample()

	rec := s.postForm("/console/retry-health", "expected_interval_minutes=5000&stale_metadata_minutes=7&_csrf=ignored",
		echo.HeaderAccept, echo.MIMEApplicationJSON)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status = %d, want 201; body: %s", rec.Code, rec.Body.String())
	}
	body := rec.Body.String()
	if !strings.Contains(body, `"expected_interval_minutes":5000`) || !strings.Contains(body, `"stale_metadata_minutes":7`) {
		t.Errorf("snapshot does not use the posted thresholds 5000 and 7: %s", body)
	}

	// A POST without a body builds with the default thresholds.
	rec = s.do(http.MethodPost, "/console/retry-health", "", "", echo.HeaderAccept, echo.MIMEApplicationJSON)
	if rec.Code != http.StatusCreated {
		t.Fatalf("empty POST: status = %d, want 201; body: %s", rec.Code, rec.Body.String())
	}
}

func TestCreateTokenRejectsNonFormBody(t *testing.T) {
	s := newTestServer(t)

	assertFormRejected(t, s, []formRejection{
		{"JSON name", "/profile/tokens", echo.MIMEApplicationJSON, `{"name":"jsontok"}`, http.StatusUnsupportedMediaType, ""},
		{"repeated name", "/profile/tokens", echo.MIMEApplicationForm, "name=a&name=b", http.StatusBadRequest, "name"},
		{"unknown field", "/profile/tokens", echo.MIMEApplicationForm, "name=a&expires=never", http.StatusBadRequest, "expires"},
		{"revoke with a field", "/profile/tokens/tok_x/revoke", echo.MIMEApplicationForm, "reason=x", http.StatusBadRequest, "reason"},
	})
}

func TestConsoleFormsRejectUnknownFields(t *testing.T) {
	s := newTestServer(t)
	s.loadSample()

	form := echo.MIMEApplicationForm
	assertFormRejected(t, s, []formRejection{
		{"send alert", "/console/retry-health-alerts", form, "provider=all&bogus=1", http.StatusBadRequest, "bogus"},
		{"send alert repeated provider", "/console/retry-health-alerts", form, "provider=all&provider=slack", http.StatusBadRequest, "provider"},
		{"send alert JSON", "/console/retry-health-alerts", echo.MIMEApplicationJSON, `{"provider":"all"}`, http.StatusUnsupportedMediaType, ""},
		{"acknowledge", "/console/retry-health-alerts/hlth_x/acknowledgements", form, "provider=slack&state=acknowledged", http.StatusBadRequest, "state"},
		{"plan retry", "/console/executive-retry/plan", form, "max_retry_attempts=3&max_attempts=3", http.StatusBadRequest, "max_attempts"},
		{"plan retry repeated", "/console/executive-retry/plan", form, "max_retry_attempts=3&max_retry_attempts=20", http.StatusBadRequest, "max_retry_attempts"},
		{"plan retry text", "/console/executive-retry/plan", echo.MIMETextPlain, "max_retry_attempts=3", http.StatusUnsupportedMediaType, ""},
		{"run retry", "/console/executive-retry/run", form, "dry_run=true&execute=true&execute=false", http.StatusBadRequest, "execute"},
		{"confirm retry", "/console/executive-retry/confirm", form, "execute=true&live=true", http.StatusBadRequest, "live"},
		{"schedule report", "/console/executive-report/schedule", form, "interval_minutes=60&interval=60", http.StatusBadRequest, "interval"},
		{"deliver report", "/console/executive-report/deliver", form, "provider=slack&retries=1&retries=5", http.StatusBadRequest, "retries"},
		{"create user", "/users", form, "username=bob&role=viewer&admin=true", http.StatusBadRequest, "admin"},
		{"change role", "/users/usr_x/role", form, "role=viewer&role=admin", http.StatusBadRequest, "role"},
		{"disable user", "/users/usr_x/disable", form, "id=usr_y", http.StatusBadRequest, "id"},
		{"revoke user token", "/users/usr_x/tokens/tok_x/revoke", form, "all=true", http.StatusBadRequest, "all"},
		{"sign out", "/sign-out", form, "next=/x", http.StatusBadRequest, "next"},
	})
}

func TestDeliverReportFormAcceptsRepeatedProvider(t *testing.T) {
	s := newTestServer(t)

	// Each ticked checkbox sends its own provider field, so a repeated
	// provider gets past the form check to the destination check.
	rec := s.postForm("/console/executive-report/deliver", "provider=slack&provider=teams&run_id=latest",
		echo.HeaderAccept, echo.MIMEApplicationJSON)
	if rec.Code == http.StatusBadRequest {
		t.Fatalf("status = 400, want the repeated provider accepted; body: %s", rec.Body.String())
	}
}

// A number in a console form takes the syntax an HTML number input sends.
// The form rejects a plus sign, a space, a hexadecimal form, NaN, an
// infinity or a fraction where a whole number belongs, as the JSON API
// does. It accepts .5, 02.5 or 3.0 as a browser sends them.
func TestConsoleFormNumberSyntax(t *testing.T) {
	s := newAPIServer(t)
	s.loadSample()

	form := echo.MIMEApplicationForm
	assertFormRejected(t, s, []formRejection{
		{"run plus sign", "/console/executive-retry/run", form, "max_retry_deliveries=%2B3", http.StatusBadRequest, "max_retry_deliveries"},
		{"run space", "/console/executive-retry/run", form, "max_retry_deliveries=%203", http.StatusBadRequest, "max_retry_deliveries"},
		{"run fraction", "/console/executive-retry/run", form, "max_retry_deliveries=3.5", http.StatusBadRequest, "max_retry_deliveries"},
		{"build fraction", "/console/retry-health", form, "expected_interval_minutes=30.5", http.StatusBadRequest, "expected_interval_minutes"},
		{"run hexadecimal timeout", "/console/executive-retry/run", form, "timeout_seconds=0x1p3", http.StatusBadRequest, "timeout_seconds"},
		{"run NaN timeout", "/console/executive-retry/run", form, "timeout_seconds=NaN", http.StatusBadRequest, "timeout_seconds"},
		{"plan plus multiplier", "/console/executive-retry/plan", form, "backoff_multiplier=%2B2", http.StatusBadRequest, "retry_policy.backoff_multiplier"},
		{"plan infinite multiplier", "/console/executive-retry/plan", form, "backoff_multiplier=Inf", http.StatusBadRequest, "retry_policy.backoff_multiplier"},
		{"schedule plus interval", "/console/executive-report/schedule", form, "interval_minutes=%2B60", http.StatusBadRequest, "schedule.interval_minutes"},
		{"deliver hexadecimal timeout", "/console/executive-report/deliver", form, "provider=slack&timeout_seconds=0x1p3", http.StatusBadRequest, "timeout_seconds"},
		{"send alert hexadecimal timeout", "/console/retry-health-alerts", form, "provider=all&timeout_seconds=0x1p3", http.StatusBadRequest, "timeout_seconds"},
	})

	// A number input with the default step takes 3.0 and 3e0 as the whole
	// number 3.
	for _, body := range []string{"max_retry_deliveries=3&timeout_seconds=1.5", "max_retry_deliveries=03&timeout_seconds=.5&backoff_multiplier=02.5",
		"max_retry_deliveries=3.0&retries=1e0&max_retry_attempts=3e0"} {
		rec := s.postForm("/console/executive-retry/run", body, echo.HeaderAccept, echo.MIMEApplicationJSON)
		if rec.Code != http.StatusCreated {
			t.Errorf("%s: status = %d, want 201 for numbers as a browser sends them; body: %s", body, rec.Code, rec.Body.String())
		}
	}
	rec := s.postForm("/console/retry-health", "expected_interval_minutes=30.0&stale_metadata_minutes=1.2e2", echo.HeaderAccept, echo.MIMEApplicationJSON)
	if rec.Code != http.StatusOK && rec.Code != http.StatusCreated {
		t.Errorf("build with 30.0 and 1.2e2: status = %d, want success; body: %s", rec.Code, rec.Body.String())
	}
}
