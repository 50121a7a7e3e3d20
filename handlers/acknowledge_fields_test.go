package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// fieldListError is the JSON error of a request with invalid fields.
type fieldListError struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Field   string `json:"field"`
	Message string `json:"message"`
	Details struct {
		InvalidFields []invalidField `json:"invalid_fields"`
	} `json:"details"`
}

func decodeFieldListError(t *testing.T, body string) fieldListError {
	t.Helper()
	var envelope struct {
		Error fieldListError `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &envelope); err != nil {
		t.Fatalf("decode error body %q: %v", body, err)
	}
	return envelope.Error
}

func detailFields(details []invalidField) []string {
	fields := []string{}
	for _, detail := range details {
		fields = append(fields, detail.Field)
	}
	return fields
}

// newAcknowledgeFieldServer sends one alert to hook-b, whose bearer token
// is a configured secret, and returns the server and the alert's
// acknowledgement path.
func newAcknowledgeFieldServer(t *testing.T) (*alertServer, string) {
	t.Helper()
	s := newAlertServer(t, map[string]destination{
		"hook-b": {kind: connectors.KindWebhook, url: "{receiver}/webhook/hook-b", token: "hookb-token-Qz81"},
	})
	// As in production, the handler redacts with the connectors' secrets.
	s.handler.Secrets = s.handler.Alerts.(*alerting.Service).Destinations.Redactor()
	s.e = NewServer(s.handler)
	rec, result := s.deliver(`{"provider": "hook-b", "retries": 0}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("deliver: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	return s, alertsPath + "/" + result.Health.HealthID + "/acknowledgements"
}

func TestAcknowledgeJSONListsEveryInvalidField(t *testing.T) {
	s, path := newAcknowledgeFieldServer(t)
	before := dbtest.CountRows(t, s.db)

	rec := s.postJSON(path, `{"provider":"hook-b","external_ref":"a\tb","acknowledgement_state":"x","notes":"Bearer abcdefghijklmnop1234"}`)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status: got %d, want 400 (%s)", rec.Code, rec.Body.String())
	}
	got := decodeFieldListError(t, rec.Body.String())
	if got.Field != "acknowledgement_state" || got.Code != CodeInvalidField {
		t.Errorf("field and code: got %q and %q, want the first field acknowledgement_state and %q", got.Field, got.Code, CodeInvalidField)
	}
	if !strings.Contains(got.Message, `acknowledgement_state "x" is not valid`) {
		t.Errorf("message: got %q, want the first field's message", got.Message)
	}
	want := []string{"acknowledgement_state", "external_ref", "notes"}
	if fields := detailFields(got.Details.InvalidFields); strings.Join(fields, ",") != strings.Join(want, ",") {
		t.Fatalf("details fields: got %v, want %v", fields, want)
	}
	if got.Details.InvalidFields[0].Message != got.Message {
		t.Errorf("details[0].message: got %q, want the top-level message %q", got.Details.InvalidFields[0].Message, got.Message)
	}
	for _, detail := range got.Details.InvalidFields {
		if !strings.Contains(detail.Message, detail.Field) {
			t.Errorf("detail %s: message %q does not name the field", detail.Field, detail.Message)
		}
	}
	if strings.Contains(rec.Body.String(), "abcdefghijklmnop1234") {
		t.Errorf("response repeats the bearer token: %s", rec.Body.String())
	}
	assertNothingStored(t, before, dbtest.CountRows(t, s.db))
}

// Each listed message is redacted and shortened as the first one is, so a
// configured secret sent as a value does not come back.
func TestAcknowledgeJSONDetailsAreRedacted(t *testing.T) {
	s, path := newAcknowledgeFieldServer(t)
	before := dbtest.CountRows(t, s.db)
	long := strings.Repeat("y", 300)

	body, _ := json.Marshal(map[string]string{
		"provider": "hook-b", "acknowledgement_state": "hookb-token-Qz81 " + long,
		"external_ref": "a\u202eb", "notes": "token hookb-token-Qz81 Bearer abcdefghijklmnop1234",
	})
	rec := s.postJSON(path, string(body))
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status: got %d, want 400 (%s)", rec.Code, rec.Body.String())
	}
	for _, secret := range []string{"hookb-token-Qz81", "abcdefghijklmnop1234", long} {
		if strings.Contains(rec.Body.String(), secret) {
			t.Errorf("response repeats %.20q…: %s", secret, rec.Body.String())
		}
	}
	got := decodeFieldListError(t, rec.Body.String())
	want := []string{"acknowledgement_state", "external_ref", "notes"}
	if fields := detailFields(got.Details.InvalidFields); strings.Join(fields, ",") != strings.Join(want, ",") {
		t.Fatalf("details fields: got %v, want %v", fields, want)
	}
	if got.Details.InvalidFields[0].Message != got.Message {
		t.Errorf("details[0].message: got %q, want the top-level message %q", got.Details.InvalidFields[0].Message, got.Message)
	}
	if !strings.Contains(got.Details.InvalidFields[0].Message, "…") || !strings.Contains(got.Details.InvalidFields[0].Message, connectors.Redacted) {
		t.Errorf("details[0].message: got %q, want the quoted value redacted and cut with …", got.Details.InvalidFields[0].Message)
	}
	assertNothingStored(t, before, dbtest.CountRows(t, s.db))
}

// An empty acknowledgement_state or plan_id is rejected before the service
// runs, and the fields after them are still listed.
func TestAcknowledgeJSONListsEmptyFields(t *testing.T) {
	s, path := newAcknowledgeFieldServer(t)
	before := dbtest.CountRows(t, s.db)

	rec := s.postJSON(path, `{"provider":"hook-b","acknowledgement_state":" ","plan_id":"","notes":"Bearer abcdefghijklmnop1234"}`)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status: got %d, want 400 (%s)", rec.Code, rec.Body.String())
	}
	got := decodeFieldListError(t, rec.Body.String())
	if got.Field != "acknowledgement_state" || !strings.Contains(got.Message, "acknowledgement_state is empty") {
		t.Errorf("first field: got %q %q, want acknowledgement_state is empty", got.Field, got.Message)
	}
	want := []string{"acknowledgement_state", "plan_id", "notes"}
	if fields := detailFields(got.Details.InvalidFields); strings.Join(fields, ",") != strings.Join(want, ",") {
		t.Errorf("details fields: got %v, want %v", fields, want)
	}
	if strings.Contains(rec.Body.String(), "abcdefghijklmnop1234") {
		t.Errorf("response repeats the bearer token: %s", rec.Body.String())
	}

	// An empty field alone lists only itself, and a valid request after it
	// is still recorded.
	rec = s.postJSON(path, `{"provider":"hook-b","plan_id":""}`)
	got = decodeFieldListError(t, rec.Body.String())
	if rec.Code != http.StatusBadRequest || got.Field != "plan_id" || strings.Join(detailFields(got.Details.InvalidFields), ",") != "plan_id" {
		t.Errorf("empty plan_id alone: got %d %+v, want 400 listing plan_id only", rec.Code, got)
	}
	assertNothingStored(t, before, dbtest.CountRows(t, s.db))
	if rec := s.postJSON(path, `{"provider":"hook-b"}`); rec.Code != http.StatusCreated {
		t.Errorf("valid acknowledgement: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
}

func TestAcknowledgeJSONOneInvalidField(t *testing.T) {
	s, path := newAcknowledgeFieldServer(t)
	rec := s.postJSON(path, `{"provider":"hook-b","acknowledgement_state":"x"}`)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status: got %d, want 400 (%s)", rec.Code, rec.Body.String())
	}
	got := decodeFieldListError(t, rec.Body.String())
	if len(got.Details.InvalidFields) != 1 || got.Details.InvalidFields[0].Field != got.Field || got.Details.InvalidFields[0].Message != got.Message {
		t.Errorf("details: got %+v, want one entry equal to field %q and message %q", got.Details.InvalidFields, got.Field, got.Message)
	}
}

// The console form route returns the same list to a JSON client.
func TestAcknowledgeFormJSONListsEveryInvalidField(t *testing.T) {
	s, path := newAcknowledgeFieldServer(t)
	healthID := strings.TrimSuffix(strings.TrimPrefix(path, alertsPath+"/"), "/acknowledgements")
	before := dbtest.CountRows(t, s.db)

	form := url.Values{"provider": {"hook-b"}, "acknowledgement_state": {"x"}, "external_ref": {"a\tb"}, "notes": {"Bearer abcdefghijklmnop1234"}}
	rec := s.postForm("/console/retry-health-alerts/"+healthID+"/acknowledgements", form.Encode(), echo.HeaderAccept, "application/json")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status: got %d, want 400 (%s)", rec.Code, rec.Body.String())
	}
	got := decodeFieldListError(t, rec.Body.String())
	want := []string{"acknowledgement_state", "external_ref", "notes"}
	if got.Field != "acknowledgement_state" || strings.Join(detailFields(got.Details.InvalidFields), ",") != strings.Join(want, ",") {
		t.Errorf("error: got field %q details %v, want acknowledgement_state and %v", got.Field, detailFields(got.Details.InvalidFields), want)
	}
	if strings.Contains(rec.Body.String(), "abcdefghijklmnop1234") {
		t.Errorf("response repeats the bearer token: %s", rec.Body.String())
	}
	assertNothingStored(t, before, dbtest.CountRows(t, s.db))
}

// invalidFields redacts each message itself, without the response
// scrubber behind it, and cuts a long quoted value.
func TestInvalidFieldsRedactsEachMessage(t *testing.T) {
	h := &Handler{Secrets: connectors.NewRedactor("hookb-token-Qz81")}
	long := strings.Repeat("y", 300)
	first := &alerting.FieldError{Field: "acknowledgement_state", Message: `acknowledgement_state "x" is not valid`,
		Others: []*alerting.FieldError{
			{Field: "external_ref", Message: `external_ref "hookb-token-Qz81 ` + long + `" is not valid`},
			{Field: "notes", Message: "notes contain Bearer abcdefghijklmnop1234"},
		}}

	fields := h.invalidFields(first)
	if len(fields) != 3 {
		t.Fatalf("fields: got %+v, want 3", fields)
	}
	if fields[0].Field != "acknowledgement_state" || fields[0].Message != `acknowledgement_state "x" is not valid` {
		t.Errorf("first: got %+v, want the first field unchanged", fields[0])
	}
	for _, field := range fields {
		for _, secret := range []string{"hookb-token-Qz81", "abcdefghijklmnop1234", long} {
			if strings.Contains(field.Message, secret) {
				t.Errorf("field %s: message %q repeats %.20q", field.Field, field.Message, secret)
			}
		}
	}
	if !strings.Contains(fields[1].Message, connectors.Redacted) || !strings.Contains(fields[1].Message, "…") {
		t.Errorf("external_ref: got %q, want the secret redacted and the value cut with …", fields[1].Message)
	}
}

// An empty State in the console form is reported with the other invalid
// fields: the form marks each and a JSON client gets every one in
// details.invalid_fields, as for any other invalid state.
func TestAcknowledgeFormEmptyStateListsOtherFields(t *testing.T) {
	s, path := newAcknowledgeFieldServer(t)
	healthID := strings.TrimSuffix(strings.TrimPrefix(path, alertsPath+"/"), "/acknowledgements")
	action := "/console/retry-health-alerts/" + healthID + "/acknowledgements"
	before := dbtest.CountRows(t, s.db)
	form := url.Values{"provider": {"hook-b"}, "acknowledgement_state": {""}, "external_ref": {"a\tb"}}

	rec := s.postForm(action, form.Encode(), echo.HeaderAccept, "application/json")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status: got %d, want 400 (%s)", rec.Code, rec.Body.String())
	}
	got := decodeFieldListError(t, rec.Body.String())
	if got.Field != "acknowledgement_state" {
		t.Errorf("field: got %q, want acknowledgement_state first", got.Field)
	}
	want := []string{"acknowledgement_state", "external_ref"}
	if fields := detailFields(got.Details.InvalidFields); strings.Join(fields, ",") != strings.Join(want, ",") {
		t.Errorf("details fields: got %v, want %v", fields, want)
	}

	rec = s.postForm(action, form.Encode(), "HX-Request", "true")
	fragment := byTestID(document(t, rec), "error-fragment")
	if others, _ := fragment.Attr("data-other-fields"); others != "external_ref" {
		t.Errorf("data-other-fields = %q, want external_ref", others)
	}
	text := fragment.Text()
	if !strings.Contains(text, "‘State’ is empty; choose one of") {
		t.Errorf("fragment = %q, want the ‘State’ message of the form", text)
	}
	if !strings.Contains(text, "External reference") {
		t.Errorf("fragment = %q, want the ‘External reference’ error too", text)
	}
	assertNothingStored(t, before, dbtest.CountRows(t, s.db))

	// An empty State alone keeps the form's message and lists itself.
	form.Del("external_ref")
	rec = s.postForm(action, form.Encode(), echo.HeaderAccept, "application/json")
	got = decodeFieldListError(t, rec.Body.String())
	if fields := detailFields(got.Details.InvalidFields); rec.Code != http.StatusBadRequest || strings.Join(fields, ",") != "acknowledgement_state" {
		t.Errorf("empty State alone: got %d with details %v, want 400 listing acknowledgement_state", rec.Code, fields)
	}
	rec = s.postForm(action, form.Encode(), "HX-Request", "true")
	if text := byTestID(document(t, rec), "error-fragment").Text(); !strings.Contains(text, "‘State’ is empty; choose one of") {
		t.Errorf("fragment = %q, want the ‘State’ message of the form", text)
	}
}

// A browser submits a textarea's line breaks as CRLF but counts each as one
// character against maxlength, so a note at the limit in the browser is
// accepted and stored with LF line breaks.
func TestAcknowledgeFormCountsLineBreakOnce(t *testing.T) {
	s, path := newAcknowledgeFieldServer(t)
	healthID := strings.TrimSuffix(strings.TrimPrefix(path, alertsPath+"/"), "/acknowledgements")
	action := "/console/retry-health-alerts/" + healthID + "/acknowledgements"
	lines := make([]string, 10)
	for i := range lines {
		lines[i] = strings.Repeat("n", 199)
	}
	// 10 lines of 199 characters and 9 line breaks: 1,999 characters as
	// the browser counts them, 2,008 with CRLF.
	form := url.Values{"provider": {"hook-b"}, "acknowledgement_state": {"acknowledged"}, "notes": {strings.Join(lines, "\r\n")}}

	rec := s.postForm(action, form.Encode(), echo.HeaderAccept, "application/json")
	if rec.Code != http.StatusCreated {
		t.Fatalf("status: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	var result struct {
		Acknowledgement struct {
			Notes string `json:"notes"`
		} `json:"acknowledgement"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &result); err != nil {
		t.Fatalf("decode %s: %v", rec.Body.String(), err)
	}
	if want := strings.Join(lines, "\n"); result.Acknowledgement.Notes != want {
		t.Errorf("stored notes: got %d characters with CR %v, want the lines joined by LF",
			len(result.Acknowledgement.Notes), strings.Contains(result.Acknowledgement.Notes, "\r"))
	}
}
