package connectors

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testTenantID     = "11111111-2222-3333-4444-555555555555"
	testClientID     = "66666666-7777-8888-9999-000000000000"
	testClientSecret = "Xy8Q~client-secret-value-0123456789"
)

// entraServers are a loopback token endpoint and a loopback ingestion
// endpoint with a registry whose sentinel connector uses both.
type entraServers struct {
	tokens    *recordingServer
	ingestion *recordingServer
	registry  *Registry
	logs      *bytes.Buffer
	// issued counts the tokens the token endpoint issued.
	issued atomic.Int32
}

// tokenIssuer returns a token endpoint handler that issues access-token-1,
// access-token-2 and so on, each valid for expiresIn seconds.
func (s *entraServers) tokenIssuer(expiresIn int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		number := s.issued.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":%d,"ext_expires_in":%d,"access_token":"%s"}`,
			expiresIn, expiresIn, issuedToken(int(number)))
	}
}

func issuedToken(number int) string {
	return fmt.Sprintf("access-token-%d-eyQ7vP2mZk", number)
}

// newEntraServers starts the two servers and builds the registry. The
// token endpoint's handler comes from tokenHandler, and a nil one issues
// tokens valid for an hour.
func newEntraServers(t *testing.T, tokenHandler func(*entraServers) http.HandlerFunc, ingestionHandler http.HandlerFunc, options ...Option) *entraServers {
	t.Helper()
	servers := &entraServers{logs: &bytes.Buffer{}}
	if tokenHandler == nil {
		servers.tokens = newRecordingServer(t, servers.tokenIssuer(3599))
	} else {
		servers.tokens = newRecordingServer(t, tokenHandler(servers))
	}
	servers.ingestion = newRecordingServer(t, ingestionHandler)
	config := oneConnector("sentinel", ConnectorConfig{
		URLEnv:          "SENTINEL_URL",
		ClientSecretEnv: "SENTINEL_CLIENT_SECRET",
		TenantID:        testTenantID,
		ClientID:        testClientID,
		AuthorityHost:   servers.tokens.URL,
		DCRImmutableID:  "dcr-0123456789abcdef0123456789abcdef",
		StreamName:      "Custom-Evidence_CL",
	})
	env := map[string]string{"SENTINEL_URL": servers.ingestion.URL, "SENTINEL_CLIENT_SECRET": testClientSecret}
	servers.registry = newTestRegistry(t, config, env, servers.logs, options...)
	return servers
}

func (s *entraServers) send(t *testing.T) Result {
	t.Helper()
	return s.registry.Send(context.Background(), "sentinel", sampleMessage(), SendOptions{})
}

func acceptIngestion(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusNoContent)
}

func TestSentinelClientCredentialsRequest(t *testing.T) {
	servers := newEntraServers(t, nil, acceptIngestion)

	result := servers.send(t)

	checkEqual(t, "Class", result.Class, ClassOK)
	tokenRequests := servers.tokens.captured()
	if len(tokenRequests) != 1 {
		t.Fatalf("token requests: got %d, want 1", len(tokenRequests))
	}
	tokenRequest := tokenRequests[0]
	checkEqual(t, "token method", tokenRequest.Method, http.MethodPost)
	checkEqual(t, "token path", tokenRequest.Path, "/"+testTenantID+"/oauth2/v2.0/token")
	checkEqual(t, "token Content-Type", tokenRequest.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
	form, err := url.ParseQuery(string(tokenRequest.Body))
	if err != nil {
		t.Fatalf("parse token request body: %v", err)
	}
	checkEqual(t, "grant_type", form.Get("grant_type"), "client_credentials")
	checkEqual(t, "client_id", form.Get("client_id"), testClientID)
	checkEqual(t, "client_secret", form.Get("client_secret"), testClientSecret)
	checkEqual(t, "scope", form.Get("scope"), "https://monitor.azure.com//.default")

	ingestion := servers.ingestion.captured()
	if len(ingestion) != 1 {
		t.Fatalf("ingestion requests: got %d, want 1", len(ingestion))
	}
	checkEqual(t, "Authorization", ingestion[0].Header.Get("Authorization"), "Bearer "+issuedToken(1))
	checkEqual(t, "ingestion path", ingestion[0].Path, "/dataCollectionRules/dcr-0123456789abcdef0123456789abcdef/streams/Custom-Evidence_CL")
	checkEqual(t, "summary Authorization", result.Request.Headers["Authorization"], Redacted)
}

func TestSentinelTokenCachedUntilRenewal(t *testing.T) {
	var now atomic.Pointer[time.Time]
	start := fixedTime
	now.Store(&start)
	clock := func() time.Time { return *now.Load() }
	servers := newEntraServers(t, nil, acceptIngestion, WithClock(clock))

	checkEqual(t, "first send", servers.send(t).Class, ClassOK)
	later := start.Add(50 * time.Minute)
	now.Store(&later)
	checkEqual(t, "send after 50 minutes", servers.send(t).Class, ClassOK)
	checkEqual(t, "tokens after 50 minutes", servers.issued.Load(), int32(1))

	// The token expires 3599 seconds after it was issued, and is replaced
	// 5 minutes before that.
	renewal := start.Add(3599*time.Second - 5*time.Minute)
	now.Store(&renewal)
	checkEqual(t, "send at renewal", servers.send(t).Class, ClassOK)
	checkEqual(t, "tokens after renewal", servers.issued.Load(), int32(2))

	ingestion := servers.ingestion.captured()
	checkEqual(t, "ingestion requests", len(ingestion), 3)
	checkEqual(t, "second Authorization", ingestion[1].Header.Get("Authorization"), "Bearer "+issuedToken(1))
	checkEqual(t, "third Authorization", ingestion[2].Header.Get("Authorization"), "Bearer "+issuedToken(2))
}

func TestSentinelShortTokenLifetimeRenewedAtHalf(t *testing.T) {
	var now atomic.Pointer[time.Time]
	start := fixedTime
	now.Store(&start)
	clock := func() time.Time { return *now.Load() }
	servers := newEntraServers(t, func(s *entraServers) http.HandlerFunc { return s.tokenIssuer(120) }, acceptIngestion, WithClock(clock))

	servers.send(t)
	before := start.Add(59 * time.Second)
	now.Store(&before)
	servers.send(t)
	checkEqual(t, "tokens before half the lifetime", servers.issued.Load(), int32(1))

	half := start.Add(60 * time.Second)
	now.Store(&half)
	servers.send(t)
	checkEqual(t, "tokens at half the lifetime", servers.issued.Load(), int32(2))
}

func TestSentinelNewTokenAfterUnauthorized(t *testing.T) {
	var revoked atomic.Bool
	servers := newEntraServers(t, nil, func(w http.ResponseWriter, r *http.Request) {
		if revoked.Load() && r.Header.Get("Authorization") == "Bearer "+issuedToken(1) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	checkEqual(t, "first send", servers.send(t).Class, ClassOK)
	revoked.Store(true)

	result := servers.send(t)

	checkEqual(t, "Class", result.Class, ClassOK)
	checkEqual(t, "AttemptCount", result.AttemptCount, 1)
	checkEqual(t, "tokens", servers.issued.Load(), int32(2))
	ingestion := servers.ingestion.captured()
	checkEqual(t, "ingestion requests", len(ingestion), 3)
	checkEqual(t, "resent Authorization", ingestion[2].Header.Get("Authorization"), "Bearer "+issuedToken(2))
	checkEqual(t, "replaced token still redacted", servers.registry.Redactor().Contains(issuedToken(1)), true)
}

func TestSentinelNewTokenRejectedOnce(t *testing.T) {
	servers := newEntraServers(t, nil, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	})

	result := servers.registry.Send(context.Background(), "sentinel", sampleMessage(), SendOptions{Retries: 2})

	checkEqual(t, "Class", result.Class, ClassAuthError)
	checkEqual(t, "AttemptCount", result.AttemptCount, 1)
	checkEqual(t, "tokens", servers.issued.Load(), int32(1))
	checkEqual(t, "ingestion requests", len(servers.ingestion.captured()), 1)
}

func TestSentinelForbiddenNamesRole(t *testing.T) {
	servers := newEntraServers(t, nil, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	})

	result := servers.send(t)

	checkEqual(t, "Class", result.Class, ClassAuthError)
	if !strings.Contains(result.Error, "Monitoring Metrics Publisher") || !strings.Contains(result.Error, testClientID) {
		t.Errorf("Error: got %q, want it to name the role and the client ID", result.Error)
	}
}

func TestSentinelConcurrentSendsShareToken(t *testing.T) {
	release := make(chan struct{})
	servers := newEntraServers(t, func(s *entraServers) http.HandlerFunc {
		issue := s.tokenIssuer(3599)
		return func(w http.ResponseWriter, r *http.Request) {
			<-release
			issue(w, r)
		}
	}, acceptIngestion)

	var wait sync.WaitGroup
	results := make([]Result, 5)
	for i := range results {
		wait.Add(1)
		go func() {
			defer wait.Done()
			results[i] = servers.send(t)
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wait.Wait()

	for i, result := range results {
		checkEqual(t, fmt.Sprintf("Class of send %d", i), result.Class, ClassOK)
	}
	checkEqual(t, "tokens", servers.issued.Load(), int32(1))
}

func TestSentinelTokenEndpointErrors(t *testing.T) {
	tests := []struct {
		name       string
		statusCode int
		body       string
		wantClass  Class
		wantText   []string
	}{
		{
			name: "invalid secret", statusCode: http.StatusUnauthorized,
			body:      `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent is the value.\r\nTrace ID: 0f0e","error_codes":[7000215]}`,
			wantClass: ClassAuthError,
			wantText:  []string{"AADSTS7000215: Invalid client secret provided.", "environment variable SENTINEL_CLIENT_SECRET", "not its ID"},
		},
		{
			name: "expired secret", statusCode: http.StatusUnauthorized,
			body:      `{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys are expired.","error_codes":[7000222]}`,
			wantClass: ClassAuthError,
			wantText:  []string{"create a new client secret", "environment variable SENTINEL_CLIENT_SECRET"},
		},
		{
			name: "unknown tenant", statusCode: http.StatusBadRequest,
			body:      `{"error":"invalid_request","error_description":"AADSTS90002: Tenant '11111111' not found.","error_codes":[90002]}`,
			wantClass: ClassConfigError,
			wantText:  []string{"check tenant_id", testTenantID},
		},
		{
			name: "unknown application", statusCode: http.StatusBadRequest,
			body:      `{"error":"unauthorized_client","error_description":"AADSTS700016: Application not found in the directory.","error_codes":[700016]}`,
			wantClass: ClassConfigError,
			wantText:  []string{"check that client_id " + testClientID},
		},
		{
			name: "not found", statusCode: http.StatusNotFound, body: `<html>not here</html>`,
			wantClass: ClassConfigError,
			wantText:  []string{"HTTP 404 Not Found", "check tenant_id, client_id and authority_host"},
		},
		{
			name: "server error", statusCode: http.StatusServiceUnavailable, body: `{"error":"temporarily_unavailable"}`,
			wantClass: ClassServerError,
			wantText:  []string{"HTTP 503 Service Unavailable"},
		},
		{
			name: "page instead of token", statusCode: http.StatusOK, body: `<html>sign in</html>`,
			wantClass: ClassConfigError,
			wantText:  []string{"without an access token", "check authority_host"},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			servers := newEntraServers(t, func(*entraServers) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(test.statusCode)
					_, _ = w.Write([]byte(test.body))
				}
			}, acceptIngestion)

			result := servers.send(t)

			checkEqual(t, "Class", result.Class, test.wantClass)
			checkEqual(t, "StatusCode", result.StatusCode, test.statusCode)
			checkEqual(t, "ingestion requests", len(servers.ingestion.captured()), 0)
			checkEqual(t, "request Host", result.Request.Host, strings.TrimPrefix(servers.tokens.URL, "http://"))
			for _, want := range test.wantText {
				if !strings.Contains(result.Error, want) {
					t.Errorf("Error: got %q, want it to contain %q", result.Error, want)
				}
			}
		})
	}
}

func TestSentinelTokenEndpointUnreachable(t *testing.T) {
	config := oneConnector("sentinel", ConnectorConfig{
		URLEnv: "SENTINEL_URL", ClientSecretEnv: "SENTINEL_CLIENT_SECRET",
		TenantID: testTenantID, ClientID: testClientID, AuthorityHost: closedPortURL(t),
		DCRImmutableID: "dcr-0123456789abcdef0123456789abcdef", StreamName: "Custom-Evidence_CL",
	})
	ingestion := newRecordingServer(t, acceptIngestion)
	registry := newTestRegistry(t, config, map[string]string{"SENTINEL_URL": ingestion.URL, "SENTINEL_CLIENT_SECRET": testClientSecret}, nil)

	result := registry.Send(context.Background(), "sentinel", sampleMessage(), SendOptions{})

	checkEqual(t, "Class", result.Class, ClassConnectionError)
	if !strings.Contains(result.Error, "request to the token endpoint 127.0.0.1:") {
		t.Errorf("Error: got %q, want it to name the token endpoint", result.Error)
	}
	checkEqual(t, "ingestion requests", len(ingestion.captured()), 0)
}

func TestSentinelTokensKeptSecret(t *testing.T) {
	// Both servers quote every credential they received, in the body.
	servers := newEntraServers(t, func(s *entraServers) http.HandlerFunc {
		issue := s.tokenIssuer(3599)
		return func(w http.ResponseWriter, r *http.Request) {
			if s.issued.Load() == 0 {
				issue(w, r)
				return
			}
			body, _ := json.Marshal(map[string]string{"error": "invalid_client", "error_description": "secret " + testClientSecret + " rejected"})
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write(body)
		}
	}, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprintf(w, `{"echo":["%s","%s"]}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), testClientSecret)
	})

	first := servers.send(t)
	second := servers.send(t)

	checkEqual(t, "first Class", first.Class, ClassAuthError)
	checkEqual(t, "second Class", second.Class, ClassAuthError)
	for _, result := range []Result{first, second} {
		encoded, err := json.Marshal(result)
		if err != nil {
			t.Fatalf("encode result: %v", err)
		}
		for _, secret := range []string{issuedToken(1), testClientSecret, url.QueryEscape(testClientSecret)} {
			if strings.Contains(string(encoded), secret) {
				t.Errorf("result %s: contains %q", encoded, secret)
			}
			if strings.Contains(servers.logs.String(), secret) {
				t.Errorf("logs %s: contain %q", servers.logs.String(), secret)
			}
		}
	}
	checkEqual(t, "first ResponseExcerpt", first.ResponseExcerpt, `{"echo":["`+Redacted+`","`+Redacted+`"]}`)
	cleaned, _ := servers.registry.Redactor().RemoveConfiguredSecrets("pasted " + issuedToken(1))
	checkEqual(t, "pasted token", cleaned, "pasted "+Redacted)
}

func TestSentinelLongErrorDescriptionRedacted(t *testing.T) {
	// The secret starts near the end of the part of the description that a
	// problem quotes, so shortening it first would keep part of the secret.
	filler := strings.Repeat("x", 125)
	half := len(testClientSecret) / 2
	descriptions := map[string]string{
		"whole secret": filler + " value: " + testClientSecret,
		"split secret": filler + " value: " + testClientSecret[:half] + " " + testClientSecret[half:],
	}
	for name, description := range descriptions {
		t.Run(name, func(t *testing.T) {
			servers := newEntraServers(t, func(*entraServers) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					body, _ := json.Marshal(map[string]any{"error": "invalid_client", "error_description": description, "error_codes": []int{7000215}})
					w.WriteHeader(http.StatusUnauthorized)
					_, _ = w.Write(body)
				}
			}, acceptIngestion)

			result := servers.send(t)

			checkEqual(t, "Class", result.Class, ClassAuthError)
			encoded, err := json.Marshal(result)
			if err != nil {
				t.Fatalf("encode result: %v", err)
			}
			secretStart := testClientSecret[:8]
			if strings.Contains(string(encoded), secretStart) {
				t.Errorf("result %s: contains the start of the client secret %q", encoded, secretStart)
			}
			if strings.Contains(servers.logs.String(), secretStart) {
				t.Errorf("logs %s: contain the start of the client secret %q", servers.logs.String(), secretStart)
			}
			if !strings.Contains(result.Error, "invalid_client") {
				t.Errorf("Error: got %q, want it to name invalid_client", result.Error)
			}
		})
	}
}

func TestSentinelNonBearerTokenKeptSecret(t *testing.T) {
	const token = "opaqueAT-0001-Zq8vN3kP7wR2mX5t"
	tests := []struct {
		name      string
		tokenType string
		wantText  string
	}{
		{"token as type", token, "returned a token of another type instead of Bearer"},
		{"short word type", "MAC", `returned a token of type "MAC" instead of Bearer`},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			servers := newEntraServers(t, func(*entraServers) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					body, _ := json.Marshal(map[string]any{"access_token": token, "token_type": test.tokenType, "expires_in": 3599})
					_, _ = w.Write(body)
				}
			}, acceptIngestion)

			result := servers.send(t)

			checkEqual(t, "Class", result.Class, ClassConfigError)
			if !strings.Contains(result.Error, test.wantText) {
				t.Errorf("Error: got %q, want it to contain %q", result.Error, test.wantText)
			}
			encoded, err := json.Marshal(result)
			if err != nil {
				t.Fatalf("encode result: %v", err)
			}
			if strings.Contains(string(encoded), token) {
				t.Errorf("result %s: contains the access token", encoded)
			}
			if strings.Contains(servers.logs.String(), token) {
				t.Errorf("logs %s: contain the access token", servers.logs.String())
			}
			cleaned, _ := servers.registry.Redactor().RemoveConfiguredSecrets("pasted " + token)
			checkEqual(t, "pasted token", cleaned, "pasted "+Redacted)
		})
	}
}

func TestSentinelClientSecretMissingNotReady(t *testing.T) {
	config := oneConnector("sentinel", ConnectorConfig{
		URLEnv: "SENTINEL_URL", ClientSecretFile: "/nonexistent/sentinel-client-secret",
		TenantID: testTenantID, ClientID: testClientID,
		DCRImmutableID: "dcr-0123456789abcdef0123456789abcdef", StreamName: "Custom-Evidence_CL",
	})
	registry := newTestRegistry(t, config, map[string]string{"SENTINEL_URL": "http://127.0.0.1:9"}, nil)

	status, _ := registry.Status("sentinel")

	checkEqual(t, "Ready", status.Ready, false)
	checkEqual(t, "Problem", status.Problem, "secret file /nonexistent/sentinel-client-secret does not exist")
}

func TestSentinelClientCredentialsValidation(t *testing.T) {
	base := ConnectorConfig{
		URLEnv: "U", ClientSecretEnv: "S", TenantID: testTenantID, ClientID: testClientID,
		DCRImmutableID: "dcr-0123456789abcdef0123456789abcdef", StreamName: "Custom-X",
	}
	with := func(change func(*ConnectorConfig)) ConnectorConfig {
		config := base
		change(&config)
		return config
	}
	tests := []struct {
		name      string
		config    ConnectorConfig
		wantField string
		wantText  string
	}{
		{"valid", base, "", ""},
		{"tenant domain", with(func(c *ConnectorConfig) { c.TenantID = "contoso.onmicrosoft.com" }), "", ""},
		{"loopback authority", with(func(c *ConnectorConfig) { c.AuthorityHost = "http://127.0.0.1:8091/" }), "", ""},
		{"sovereign authority", with(func(c *ConnectorConfig) { c.AuthorityHost = "https://login.microsoftonline.us" }), "", ""},
		{"no credential", with(func(c *ConnectorConfig) { c.ClientSecretEnv = ""; c.TenantID = ""; c.ClientID = "" }),
			"client_secret_env", "one of client_secret_env, client_secret_file, token_env, token_file, authorization_env"},
		{"missing tenant", with(func(c *ConnectorConfig) { c.TenantID = "" }), "tenant_id", "missing"},
		{"common tenant", with(func(c *ConnectorConfig) { c.TenantID = "common" }), "tenant_id", "needs one tenant"},
		{"missing client", with(func(c *ConnectorConfig) { c.ClientID = "" }), "client_id", "missing"},
		{"invalid client", with(func(c *ConnectorConfig) { c.ClientID = "my-app" }), "client_id", "invalid ID"},
		{"with token", with(func(c *ConnectorConfig) { c.TokenEnv = "T" }), "token_env", "conflicts with client_secret_env"},
		{"with authorization", with(func(c *ConnectorConfig) { c.AuthorizationEnv = "A" }), "authorization_env", "conflicts with client_secret_env"},
		{"env and file", with(func(c *ConnectorConfig) { c.ClientSecretFile = "/run/secrets/s" }), "client_secret_file", "conflicts with client_secret_env"},
		{"relative file", with(func(c *ConnectorConfig) { c.ClientSecretEnv = ""; c.ClientSecretFile = "secret.txt" }), "client_secret_file", "absolute"},
		{"tenant without secret", with(func(c *ConnectorConfig) { c.ClientSecretEnv = ""; c.TokenEnv = "T" }), "tenant_id", "applies only with client_secret_env"},
		{"plain http authority", with(func(c *ConnectorConfig) { c.AuthorityHost = "http://login.example.test" }), "authority_host", "must use https"},
		{"authority with path", with(func(c *ConnectorConfig) { c.AuthorityHost = "https://login.microsoftonline.com/" + testTenantID }), "authority_host", "only the scheme and host"},
		{"authority not a URL", with(func(c *ConnectorConfig) { c.AuthorityHost = "login.microsoftonline.com" }), "authority_host", "invalid URL"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			err := oneConnector("sentinel", test.config).Validate()
			if test.wantField == "" {
				if err != nil {
					t.Fatalf("Validate: got %v, want nil", err)
				}
				return
			}
			configErr, ok := err.(*ConfigError)
			if !ok {
				t.Fatalf("Validate: got %v, want a *ConfigError", err)
			}
			checkEqual(t, "Field", configErr.Field, test.wantField)
			if !strings.Contains(configErr.Problem, test.wantText) {
				t.Errorf("Problem: got %q, want it to contain %q", configErr.Problem, test.wantText)
			}
		})
	}
}

func TestSentinelAuthorityHostInFile(t *testing.T) {
	const file = `connectors:
  sentinel:
    url_env: SENTINEL_URL
    client_secret_env: SENTINEL_CLIENT_SECRET
    tenant_id: 11111111-2222-3333-4444-555555555555
    client_id: 66666666-7777-8888-9999-000000000000
    authority_host: https://login.microsoftonline.com
    dcr_immutable_id: dcr-0123456789abcdef0123456789abcdef
    stream_name: Custom-Evidence_CL
`
	cfg, err := ParseConfig([]byte(file), "yaml")
	if err != nil {
		t.Fatalf("ParseConfig: got %v, want nil", err)
	}
	checkEqual(t, "AuthorityHost", cfg.Connectors["sentinel"].AuthorityHost, "https://login.microsoftonline.com")

	_, err = ParseConfig([]byte(strings.Replace(file, "stream_name: Custom-Evidence_CL", "stream_name: https://example.test/x", 1)), "yaml")
	if err == nil || !strings.Contains(err.Error(), "literal URLs are not allowed") {
		t.Errorf("ParseConfig with a URL in stream_name: got %v, want the literal URL rejected", err)
	}
}

// A 408 or 425 from the token endpoint, or a proxy in front of it, is
// retried like the same status from the destination itself.
func TestTokenEndpointTransientStatus(t *testing.T) {
	tests := []struct {
		status int
		want   Class
	}{
		{http.StatusRequestTimeout, ClassTimeout},
		{http.StatusTooEarly, ClassConnectionError},
	}
	for _, test := range tests {
		t.Run(http.StatusText(test.status), func(t *testing.T) {
			status := test.status
			servers := newEntraServers(t, func(*entraServers) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }
			}, acceptIngestion)

			result := servers.send(t)

			checkEqual(t, "Class", result.Class, test.want)
			checkEqual(t, "Transient", result.Class.Transient(), true)
		})
	}
}
