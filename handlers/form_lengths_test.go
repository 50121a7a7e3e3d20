package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/auth/authtest"
)

// overlongValue is far longer than any form field's maximum, so a page
// that repeats it is easy to tell from one that does not.
var overlongValue = strings.Repeat("x", 200_000)

// assertOverlongRejected checks that a form response rejects the overlong
// value with its field's maximum and does not repeat the value.
func assertOverlongRejected(t *testing.T, name string, rec *httptest.ResponseRecorder, maxLength string) {
	t.Helper()
	if rec.Code != http.StatusBadRequest {
		t.Errorf("%s: status %d, want 400", name, rec.Code)
	}
	if size := rec.Body.Len(); size > 50_000 {
		t.Errorf("%s: response of %d bytes, want the value left out", name, size)
	}
	if !strings.Contains(rec.Body.String(), "must have at most "+maxLength+" characters") {
		t.Errorf("%s: got %.500s, want the field's maximum of %s characters", name, rec.Body.String(), maxLength)
	}
}

func TestSignInRejectsOverlongUsername(t *testing.T) {
	s := newTestServer(t)
	s.anonymous()
	b := newBrowser(s)

	csrf := b.formCSRF("/sign-in")
	rec := b.do(http.MethodPost, "/sign-in", url.Values{
		"_csrf": {csrf}, "username": {overlongValue}, "password": {"wrong-password"}, "next": {"/" + overlongValue},
	})
	assertOverlongRejected(t, "sign-in", rec, "64")
	if !strings.Contains(rec.Body.String(), "The username is invalid") {
		t.Errorf("sign-in: got %.500s, want the error to name the username", rec.Body.String())
	}
}

func TestProfileRejectsOverlongTokenName(t *testing.T) {
	s := newTestServer(t)
	authtest.CreateUser(t, s.db, "viewer", auth.RoleViewer)
	b := newBrowser(s)
	b.mustSignIn("viewer")

	rec := b.do(http.MethodPost, "/profile/tokens", url.Values{"name": {overlongValue}, "_csrf": {b.sessionCSRF()}})
	assertOverlongRejected(t, "token name", rec, "100")
	if !strings.Contains(rec.Body.String(), "The token name is invalid") {
		t.Errorf("token name: got %.500s, want the error to name the token name", rec.Body.String())
	}

	// The part shown again for correction is not repeated when it looks
	// like a credential.
	pasted := "ghp_abcdefghijklmnopqrstuvwxyz0123 " + overlongValue
	rec = b.do(http.MethodPost, "/profile/tokens", url.Values{"name": {pasted}, "_csrf": {b.sessionCSRF()}})
	assertOverlongRejected(t, "pasted token name", rec, "100")
	if strings.Contains(rec.Body.String(), "ghp_abcdefghijklmnopqrstuvwxyz0123") {
		t.Error("pasted token name: the page repeats the credential")
	}
}

func TestUsersRejectsOverlongUsername(t *testing.T) {
	s := newTestServer(t)
	authtest.CreateUser(t, s.db, "root", auth.RoleAdmin)
	b := newBrowser(s)
	b.mustSignIn("root")

	rec := b.do(http.MethodPost, "/users", url.Values{"username": {overlongValue}, "role": {"viewer"}, "_csrf": {b.sessionCSRF()}})
	assertOverlongRejected(t, "new user", rec, "64")
	if got, _ := byTestID(document(t, rec), "users-error").Attr("data-field"); got != "username" {
		t.Errorf("new user: error field %q, want username", got)
	}
}

func TestSetupRejectsOverlongUsername(t *testing.T) {
	s := newTestServer(t)
	s.anonymous()
	// The setup link needs an empty users table.
	if err := s.db.Exec("DELETE FROM api_tokens").Error; err != nil {
		t.Fatalf("clear tokens: %v", err)
	}
	if err := s.db.Exec("DELETE FROM users").Error; err != nil {
		t.Fatalf("clear users: %v", err)
	}
	s.handler.Auth.Setup = &auth.SetupToken{}
	token, err := s.handler.Auth.Setup.Issue(testNow)
	if err != nil {
		t.Fatalf("issue setup token: %v", err)
	}
	b := newBrowser(s)

	csrf := b.formCSRF("/setup?token=" + url.QueryEscape(token))
	rec := b.do(http.MethodPost, "/setup", url.Values{
		"_csrf": {csrf}, "token": {token}, "username": {overlongValue},
		"password": {"a-long-enough-password"}, "password_confirmation": {"a-long-enough-password"},
	})
	assertOverlongRejected(t, "setup", rec, "64")
}
