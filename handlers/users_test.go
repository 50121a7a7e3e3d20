package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/auth/authtest"
	"github.com/releaseops/evidence-console/evidence"
	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// newLoggedTestServer is newTestServer with the handler, its services and
// the database's statement log all writing to the returned buffer.
func newLoggedTestServer(t *testing.T) (*testServer, *syncBuffer) {
	t.Helper()
	_, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	db, _, err := models.Open(models.OpenOptions{URL: databaseURL, Logger: logger})
	if err != nil {
		t.Fatalf("open the test database with a logger: %v", err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})

	clock := func() time.Time { return testNow }
	h := &Handler{
		Health:    &health.Service{DB: db, Now: clock, Logger: logger},
		Evidence:  &evidence.Service{DB: db, Now: clock, Logger: logger},
		Auth:      AuthConfig{Service: &auth.Service{DB: db, Now: clock, Logger: logger}},
		Ready:     func(ctx context.Context) error { return models.Ping(ctx, db) },
		TimeZone:  time.UTC,
		PublicURL: "http://127.0.0.1:8080",
		Logger:    logger,
		Now:       clock,
	}
	s := &testServer{t: t, e: NewServer(h), db: db, handler: h, headers: map[string]string{}}
	s.actAs("test-admin", auth.RoleAdmin)
	return s, logs
}

// signedInAdmin signs a browser in as a new admin and returns it with the
// session's CSRF token.
func signedInAdmin(s *testServer) (*browser, string) {
	s.t.Helper()
	authtest.CreateUser(s.t, s.db, "root", auth.RoleAdmin)
	b := newBrowser(s)
	b.mustSignIn("root")
	return b, b.sessionCSRF()
}

func TestCreateUserShowsPasswordOnce(t *testing.T) {
	s := newTestServer(t)
	b, csrf := signedInAdmin(s)

	rec := b.do(http.MethodPost, "/users", url.Values{"username": {"Carol"}, "role": {"auditor"}, "_csrf": {csrf}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create user: status = %d, want 303; body: %s", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get(echo.HeaderLocation); got != "/users" {
		t.Errorf("create user: location = %q, want /users", got)
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("create user: Cache-Control = %q, want no-store", got)
	}

	firstLoad := b.do(http.MethodGet, "/users", nil)
	if firstLoad.Code != http.StatusOK {
		t.Fatalf("users page after creating: status = %d, want 200", firstLoad.Code)
	}
	if got := firstLoad.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("users page showing the password: Cache-Control = %q, want no-store", got)
	}
	doc := document(t, firstLoad)
	if got := byTestID(doc, "user-created").AttrOr("data-username", ""); got != "carol" {
		t.Errorf("created notice names %q, want carol", got)
	}
	if byTestID(doc, "user-row").Filter(`[data-username="carol"]`).Length() != 1 {
		t.Error("users table has no row for carol")
	}
	password := strings.TrimSpace(byTestID(doc, "generated-password").Text())
	if len(password) < auth.MinPasswordLength {
		t.Fatalf("generated password %q is shorter than %d", password, auth.MinPasswordLength)
	}
	for _, cookie := range rec.Result().Cookies() {
		if strings.Contains(cookie.Value, password) {
			t.Errorf("cookie %s carries the password in clear text, want it encrypted", cookie.Name)
		}
	}
	if got := newBrowser(s).signIn("carol", password); got.Code != http.StatusSeeOther {
		t.Errorf("sign in with the generated password: status = %d, want 303", got.Code)
	}

	secondLoad := b.do(http.MethodGet, "/users", nil)
	if secondLoad.Code != http.StatusOK {
		t.Fatalf("users page reloaded: status = %d, want 200", secondLoad.Code)
	}
	if strings.Contains(secondLoad.Body.String(), password) {
		t.Error("reloaded users page shows the password again, want it shown only once")
	}
	if got := byTestID(document(t, secondLoad), "user-created").Length(); got != 0 {
		t.Errorf("created notices on the reloaded page = %d, want 0", got)
	}
	if got := secondLoad.Header().Get("Cache-Control"); got == "no-store" {
		t.Errorf("users page without a new user: Cache-Control = %q, want the default", got)
	}
}

func TestCreateUserChosenPassword(t *testing.T) {
	s := newTestServer(t)
	b, csrf := signedInAdmin(s)

	const chosen = "a-password-the-admin-chose"
	rec := b.do(http.MethodPost, "/users", url.Values{"username": {"dave"}, "role": {"viewer"}, "password": {chosen}, "_csrf": {csrf}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create user: status = %d, want 303; body: %s", rec.Code, rec.Body.String())
	}

	page := b.do(http.MethodGet, "/users", nil)
	doc := document(t, page)
	if got := byTestID(doc, "user-created").AttrOr("data-username", ""); got != "dave" {
		t.Errorf("created notice names %q, want dave", got)
	}
	if got := byTestID(doc, "generated-password").Length(); got != 0 {
		t.Errorf("generated passwords shown = %d, want 0 for a chosen password", got)
	}
	if strings.Contains(page.Body.String(), chosen) {
		t.Error("users page shows the chosen password, want it never shown")
	}
	if got := newBrowser(s).signIn("dave", chosen); got.Code != http.StatusSeeOther {
		t.Errorf("sign in with the chosen password: status = %d, want 303", got.Code)
	}
}

func TestCreateUserTwiceBeforeLoading(t *testing.T) {
	s := newTestServer(t)
	b, csrf := signedInAdmin(s)

	for _, username := range []string{"erin", "frank"} {
		rec := b.do(http.MethodPost, "/users", url.Values{"username": {username}, "role": {"viewer"}, "_csrf": {csrf}})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("create %s: status = %d, want 303", username, rec.Code)
		}
	}

	notices := byTestID(document(t, b.do(http.MethodGet, "/users", nil)), "user-created")
	if notices.Length() != 2 {
		t.Fatalf("created notices = %d, want 2", notices.Length())
	}
	for i, want := range []string{"erin", "frank"} {
		notice := notices.Eq(i)
		if got := notice.AttrOr("data-username", ""); got != want {
			t.Errorf("notice %d names %q, want %q", i, got, want)
		}
		if password := strings.TrimSpace(notice.Find(`[data-testid="generated-password"]`).Text()); password == "" {
			t.Errorf("notice %d has no generated password", i)
		}
	}
}

func TestCreateUserFullCookieShowsPassword(t *testing.T) {
	s := newTestServer(t)
	b, csrf := signedInAdmin(s)

	// Each created user waiting in the flash makes the session cookie
	// longer, until it passes the 4096-byte limit of gorilla/securecookie.
	const maxPosts = 60
	redirected := 0
	var rec *httptest.ResponseRecorder
	for i := range maxPosts {
		rec = b.do(http.MethodPost, "/users", url.Values{"username": {"user" + strconv.Itoa(i)}, "role": {"viewer"}, "_csrf": {csrf}})
		if rec.Code != http.StatusSeeOther {
			break
		}
		redirected++
	}
	if rec.Code != http.StatusCreated {
		t.Fatalf("status after %d redirects = %d, want 201 once the cookie is full", redirected, rec.Code)
	}
	if redirected == 0 {
		t.Fatal("first post was not redirected, want the cookie full only after several")
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	overflow := "user" + strconv.Itoa(redirected)
	doc := document(t, rec)
	if got := byTestID(doc, "user-created").AttrOr("data-username", ""); got != overflow {
		t.Errorf("created notice names %q, want %s", got, overflow)
	}
	if password := strings.TrimSpace(byTestID(doc, "generated-password").Text()); len(password) < auth.MinPasswordLength {
		t.Errorf("generated password %q is shorter than %d", password, auth.MinPasswordLength)
	}

	// The users created before are still in the cookie, for the next load.
	waiting := byTestID(document(t, b.do(http.MethodGet, "/users", nil)), "user-created")
	if waiting.Length() != redirected {
		t.Errorf("created notices on the next load = %d, want %d", waiting.Length(), redirected)
	}
}

func TestCreateUserWithAPIToken(t *testing.T) {
	for _, accept := range []string{"text/html", echo.MIMEApplicationJSON} {
		t.Run(accept, func(t *testing.T) {
			s := newTestServer(t)

			rec := s.postForm("/users", "username=grace&role=viewer", echo.HeaderAccept, accept)

			if rec.Code != http.StatusCreated {
				t.Fatalf("status = %d, want 201 (no session to carry the password)", rec.Code)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			password := strings.TrimSpace(byTestID(document(t, rec), "generated-password").Text())
			if len(password) < auth.MinPasswordLength {
				t.Errorf("generated password %q is shorter than %d", password, auth.MinPasswordLength)
			}
			if cookies := rec.Result().Cookies(); len(cookies) != 0 {
				t.Errorf("cookies set for an API token request: got %d, want none", len(cookies))
			}
		})
	}
}

func TestCreateDuplicateUserLogsNoError(t *testing.T) {
	s, logs := newLoggedTestServer(t)
	b, csrf := signedInAdmin(s)
	authtest.CreateUser(t, s.db, "ivan", auth.RoleViewer)

	requests := []struct {
		name string
		send func() *httptest.ResponseRecorder
	}{
		{"session", func() *httptest.ResponseRecorder {
			return b.do(http.MethodPost, "/users", url.Values{"username": {" Ivan "}, "role": {"admin"}, "_csrf": {csrf}})
		}},
		{"API token", func() *httptest.ResponseRecorder {
			return s.postForm("/users", "username=IVAN&role=admin")
		}},
	}
	for _, request := range requests {
		t.Run(request.name, func(t *testing.T) {
			before := logs.String()
			rec := request.send()

			if rec.Code != http.StatusConflict {
				t.Fatalf("status = %d, want 409", rec.Code)
			}
			message := byTestID(document(t, rec), "users-error")
			if got := message.Text(); got != "A user named ivan already exists. Choose another username." {
				t.Errorf("error = %q, want it to name the existing user ivan", got)
			}
			if got := message.AttrOr("data-field", ""); got != "username" {
				t.Errorf("error field = %q, want username", got)
			}
			added := strings.TrimPrefix(logs.String(), before)
			if strings.Contains(added, "level=ERROR") {
				t.Errorf("log has an ERROR line for a taken username:\n%s", added)
			}
			if strings.Contains(added, "database statement failed") {
				t.Errorf("log has a failed database statement for a taken username:\n%s", added)
			}
		})
	}
}

func TestRejectedCreateUserKeepsTheForm(t *testing.T) {
	s := newTestServer(t)
	b, csrf := signedInAdmin(s)

	rec := b.do(http.MethodPost, "/users", url.Values{"username": {"erin"}, "role": {"auditor"}, "password": {"short"}, "_csrf": {csrf}})

	if rec.Code != http.StatusBadRequest {
		t.Fatalf("create user: status = %d, want 400", rec.Code)
	}
	doc := document(t, rec)
	if got := byTestID(doc, "new-username").AttrOr("value", ""); got != "erin" {
		t.Errorf("username kept: got %q, want erin", got)
	}
	form := byTestID(doc, "create-user-form")
	if got := form.Find(`option[selected]`).AttrOr("value", ""); got != "auditor" {
		t.Errorf("role kept: got %q, want auditor", got)
	}
	if strings.Contains(rec.Body.String(), `value="short"`) {
		t.Error("the rejected password is sent back, want it never shown")
	}
	// The field at fault is marked, linked to the message and focused.
	password := byTestID(doc, "new-password")
	if got := password.AttrOr("aria-invalid", ""); got != "true" {
		t.Errorf("password aria-invalid: got %q, want true", got)
	}
	if got := password.AttrOr("aria-describedby", ""); got != "users-error-password" {
		t.Errorf("password aria-describedby: got %q, want users-error-password", got)
	}
	if _, focused := password.Attr("autofocus"); !focused {
		t.Error("password: not focused, want the field at fault focused")
	}
	if _, marked := byTestID(doc, "new-username").Attr("aria-invalid"); marked {
		t.Error("username: marked invalid, want only the field at fault marked")
	}
}

func TestCreateUserReportsEveryField(t *testing.T) {
	s := newTestServer(t)
	b, csrf := signedInAdmin(s)
	before := dbtest.CountRows(t, s.db)["users"]

	rec := b.do(http.MethodPost, "/users", url.Values{"username": {"Bad Name!"}, "role": {"viewer"}, "password": {"short"}, "_csrf": {csrf}})

	if rec.Code != http.StatusBadRequest {
		t.Fatalf("create user: status = %d, want 400", rec.Code)
	}
	doc := document(t, rec)
	messages := byTestID(doc, "users-field-error")
	if messages.Length() != 2 {
		t.Fatalf("field messages = %d, want 2 (username and password); body %s", messages.Length(), rec.Body.String())
	}
	if got := messages.Eq(0).AttrOr("data-field", ""); got != "username" {
		t.Errorf("first message field = %q, want username", got)
	}
	if got := messages.Eq(1).AttrOr("data-field", ""); got != "password" {
		t.Errorf("second message field = %q, want password", got)
	}
	if got := messages.Eq(1).Text(); !strings.HasPrefix(got, "The password is invalid: must have at least") {
		t.Errorf("password message = %q, want the minimum length", got)
	}

	username := byTestID(doc, "new-username")
	if got := username.AttrOr("value", ""); got != "Bad Name!" {
		t.Errorf("username kept: got %q, want the typed value", got)
	}
	if got := username.AttrOr("aria-describedby", ""); got != "users-error-username" {
		t.Errorf("username aria-describedby: got %q, want users-error-username", got)
	}
	if _, focused := username.Attr("autofocus"); !focused {
		t.Error("username: not focused, want the first field in error focused")
	}
	password := byTestID(doc, "new-password")
	if got := password.AttrOr("aria-invalid", ""); got != "true" {
		t.Errorf("password aria-invalid: got %q, want true", got)
	}
	if got := password.AttrOr("aria-describedby", ""); got != "users-error-password" {
		t.Errorf("password aria-describedby: got %q, want users-error-password", got)
	}
	if _, focused := password.Attr("autofocus"); focused {
		t.Error("password: focused, want only the first field in error focused")
	}
	if after := dbtest.CountRows(t, s.db)["users"]; after != before {
		t.Errorf("users rows = %d, want %d", after, before)
	}
}

func TestOversizedRoleNotRepeated(t *testing.T) {
	s := newTestServer(t)
	b, csrf := signedInAdmin(s)
	erin, _ := authtest.CreateUser(t, s.db, "erin", auth.RoleViewer)
	role := strings.Repeat("R", 1<<20)

	requests := map[string]struct {
		path string
		form url.Values
	}{
		"create user": {"/users", url.Values{"username": {"frank"}, "role": {role}, "_csrf": {csrf}}},
		"change role": {"/users/" + erin.ID + "/role", url.Values{"role": {role}, "_csrf": {csrf}}},
	}
	for name, request := range requests {
		t.Run(name, func(t *testing.T) {
			rec := b.do(http.MethodPost, request.path, request.form)

			if rec.Code != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", rec.Code)
			}
			if size := rec.Body.Len(); size > 64<<10 {
				t.Errorf("response size = %d bytes, want a short page without the role", size)
			}
			if strings.Contains(rec.Body.String(), role[:100]) {
				t.Error("response repeats the posted role, want it left out")
			}
			want := fmt.Sprintf("at most %d characters", auth.MaxRoleLength)
			if !strings.Contains(rec.Body.String(), want) {
				t.Errorf("response does not contain %q", want)
			}
		})
	}
}
