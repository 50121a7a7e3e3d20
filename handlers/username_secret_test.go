package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// trackerToken is a configured secret that fits the username pattern, as
// the tracker token of `make run` does.
const trackerToken = "local-receiver-token"

func TestCreateUserRejectsConfiguredSecret(t *testing.T) {
	s, logs := newLoggedTestServer(t)
	secrets := connectors.NewRedactor(trackerToken)
	s.handler.Secrets = secrets
	s.handler.Auth.Service.(*auth.Service).Secrets = secrets
	b, csrf := signedInAdmin(s)
	before := dbtest.CountRows(t, s.db)["users"]

	rec := b.do(http.MethodPost, "/users", url.Values{"username": {trackerToken}, "role": {"viewer"}, "_csrf": {csrf}})

	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400; body: %s", rec.Code, rec.Body.String())
	}
	body := rec.Body.String()
	if !strings.Contains(body, "The username is invalid: looks like a credential or a link") {
		t.Errorf("body does not name the username field and say it looks like a credential:\n%s", body)
	}
	if strings.Contains(body, trackerToken) {
		t.Error("body repeats the secret, want the form's username emptied")
	}
	if got := dbtest.CountRows(t, s.db)["users"]; got != before {
		t.Errorf("users rows = %d, want %d", got, before)
	}
	if strings.Contains(logs.String(), trackerToken) {
		t.Errorf("log contains the secret:\n%s", logs.String())
	}
}

func TestSetupRejectsConfiguredSecretUsername(t *testing.T) {
	s := newTestServer(t)
	for _, table := range []string{"api_tokens", "users"} {
		if err := s.db.Exec("DELETE FROM " + table).Error; err != nil {
			t.Fatalf("clear %s: %v", table, err)
		}
	}
	secrets := connectors.NewRedactor(trackerToken)
	s.handler.Secrets = secrets
	s.handler.Auth.Service.(*auth.Service).Secrets = secrets
	s.handler.Auth.Setup = &auth.SetupToken{}
	token, err := s.handler.Auth.Setup.Issue(testNow)
	if err != nil {
		t.Fatalf("issue setup token: %v", err)
	}
	b := newBrowser(s)
	csrf := b.formCSRF("/setup?token=" + url.QueryEscape(token))

	rec := b.do(http.MethodPost, "/setup", url.Values{
		"_csrf": {csrf}, "token": {token}, "username": {trackerToken},
		"password": {"a-long-enough-password"}, "password_confirmation": {"another-long-password"},
	})

	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400; body: %s", rec.Code, rec.Body.String())
	}
	if !strings.Contains(rec.Body.String(), "The username is invalid: looks like a credential or a link") {
		t.Errorf("body does not say the username looks like a credential:\n%s", rec.Body.String())
	}
	if strings.Contains(rec.Body.String(), trackerToken) {
		t.Error("body repeats the secret, want the form's username emptied")
	}
	if got := dbtest.CountRows(t, s.db)["users"]; got != 0 {
		t.Errorf("users rows = %d, want 0", got)
	}
	if !s.handler.Auth.Setup.Valid(token, testNow) {
		t.Error("the rejected form used up the setup token, want it still valid")
	}
}

// A rejected setup form marks the field its error names and focuses the
// first field to fill in again: both password fields come back empty, so
// after differing passwords that is the first. A reload opens the setup
// link again.
func TestSetupFocusesRejectedField(t *testing.T) {
	cases := []struct {
		name, username, password, confirmation, wantFocused, wantInvalid string
	}{
		{"passwords differ", "first-admin", "a-long-enough-password", "another-long-password", "setup-password", "setup-password-confirmation"},
		{"password too short", "first-admin", "short", "short", "setup-password", "setup-password"},
		{"username invalid", "two words", "a-long-enough-password", "a-long-enough-password", "setup-username", "setup-username"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, logs := newLoggedTestServer(t)
			for _, table := range []string{"api_tokens", "users"} {
				if err := s.db.Exec("DELETE FROM " + table).Error; err != nil {
					t.Fatalf("clear %s: %v", table, err)
				}
			}
			s.handler.Auth.Setup = &auth.SetupToken{}
			token, err := s.handler.Auth.Setup.Issue(testNow)
			if err != nil {
				t.Fatalf("issue setup token: %v", err)
			}
			b := newBrowser(s)
			csrf := b.formCSRF("/setup?token=" + url.QueryEscape(token))

			rec := b.do(http.MethodPost, "/setup", url.Values{
				"_csrf": {csrf}, "token": {token}, "username": {tc.username},
				"password": {tc.password}, "password_confirmation": {tc.confirmation},
			})
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body: %s", rec.Code, rec.Body.String())
			}
			doc := document(t, rec)
			for _, id := range []string{"setup-username", "setup-password", "setup-password-confirmation"} {
				_, focused := byTestID(doc, id).Attr("autofocus")
				if focused != (id == tc.wantFocused) {
					t.Errorf("%s autofocus = %v, want %v", id, focused, id == tc.wantFocused)
				}
				invalid := byTestID(doc, id).AttrOr("aria-invalid", "") == "true"
				if invalid != (id == tc.wantInvalid) {
					t.Errorf("%s aria-invalid = %v, want %v", id, invalid, id == tc.wantInvalid)
				}
			}
			if got, want := byTestID(doc, "setup-error").AttrOr("data-replace-url", ""), "/setup?token="+url.QueryEscape(token); got != want {
				t.Errorf("setup error data-replace-url = %q, want %q", got, want)
			}
			// A rejected form is logged like every other rejected request,
			// without the username.
			if !strings.Contains(logs.String(), "setup form for the first admin rejected") {
				t.Errorf("log has no line for the rejected setup form:\n%s", logs.String())
			}
			if strings.Contains(logs.String(), tc.username) {
				t.Errorf("log names the rejected username %q:\n%s", tc.username, logs.String())
			}
		})
	}
}
