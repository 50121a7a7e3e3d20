package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/auth/authtest"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models/dbtest"
	"github.com/releaseops/evidence-console/views"
)

func TestCSRFRequiredForSessionRequests(t *testing.T) {
	s := newTestServer(t)
	authtest.CreateUser(t, s.db, "rm", auth.RoleReleaseManager)
	b := newBrowser(s)
	b.mustSignIn("rm")
	csrf := b.sessionCSRF()

	cases := []struct {
		name    string
		path    string
		form    url.Values
		headers []string
	}{
		{"token form without field", "/profile/tokens", url.Values{"name": {"ci"}}, nil},
		{"token form with a wrong field", "/profile/tokens", url.Values{"name": {"ci"}, "_csrf": {"wrong"}}, nil},
		{"htmx build without header", "/console/retry-health", url.Values{"expected_interval_minutes": {"30"}}, []string{"HX-Request", "true"}},
		{"htmx build with a wrong header", "/console/retry-health", url.Values{"expected_interval_minutes": {"30"}}, []string{"HX-Request", "true", csrfHeader, csrf + "x"}},
		{"sign-out without field", "/sign-out", url.Values{}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := dbtest.CountRows(t, s.db)
			rec := b.do(http.MethodPost, tc.path, tc.form, tc.headers...)
			if rec.Code != http.StatusForbidden {
				t.Fatalf("status = %d, want 403", rec.Code)
			}
			// A script using the session cookie learns where the token goes.
			if !strings.Contains(rec.Body.String(), csrfHeader+" header") {
				t.Errorf("message: got %s, want it to name the %s header", rec.Body.String(), csrfHeader)
			}
			after := dbtest.CountRows(t, s.db)
			for table, n := range before {
				if after[table] != n {
					t.Errorf("rows in %s = %d after a rejected request, want %d", table, after[table], n)
				}
			}
		})
	}

	t.Run("accepted with the token", func(t *testing.T) {
		before := dbtest.CountRows(t, s.db)
		rec := b.do(http.MethodPost, "/profile/tokens", url.Values{"name": {"ci"}, "_csrf": {csrf}})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("form with the token: status = %d, want 303 to the profile", rec.Code)
		}
		if got := dbtest.CountRows(t, s.db)["api_tokens"]; got != before["api_tokens"]+1 {
			t.Errorf("api_tokens rows = %d, want %d", got, before["api_tokens"]+1)
		}
		rec = b.do(http.MethodPost, "/console/retry-health", url.Values{"expected_interval_minutes": {"30"}}, "HX-Request", "true", csrfHeader, csrf)
		if rec.Code != http.StatusOK {
			t.Errorf("htmx with the header: status = %d, want 200", rec.Code)
		}
	})
}

func TestProfileTokens(t *testing.T) {
	s := newTestServer(t)
	authtest.CreateUser(t, s.db, "viewer", auth.RoleViewer)
	b := newBrowser(s)
	b.mustSignIn("viewer")
	csrf := b.sessionCSRF()

	markup := `<script>alert("x")</script>`
	rec := b.do(http.MethodPost, "/profile/tokens", url.Values{"name": {markup}, "_csrf": {csrf}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create token: status = %d, want 303; body: %s", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get(echo.HeaderLocation); got != "/profile" {
		t.Errorf("create token: location = %q, want /profile without the token", got)
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("create token: Cache-Control = %q, want no-store", got)
	}

	// The page after the redirect shows the token once.
	shown := b.do(http.MethodGet, "/profile", nil)
	if shown.Code != http.StatusOK {
		t.Fatalf("profile after creating: status = %d, want 200", shown.Code)
	}
	if got := shown.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("profile showing the token: Cache-Control = %q, want no-store", got)
	}
	if strings.Contains(shown.Body.String(), markup) {
		t.Error("token name rendered as markup, want it escaped")
	}
	secret := strings.TrimSpace(byTestID(document(t, shown), "new-token").Text())
	if !strings.HasPrefix(secret, "ecp_") {
		t.Fatalf("new token = %q, want an ecp_ token shown once", secret)
	}
	if _, focused := byTestID(document(t, shown), "new-token-box").Attr("autofocus"); !focused {
		t.Error("new token box: no autofocus, want the focus moved to the token shown once")
	}
	// The revoke button names the token, and its form asks for confirmation.
	revoke := byTestID(document(t, shown), "revoke-token").FilterFunction(func(_ int, button *goquery.Selection) bool {
		return button.AttrOr("aria-label", "") == "Revoke the token "+markup
	})
	if revoke.Length() != 1 {
		t.Fatalf("revoke buttons named after the new token: got %d, want 1", revoke.Length())
	}
	if got, _ := revoke.Closest("form").Attr("data-confirm"); !strings.HasPrefix(got, "Revoke the token "+markup+"?") {
		t.Errorf("revoke confirmation = %q, want a question naming the token", got)
	}
	for _, cookie := range rec.Result().Cookies() {
		if strings.Contains(cookie.Value, secret) || strings.Contains(cookie.Value, strings.TrimPrefix(secret, "ecp_")) {
			t.Errorf("cookie %s carries the token in clear text, want it encrypted", cookie.Name)
		}
	}

	// The token works for the API and is not shown again.
	api := s.do(http.MethodGet, "/profile", "", "", echo.HeaderAuthorization, "Bearer "+secret)
	if api.Code != http.StatusOK {
		t.Fatalf("new token: status = %d, want 200", api.Code)
	}
	page := b.do(http.MethodGet, "/profile", nil)
	if strings.Contains(page.Body.String(), secret) {
		t.Error("profile page shows the token again, want it shown only once")
	}
	if got := page.Header().Get("Cache-Control"); got == "no-store" {
		t.Errorf("profile without a new token: Cache-Control = %q, want the default", got)
	}
	// authtest made one token; the new one is the other, its name shown as
	// text.
	all := byTestID(document(t, page), "token-row")
	if all.Length() != 2 {
		t.Fatalf("token rows = %d, want 2", all.Length())
	}
	rows := all.FilterFunction(func(_ int, row *goquery.Selection) bool {
		return strings.TrimSpace(row.Find("td").Eq(1).Text()) == markup
	})
	if rows.Length() != 1 {
		t.Fatalf("rows named %q = %d, want 1 (the name shown as text)", markup, rows.Length())
	}

	tokenID, _ := rows.Attr("data-token-id")
	rec = b.do(http.MethodPost, "/profile/tokens/"+tokenID+"/revoke", url.Values{"_csrf": {csrf}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("revoke: status = %d, want 303", rec.Code)
	}
	if api := s.do(http.MethodGet, "/profile", "", "", echo.HeaderAuthorization, "Bearer "+secret); api.Code != http.StatusUnauthorized {
		t.Errorf("revoked token: status = %d, want 401", api.Code)
	}

	// Another user's token id is not found.
	other, _ := authtest.CreateUser(t, s.db, "other", auth.RoleViewer)
	tokens, err := s.handler.Auth.Service.ListTokens(context.Background(), other.ID)
	if err != nil || len(tokens) != 1 {
		t.Fatalf("list other's tokens: %v, %d", err, len(tokens))
	}
	rec = b.do(http.MethodPost, "/profile/tokens/"+tokens[0].ID+"/revoke", url.Values{"_csrf": {csrf}})
	if rec.Code != http.StatusNotFound {
		t.Errorf("revoke another user's token: status = %d, want 404", rec.Code)
	}
}

func TestUsersPage(t *testing.T) {
	s := newTestServer(t)
	authtest.CreateUser(t, s.db, "root", auth.RoleAdmin)
	b := newBrowser(s)
	b.mustSignIn("root")
	csrf := b.sessionCSRF()

	t.Run("own row has no controls", func(t *testing.T) {
		own := byTestID(document(t, b.do(http.MethodGet, "/users", nil)), "user-row").Filter(`[data-username="root"]`)
		if own.Length() != 1 {
			t.Fatalf("rows for root = %d, want 1", own.Length())
		}
		for _, action := range []string{"/role", "/disable"} {
			if got := own.Find(`form[action$="` + action + `"]`).Length(); got != 0 {
				t.Errorf("%s forms in the admin's own row = %d, want 0", action, got)
			}
		}
	})

	t.Run("rejects", func(t *testing.T) {
		cases := []struct {
			name  string
			form  url.Values
			want  int
			field string
		}{
			{"unknown role", url.Values{"username": {"dave"}, "role": {"root"}}, http.StatusBadRequest, "role"},
			{"bad username", url.Values{"username": {"<b>x</b>"}, "role": {"viewer"}}, http.StatusBadRequest, "username"},
			{"short password", url.Values{"username": {"dave"}, "role": {"viewer"}, "password": {"short"}}, http.StatusBadRequest, "password"},
			{"duplicate", url.Values{"username": {"root"}, "role": {"viewer"}}, http.StatusConflict, "username"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := dbtest.CountRows(t, s.db)["users"]
				tc.form.Set("_csrf", csrf)
				rec := b.do(http.MethodPost, "/users", tc.form)
				if rec.Code != tc.want {
					t.Fatalf("status = %d, want %d", rec.Code, tc.want)
				}
				if got, _ := byTestID(document(t, rec), "users-error").Attr("data-field"); got != tc.field {
					t.Errorf("error field = %q, want %q", got, tc.field)
				}
				if after := dbtest.CountRows(t, s.db)["users"]; after != before {
					t.Errorf("users rows = %d, want %d", after, before)
				}
			})
		}
	})

	t.Run("change role and disable", func(t *testing.T) {
		erin, erinToken := authtest.CreateUser(t, s.db, "erin", auth.RoleViewer)
		rec := b.do(http.MethodPost, "/users/"+erin.ID+"/role", url.Values{"role": {"release_manager"}, "_csrf": {csrf}})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("change role: status = %d, want 303", rec.Code)
		}
		got, err := s.handler.Auth.Service.(*auth.Service).UserByID(context.Background(), erin.ID)
		if err != nil || got.Role != auth.RoleReleaseManager {
			t.Fatalf("role after change = %q (%v), want release_manager", got.Role, err)
		}
		rec = b.do(http.MethodPost, "/users/"+erin.ID+"/disable", url.Values{"_csrf": {csrf}})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("disable: status = %d, want 303", rec.Code)
		}
		if api := s.do(http.MethodGet, "/console", "", "", echo.HeaderAuthorization, "Bearer "+erinToken, echo.HeaderAccept, "application/json"); api.Code != http.StatusUnauthorized {
			t.Errorf("disabled user's token: status = %d, want 401", api.Code)
		}
		rec = b.do(http.MethodPost, "/users/usr_missing/disable", url.Values{"_csrf": {csrf}})
		if rec.Code != http.StatusNotFound {
			t.Errorf("disable an unknown user: status = %d, want 404", rec.Code)
		}
		root, _ := s.handler.Auth.Service.(*auth.Service).UserByUsername(context.Background(), "root")
		rec = b.do(http.MethodPost, "/users/"+root.ID+"/disable", url.Values{"_csrf": {csrf}})
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("disable yourself: status = %d, want 422", rec.Code)
		}
		rec = b.do(http.MethodPost, "/users/"+root.ID+"/role", url.Values{"role": {"viewer"}, "_csrf": {csrf}})
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("change your own role: status = %d, want 422", rec.Code)
		}
		rec = b.do(http.MethodPost, "/users/"+erin.ID+"/role", url.Values{"role": {"root"}, "_csrf": {csrf}})
		if rec.Code != http.StatusBadRequest {
			t.Errorf("unknown role: status = %d, want 400", rec.Code)
		}
	})

	t.Run("revoke a user's token", func(t *testing.T) {
		frank, frankToken := authtest.CreateUser(t, s.db, "frank", auth.RoleViewer)
		tokens, _ := s.handler.Auth.Service.ListTokens(context.Background(), frank.ID)
		rec := b.do(http.MethodPost, "/users/"+frank.ID+"/tokens/"+tokens[0].ID+"/revoke", url.Values{"_csrf": {csrf}})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("revoke: status = %d, want 303", rec.Code)
		}
		if api := s.do(http.MethodGet, "/console", "", "", echo.HeaderAuthorization, "Bearer "+frankToken, echo.HeaderAccept, "application/json"); api.Code != http.StatusUnauthorized {
			t.Errorf("revoked token: status = %d, want 401", api.Code)
		}
	})
}

func TestSetupLink(t *testing.T) {
	newServer := func(t *testing.T) (*testServer, string) {
		s := newTestServer(t)
		// newTestServer created an admin; the setup link needs an empty
		// users table.
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
		return s, token
	}
	submit := func(b *browser, token, password string) *http.Response {
		csrf := b.formCSRF("/setup?token=" + url.QueryEscape(token))
		return b.do(http.MethodPost, "/setup", url.Values{
			"_csrf": {csrf}, "token": {token}, "username": {"first-admin"}, "password": {password}, "password_confirmation": {password},
		}).Result()
	}

	t.Run("creates the first admin once", func(t *testing.T) {
		s, token := newServer(t)
		b := newBrowser(s)
		resp := submit(b, token, "a-long-enough-password")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get(echo.HeaderLocation) != "/console" {
			t.Fatalf("setup: status = %d, location = %q, want 303 to /console", resp.StatusCode, resp.Header.Get(echo.HeaderLocation))
		}
		page := b.do(http.MethodGet, "/users", nil)
		if page.Code != http.StatusOK {
			t.Fatalf("users page after setup: status = %d, want 200 (signed in as admin)", page.Code)
		}
		if rec := newBrowser(s).do(http.MethodGet, "/setup?token="+url.QueryEscape(token), nil); rec.Code != http.StatusNotFound {
			t.Errorf("setup link used twice: status = %d, want 404", rec.Code)
		}
	})

	t.Run("rejects", func(t *testing.T) {
		s, token := newServer(t)
		if rec := newBrowser(s).do(http.MethodGet, "/setup?token=wrong", nil); rec.Code != http.StatusNotFound {
			t.Errorf("wrong token: status = %d, want 404", rec.Code)
		}
		remote := newBrowser(s)
		remote.remoteAddr = "192.0.2.10:4000"
		if rec := remote.do(http.MethodGet, "/setup?token="+url.QueryEscape(token), nil, "X-Forwarded-For", "127.0.0.1"); rec.Code != http.StatusForbidden {
			t.Errorf("remote client: status = %d, want 403", rec.Code)
		}
		b := newBrowser(s)
		if resp := submit(b, token, "short"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("short password: status = %d, want 400", resp.StatusCode)
		}
		if got := dbtest.CountRows(t, s.db)["users"]; got != 0 {
			t.Errorf("users after rejected setup = %d, want 0", got)
		}
		if !s.handler.Auth.Setup.Valid(token, testNow) {
			t.Error("a rejected form used up the setup token, want it still valid")
		}
		if s.handler.Auth.Setup.Valid(token, testNow.Add(auth.SetupTokenLifetime)) {
			t.Error("setup token valid after its lifetime, want expired")
		}
	})
}

func TestSafeExternalLink(t *testing.T) {
	cases := []struct {
		ref, want string
	}{
		{"https://tickets.example.test/CHG-1", "https://tickets.example.test/CHG-1"},
		{"http://tickets.example.test/1", "http://tickets.example.test/1"},
		{"javascript:alert(1)", ""},
		{"JaVaScRiPt:alert(1)", ""},
		{"data:text/html,<script>alert(1)</script>", ""},
		{"CHG-1234", ""},
		{"//evil.example/x", ""},
		{"ftp://files.example.test/x", ""},
	}
	for _, tc := range cases {
		if got := views.SafeExternalLink(tc.ref); got != tc.want {
			t.Errorf("SafeExternalLink(%q) = %q, want %q", tc.ref, got, tc.want)
		}
	}
}

func TestNavigationUsersItemByRole(t *testing.T) {
	s := newTestServer(t)
	cases := []struct {
		role auth.Role
		want int
	}{
		{auth.RoleAdmin, 1},
		{auth.RoleReleaseManager, 0},
		{auth.RoleViewer, 0},
	}
	for _, tc := range cases {
		t.Run(string(tc.role), func(t *testing.T) {
			s.actAs("nav-"+strings.ReplaceAll(string(tc.role), "_", "-"), tc.role)
			rec := s.do(http.MethodGet, "/profile", "", "", echo.HeaderAccept, "text/html")
			if rec.Code != http.StatusOK {
				t.Fatalf("profile: status = %d, want 200", rec.Code)
			}
			if got := byTestID(document(t, rec), "nav-Users").Length(); got != tc.want {
				t.Errorf("Users navigation items = %d, want %d", got, tc.want)
			}
		})
	}

	t.Run("signed out", func(t *testing.T) {
		rec := newBrowser(s).do(http.MethodGet, "/sign-in", nil)
		if got := document(t, rec).Find(`[data-testid^="nav-"]`).Length(); got != 0 {
			t.Errorf("navigation items on the sign-in page = %d, want 0", got)
		}
	})
}

func TestProfileTokenRejectsConfiguredSecretName(t *testing.T) {
	s := newTestServer(t)
	s.handler.Auth.Service.(*auth.Service).Secrets = connectors.NewRedactor("https://hooks.example.test/hang/SEKRIThangpathA1Sd4Fg7Hj")
	authtest.CreateUser(t, s.db, "viewer", auth.RoleViewer)
	b := newBrowser(s)
	b.mustSignIn("viewer")
	before := dbtest.CountRows(t, s.db)["api_tokens"]

	rec := b.do(http.MethodPost, "/profile/tokens", url.Values{"name": {"SEKRIThangpathA1Sd4Fg7Hj"}, "_csrf": {b.sessionCSRF()}})

	if rec.Code != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "looks like a credential") {
		t.Errorf("body does not say the name looks like a credential:\n%s", rec.Body.String())
	}
	if strings.Contains(rec.Body.String(), "SEKRIT") {
		t.Error("body repeats the secret")
	}
	if got := dbtest.CountRows(t, s.db)["api_tokens"]; got != before {
		t.Errorf("api_tokens rows = %d, want %d", got, before)
	}
}

func TestProfileTokenErrorKeepsName(t *testing.T) {
	s := newTestServer(t)
	authtest.CreateUser(t, s.db, "viewer", auth.RoleViewer)
	b := newBrowser(s)
	b.mustSignIn("viewer")
	csrf := b.sessionCSRF()

	tooLong := strings.Repeat("n", 150)
	rec := b.do(http.MethodPost, "/profile/tokens", url.Values{"name": {tooLong}, "_csrf": {csrf}})
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("too long name: status = %d, want 400", rec.Code)
	}
	// The page repeats no more than the maximum of the typed name.
	input := byTestID(document(t, rec), "token-name")
	if got, _ := input.Attr("value"); got != tooLong[:auth.MaxTokenNameLength] {
		t.Errorf("name input after the error: got %d characters, want the first %d typed", len(got), auth.MaxTokenNameLength)
	}
	if got, _ := input.Attr("aria-describedby"); got != "profile-error" {
		t.Errorf("name input aria-describedby: got %q, want profile-error", got)
	}

	// A name holding a credential is rejected and not shown again.
	credential := "Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0"
	rec = b.do(http.MethodPost, "/profile/tokens", url.Values{"name": {credential}, "_csrf": {csrf}})
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("name with a credential: status = %d, want 400", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "9f8e7d6c5b4a39281706f5e4d3c2b1a0") {
		t.Error("page after a credential in the name repeats it, want it left out")
	}
}

// A signed-in user may open the sign-in page to sign in as someone else,
// and its header's sign-out form carries the session's token, so signing
// out from there works.
func TestSignOutFromSignInPage(t *testing.T) {
	s := newTestServer(t)
	b, _ := signedInAdmin(s)
	rec := b.do(http.MethodGet, "/sign-in", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /sign-in signed in: status %d, want 200", rec.Code)
	}
	token := byTestID(document(t, rec), "sign-out").Closest("form").Find(`input[name="_csrf"]`).AttrOr("value", "")
	out := b.do(http.MethodPost, "/sign-out", url.Values{"_csrf": {token}})
	if out.Code != http.StatusSeeOther {
		t.Fatalf("sign out from the sign-in page: status %d, want 303: %s", out.Code, out.Body)
	}
	if after := b.do(http.MethodGet, "/profile", nil); after.Code != http.StatusSeeOther {
		t.Errorf("GET /profile after signing out: status %d, want 303 to the sign-in page", after.Code)
	}
}

// TestSignInPageNamesCurrentUser opens the sign-in page with and without a
// session. With one, the page names the signed-in user, states that
// signing in again ends that session, and links to the next page.
func TestSignInPageNamesCurrentUser(t *testing.T) {
	s := newTestServer(t)
	b, _ := signedInAdmin(s)

	cases := []struct {
		path, continueHref string
	}{
		{"/sign-in", "/console"},
		{"/sign-in?next=%2Fhistory%3Flimit%3D5", "/history?limit=5"},
		{"/sign-in?next=%2F%2Fexample.test%2F", "/console"},
	}
	for _, tc := range cases {
		rec := b.do(http.MethodGet, tc.path, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s signed in: status %d, want 200", tc.path, rec.Code)
		}
		doc := document(t, rec)
		note := byTestID(doc, "sign-in-current")
		if note.Length() != 1 {
			t.Fatalf("GET %s signed in: %d current-user notes, want 1", tc.path, note.Length())
		}
		text := visibleText(note)
		if !strings.Contains(text, "You are signed in as root.") {
			t.Errorf("GET %s: note %q, want it to name root", tc.path, text)
		}
		if !strings.Contains(text, "Signing in as another user ends that session.") {
			t.Errorf("GET %s: note %q, want it to say the session ends", tc.path, text)
		}
		link := byTestID(doc, "sign-in-continue")
		if got := link.AttrOr("href", ""); got != tc.continueHref {
			t.Errorf("GET %s: continue link %q, want %q", tc.path, got, tc.continueHref)
		}
		if got := visibleText(link); got != "Continue as root" {
			t.Errorf("GET %s: continue link text %q, want %q", tc.path, got, "Continue as root")
		}
		if byTestID(doc, "sign-in-form").Length() != 1 {
			t.Errorf("GET %s signed in: sign-in form missing, want it kept for another user", tc.path)
		}
	}

	anonymous := newBrowser(s).do(http.MethodGet, "/sign-in", nil)
	if anonymous.Code != http.StatusOK {
		t.Fatalf("GET /sign-in without a session: status %d, want 200", anonymous.Code)
	}
	if got := byTestID(document(t, anonymous), "sign-in-current").Length(); got != 0 {
		t.Errorf("GET /sign-in without a session: %d current-user notes, want 0", got)
	}
}

// A user whose name contains a configured secret, which a command run
// without the connector configuration can create, is refused at sign-in
// and with its token, so its actions never store the secret as actor.
func TestUserNamedWithSecretIsRefused(t *testing.T) {
	const secret = "local-receiver-token"
	s := newTestServer(t)
	_, token := authtest.CreateUser(t, s.db, secret, auth.RoleReleaseManager)
	s.handler.Secrets = connectors.NewRedactor(secret)
	s.e = NewServer(s.handler)
	before := dbtest.CountRows(t, s.db)

	b := newBrowser(s)
	if rec := b.signIn(secret, authtest.Password); rec.Code != http.StatusForbidden {
		t.Errorf("sign-in: status %d, want 403", rec.Code)
	}
	rec := s.do(http.MethodGet, "/console", "", "", "Authorization", "Bearer "+token)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "create a user with another name") {
		t.Errorf("token request: status %d, want a 403 that says what to do", rec.Code)
	}
	if after := dbtest.CountRows(t, s.db); after["user_sessions"] != before["user_sessions"] {
		t.Errorf("sessions: got %d, want %d (no session for the refused user)", after["user_sessions"], before["user_sessions"])
	}
}

// A session that began before its user's name matched a configured secret
// can still be ended.
func TestUserNamedWithSecretCanSignOut(t *testing.T) {
	const secret = "local-receiver-token"
	s := newTestServer(t)
	authtest.CreateUser(t, s.db, secret, auth.RoleViewer)
	b := newBrowser(s)
	b.mustSignIn(secret)
	csrf := b.sessionCSRF()

	// The secret is configured from now on; the server keeps its session
	// keys, so the session stays valid.
	s.handler.Secrets = connectors.NewRedactor(secret)
	if rec := b.do(http.MethodGet, "/console", nil); rec.Code != http.StatusForbidden {
		t.Errorf("GET /console: status %d, want 403", rec.Code)
	}
	if rec := b.do(http.MethodPost, "/sign-out", url.Values{"_csrf": {csrf}}); rec.Code != http.StatusSeeOther {
		t.Errorf("POST /sign-out: status %d, want 303", rec.Code)
	}
	if got := dbtest.CountRows(t, s.db)["user_sessions"]; got != 0 {
		t.Errorf("sessions after sign-out: got %d, want 0", got)
	}
}

// A token that could mint tokens would outlive its own revocation.
func TestTokenCannotCreateTokens(t *testing.T) {
	s := newTestServer(t)
	_, token := authtest.CreateUser(t, s.db, "carol", auth.RoleViewer)
	before := dbtest.CountRows(t, s.db)["api_tokens"]
	rec := s.do(http.MethodPost, "/profile/tokens", "application/x-www-form-urlencoded", "name=minted", "Authorization", "Bearer "+token)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "cannot create API tokens") {
		t.Errorf("token creating a token: status %d, want 403 that says why: %s", rec.Code, rec.Body)
	}
	if after := dbtest.CountRows(t, s.db)["api_tokens"]; after != before {
		t.Errorf("api tokens: got %d, want %d", after, before)
	}
	if cookies := rec.Result().Cookies(); len(cookies) != 0 {
		t.Errorf("cookies set for an API token request: got %d, want none", len(cookies))
	}
}

// After a session ends, an htmx request leads to sign-in and back to the
// page it came from, not to the part of the page it loads.
func TestExpiredHTMXRequestReturnsToPage(t *testing.T) {
	s := newTestServer(t)
	s.anonymous()
	rec := s.do(http.MethodGet, "/console/dashboard", "", "", "HX-Request", "true", "HX-Current-URL", "http://127.0.0.1:8080/history?limit=5")
	if got := rec.Header().Get("HX-Redirect"); got != "/sign-in?next="+url.QueryEscape("/history?limit=5") {
		t.Errorf("HX-Redirect: got %q, want the sign-in page leading back to /history?limit=5", got)
	}
}

// A form sent after the session ended leads to a sign-in page that shows
// the action was not saved, so the user does not take it for done.
func TestExpiredFormPostShowsNotSaved(t *testing.T) {
	s := newTestServer(t)
	s.anonymous()
	rec := s.do(http.MethodPost, "/console/retry-health", echo.MIMEApplicationForm, "expected_interval_minutes=30",
		"HX-Request", "true", "HX-Current-URL", "http://127.0.0.1:8080/console")
	want := "/sign-in?next=" + url.QueryEscape("/console") + "&unsaved=true"
	if got := rec.Header().Get("HX-Redirect"); got != want {
		t.Fatalf("HX-Redirect: got %q, want %q", got, want)
	}

	page := s.do(http.MethodGet, want, "", "")
	if byTestID(document(t, page), "sign-in-unsaved").Length() != 1 {
		t.Errorf("sign-in page after an unsaved action: no notice that it was not saved; body: %s", page.Body)
	}
	// A plain form leads back to the page that sent it, on this server only.
	plainForm := s.do(http.MethodPost, "/users", echo.MIMEApplicationForm, "username=ada&role=viewer", "Referer", "http://example.com/users")
	if got, want := plainForm.Header().Get(echo.HeaderLocation), "/sign-in?next="+url.QueryEscape("/users")+"&unsaved=true"; got != want {
		t.Errorf("plain form without a session: location %q, want %q", got, want)
	}
	elsewhere := s.do(http.MethodPost, "/users", echo.MIMEApplicationForm, "username=ada&role=viewer", "Referer", "http://other.example/users")
	if got, want := elsewhere.Header().Get(echo.HeaderLocation), "/sign-in?next="+url.QueryEscape("/console")+"&unsaved=true"; got != want {
		t.Errorf("plain form from another site: location %q, want %q", got, want)
	}
	signOut := s.do(http.MethodPost, "/sign-out", echo.MIMEApplicationForm, "")
	if location := signOut.Header().Get(echo.HeaderLocation); strings.Contains(location, "unsaved") {
		t.Errorf("sign-out without a session: location %q, want no unsaved notice", location)
	}
	plain := s.do(http.MethodGet, "/sign-in?next=%2Fconsole", "", "")
	if byTestID(document(t, plain), "sign-in-unsaved").Length() != 0 {
		t.Error("sign-in page without an unsaved action: shows the notice, want none")
	}
}

// The page for an unknown address keeps the signed-in header.
func TestNotFoundPageKeepsSignedInHeader(t *testing.T) {
	s := newTestServer(t)
	b, _ := signedInAdmin(s)
	rec := b.do(http.MethodGet, "/no-such-page", nil)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("GET /no-such-page: status %d, want 404", rec.Code)
	}
	if byTestID(document(t, rec), "sign-out").Length() != 1 {
		t.Error("404 page of a signed-in user: no sign-out button, want the signed-in header")
	}
}
