package handlers

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// testIdentityProvider is a minimal OpenID Connect provider on 127.0.0.1:
// discovery, JWKS and a token endpoint that checks the client secret and
// the PKCE verifier and returns an ID token the test shapes.
type testIdentityProvider struct {
	t      *testing.T
	server *httptest.Server
	key    *ecdsa.PrivateKey

	mu    sync.Mutex
	codes map[string]pendingCode
}

// pendingCode is an authorization code with what the token endpoint must
// check and return.
type pendingCode struct {
	challenge string
	claims    map[string]any
	// signingKey signs the ID token; nil means the provider's own key.
	signingKey *ecdsa.PrivateKey
}

const (
	testClientID     = "evidence-console"
	testClientSecret = "client-secret-for-tests"
)

func newTestIdentityProvider(t *testing.T) *testIdentityProvider {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate signing key: %v", err)
	}
	p := &testIdentityProvider{t: t, key: key, codes: map[string]pendingCode{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer": p.server.URL, "authorization_endpoint": p.server.URL + "/authorize",
			"token_endpoint": p.server.URL + "/token", "jwks_uri": p.server.URL + "/keys",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"ES256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "test-key", Algorithm: "ES256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /token", p.token)
	p.server = httptest.NewServer(mux)
	t.Cleanup(p.server.Close)
	return p
}

func writeJSON(w http.ResponseWriter, value any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(value)
}

func (p *testIdentityProvider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	clientID, secret, ok := r.BasicAuth()
	if !ok {
		clientID, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if clientID != testClientID || secret != testClientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]string{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	pending, found := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code"))
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !found || base64.RawURLEncoding.EncodeToString(sum[:]) != pending.challenge {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": "invalid_grant"})
		return
	}
	signingKey := pending.signingKey
	if signingKey == nil {
		signingKey = p.key
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: signingKey, KeyID: "test-key"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		p.t.Errorf("create signer: %v", err)
		return
	}
	payload, _ := json.Marshal(pending.claims)
	signed, err := signer.Sign(payload)
	if err != nil {
		p.t.Errorf("sign ID token: %v", err)
		return
	}
	idToken, _ := signed.CompactSerialize()
	writeJSON(w, map[string]any{"access_token": "access-token", "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

// authorize plays the provider's sign-in page: it reads the state, nonce
// and PKCE challenge from the console's redirect and registers a code whose
// ID token has the claims that shape returns.
func (p *testIdentityProvider) authorize(location string, shape func(claims map[string]any, code *pendingCode)) (code, state string) {
	p.t.Helper()
	parsed, err := url.Parse(location)
	if err != nil || !strings.HasPrefix(location, p.server.URL+"/authorize") {
		p.t.Fatalf("redirect %q does not go to the provider's authorization endpoint", location)
	}
	query := parsed.Query()
	if query.Get("code_challenge_method") != "S256" || query.Get("code_challenge") == "" {
		p.t.Fatalf("redirect has no S256 PKCE challenge: %s", location)
	}
	if query.Get("nonce") == "" || query.Get("state") == "" {
		p.t.Fatalf("redirect has no nonce or state: %s", location)
	}
	now := time.Now()
	pending := pendingCode{challenge: query.Get("code_challenge"), claims: map[string]any{
		"iss": p.server.URL, "sub": "subject-1", "aud": testClientID, "exp": now.Add(5 * time.Minute).Unix(),
		"iat": now.Unix(), "nonce": query.Get("nonce"), "preferred_username": "Grace", "groups": []string{"ops", "unmapped"},
	}}
	if shape != nil {
		shape(pending.claims, &pending)
	}
	code = "code-" + query.Get("state")
	p.mu.Lock()
	p.codes[code] = pending
	p.mu.Unlock()
	return code, query.Get("state")
}

// oidcServer is a test server with single sign-on against provider.
func oidcServer(t *testing.T, provider *testIdentityProvider) *testServer {
	t.Helper()
	s := newTestServer(t)
	o, err := auth.NewOIDC(context.Background(), auth.OIDCSettings{
		Issuer: provider.server.URL, ClientID: testClientID, ClientSecret: testClientSecret,
		RedirectURL: "http://127.0.0.1:8080/sign-in/oidc/callback", GroupsClaim: "groups",
		RoleMap: map[string]auth.Role{"ops": auth.RoleReleaseManager, "readers": auth.RoleViewer},
	})
	if err != nil {
		t.Fatalf("discover the test provider: %v", err)
	}
	s.handler.Auth.OIDC = o
	return s
}

// startOIDC follows the console's redirect to the provider and returns the
// callback address the provider would send the browser to.
func startOIDC(t *testing.T, b *browser, provider *testIdentityProvider, shape func(map[string]any, *pendingCode)) string {
	t.Helper()
	rec := b.do(http.MethodGet, "/sign-in/oidc?next=%2Fprofile", nil)
	if rec.Code != http.StatusFound {
		t.Fatalf("start single sign-on: status = %d, want 302", rec.Code)
	}
	code, state := provider.authorize(rec.Header().Get(echo.HeaderLocation), shape)
	return "/sign-in/oidc/callback?code=" + url.QueryEscape(code) + "&state=" + url.QueryEscape(state)
}

func TestOIDCSignIn(t *testing.T) {
	provider := newTestIdentityProvider(t)
	s := oidcServer(t, provider)

	b := newBrowser(s)
	rec := b.do(http.MethodGet, startOIDC(t, b, provider, nil), nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get(echo.HeaderLocation) != "/profile" {
		t.Fatalf("callback: status = %d, location = %q, want 303 to /profile; body: %s", rec.Code, rec.Header().Get(echo.HeaderLocation), rec.Body.String())
	}
	page := b.do(http.MethodGet, "/profile", nil)
	if page.Code != http.StatusOK {
		t.Fatalf("profile after single sign-on: status = %d, want 200", page.Code)
	}
	doc := document(t, page)
	if got := byTestID(doc, "current-user").Text(); got != "grace" {
		t.Errorf("signed-in user = %q, want grace", got)
	}
	if got := byTestID(doc, "profile-role").Text(); got != string(auth.RoleReleaseManager) {
		t.Errorf("role = %q, want release_manager (mapped from group ops)", got)
	}

	// A second sign-in finds the same user instead of creating another.
	users := dbtest.CountRows(t, s.db)["users"]
	again := newBrowser(s)
	if rec := again.do(http.MethodGet, startOIDC(t, again, provider, nil), nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("second sign-in: status = %d, want 303", rec.Code)
	}
	if got := dbtest.CountRows(t, s.db)["users"]; got != users {
		t.Errorf("users after a second sign-in = %d, want %d", got, users)
	}

	// The sign-in page offers single sign-on.
	if byTestID(document(t, newBrowser(s).do(http.MethodGet, "/sign-in", nil)), "sign-in-oidc").Length() != 1 {
		t.Error("sign-in page has no single sign-on link")
	}
}

func TestOIDCRejects(t *testing.T) {
	provider := newTestIdentityProvider(t)
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	cases := []struct {
		name   string
		shape  func(map[string]any, *pendingCode)
		mangle func(callback string) string
		want   int
	}{
		{"bad signature", func(_ map[string]any, code *pendingCode) { code.signingKey = otherKey }, nil, http.StatusUnauthorized},
		{"wrong audience", func(claims map[string]any, _ *pendingCode) { claims["aud"] = "another-client" }, nil, http.StatusUnauthorized},
		{"wrong issuer", func(claims map[string]any, _ *pendingCode) { claims["iss"] = "http://127.0.0.1:1" }, nil, http.StatusUnauthorized},
		{"expired token", func(claims map[string]any, _ *pendingCode) { claims["exp"] = time.Now().Add(-time.Hour).Unix() }, nil, http.StatusUnauthorized},
		{"wrong nonce", func(claims map[string]any, _ *pendingCode) { claims["nonce"] = "replayed" }, nil, http.StatusUnauthorized},
		{"no mapped group", func(claims map[string]any, _ *pendingCode) { claims["groups"] = []string{"unmapped"} }, nil, http.StatusForbidden},
		{"wrong state", nil, func(callback string) string { return strings.Replace(callback, "state=", "state=x", 1) }, http.StatusBadRequest},
		{"provider error", nil, func(string) string { return "/sign-in/oidc/callback?error=access_denied" }, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := oidcServer(t, provider)
			before := dbtest.CountRows(t, s.db)
			b := newBrowser(s)
			callback := startOIDC(t, b, provider, tc.shape)
			if tc.mangle != nil {
				callback = tc.mangle(callback)
			}
			rec := b.do(http.MethodGet, callback, nil)
			if rec.Code != tc.want {
				t.Fatalf("status = %d, want %d; body: %s", rec.Code, tc.want, rec.Body.String())
			}
			if byTestID(document(t, rec), "sign-in-rejected").Length() != 1 {
				t.Error("rejection has no explanation page")
			}
			after := dbtest.CountRows(t, s.db)
			for _, table := range []string{"users", "user_sessions"} {
				if after[table] != before[table] {
					t.Errorf("rows in %s = %d after a rejected sign-in, want %d", table, after[table], before[table])
				}
			}
			if rec := b.do(http.MethodGet, "/profile", nil); rec.Code != http.StatusSeeOther {
				t.Errorf("profile after a rejected sign-in: status = %d, want 303 to /sign-in", rec.Code)
			}
		})
	}
}
