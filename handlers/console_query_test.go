package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestConsoleRejectsUnknownQuery(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())

	rec := s.do(http.MethodGet, "/console?foo=1", "", "", "Accept", "application/json")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("GET /console?foo=1: got status %d, want 400", rec.Code)
	}
	apiErr := apiErrorOf(t, rec.Body.Bytes())
	if apiErr.Field != "foo" {
		t.Errorf("field: got %q, want foo", apiErr.Field)
	}
	for _, accepted := range []string{"health_id", "plan_id", "retry_plan_id", "provider", "suppressed", "limit", "offset"} {
		if !strings.Contains(apiErr.Message, accepted) {
			t.Errorf("message: got %q, want it to list %s", apiErr.Message, accepted)
		}
	}

	repeated := s.do(http.MethodGet, "/console?limit=5&limit=6", "", "", "Accept", "application/json")
	if repeated.Code != http.StatusBadRequest || apiErrorOf(t, repeated.Body.Bytes()).Field != "limit" {
		t.Errorf("repeated limit: got status %d %s, want 400 naming limit", repeated.Code, repeated.Body.String())
	}

	// Every parameter the console's own links and forms use is accepted.
	accepted := "/console?health_id=&plan_id=&retry_plan_id=&provider=alpha&metadata_kind=&acknowledgement_state=&suppressed=&limit=5&offset=0"
	if rec := s.do(http.MethodGet, accepted, "", "", "Accept", "text/html"); rec.Code != http.StatusOK {
		t.Errorf("GET %s: got status %d, want 200", accepted, rec.Code)
	}
}

// A browser gets the console back with the alert history filters as typed
// and the message above them, as /history does, instead of an error page.
func TestConsoleShowsRejectedFiltersInPlace(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	s.deliver(`{"retries": 0}`)

	// A filter of the form is named by its label, the hidden limit and an
	// unknown parameter by their names in the address.
	tests := []struct {
		query, field, mention string
	}{
		{"?limit=0&provider=alpha", "limit", "from 1 to 500"},
		{"?foo=1&provider=alpha", "foo", "not a query parameter"},
		{"?suppressed=maybe&provider=alpha", "‘Suppressed’", "true or false"},
		{"?metadata_kind=plans&provider=alpha", "‘Kind’", "plan, delivery or acknowledgement"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			rec := s.do(http.MethodGet, "/console"+tc.query, "", "", "Accept", "text/html")
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status: got %d, want 400", rec.Code)
			}
			doc := document(t, rec)
			if byTestID(doc, "error-page").Length() != 0 {
				t.Fatal("page: got the error page, want the console with the message")
			}
			if byTestID(doc, "go-rollback-drill-notifications").Length() != 1 {
				t.Error("console sections: missing, want them shown")
			}
			message := byTestID(doc, "alert-history-error").Text()
			if !strings.Contains(message, "The filters were not applied") || !strings.Contains(message, tc.mention) {
				t.Errorf("message: got %q, want it to say the filters were not applied and mention %q", message, tc.mention)
			}
			if !strings.Contains(message, tc.field) {
				t.Errorf("message: got %q, want it to name %s", message, tc.field)
			}
			if got := byTestID(doc, "console-query-error").Length(); got != 1 {
				t.Errorf("notice at the top: got %d, want 1 linking to the message", got)
			}
			if got := byTestID(doc, "history-row").Length(); got != 0 {
				t.Errorf("history rows: got %d, want none while the filters are rejected", got)
			}
			provider := doc.Find(`[data-testid="history-filters"] input[name=provider]`)
			if got, _ := provider.Attr("value"); got != "alpha" {
				t.Errorf("destination filter: got %q, want alpha kept as typed", got)
			}
			// The limit is a hidden field, so the form sends the default
			// instead of repeating a rejected value.
			limit := doc.Find(`[data-testid="history-filters"] input[name=limit]`)
			if got, _ := limit.Attr("value"); got != "50" {
				t.Errorf("hidden limit: got %q, want the default 50", got)
			}
		})
	}

	invalid := s.do(http.MethodGet, "/console?suppressed=maybe", "", "", "Accept", "text/html")
	field := document(t, invalid).Find(`[data-testid="history-filters"] select[name=suppressed]`)
	if got, _ := field.Attr("aria-invalid"); got != "true" {
		t.Errorf("suppressed filter aria-invalid: got %q, want true", got)
	}
	if _, focused := field.Attr("autofocus"); !focused {
		t.Error("suppressed filter autofocus: missing, want the rejected field to take the focus")
	}
	if got, _ := field.Attr("aria-describedby"); got != "alert-history-error" {
		t.Errorf("suppressed filter aria-describedby: got %q, want alert-history-error", got)
	}
}

// Forms repeat labels such as "Max retry attempts", so each form of a page
// has a name of its own for screen readers that list forms.
func TestPageFormsHaveNames(t *testing.T) {
	s := newAuditServer(t)
	b, _ := signedInAdmin(s.testServer)

	for _, path := range []string{"/console", "/history", "/users", "/profile"} {
		rec := b.do(http.MethodGet, path, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status = %d, want 200", path, rec.Code)
		}
		forms := document(t, rec).Find("form")
		if forms.Length() < 2 {
			t.Errorf("%s: %d forms, want the page's and the sign-out form", path, forms.Length())
		}
		forms.Each(func(_ int, form *goquery.Selection) {
			if form.AttrOr("aria-label", "") == "" && form.AttrOr("aria-labelledby", "") == "" {
				t.Errorf("%s: form with action %q has no aria-label or aria-labelledby", path, form.AttrOr("action", ""))
			}
		})
	}
}

// An unknown health_id is reported at the alert history filters, quoted
// so that control and bidirectional characters stay visible.
func TestConsoleUnknownHealthIDInPlace(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	s.deliver(`{"retries": 0}`)

	rec := s.do(http.MethodGet, "/console?health_id=%E2%80%AEabc-def", "", "", "Accept", "text/html")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status: got %d, want 404", rec.Code)
	}
	doc := document(t, rec)
	if byTestID(doc, "error-page").Length() != 0 {
		t.Fatal("page: got the error page, want the console with the message")
	}
	if byTestID(doc, "retry-health-panel").Length() != 1 {
		t.Error("health panel: missing, want the newest snapshot shown")
	}
	message := byTestID(doc, "alert-history-error").Text()
	if !strings.Contains(message, `no health snapshot has health_id "\u202eabc-def"`) {
		t.Errorf("message: got %q, want the id quoted with the override character escaped", message)
	}
	if strings.Contains(message, "\u202e") {
		t.Errorf("message: got %q, want no raw override character", message)
	}
	if got := byTestID(doc, "console-query-error").Length(); got != 1 {
		t.Errorf("notice at the top: got %d, want 1", got)
	}
	input := doc.Find(`[data-testid="history-filters"] input[name=health_id]`)
	if value, _ := input.Attr("value"); value != "\u202eabc-def" {
		t.Errorf("health_id filter: got %q, want the value as typed", value)
	}

	rec = s.do(http.MethodGet, "/console?health_id=hlth_typo", "", "", "Accept", "application/json")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("JSON status: got %d, want 404", rec.Code)
	}
	if apiErr := apiErrorOf(t, rec.Body.Bytes()); apiErr.Field != "health_id" || !strings.Contains(apiErr.Message, `"hlth_typo"`) {
		t.Errorf("JSON error: got field %q message %q, want health_id and the quoted id", apiErr.Field, apiErr.Message)
	}
}

// The alert history's message names a rejected filter by its label, ends
// its sentence before "Check", and lists the Kind choices the select shows.
func TestConsoleFilterMessageWording(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())

	tests := []struct {
		name, query, want string
	}{
		{"long health id", "?health_id=" + strings.Repeat("h", 201),
			"The filters were not applied: ‘Health id’ must have at most 200 characters; got 201."},
		{"long destination", "?provider=" + strings.Repeat("p", 201),
			"The filters were not applied: ‘Destination’ must have at most 200 characters; got 201."},
		{"unknown kind", "?metadata_kind=plans",
			`The filters were not applied: ‘Kind’ "plans" is not a history kind; choose any, plan, delivery or acknowledgement.`},
		{"invalid suppressed", "?suppressed=maybe",
			`The filters were not applied: ‘Suppressed’ must be true or false; got "maybe".`},
		{"unknown state", "?acknowledgement_state=closed",
			`The filters were not applied: ‘Acknowledgement state’ "closed" is not valid; send one of acknowledged, dismissed, escalated, resolved.`},
		{"hidden limit", "?limit=0",
			`The filters were not applied: limit must be a whole number from 1 to 500; got "0".`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.do(http.MethodGet, "/console"+tc.query, "", "", "Accept", "text/html")
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status: got %d, want 400", rec.Code)
			}
			message := strings.Join(strings.Fields(byTestID(document(t, rec), "alert-history-error").Text()), " ")
			if message != tc.want {
				t.Errorf("message:\n got %q\nwant %q", message, tc.want)
			}
		})
	}

	// A typed kind that contains a password is redacted in the form's message
	// as in the JSON one.
	secretKind := s.do(http.MethodGet, "/console?metadata_kind=https://user:pa55word@example.test/x", "", "", "Accept", "text/html")
	if message := byTestID(document(t, secretKind), "alert-history-error").Text(); strings.Contains(message, "pa55word") {
		t.Errorf("message: got %q, want the password redacted", message)
	}

	// The JSON API keeps naming the parameter and the stored kind names.
	rec := s.do(http.MethodGet, "/console?metadata_kind=plans", "", "", "Accept", "application/json")
	apiErr := apiErrorOf(t, rec.Body.Bytes())
	if !strings.HasPrefix(apiErr.Message, `metadata_kind "plans" is not a history kind; send one of `) {
		t.Errorf("JSON message: got %q, want the parameter named", apiErr.Message)
	}
}
