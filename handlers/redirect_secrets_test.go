package handlers

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/auth/authtest"
	"github.com/releaseops/evidence-console/connectors"
)

const redirectSecret = "local-receiver-token"

// newRedirectSecretServer returns a test server whose configured
// destinations have redirectSecret as a secret.
func newRedirectSecretServer(t *testing.T) *testServer {
	t.Helper()
	s := newTestServer(t)
	s.handler.Secrets = connectors.NewRedactor(redirectSecret)
	s.e = NewServer(s.handler)
	return s
}

// A sign-in link names the page it leads back to, so a page address that
// contains a configured secret leads back to /console instead.
func TestSignInLinkDropsConfiguredSecret(t *testing.T) {
	s := newRedirectSecretServer(t)
	s.anonymous()

	rec := s.do(http.MethodGet, "/console?ref="+redirectSecret, "", "", "Accept", "text/html")
	if got, want := rec.Header().Get(echo.HeaderLocation), "/sign-in?next="+url.QueryEscape("/console"); got != want {
		t.Errorf("anonymous page: location %q, want %q", got, want)
	}

	rec = s.do(http.MethodGet, "/console/dashboard", "", "", "HX-Request", "true",
		"HX-Current-URL", "http://127.0.0.1:8080/history?ref="+redirectSecret)
	if got, want := rec.Header().Get("HX-Redirect"), "/sign-in?next="+url.QueryEscape("/console"); got != want {
		t.Errorf("htmx request: HX-Redirect %q, want %q", got, want)
	}
}

func TestSignInNextDropsConfiguredSecret(t *testing.T) {
	s := newRedirectSecretServer(t)
	s.anonymous()
	authtest.CreateUser(t, s.db, "alice", auth.RoleViewer)
	b := newBrowser(s)

	csrf := b.formCSRF("/sign-in")
	rec := b.do(http.MethodPost, "/sign-in", url.Values{
		"_csrf": {csrf}, "username": {"alice"}, "password": {authtest.Password}, "next": {"/console?ref=" + redirectSecret},
	})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign in: status %d, want 303: %s", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get(echo.HeaderLocation); got != "/console" {
		t.Errorf("sign in: location %q, want /console", got)
	}
}

func TestAcknowledgeReturnToDropsConfiguredSecret(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	s.handler.Secrets = connectors.NewRedactor(redirectSecret)
	s.e = NewServer(s.handler)
	_, result := s.deliver(`{"retries": 0}`)
	action := "/console/retry-health-alerts/" + result.Health.HealthID + "/acknowledgements"

	rec := s.postForm(action, "provider=alpha&acknowledgement_state=escalated&return_to=%2Fx%2F"+redirectSecret)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("acknowledge: status %d, want 303: %s", rec.Code, rec.Body.String())
	}
	if got, want := rec.Header().Get(echo.HeaderLocation), "/alerts/"+result.Health.HealthID+"/acknowledge/alpha"; got != want {
		t.Errorf("acknowledge: location %q, want the acknowledgement page %q", got, want)
	}
}

// Headers a handler sets are checked as the body is: a redirect that names
// a configured secret leads to /console, and another header loses the
// secret.
func TestResponseHeadersDropConfiguredSecret(t *testing.T) {
	var logs bytes.Buffer
	scrubber := connectors.NewRedactor(redirectSecret).ResponseScrubber()
	handler := withholdSecrets(scrubber, slog.New(slog.NewTextHandler(&logs, nil)))(func(c echo.Context) error {
		c.Response().Header().Set("HX-Trigger", `{"saved": "`+redirectSecret+`"}`)
		c.Response().Header().Set("X-Request-Id", "req-1")
		return c.Redirect(http.StatusSeeOther, "/history?ref="+redirectSecret)
	})
	rec := httptest.NewRecorder()
	if err := handler(echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/", nil), rec)); err != nil {
		t.Fatal(err)
	}

	if got := rec.Header().Get(echo.HeaderLocation); got != "/console" {
		t.Errorf("Location: got %q, want /console", got)
	}
	if got := rec.Header().Get("HX-Trigger"); got != `{"saved": "`+connectors.Redacted+`"}` {
		t.Errorf("HX-Trigger: got %q, want the secret replaced", got)
	}
	if got := rec.Header().Get("X-Request-Id"); got != "req-1" {
		t.Errorf("X-Request-Id: got %q, want it unchanged", got)
	}
	if !strings.Contains(logs.String(), "configured secret removed from a response header") {
		t.Errorf("log: got %q, want the removal logged", logs.String())
	}
	if strings.Contains(logs.String(), redirectSecret) {
		t.Error("log contains the secret")
	}
}
