package receiver

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/connectors"
)

// The listings show the paths of secret URLs, as `make run` configures
// them, as [redacted], while the recorded requests keep them for tests.
func TestListingsRedactConfiguredSecrets(t *testing.T) {
	const slackPath = "/slack/services/T000/B000/localtoken"
	const webhookPath = "/webhook/hooks/local"
	secrets := connectors.NewRedactor("http://127.0.0.1:8090"+slackPath, "http://127.0.0.1:8090"+webhookPath,
		"local-receiver-token")
	rc := New(WithSecrets(secrets))

	for _, path := range []string{slackPath, webhookPath + "?ref=local-receiver-token"} {
		request := httptest.NewRequest(http.MethodPost, path, strings.NewReader(`{"note": "LOCAL-RECEIVER-TOKEN"}`))
		request.Header.Set("X-Trace", "local-receiver-token")
		rc.ServeHTTP(httptest.NewRecorder(), request)
	}
	if got := rc.Requests()[0].Path; got != slackPath {
		t.Errorf("recorded path: got %q, want %q kept for tests", got, slackPath)
	}

	for _, listing := range []string{"/", "/requests.json"} {
		recorder := httptest.NewRecorder()
		rc.ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, listing, nil))
		body := recorder.Body.String()
		for _, secret := range []string{"localtoken", "hooks/local", "local-receiver-token"} {
			if strings.Contains(strings.ToLower(body), secret) {
				t.Errorf("GET %s: the listing contains %q", listing, secret)
			}
		}
		if !strings.Contains(body, connectors.Redacted) {
			t.Errorf("GET %s: got %s, want the secrets marked %s", listing, body, connectors.Redacted)
		}
	}
}

// A client can send a secret as a header name, so the listings clean
// header names as they clean values.
func TestListingsRedactSecretHeaderNames(t *testing.T) {
	// The name has none of the words that mark a credential header, so
	// its value is listed.
	const secret = "q7w9-receiver-canary"
	rc := New(WithSecrets(connectors.NewRedactor(secret)))

	request := httptest.NewRequest(http.MethodPost, "/webhook/hooks/local", strings.NewReader("{}"))
	request.Header.Set("X-"+secret, "value-of-named-header")
	request.Header.Set("X-Trace", "value-of-trace-header")
	rc.ServeHTTP(httptest.NewRecorder(), request)

	for _, listing := range []string{"/", "/requests.json"} {
		recorder := httptest.NewRecorder()
		rc.ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, listing, nil))
		body := recorder.Body.String()
		if strings.Contains(strings.ToLower(body), secret) {
			t.Errorf("GET %s: the listing contains %q", listing, secret)
		}
		for _, want := range []string{"X-" + connectors.Redacted, "value-of-named-header", "X-Trace", "value-of-trace-header"} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s: got %s, want it to contain %q", listing, body, want)
			}
		}
	}
}

// Every response carries the console's security headers, and the policy
// allows the page's own style.
func TestReceiverSecurityHeaders(t *testing.T) {
	rc := New()
	for _, request := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/", nil),
		httptest.NewRequest(http.MethodGet, "/requests.json", nil),
		httptest.NewRequest(http.MethodPost, "/webhook/hooks/local", strings.NewReader("{}")),
	} {
		recorder := httptest.NewRecorder()
		rc.ServeHTTP(recorder, request)
		header := recorder.Header()
		want := map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}
		for name, value := range want {
			if got := header.Get(name); got != value {
				t.Errorf("%s %s: %s got %q, want %q", request.Method, request.URL.Path, name, got, value)
			}
		}
		if policy := header.Get("Content-Security-Policy"); !strings.Contains(policy, "default-src 'none'") ||
			!strings.Contains(policy, "frame-ancestors 'none'") {
			t.Errorf("%s %s: Content-Security-Policy %q, want default-src and frame-ancestors 'none'",
				request.Method, request.URL.Path, policy)
		}
	}

	recorder := httptest.NewRecorder()
	rc.ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, "/", nil))
	page := recorder.Body.String()
	start := strings.Index(page, "<style>") + len("<style>")
	end := strings.Index(page, "</style>")
	if start < len("<style>") || end < start {
		t.Fatalf("page: got %s, want one style element", page)
	}
	hash := sha256.Sum256([]byte(page[start:end]))
	source := "'sha256-" + base64.StdEncoding.EncodeToString(hash[:]) + "'"
	if policy := recorder.Header().Get("Content-Security-Policy"); !strings.Contains(policy, "style-src "+source) {
		t.Errorf("Content-Security-Policy %q, want style-src %s for the page's style", policy, source)
	}
}
