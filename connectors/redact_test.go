package connectors

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Planted secret values. Each is distinctive so that a leak of any part is
// easy to find.
const (
	secretPathSegment  = "T0SECRETPATH1234"
	secretPathSegment2 = "B0SECRETPATH5678"
	secretQueryValue   = "QUERYSECRET9876"
	secretToken        = "TOKENSECRET-abcdef123456"
	secretAPIKey       = "APIKEYSECRET-777"
	secretKeyMaterial  = "SIGNINGKEYMATERIAL-0001"
)

var secretSigning = "whsec_" + base64.StdEncoding.EncodeToString([]byte(secretKeyMaterial))

func plantedSecrets() []string {
	return []string{
		secretPathSegment, secretPathSegment2, secretQueryValue, secretToken, secretAPIKey,
		secretSigning, strings.TrimPrefix(secretSigning, "whsec_"), secretKeyMaterial,
	}
}

// echoSecrets responds with a status and a body that repeats the request
// URL and credential headers, as some misconfigured servers do.
func echoSecrets(statusCode int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		requestURL := r.URL.String()
		body := fmt.Sprintf(`{"error":"rejected %s","escaped":%q,"auth":%q,"key":%q,"query":%q}`,
			requestURL, strings.ReplaceAll(requestURL, "/", `\/`), r.Header.Get("Authorization"),
			r.Header.Get("X-API-Key"), r.URL.Query().Get("sig"))
		w.WriteHeader(statusCode)
		_, _ = w.Write([]byte(body))
	}
}

func TestSendRedactsSecretsForEveryClass(t *testing.T) {
	secretPath := "/hooks/" + secretPathSegment + "/" + secretPathSegment2 + "?sig=" + secretQueryValue + "&v=1"
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		closed    bool // send to a closed port instead of the server
		timeout   time.Duration
		wantClass Class
	}{
		{name: "ok", handler: echoSecrets(http.StatusOK), wantClass: ClassOK},
		{name: "client error", handler: echoSecrets(http.StatusBadRequest), wantClass: ClassClientError},
		{name: "unauthorized", handler: echoSecrets(http.StatusUnauthorized), wantClass: ClassAuthError},
		{name: "forbidden", handler: echoSecrets(http.StatusForbidden), wantClass: ClassAuthError},
		{name: "gone", handler: echoSecrets(http.StatusGone), wantClass: ClassGone},
		{name: "rate limited", handler: echoSecrets(http.StatusTooManyRequests), wantClass: ClassRateLimited},
		{name: "server error", handler: echoSecrets(http.StatusInternalServerError), wantClass: ClassServerError},
		{name: "unavailable", handler: echoSecrets(http.StatusServiceUnavailable), wantClass: ClassServerError},
		{
			name: "timeout",
			handler: func(w http.ResponseWriter, r *http.Request) {
				<-r.Context().Done()
			},
			timeout:   50 * time.Millisecond,
			wantClass: ClassTimeout,
		},
		{name: "connection refused", closed: true, wantClass: ClassConnectionError},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			server := newRecordingServer(t, test.handler)
			base := server.URL
			if test.closed {
				base = closedPortURL(t)
			}
			cfg := oneConnector("webhook", ConnectorConfig{
				URLEnv:           "TARGET_URL",
				TokenEnv:         "TARGET_TOKEN",
				APIKeyEnv:        "TARGET_API_KEY",
				SigningSecretEnv: "TARGET_SIGNING_SECRET",
			})
			env := map[string]string{
				"TARGET_URL":            base + secretPath,
				"TARGET_TOKEN":          secretToken,
				"TARGET_API_KEY":        secretAPIKey,
				"TARGET_SIGNING_SECRET": secretSigning,
			}
			var logs bytes.Buffer
			registry := newTestRegistry(t, cfg, env, &logs)
			timeout := test.timeout
			if timeout == 0 {
				timeout = 2 * time.Second
			}

			result := registry.Send(context.Background(), "webhook", sampleMessage(), SendOptions{Retries: 1, Timeout: timeout})

			if result.Class != test.wantClass {
				t.Errorf("Class: got %q, want %q (error %q)", result.Class, test.wantClass, result.Error)
			}
			encoded, err := json.Marshal(result)
			if err != nil {
				t.Fatalf("marshal Result: %v", err)
			}
			for _, secret := range plantedSecrets() {
				if strings.Contains(string(encoded), secret) {
					t.Errorf("Result JSON contains secret %q: %s", secret, encoded)
				}
				if strings.Contains(logs.String(), secret) {
					t.Errorf("log output contains secret %q: %s", secret, logs.String())
				}
			}
			if strings.Contains(string(encoded), "/hooks/") {
				t.Errorf("Result JSON contains the URL path: %s", encoded)
			}
			if test.wantClass != ClassOK && test.wantClass != ClassTimeout && !test.closed && result.ResponseExcerpt == "" {
				t.Errorf("ResponseExcerpt: got empty, want the redacted body")
			}
		})
	}
}

func TestResultNeverContainsRequestBody(t *testing.T) {
	server := newRecordingServer(t, respond(http.StatusBadRequest, "", "invalid"))
	registry := newTestRegistry(t, oneConnector("webhook", ConnectorConfig{URLEnv: "TARGET_URL"}),
		map[string]string{"TARGET_URL": server.URL}, nil)
	msg := sampleMessage()
	msg.Summary = "private-summary-marker"

	result := registry.Send(context.Background(), "webhook", msg, SendOptions{})

	encoded, err := json.Marshal(result)
	if err != nil {
		t.Fatalf("marshal Result: %v", err)
	}
	if strings.Contains(string(encoded), "private-summary-marker") {
		t.Errorf("Result JSON contains the request body: %s", encoded)
	}
}

func TestRedactorRedact(t *testing.T) {
	redactor := NewRedactor(
		"https://hooks.example.test/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
		"short-token-1",
		"short-token-1-longer",
	)
	tests := []struct {
		name, input, want string
	}{
		{
			name:  "whole URL",
			input: "posting to https://hooks.example.test/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX failed",
			want:  "posting to [redacted] failed",
		},
		{
			name:  "path segment alone",
			input: "unknown webhook XXXXXXXXXXXXXXXXXXXXXXXX",
			want:  "unknown webhook [redacted]",
		},
		{
			name:  "JSON-escaped path",
			input: `{"url":"\/services\/T000\/B000\/XXXXXXXXXXXXXXXXXXXXXXXX"}`,
			want:  `{"url":"[redacted]"}`,
		},
		{
			name:  "longest secret first",
			input: "token short-token-1-longer and short-token-1",
			want:  "token [redacted] and [redacted]",
		},
		{
			name:  "unknown URL keeps host only",
			input: "see https://other.example.test/private/path?key=value for details",
			want:  "see https://other.example.test/[redacted] for details",
		},
		{
			name:  "URL user information dropped",
			input: "proxy http://user:pass@proxy.example.test:8080/x",
			want:  "proxy http://proxy.example.test:8080/[redacted]",
		},
		{
			name:  "bare host kept",
			input: "dial https://api.example.test failed",
			want:  "dial https://api.example.test failed",
		},
		{
			name:  "echoed bearer credential",
			input: "header was Bearer abcdefghijklmnop",
			want:  "header was Bearer [redacted]",
		},
	}
	for _, test := range tests {
		if got := redactor.Redact(test.input); got != test.want {
			t.Errorf("%s: Redact(%q): got %q, want %q", test.name, test.input, got, test.want)
		}
	}
}

func TestRedactorNilAndContains(t *testing.T) {
	var redactor *Redactor
	if got, want := redactor.Redact("at https://a.example.test/secret"), "at https://a.example.test/[redacted]"; got != want {
		t.Errorf("nil Redact: got %q, want %q", got, want)
	}
	if redactor.Contains("anything") {
		t.Errorf("nil Contains: got true, want false")
	}
	redactor = NewRedactor("s3cr3t-value")
	if !redactor.Contains("x s3cr3t-value y") {
		t.Errorf("Contains: got false, want true")
	}
}

func TestRedactorSanitize(t *testing.T) {
	redactor := NewRedactor("s3cr3t-value")
	got := redactor.Sanitize("line one\nline\ttwo s3cr3t-value "+strings.Repeat("x", 50), 30)
	want := "line one line two [redacted]…"
	if got != want {
		t.Errorf("Sanitize: got %q, want %q", got, want)
	}
	if length := len([]rune(got)); length > 30 {
		t.Errorf("Sanitize length: got %d, want at most 30", length)
	}
}

func TestDescribeErrorDropsURL(t *testing.T) {
	redactor := NewRedactor("tok-secret-1234")
	err := fmt.Errorf("send: %w", &url.Error{
		Op:  "Post",
		URL: "https://hooks.example.test/services/SECRETSECRET",
		Err: errors.New("dial tcp 10.0.0.1:443: connect: connection refused; token tok-secret-1234"),
	})

	got := redactor.DescribeError(err)

	want := "Post: dial tcp 10.0.0.1:443: connect: connection refused; token [redacted]"
	if got != want {
		t.Errorf("DescribeError: got %q, want %q", got, want)
	}
}

func TestRedactHeaders(t *testing.T) {
	header := http.Header{}
	for _, name := range []string{
		"Authorization", "X-Api-Key", "Dd-Api-Key", "X-Auth-Token", "Webhook-Signature",
		"Cookie", "X-Client-Secret", "Content-Type", "X-Team", "Webhook-Id",
	} {
		header.Set(name, "value-of-"+name)
	}

	got := RedactHeaders(header)

	want := map[string]string{
		"Authorization":     Redacted,
		"X-Api-Key":         Redacted,
		"Dd-Api-Key":        Redacted,
		"X-Auth-Token":      Redacted,
		"Webhook-Signature": Redacted,
		"Cookie":            Redacted,
		"X-Client-Secret":   Redacted,
		"Content-Type":      "value-of-Content-Type",
		"X-Team":            "value-of-X-Team",
		"Webhook-Id":        "value-of-Webhook-Id",
	}
	for name, wantValue := range want {
		if got[name] != wantValue {
			t.Errorf("RedactHeaders[%q]: got %q, want %q", name, got[name], wantValue)
		}
	}
}

func TestRegistryRedactorCoversDerivedSecrets(t *testing.T) {
	cfg := FileConfig{Connectors: map[string]ConnectorConfig{
		"servicenow": {URLEnv: "SN_URL", TokenEnv: "SN_USER", AuthorizationScheme: "Basic"},
		"slack":      {URLEnv: "SLACK_URL"},
	}}
	env := map[string]string{
		"SN_URL":    "https://sn.example.test",
		"SN_USER":   "robot:hunter2-password",
		"SLACK_URL": "https://hooks.example.test/services/T1/B1/ZZZZZZZZZZZZ",
	}
	registry := newTestRegistry(t, cfg, env, nil)
	encoded := base64.StdEncoding.EncodeToString([]byte("robot:hunter2-password"))

	for _, secret := range []string{"robot:hunter2-password", encoded, "ZZZZZZZZZZZZ", "/services/T1/B1/ZZZZZZZZZZZZ"} {
		got := registry.Redactor().Redact("value " + secret + " end")
		if strings.Contains(got, secret) {
			t.Errorf("Redact(%q): got %q, want the secret replaced", secret, got)
		}
	}
}

func TestRegistryRedactorCoversEchoedForms(t *testing.T) {
	cfg := FileConfig{Connectors: map[string]ConnectorConfig{
		"sentinel":   {Kind: "webhook", URLEnv: "SENTINEL_URL", AuthorizationEnv: "SENTINEL_AUTH"},
		"servicenow": {URLEnv: "SN_URL", TokenEnv: "SN_USER", AuthorizationScheme: "Basic"},
		"signed":     {Kind: "webhook", URLEnv: "SIGNED_URL", SigningSecretEnv: "SIGNED_SECRET"},
		"userinfo":   {Kind: "webhook", URLEnv: "USERINFO_URL"},
		"email": {SMTPHost: "127.0.0.1", SMTPPort: 2525, From: "a@example.test", To: []string{"b@example.test"},
			UsernameEnv: "SMTP_USER", PasswordEnv: "SMTP_PASSWORD"},
	}}
	signingKey := "signing-key-canary-1"
	env := map[string]string{
		"SENTINEL_URL":  "https://sentinel.example.test/ingest",
		"SENTINEL_AUTH": "Bearer bearer-canary-1234",
		"SN_URL":        "https://sn.example.test",
		"SN_USER":       "robot:password-canary-2",
		"SIGNED_URL":    "https://signed.example.test/hook",
		"SIGNED_SECRET": "whsec_" + base64.StdEncoding.EncodeToString([]byte(signingKey)),
		"USERINFO_URL":  "https://ops:userinfo-canary-3@hook.example.test/in",
		"SMTP_USER":     "mailer",
		"SMTP_PASSWORD": "smtp-canary-4",
	}
	registry := newTestRegistry(t, cfg, env, nil)
	encode := base64.StdEncoding.EncodeToString

	echoes := map[string]string{
		"credential after the scheme":      "bearer-canary-1234",
		"Basic password half":              "password-canary-2",
		"decoded signing key":              signingKey,
		"Basic credential of URL userinfo": encode([]byte("ops:userinfo-canary-3")),
		"SMTP AUTH PLAIN":                  encode([]byte("\x00mailer\x00smtp-canary-4")),
		"SMTP AUTH PLAIN with identity":    encode([]byte("mailer\x00mailer\x00smtp-canary-4")),
		"SMTP AUTH LOGIN password":         encode([]byte("smtp-canary-4")),
	}
	for name, echo := range echoes {
		got := registry.Redactor().Redact("rejected: " + echo + " end")
		if strings.Contains(got, echo) {
			t.Errorf("%s: Redact: got %q, want %q replaced", name, got, echo)
		}
	}
}

func TestRedactorRedactsEscapedAndAssignedSecrets(t *testing.T) {
	redactor := NewRedactor("https://hooks.example.test/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX")
	escaped := ""
	for _, c := range "/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX" {
		escaped += fmt.Sprintf(`\u%04x`, c)
	}
	tests := []struct {
		name, input, want string
	}{
		{name: "every character escaped", input: `{"path":"` + escaped + `"}`, want: `{"path":"[redacted]"}`},
		{name: "connection string password", input: "dsn host=db password=hunter2x user=app", want: "dsn host=db password=[redacted] user=app"},
		{name: "JSON token member", input: `{"token": "abcd1234"}`, want: `{"token": "[redacted]"}`},
		{name: "webhook link without scheme", input: "post to hooks.slack.com/services/T1/B1/abc failed", want: "post to hooks.slack.com/[redacted] failed"},
	}
	for _, test := range tests {
		if got := redactor.Redact(test.input); got != test.want {
			t.Errorf("%s: Redact(%q): got %q, want %q", test.name, test.input, got, test.want)
		}
	}
}

func TestRedactorFindCredential(t *testing.T) {
	redactor := NewRedactor("https://hooks.example.test/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX", "jira-token-value-1")
	found := map[string]string{
		"configured URL":           "see https://hooks.example.test/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
		"configured URL path":      "path /services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
		"configured token":         "token jira-token-value-1 pasted",
		"bearer credential":        "Authorization: Bearer eyJhbGciOi.J9x",
		"password assignment":      "login with password=hunter22",
		"signature in a query":     "127.0.0.1:9342/teams/x?sig=abcdef123",
		"session in a path":        "https://x.example.test/p;jsessionid=ABCDEF12",
		"webhook link":             "hooks.slack.com/services/T0/B0/abcdefgh",
		"escaped configured token": `jira\u002dtoken\u002dvalue\u002d1`,
		"Slack bot token":          "ref xoxb-123456789012-abcdefabcdefabcdef",
		"GitHub token":             "ghp_abcdefghijklmnopqrstuvwxyz0123",
		"AWS access key ID":        "key AKIAIOSFODNN7EXAMPLE here",
		"console API token":        "ecp_Qm9ndXMtdG9rZW4tZm9yLWEtdGVzdC1vZi10aGUtcGF0dGVybg",
		"password with a digit":    "password: hunter2 was used to log in",
		"password in JSON":         `{"password": "hunter2!"}`,
		"spaced assignment":        "token = 9f8e7d6c5b",
		"prefixed name":            "DB_PASSWORD=correcthorse",
		"API key header":           "X-API-Key: 9f8e7d6c5b4a3f2e1d0c",
		"token scheme":             "Authorization: Token 9f8e7d6c5b4a3f2e",
	}
	for name, text := range found {
		if redactor.FindCredential(text) == "" {
			t.Errorf("%s: FindCredential(%q): got nothing, want a credential", name, text)
		}
	}
	prose := []string{
		"Rotated the token yesterday; see OPS-12",
		"password: reset by ops",
		"Basic troubleshooting done, services restored",
		"token: expired, rotated by ops",
		"Expired token: OPS-4521 tracks the rotation.",
		"secret: CHG0012345 covers the rotation",
		"Basic sanity-checks passed on all nodes",
		"Webhook signature=verified on replay",
		"region ASIAPACIFICREGIONAL01",
		"region ASIAPACIFICSOUTHEAST",
		"ecp_rollback_playbook_closure_01",
		"secret:store-2",
		"token:v2/rotation-1",
		"ecp_0123abcd is the prefix of the revoked token",
		"https://tickets.example.test/browse/OPS-1",
		"",
	}
	for _, text := range prose {
		if got := redactor.FindCredential(text); got != "" {
			t.Errorf("FindCredential(%q): got %q, want nothing", text, got)
		}
	}
}

func TestIdempotencyKeyHeaderShown(t *testing.T) {
	header := http.Header{}
	header.Set("Idempotency-Key", "xrun_1:webhook")
	header.Set("X-Api-Key", "k-123")

	got := RedactHeaders(header)

	if got["Idempotency-Key"] != "xrun_1:webhook" {
		t.Errorf("Idempotency-Key: got %q, want the key, which every delivery shows anyway", got["Idempotency-Key"])
	}
	if got["X-Api-Key"] != "[redacted]" {
		t.Errorf("X-Api-Key: got %q, want it redacted", got["X-Api-Key"])
	}
}

func TestRedactorRedactsPartsAndSchemes(t *testing.T) {
	redactor := NewRedactor("https://ops:pw-canary-1234@hooks.example.test/in/abcdefgh/x")
	tests := []struct {
		name, input, want string
	}{
		{name: "URL password alone", input: "login failed for pw-canary-1234", want: "login failed for [redacted]"},
		{name: "path segment of 8 characters", input: "unknown hook abcdefgh", want: "unknown hook [redacted]"},
		{name: "token scheme", input: "got Token zyxwvuts9876", want: "got Token [redacted]"},
		{name: "basic scheme", input: "got Basic dXNlcjpwYXNzd29yZA==", want: "got Basic [redacted]"},
		{name: "splunk scheme", input: "got Splunk 0f1e2d3c-4b5a", want: "got Splunk [redacted]"},
		{name: "Slack token", input: "invalid_auth for xoxb-123456789012-abcdefabcdef", want: "invalid_auth for [redacted]"},
		{name: "JSON Web Token", input: "jwt eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.c2lnbmF0dXJlMTIz end", want: "jwt [redacted] end"},
	}
	for _, test := range tests {
		if got := redactor.Redact(test.input); got != test.want {
			t.Errorf("%s: Redact(%q): got %q, want %q", test.name, test.input, got, test.want)
		}
	}
}

func TestFindCredentialAllowsSiteLinksAndUsernames(t *testing.T) {
	cfg := FileConfig{Connectors: map[string]ConnectorConfig{
		"jira": {URLEnv: "JIRA_URL", TokenEnv: "JIRA_TOKEN", ProjectKey: "OPS"},
		"email": {SMTPHost: "127.0.0.1", From: "a@example.test", To: []string{"b@example.test"},
			UsernameEnv: "SMTP_USER", PasswordEnv: "SMTP_PASSWORD"},
		"slack": {URLEnv: "SLACK_URL"},
	}}
	env := map[string]string{
		"JIRA_URL": "https://acme.atlassian.example", "JIRA_TOKEN": "jira-token-canary-1",
		"SMTP_USER": "ops-alerts@acme.example", "SMTP_PASSWORD": "smtp-password-canary-2",
		"SLACK_URL": "https://hooks.example.test/services/T1/B1/slack-path-canary-3",
	}
	redactor := newTestRegistry(t, cfg, env, nil).Redactor()

	for _, text := range []string{"https://acme.atlassian.example/browse/OPS-123", "notified ops-alerts@acme.example"} {
		if got := redactor.FindCredential(text); got != "" {
			t.Errorf("FindCredential(%q): got %q, want nothing", text, got)
		}
	}
	for _, text := range []string{"token jira-token-canary-1", "pw smtp-password-canary-2", "/services/T1/B1/slack-path-canary-3"} {
		if got := redactor.FindCredential(text); got == "" {
			t.Errorf("FindCredential(%q): got nothing, want a configured secret", text)
		}
	}
}

func TestFindCredentialRejectsSecretPathSegments(t *testing.T) {
	cfg := FileConfig{Connectors: map[string]ConnectorConfig{
		"slack": {URLEnv: "SLACK_URL"},
		"teams": {URLEnv: "TEAMS_URL"},
		"hang":  {Kind: "webhook", URLEnv: "HANG_URL"},
	}}
	env := map[string]string{
		"SLACK_URL": "https://hooks.example.test/services/T0SEKRIT1/B0SEKRIT2/SEKRITslackpathA1b2C3d4e5",
		"TEAMS_URL": "https://prod.example.test/workflows/SEKRITteams0123456789abcdef/triggers/manual/paths/invoke",
		"HANG_URL":  "https://hang.example.test/hang/SEKRIThangpathA1Sd4Fg7Hj",
	}
	redactor := newTestRegistry(t, cfg, env, nil).Redactor()

	found := map[string]string{
		"Slack last segment":          "hook SEKRITslackpathA1b2C3d4e5 pasted",
		"Slack ids and secret":        "T0SEKRIT1/B0SEKRIT2/SEKRITslackpathA1b2C3d4e5",
		"Teams workflow segment":      "flow SEKRITteams0123456789abcdef",
		"single secret path segment":  "see /hang/SEKRIThangpathA1Sd4Fg7Hj",
		"segment without a separator": "SEKRIThangpathA1Sd4Fg7Hj",
	}
	for name, text := range found {
		if redactor.FindCredential(text) == "" {
			t.Errorf("%s: FindCredential(%q): got nothing, want a configured secret", name, text)
		}
	}
	for _, text := range []string{
		"services restored after the webhook outage",
		"the hang endpoint and the workflows triggers were checked",
		"https://hooks.example.test/services",
		"manual paths invoke",
	} {
		if got := redactor.FindCredential(text); got != "" {
			t.Errorf("FindCredential(%q): got %q, want nothing", text, got)
		}
	}
}

// encodedSecretsRegistry configures a bearer token, an API key and a secret
// query value, each with characters that URL encoding changes.
func encodedSecretsRegistry(t *testing.T) *Registry {
	t.Helper()
	cfg := FileConfig{Connectors: map[string]ConnectorConfig{
		"bearer": {Kind: "webhook", URLEnv: "BEARER_URL", TokenEnv: "BEARER_TOKEN"},
		"keyed":  {Kind: "webhook", URLEnv: "KEYED_URL", APIKeyEnv: "KEYED_KEY"},
		"query":  {Kind: "webhook", URLEnv: "QUERY_URL"},
	}}
	env := map[string]string{
		"BEARER_URL": "https://bearer.example.test/in", "BEARER_TOKEN": "SEKRIT+tok/en=123",
		"KEYED_URL": "https://keyed.example.test/in", "KEYED_KEY": "SEKRITapikey-456",
		"QUERY_URL": "https://query.example.test/in?code=SEKRITquery789",
	}
	return newTestRegistry(t, cfg, env, nil)
}

func TestFindCredentialDecodesTypedText(t *testing.T) {
	redactor := encodedSecretsRegistry(t).Redactor()
	encode := base64.StdEncoding.EncodeToString

	found := map[string]string{
		"URL-encoded token":               url.QueryEscape("SEKRIT+tok/en=123"),
		"base64 of the bearer credential": encode([]byte("Bearer SEKRIT+tok/en=123")),
		"base64 of the token":             encode([]byte("SEKRIT+tok/en=123")),
		"base64 of the API key":           encode([]byte("SEKRITapikey-456")),
		"base64 of an API key header":     encode([]byte("X-API-Key: SEKRITapikey-456")),
		"base64 of the query value":       encode([]byte("SEKRITquery789")),
		"URL-safe base64 of the query":    base64.RawURLEncoding.EncodeToString([]byte("code=SEKRITquery789")),
		"hex of the API key":              fmt.Sprintf("%x", "SEKRITapikey-456"),
		"first letter percent-encoded":    "key %53EKRITapikey-456",
		"every letter percent-encoded":    "%53%45%4B%52%49%54query789",
		"split by a zero width space":     "SEKRIT\u200bapikey-456",
		"split by a soft hyphen":          "SEKRITquery\u00ad789",
		"HTML character reference":        "SEKRIT&#43;tok&#x2F;en=123",
	}
	for name, text := range found {
		if redactor.FindCredential(text) == "" {
			t.Errorf("%s: FindCredential(%q): got nothing, want a configured secret", name, text)
		}
	}
	for _, text := range []string{"rollout at 100% & done", "see %zz and &amp; in the log", "naïve caf\u00e9 retry", ""} {
		if got := redactor.FindCredential(text); got != "" {
			t.Errorf("FindCredential(%q): got %q, want nothing", text, got)
		}
	}
}

func TestRedactorRedactsEncodedSecrets(t *testing.T) {
	redactor := encodedSecretsRegistry(t).Redactor()
	encode := base64.StdEncoding.EncodeToString

	echoes := map[string]string{
		"decimal HTML references":       "SEKRIT&#43;tok&#47;en&#61;123",
		"hexadecimal HTML references":   "SEKRIT&#x2B;tok&#x2F;en=123",
		"every byte percent-encoded":    "%53%45%4B%52%49%54%61%70%69%6B%65%79%2D%34%35%36",
		"first letter percent-encoded":  "%53EKRITquery789",
		"lower-case hex":                fmt.Sprintf("%x", "SEKRITapikey-456"),
		"upper-case hex":                fmt.Sprintf("%X", "SEKRITapikey-456"),
		"base64 after one byte":         encode([]byte("xSEKRITapikey-456 and more")),
		"base64 after two bytes":        encode([]byte("xySEKRITquery789 and more")),
		"split by a zero width space":   "SEKRIT\u200bapikey-456",
		"base64 of the bearer header":   encode([]byte("Authorization: Bearer SEKRIT+tok/en=123")),
		"query value in a form body":    "code=SEKRITquery%37%38%39&state=1",
		"percent-encoded inside HTML":   "<p>SEKRIT%2Btok%2Fen%3D123</p>",
		"entity-encoded percent escape": "SEKRITapikey&#x2D;456",
	}
	for name, echo := range echoes {
		got := redactor.Redact("rejected: " + echo + " end")
		if strings.Contains(got, "SEKRIT") || strings.Contains(got, echo) {
			t.Errorf("%s: Redact(%q): got %q, want the secret replaced", name, echo, got)
		}
		if !strings.Contains(got, Redacted) {
			t.Errorf("%s: Redact(%q): got %q, want %q in it", name, echo, got, Redacted)
		}
	}

	// Text without a secret keeps its encoding.
	for _, text := range []string{"rollout at 100%25 &amp; done", "caf\u00e9 \u200b ok"} {
		if got := redactor.Redact(text); got != text {
			t.Errorf("Redact(%q): got %q, want it unchanged", text, got)
		}
	}
}

func TestFindCredentialAllowsPublicURLParts(t *testing.T) {
	const sig = "sigCanary4f7Qx9Lm2Zk8"
	cfg := FileConfig{Connectors: map[string]ConnectorConfig{
		"jira":      {URLEnv: "JIRA_URL", TokenEnv: "JIRA_TOKEN", ProjectKey: "OPS"},
		"teams":     {URLEnv: "TEAMS_URL"},
		"pagerduty": {URLEnv: "PD_URL", RoutingKeyEnv: "PD_KEY"},
		"splunk":    {URLEnv: "SPLUNK_URL", TokenEnv: "SPLUNK_TOKEN"},
	}}
	env := map[string]string{
		"JIRA_URL": "https://tools.example.test/tools/jira", "JIRA_TOKEN": "jira-token-canary-1",
		"TEAMS_URL": "https://flows.example.test/workflows/0f1e2d3c4b5a69788796a5b4c3d2e1f0/triggers/manual/paths/invoke" +
			"?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + sig,
		"PD_URL": "https://events.example.test/v2/enqueue", "PD_KEY": "routing-key-canary-5",
		"SPLUNK_URL": "https://splunk.example.test:8088/services/collector/event", "SPLUNK_TOKEN": "splunk-token-canary-6",
	}
	redactor := newTestRegistry(t, cfg, env, nil).Redactor()

	// Dates, versions, API paths and ticket links on a configured site are
	// typed in notes and quoted in errors.
	public := []string{
		"Rolled back on 2016-06-01",
		"api-version=2016-06-01",
		"Teams flow /triggers/manual/run",
		"see https://tools.example.test/tools/jira/browse/OPS-42",
		"PagerDuty POST /v2/enqueue returned 429",
		"Splunk HEC /services/collector/event returned 503",
	}
	for _, text := range public {
		if got := redactor.FindCredential(text); got != "" {
			t.Errorf("FindCredential(%q): got %q, want nothing", text, got)
		}
	}
	// The address of a site or API is not redacted from error texts either.
	// The Teams URL is a credential as a whole, so its words still are.
	for _, text := range []string{"PagerDuty POST /v2/enqueue returned 429", "Splunk HEC /services/collector/event returned 503"} {
		if got := redactor.Redact(text); got != text {
			t.Errorf("Redact(%q): got %q, want it unchanged", text, got)
		}
	}
	for _, text := range []string{"sig " + sig, "key routing-key-canary-5", "/workflows/0f1e2d3c4b5a69788796a5b4c3d2e1f0/triggers"} {
		if got := redactor.FindCredential(text); got == "" {
			t.Errorf("FindCredential(%q): got nothing, want a configured secret", text)
		}
	}
}

func TestFindCredentialSeesThroughInvisibleSplits(t *testing.T) {
	redactor := NewRedactor("SEKRITjiratokenH6Gf2Ds8Aq")
	for _, text := range []string{
		"SEKRIT\uFE0FjiratokenH6Gf2Ds8Aq", // variation selector
		"SEKRIT\u3164jiratokenH6Gf2Ds8Aq", // Hangul filler
		"SEKRIT\u00A0jiratokenH6Gf2Ds8Aq", // no-break space
		"SEKRIT\u0301jiratokenH6Gf2Ds8Aq", // combining accent
		"%2553EKRITjiratokenH6Gf2Ds8Aq",   // percent-encoded twice
		"%252553EKRITjiratokenH6Gf2Ds8Aq", // percent-encoded three times
	} {
		if got := redactor.FindCredential(text); got == "" {
			t.Errorf("FindCredential(%q): got nothing, want the configured secret", text)
		}
	}
	if got := redactor.FindCredential("Zoë checked the café in Zürich"); got != "" {
		t.Errorf("FindCredential of accented prose: got %q, want nothing", got)
	}
}

// localReceiverRegistry configures destinations as `make run` does: every
// URL on one local host, the secret ones with paths of short words only.
func localReceiverRegistry(t *testing.T) *Registry {
	t.Helper()
	cfg := FileConfig{Connectors: map[string]ConnectorConfig{
		"slack":   {URLEnv: "SLACK_URL"},
		"teams":   {URLEnv: "TEAMS_URL"},
		"webhook": {URLEnv: "WEBHOOK_URL"},
		"failing": {Kind: "webhook", URLEnv: "FAILING_URL"},
		"short":   {Kind: "webhook", URLEnv: "SHORT_URL"},
		"jira":    {URLEnv: "JIRA_URL", TokenEnv: "TRACKER_TOKEN", ProjectKey: "OPS"},
	}}
	env := map[string]string{
		"SLACK_URL":     "http://127.0.0.1:8090/slack/services/T000/B000/Lr7dQ2vX9kM4pT8wN3bZ6cHj",
		"TEAMS_URL":     "http://127.0.0.1:8090/teams/workflows/local",
		"WEBHOOK_URL":   "http://127.0.0.1:8090/webhook/hooks/local",
		"FAILING_URL":   "http://127.0.0.1:8090/fail/503/webhook/",
		"SHORT_URL":     "http://127.0.0.1:8090/hook",
		"JIRA_URL":      "http://127.0.0.1:8090/jira",
		"TRACKER_TOKEN": "local-receiver-token",
	}
	return newTestRegistry(t, cfg, env, nil)
}

func TestFindCredentialRejectsWholeSecretURLs(t *testing.T) {
	redactor := localReceiverRegistry(t).Redactor()

	found := map[string]string{
		"Slack URL":                  "http://127.0.0.1:8090/slack/services/T000/B000/Lr7dQ2vX9kM4pT8wN3bZ6cHj",
		"webhook URL in a sentence":  "posted to http://127.0.0.1:8090/webhook/hooks/local by hand",
		"Teams URL":                  "http://127.0.0.1:8090/teams/workflows/local",
		"short webhook URL":          "http://127.0.0.1:8090/hook",
		"URL without its scheme":     "127.0.0.1:8090/webhook/hooks/local",
		"path after the host":        "/slack/services/T000/B000/Lr7dQ2vX9kM4pT8wN3bZ6cHj",
		"path without leading slash": "see slack/services/T000/B000/Lr7dQ2vX9kM4pT8wN3bZ6cHj",
		"path on another host":       "https://127.0.0.2/webhook/hooks/local",
		"upper-case scheme and host": "HTTP://LOCALHOST:8090/teams/workflows/local",
		"URL without trailing slash": "http://127.0.0.1:8090/fail/503/webhook",
		"URL-encoded URL":            url.QueryEscape("http://127.0.0.1:8090/webhook/hooks/local"),
		"JSON-escaped slashes":       `http:\/\/127.0.0.1:8090\/webhook\/hooks\/local`,
		"base64 of the URL":          base64.StdEncoding.EncodeToString([]byte("http://127.0.0.1:8090/webhook/hooks/local")),
		"tracker token":              "local-receiver-token",
	}
	for name, text := range found {
		if !redactor.HasConfiguredSecret(text) {
			t.Errorf("%s: HasConfiguredSecret(%q): got false, want true", name, text)
		}
		if redactor.FindCredential(text) == "" {
			t.Errorf("%s: FindCredential(%q): got nothing, want a configured secret", name, text)
		}
	}

	// The host alone is shown on the connectors page, a Jira link is a
	// public site address, and short words of the secret paths are prose.
	public := []string{
		"http://127.0.0.1:8090",
		"http://127.0.0.1:8090/",
		"127.0.0.1:8090",
		"http://127.0.0.1:8090/jira/browse/OPS-1",
		"Posted to the slack webhook, hooks local test passed",
		"services T000 and B000 restored, token rotated",
		"the teams workflows are local",
		"POST /hook returned 503",
		"/webhook/hooks",
		"retry after the 503 from the webhook",
	}
	for _, text := range public {
		if got := redactor.FindCredential(text); got != "" {
			t.Errorf("FindCredential(%q): got %q, want nothing", text, got)
		}
	}
}

// The team, channel and token segments of a Slack URL, and the workflow ID
// of a Teams URL, are credentials even when they are words, because the
// kind fixes where its secret sits in the path.
func TestKindSecretSegmentsOfWords(t *testing.T) {
	cfg := FileConfig{Connectors: map[string]ConnectorConfig{
		"slack": {URLEnv: "SLACK_URL"},
		"teams": {URLEnv: "TEAMS_URL"},
	}}
	env := map[string]string{
		"SLACK_URL": "http://127.0.0.1:8090/slack/services/T000/teamchannel/localtoken",
		"TEAMS_URL": "https://teams.example.test/workflows/releasealerts/triggers/manual/paths/invoke?api-version=1",
	}
	redactor := newTestRegistry(t, cfg, env, nil).Redactor()

	for _, text := range []string{"localtoken", "rotated LocalToken today", "teamchannel", "releasealerts"} {
		if got := redactor.FindCredential(text); got == "" {
			t.Errorf("FindCredential(%q): got nothing, want a configured secret", text)
		}
	}
	if got := redactor.Redact("the receiver logged localtoken"); strings.Contains(got, "localtoken") {
		t.Errorf("Redact: got %q, want the token replaced", got)
	}

	// Segments under eight characters and the words around the secret
	// segments stay usable in notes.
	for _, text := range []string{"T000", "slack services", "workflows triggers manual paths invoke"} {
		if got := redactor.FindCredential(text); got != "" {
			t.Errorf("FindCredential(%q): got %q, want nothing", text, got)
		}
	}
}

// Words of a Slack or Teams URL that is not in the kind's usual shape are
// prose, while its credential-like segments stay secret.
func TestKindSecretSegmentsOtherShapes(t *testing.T) {
	cfg := FileConfig{Connectors: map[string]ConnectorConfig{
		"slack":    {URLEnv: "SLACK_URL"},
		"workflow": {Kind: KindSlack, URLEnv: "WORKFLOW_URL"},
		"trigger":  {Kind: KindSlack, URLEnv: "TRIGGER_URL"},
		"grid":     {Kind: KindSlack, URLEnv: "GRID_URL"},
		"teams":    {URLEnv: "TEAMS_URL"},
	}}
	env := map[string]string{
		"SLACK_URL":    "http://127.0.0.1:8090/services/notifications/T000/B000/Lr7dQ2vX9kM4pT8wN3bZ6cHj",
		"WORKFLOW_URL": "http://127.0.0.1:8090/workflows/escalation/triggers/handover",
		"TRIGGER_URL":  "https://hooks.slack.com/triggers/T0123ABCD/7123456789012/triggertoken",
		"GRID_URL":     "https://hooks.slack.com/triggers/E0123ABCD/7123456789013/gridtoken",
		"TEAMS_URL":    "http://127.0.0.1:8090/teams/workflows/deployments/incoming",
	}
	redactor := newTestRegistry(t, cfg, env, nil).Redactor()

	for _, text := range []string{"notifications", "escalation", "triggers", "handover", "deployments"} {
		if got := redactor.FindCredential("note about " + text); got != "" {
			t.Errorf("FindCredential(%q): got %q, want nothing", text, got)
		}
	}
	for _, text := range []string{"Lr7dQ2vX9kM4pT8wN3bZ6cHj", "triggertoken", "7123456789012", "gridtoken"} {
		if got := redactor.FindCredential("note about " + text); got == "" {
			t.Errorf("FindCredential(%q): got nothing, want a configured secret", text)
		}
	}
}

func TestRedactorWithSecretURLOfWords(t *testing.T) {
	redactor := NewRedactor("https://hooks.example.test/alerts/release/incoming")
	for _, text := range []string{"https://hooks.example.test/alerts/release/incoming", "/alerts/release/incoming"} {
		if !redactor.HasConfiguredSecret(text) {
			t.Errorf("HasConfiguredSecret(%q): got false, want true", text)
		}
	}
	for _, text := range []string{"https://hooks.example.test", "release alerts are incoming", "/alerts/release"} {
		if redactor.HasConfiguredSecret(text) {
			t.Errorf("HasConfiguredSecret(%q): got true, want false", text)
		}
	}

	// A path of one short word is prose, though the whole URL is secret.
	short := NewRedactor("https://hooks.example.test/webhook?channel=ops")
	if !short.HasConfiguredSecret("https://hooks.example.test/webhook?channel=ops") {
		t.Error("HasConfiguredSecret of the whole short URL: got false, want true")
	}
	for _, text := range []string{"POST /webhook returned 503", "channel=ops"} {
		if short.HasConfiguredSecret(text) {
			t.Errorf("HasConfiguredSecret(%q): got true, want false", text)
		}
	}
}

// A secret typed in other letters gives most of it away, so checks of
// input find it in either case. HasConfiguredSecret matches the forms that
// RemoveConfiguredSecrets replaces, so it matches case.
func TestHasConfiguredSecretIgnoringCase(t *testing.T) {
	redactor := NewRedactor("SEKRITtrackerTokenQ7w9")
	for _, text := range []string{"sekrittrackertokenq7w9", "ops.SEKRITTRACKERTOKENQ7W9"} {
		if redactor.HasConfiguredSecret(text) {
			t.Errorf("HasConfiguredSecret(%q): got true, want false, because it matches case", text)
		}
		if !redactor.HasConfiguredSecretIgnoringCase(text) {
			t.Errorf("HasConfiguredSecretIgnoringCase(%q): got false, want true", text)
		}
		if got := redactor.FindCredential(text); got != "a secret of a configured destination" {
			t.Errorf("FindCredential(%q): got %q, want the configured secret", text, got)
		}
	}
	if redactor.HasConfiguredSecretIgnoringCase("tracker-token") {
		t.Error(`HasConfiguredSecretIgnoringCase("tracker-token"): got true, want false`)
	}
	if (*Redactor)(nil).HasConfiguredSecretIgnoringCase("sekrittrackertokenq7w9") {
		t.Error("nil Redactor: got true, want false")
	}
}

// Text stored before the input checks ignored case can hold a secret in
// other letters, and the removal finds it there too, keeping the text
// around it.
func TestRemoveConfiguredSecretsInOtherCase(t *testing.T) {
	redactor := NewRedactor("SEKRITtrackerTokenQ7w9")
	for _, text := range []string{"rotated sekrittrackertokenq7w9 today", "rotated SEKRITTRACKERTOKENQ7W9 today"} {
		cleaned, found := redactor.RemoveConfiguredSecrets(text)
		if !found || cleaned != "rotated "+Redacted+" today" {
			t.Errorf("RemoveConfiguredSecrets(%q): got %q, %v; want the secret replaced in place", text, cleaned, found)
		}
	}
	if cleaned, found := redactor.RemoveConfiguredSecrets("nothing secret"); found || cleaned != "nothing secret" {
		t.Errorf("RemoveConfiguredSecrets of plain text: got %q, %v; want it unchanged", cleaned, found)
	}
}

// A receiver can quote the path of a secret URL in base64 or hex, alone or
// after other bytes, so those forms of the path and its segments are
// replaced as the URL's are.
func TestRedactorRedactsEncodedURLPath(t *testing.T) {
	redactor := NewRedactor("https://hooks.example.test/slack/services/T0CT/B0CT/slkCanaryq7w8e9r0t")
	path := "/slack/services/T0CT/B0CT/slkCanaryq7w8e9r0t"
	encode := base64.StdEncoding.EncodeToString

	echoes := map[string]string{
		"base64 of the path":              encode([]byte(path)),
		"URL-safe base64 of the path":     base64.RawURLEncoding.EncodeToString([]byte(path)),
		"base64 of the path after a verb": encode([]byte("POST " + path)),
		"base64 of the last segment":      encode([]byte("slkCanaryq7w8e9r0t")),
		"hex of the path":                 fmt.Sprintf("%x", path),
	}
	for name, echo := range echoes {
		got := redactor.Redact("err " + echo)
		if strings.Contains(got, echo) {
			t.Errorf("%s: Redact(%q): got %q, want the encoded path replaced", name, echo, got)
		}
		if !strings.Contains(got, Redacted) {
			t.Errorf("%s: Redact(%q): got %q, want %q in it", name, echo, got, Redacted)
		}
	}
}

// Sanitize's result is stored, so a secret echoed in other letters, split
// by white space or in base64 wrapped over lines does not reach storage.
func TestSanitizeRemovesCaseAndSplitSecrets(t *testing.T) {
	const secret = "CANARYq7WebhookPathSecret01"
	redactor := NewRedactor("https://hooks.example.test/hook/" + secret)
	encoded := base64.StdEncoding.EncodeToString([]byte("/hook/" + secret))
	echoes := map[string]string{
		"upper case":         "/HOOK/" + strings.ToUpper(secret) + " ::end",
		"lower case":         "/hook/" + strings.ToLower(secret) + " ::end",
		"split by spaces":    "/hook/ CANARY q7Webh ookPat hSecre t01",
		"split over lines":   "error\n" + secret[:10] + "\n" + secret[10:],
		"wrapped base64":     encoded[:12] + "\n" + encoded[12:24] + "\n" + encoded[24:],
		"mixed case in text": "rejected " + strings.ToUpper(secret[:5]) + secret[5:] + " here",
	}
	for name, echo := range echoes {
		got := redactor.Sanitize(echo, MaxErrorLength)
		if strings.Contains(strings.ToLower(strings.Join(strings.Fields(got), "")), strings.ToLower(secret)) {
			t.Errorf("%s: Sanitize(%q) = %q, want the secret removed", name, echo, got)
		}
		if !strings.Contains(got, Redacted) {
			t.Errorf("%s: Sanitize(%q) = %q, want %q in it", name, echo, got, Redacted)
		}
	}

	// Text without a secret keeps its words.
	if got := redactor.Sanitize("server   error\nretry later", MaxErrorLength); got != "server error retry later" {
		t.Errorf("Sanitize of text without a secret = %q, want the words kept", got)
	}
}

// Typed text that contains a configured secret split by spaces or line
// breaks is found, and words that happen to stand together are not.
func TestFindCredentialSplitBySpaces(t *testing.T) {
	redactor := NewRedactor("CANARYq7SmtpPw456")
	for _, text := range []string{"paged CANARYq7Smtp Pw456", "CANARY\nq7SmtpPw456 rotated"} {
		if got := redactor.FindCredential(text); got == "" {
			t.Errorf("FindCredential(%q): got nothing, want a configured secret", text)
		}
	}
	if got := redactor.FindCredential("paged the on-call engineer"); got != "" {
		t.Errorf("FindCredential of prose: got %q, want nothing", got)
	}
}

// Words around slashes join into a secret URL's path of words, such as those
// of the make run configuration, once their spaces are left out. The split
// check therefore leaves such paths out and keeps ordinary text.
func TestSplitCheckKeepsWordPaths(t *testing.T) {
	redactor := NewRedactor("http://127.0.0.1:8090/teams/workflows/local", "https://hooks.example.test/hook/CANARYq7WebhookPathSecret01")
	for _, text := range []string{"Posted the drill summary in Teams / Workflows / Local as agreed.", "HTTP 200 from Teams / Workflows / Local channel"} {
		if got := redactor.FindCredential(text); got != "" {
			t.Errorf("FindCredential(%q) = %q, want nothing", text, got)
		}
		if got := redactor.Sanitize(text, MaxErrorLength); got != text {
			t.Errorf("Sanitize(%q) = %q, want it unchanged", text, got)
		}
	}
	// A credential-like segment of a secret path split by spaces is found.
	if got := redactor.Sanitize("/hook/ CANARY q7Webh ookPat hSecre t01", MaxErrorLength); got != Redacted {
		t.Errorf("Sanitize of a split path segment = %q, want %q", got, Redacted)
	}

	// A secret that is not a path of words, such as a key with slashes,
	// is found when split.
	key := NewRedactor("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	for _, text := range []string{"key wJalrXUtnFEMI/K7MDENG/ bPxRfiCYEXAMPLEKEY", "key wJalrXUtn FEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"} {
		if got := key.FindCredential(text); got == "" {
			t.Errorf("FindCredential(%q): got nothing, want the split key found", text)
		}
		if got := key.Sanitize(text, MaxErrorLength); got != Redacted {
			t.Errorf("Sanitize(%q) = %q, want %q", text, got, Redacted)
		}
	}
}
