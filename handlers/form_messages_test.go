package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
)

// formError posts body to a console form as htmx does and returns the
// error fragment's field and text.
func formError(t *testing.T, s *testServer, path, body string, status int) (field, text string) {
	t.Helper()
	rec := s.postForm(path, body, "HX-Request", "true")
	if rec.Code != status {
		t.Fatalf("POST %s: status %d, want %d; body %s", path, rec.Code, status, rec.Body.String())
	}
	fragment := byTestID(document(t, rec), "error-fragment")
	if fragment.Length() != 1 {
		t.Fatalf("POST %s: %d error fragments, want 1; body %s", path, fragment.Length(), rec.Body.String())
	}
	field, _ = fragment.Attr("data-field")
	return field, strings.Join(strings.Fields(fragment.Text()), " ")
}

func TestFormZeroDelayNamesCheckbox(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/a"})
	policy := "max_retry_attempts=3&retry_delay_minutes=0&backoff_multiplier=2"
	bodies := map[string]string{
		"/console/executive-retry/plan":    policy,
		"/console/executive-retry/run":     policy + "&dry_run=true&max_retry_deliveries=5",
		"/console/executive-retry/confirm": policy + "&max_retry_deliveries=5",
	}

	for path, body := range bodies {
		field, text := formError(t, s.testServer, path, body, http.StatusUnprocessableEntity)
		if field != "retry_policy.allow_immediate_retry" {
			t.Errorf("%s: data-field = %q, want the checkbox retry_policy.allow_immediate_retry", path, field)
		}
		want := "Not done: Tick ‘Allow immediate retry (delay 0)’, or set ‘Retry delay (minutes)’ to at least 1."
		if text != want {
			t.Errorf("%s: fragment = %q, want %q", path, text, want)
		}
	}

	rec := s.postJSON(executiveRetryPath+"/delivery-retry-plan", `{"retry_policy":{"retry_delay_minutes":0}}`)
	apiErr := errorOf(t, rec.Body.String())
	if apiErr.Field != "retry_policy.retry_delay_minutes" {
		t.Errorf("JSON field = %q, want retry_policy.retry_delay_minutes", apiErr.Field)
	}
	if !strings.HasPrefix(apiErr.Message, "retry_policy.retry_delay_minutes is 0 but allow_immediate_retry is false") {
		t.Errorf("JSON message = %q, want the field paths", apiErr.Message)
	}
}

func TestFormRangeErrorNamesLabel(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/a"})

	field, text := formError(t, s.testServer, "/console/executive-retry/run",
		"dry_run=true&retry_delay_minutes=30&max_retry_deliveries=99", http.StatusBadRequest)
	if field != "max_retry_deliveries" {
		t.Errorf("data-field = %q, want max_retry_deliveries", field)
	}
	if want := "Not done: ‘Max retry deliveries’ must be a whole number from 1 to 25; got 99"; text != want {
		t.Errorf("fragment = %q, want %q", text, want)
	}
	if strings.Contains(text, "HTTP") {
		t.Errorf("fragment = %q, want no HTTP status", text)
	}

	// An error about a field that the form does not have keeps its
	// message.
	_, text = formError(t, s.testServer, "/console/executive-retry/plan", "max_retry_deliveries=5", http.StatusBadRequest)
	if !strings.Contains(text, "max_retry_deliveries is not a field of this form; remove it, or use one of max_retry_attempts") {
		t.Errorf("unknown field: fragment = %q, want the API message", text)
	}

	// A typed value that happens to look like a field path is quoted back
	// as typed.
	_, text = formError(t, s.testServer, "/console/executive-retry/plan", "retry_delay_minutes=max_retry_attempts", http.StatusBadRequest)
	if want := `Not done: ‘Retry delay (minutes)’ must be a whole number from 0 to 10080; got "max_retry_attempts"`; text != want {
		t.Errorf("fragment = %q, want %q", text, want)
	}
}

func TestFormExecutiveErrorsNameLabels(t *testing.T) {
	s := newExecutiveServer(t)
	s.seedRecovery()

	field, text := formError(t, s.testServer, "/console/executive-report/schedule",
		"interval_minutes=3&recovery_slo_minutes=240&period_days=7", http.StatusBadRequest)
	if field != "schedule.interval_minutes" {
		t.Errorf("schedule: data-field = %q, want schedule.interval_minutes", field)
	}
	if !strings.HasPrefix(text, "Not done: ‘Interval (minutes)’ must be") || strings.Contains(text, "schedule.") {
		t.Errorf("schedule: fragment = %q, want it to name ‘Interval (minutes)’", text)
	}

	s.schedule()
	field, text = formError(t, s.testServer, "/console/executive-report/deliver", "run_id=latest&retries=0&timeout_seconds=2",
		http.StatusBadRequest)
	if field != "provider" {
		t.Errorf("deliver: data-field = %q, want provider", field)
	}
	if !strings.HasPrefix(text, "Not done: ‘Destinations’ is required") {
		t.Errorf("deliver: fragment = %q, want it to name ‘Destinations’", text)
	}

	rec := s.postJSON(executiveReportPath+"/schedule-run", `{"schedule":{"interval_minutes":3}}`)
	if apiErr := errorOf(t, rec.Body.String()); !strings.HasPrefix(apiErr.Message, "schedule.interval_minutes") {
		t.Errorf("JSON schedule message = %q, want it to start with the field path", apiErr.Message)
	}
}

func TestFormAcknowledgementNamesLabel(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"retries": 0}`)
	action := "/console/retry-health-alerts/" + result.Health.HealthID + "/acknowledgements"

	body := url.Values{"provider": {"alpha"}, "acknowledgement_state": {"acknowledged"},
		"external_ref": {"https://user:pass@tickets.example/T-1"}}.Encode()
	field, text := formError(t, s.testServer, action, body, http.StatusBadRequest)
	if field != "external_ref" {
		t.Errorf("data-field = %q, want external_ref", field)
	}
	if !strings.HasPrefix(text, "Not done: ‘External reference’ contains a link with a user name or password") {
		t.Errorf("fragment = %q, want it to name ‘External reference’", text)
	}
}

func TestFormHealthThresholdsNameLabels(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())

	posts := []struct {
		path, body, field, label string
	}{
		{"/console/retry-health", "expected_interval_minutes=0", "expected_interval_minutes", "Expected interval (minutes)"},
		{"/console/retry-health", "stale_metadata_minutes=0", "stale_metadata_minutes", "Stale after (minutes)"},
		{"/console/retry-health-alerts", "provider=all&expected_interval_minutes=0", "expected_interval_minutes", "Expected interval (minutes)"},
		{"/console/retry-health-alerts", "provider=all&suppression_window_minutes=0", "suppression_window_minutes", "Suppression window (minutes)"},
		{"/console/retry-health-alerts", "provider=all&max_alerts=0", "max_alerts", "Findings in the message"},
		{"/console/retry-health-alerts", "provider=all&retries=9", "retries", "Quick retries"},
		{"/console/retry-health-alerts", "provider=all&timeout_seconds=x", "timeout_seconds", "Timeout per attempt (seconds)"},
	}
	for _, post := range posts {
		field, text := formError(t, s.testServer, post.path, post.body, http.StatusBadRequest)
		if field != post.field {
			t.Errorf("%s %s: data-field = %q, want %q", post.path, post.body, field, post.field)
		}
		if want := "Not done: ‘" + post.label + "’"; !strings.HasPrefix(text, want) {
			t.Errorf("%s %s: fragment = %q, want it to start with %q", post.path, post.body, text, want)
		}
	}

	rec := s.do(http.MethodGet, "/console/executive-retry/health?expected_interval_minutes=0&stale_metadata_minutes=180", "", "",
		"HX-Request", "true")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("executive retry health: status %d, want 400; body %s", rec.Code, rec.Body.String())
	}
	fragment := byTestID(document(t, rec), "error-fragment")
	if text := strings.Join(strings.Fields(fragment.Text()), " "); !strings.HasPrefix(text, "Not done: ‘Expected interval (minutes)’") {
		t.Errorf("executive retry health: fragment = %q, want it to name ‘Expected interval (minutes)’", text)
	}

	rec = s.postJSON(auditDelivery+"/recovery-escalations/retry-health-alerts/deliver", `{"max_alerts":0}`)
	if apiErr := errorOf(t, rec.Body.String()); !strings.HasPrefix(apiErr.Message, "max_alerts") {
		t.Errorf("JSON message = %q, want it to start with the field path", apiErr.Message)
	}
}

func TestFormRunLengthNamesLabels(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/a"})
	body := "dry_run=true&retry_delay_minutes=30&max_retry_deliveries=25&retries=5&timeout_seconds=60"

	field, text := formError(t, s.testServer, "/console/executive-retry/run", body, http.StatusUnprocessableEntity)
	if field != "timeout_seconds" {
		t.Errorf("data-field = %q, want timeout_seconds", field)
	}
	if !strings.HasPrefix(text, "Not done: With ‘Quick retries per delivery’ 5 and ‘Timeout per attempt (s)’ 60, one retry delivery can take up to") {
		t.Errorf("fragment = %q, want it to start with the labels and values", text)
	}
	if !strings.Contains(text, "Lower ‘Timeout per attempt (s)’, ‘Quick retries per delivery’ or ‘Max retry deliveries’.") {
		t.Errorf("fragment = %q, want it to name the three inputs to lower", text)
	}
	if !strings.HasSuffix(text, "A dry run checks the same limit, because it shows what a live run would do.") {
		t.Errorf("fragment = %q, want it to end with why a dry run is checked", text)
	}
	for _, sentence := range strings.Split(text, ". ") {
		if words := len(strings.Fields(sentence)); words > 30 {
			t.Errorf("sentence %q has %d words, want at most 30", sentence, words)
		}
	}

	rec := s.postJSON(executiveRetryPath+"/delivery-retry-worker-run",
		`{"dry_run":true,"max_retry_deliveries":25,"retries":5,"timeout_seconds":60}`)
	if apiErr := errorOf(t, rec.Body.String()); !strings.HasPrefix(apiErr.Message, "with retries 5 and timeout_seconds 60") {
		t.Errorf("JSON message = %q, want the field paths", apiErr.Message)
	}
}

func TestFormForbiddenHidesPermissionID(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	s.actAs("viewer-1", auth.RoleViewer)

	_, text := formError(t, s.testServer, "/console/retry-health-alerts", "provider=all", http.StatusForbidden)
	want := "Not done: Your role (viewer) may not build health, send alerts, or schedule and deliver executive reports; "
	if !strings.HasPrefix(text, want) {
		t.Errorf("fragment = %q, want it to start with %q", text, want)
	}
	if strings.Contains(text, "permission") {
		t.Errorf("fragment = %q, want no permission id", text)
	}

	rec := s.do(http.MethodPost, "/console/retry-health-alerts", echo.MIMEApplicationForm, "provider=all",
		echo.HeaderAccept, echo.MIMEApplicationJSON)
	if apiErr := errorOf(t, rec.Body.String()); !strings.Contains(apiErr.Message, "(permission alert.send)") {
		t.Errorf("JSON message = %q, want the permission id", apiErr.Message)
	}
}

func TestFormAcknowledgementReportsEveryField(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"retries": 0}`)
	action := "/console/retry-health-alerts/" + result.Health.HealthID + "/acknowledgements"
	values := url.Values{"provider": {"alpha"}, "acknowledgement_state": {"acknowledged"},
		"external_ref": {"https://user:pass@tickets.example/T-1"}, "notes": {"see https://tickets.example/T-1?token=abc"}}

	rec := s.postForm(action, values.Encode(), "HX-Request", "true")
	others, _ := byTestID(document(t, rec), "error-fragment").Attr("data-other-fields")
	if others != "notes" {
		t.Errorf("data-other-fields = %q, want notes, the second invalid field", others)
	}
	field, text := formError(t, s.testServer, action, values.Encode(), http.StatusBadRequest)
	if field != "external_ref" {
		t.Errorf("data-field = %q, want the first invalid field external_ref", field)
	}
	if !strings.HasPrefix(text, "Not done: ‘External reference’ contains a link with a user name or password") {
		t.Errorf("fragment = %q, want it to start with the ‘External reference’ error", text)
	}
	if !strings.Contains(text, ". ‘Notes’ contains a link with a query string") {
		t.Errorf("fragment = %q, want the ‘Notes’ error as its own sentence", text)
	}
	if strings.Contains(text, "user:pass") || strings.Contains(text, "token=abc") {
		t.Errorf("fragment = %q, want no credential repeated", text)
	}

	values.Set("notes", "paged the on-call engineer")
	_, text = formError(t, s.testServer, action, values.Encode(), http.StatusBadRequest)
	if strings.Contains(text, "Notes") {
		t.Errorf("fragment = %q, want only the ‘External reference’ error when the notes are valid", text)
	}
	rec = s.postForm(action, values.Encode(), "HX-Request", "true")
	if _, marked := byTestID(document(t, rec), "error-fragment").Attr("data-other-fields"); marked {
		t.Error("fragment has data-other-fields, want none when only one field is invalid")
	}

	rec = s.postJSON(auditDelivery+"/recovery-escalations/retry-health-alerts/"+result.Health.HealthID+"/acknowledgements",
		`{"provider":"alpha","external_ref":"https://user:pass@tickets.example/T-1","notes":"see https://tickets.example/T-1?token=abc"}`)
	apiErr := errorOf(t, rec.Body.String())
	if apiErr.Field != "external_ref" || !strings.HasPrefix(apiErr.Message, "external_ref contains") {
		t.Errorf("JSON error = %q %q, want the first field external_ref named by its path", apiErr.Field, apiErr.Message)
	}
}
