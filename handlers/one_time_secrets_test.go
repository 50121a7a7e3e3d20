package handlers

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/auth/authtest"
	"github.com/releaseops/evidence-console/models"
	"gorm.io/gorm"
)

// replayCookies returns a copy of the browser's cookies, to send again
// later as a client that did not store the updated cookie would.
func replayCookies(b *browser) map[string]*http.Cookie {
	saved := map[string]*http.Cookie{}
	for name, cookie := range b.cookies {
		copied := *cookie
		saved[name] = &copied
	}
	return saved
}

// heldSecretRows returns the sealed values of every one-time secret row.
func heldSecretRows(t *testing.T, s *testServer) []string {
	t.Helper()
	var rows []models.OneTimeSecret
	if err := s.db.Find(&rows).Error; err != nil {
		t.Fatalf("read one_time_secrets: %v", err)
	}
	sealed := make([]string, 0, len(rows))
	for _, row := range rows {
		sealed = append(sealed, row.Sealed)
	}
	return sealed
}

func TestNewTokenNotShownOnReplayedCookie(t *testing.T) {
	s := newTestServer(t)
	authtest.CreateUser(t, s.db, "viewer", auth.RoleViewer)
	b := newBrowser(s)
	b.mustSignIn("viewer")

	rec := b.do(http.MethodPost, "/profile/tokens", url.Values{"name": {"ci"}, "_csrf": {b.sessionCSRF()}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create token: status = %d, want 303; body: %s", rec.Code, rec.Body.String())
	}
	saved := replayCookies(b)
	held := heldSecretRows(t, s)
	if len(held) != 1 {
		t.Fatalf("one-time secret rows = %d, want 1", len(held))
	}

	shown := b.do(http.MethodGet, "/profile", nil)
	secret := strings.TrimSpace(byTestID(document(t, shown), "new-token").Text())
	if !strings.HasPrefix(secret, "ecp_") {
		t.Fatalf("new token = %q, want an ecp_ token on the first view", secret)
	}
	if strings.Contains(held[0], strings.TrimPrefix(secret, "ecp_")) {
		t.Error("one_time_secrets row contains the token in clear text")
	}
	for _, cookie := range saved {
		if strings.Contains(cookie.Value, strings.TrimPrefix(secret, "ecp_")) {
			t.Errorf("cookie %s carries the token in clear text", cookie.Name)
		}
	}
	if got := len(heldSecretRows(t, s)); got != 0 {
		t.Errorf("one-time secret rows after the first view = %d, want 0", got)
	}

	for attempt := 1; attempt <= 2; attempt++ {
		b.cookies = replayCookies(&browser{cookies: saved})
		replayed := b.do(http.MethodGet, "/profile", nil)
		if replayed.Code != http.StatusOK {
			t.Fatalf("replay %d: status = %d, want 200", attempt, replayed.Code)
		}
		if strings.Contains(replayed.Body.String(), secret) {
			t.Errorf("replay %d of the cookie shows the token again", attempt)
		}
		if got := byTestID(document(t, replayed), "new-token").Length(); got != 0 {
			t.Errorf("replay %d: new-token elements = %d, want 0", attempt, got)
		}
	}
}

func TestCreatedUserNotShownOnReplayedCookie(t *testing.T) {
	s := newTestServer(t)
	b, csrf := signedInAdmin(s)

	rec := b.do(http.MethodPost, "/users", url.Values{"username": {"carol"}, "role": {"viewer"}, "_csrf": {csrf}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create user: status = %d, want 303; body: %s", rec.Code, rec.Body.String())
	}
	saved := replayCookies(b)

	shown := b.do(http.MethodGet, "/users", nil)
	password := strings.TrimSpace(byTestID(document(t, shown), "generated-password").Text())
	if len(password) < auth.MinPasswordLength {
		t.Fatalf("generated password %q is shorter than %d", password, auth.MinPasswordLength)
	}

	b.cookies = saved
	replayed := b.do(http.MethodGet, "/users", nil)
	if replayed.Code != http.StatusOK {
		t.Fatalf("replay: status = %d, want 200", replayed.Code)
	}
	if strings.Contains(replayed.Body.String(), password) {
		t.Error("replayed cookie shows the generated password again")
	}
	if got := byTestID(document(t, replayed), "user-created").Length(); got != 0 {
		t.Errorf("replay: created notices = %d, want 0", got)
	}
}

// A page view whose database fails while it takes the new token keeps the
// token's reference in the cookie, so a reload shows the token.
func TestNewTokenShownAfterFailedView(t *testing.T) {
	s := newTestServer(t)
	authtest.CreateUser(t, s.db, "viewer", auth.RoleViewer)
	b := newBrowser(s)
	b.mustSignIn("viewer")
	rec := b.do(http.MethodPost, "/profile/tokens", url.Values{"name": {"ci"}, "_csrf": {b.sessionCSRF()}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create token: status = %d, want 303; body: %s", rec.Code, rec.Body.String())
	}

	failing := true
	err := s.db.Callback().Delete().Before("gorm:delete").Register("test:fail_one_time_secret_delete", func(tx *gorm.DB) {
		if failing && tx.Statement.Table == "one_time_secrets" {
			_ = tx.AddError(errors.New("simulated storage failure"))
		}
	})
	if err != nil {
		t.Fatalf("register the failing callback: %v", err)
	}
	failed := b.do(http.MethodGet, "/profile", nil)
	if failed.Code != http.StatusOK {
		t.Fatalf("view with a failing database: status = %d, want 200", failed.Code)
	}
	if got := byTestID(document(t, failed), "new-token").Length(); got != 0 {
		t.Errorf("new-token elements on the failed view = %d, want 0", got)
	}

	failing = false
	shown := b.do(http.MethodGet, "/profile", nil)
	secret := strings.TrimSpace(byTestID(document(t, shown), "new-token").Text())
	if !strings.HasPrefix(secret, "ecp_") {
		t.Errorf("new token on the reload = %q, want the ecp_ token", secret)
	}
}

// When the database fails while the users page takes the second of two
// generated passwords, the page shows the first, which is deleted, and a
// reload shows the second.
func TestCreatedUsersKeptAfterPartlyFailedView(t *testing.T) {
	s := newTestServer(t)
	b, csrf := signedInAdmin(s)
	for _, name := range []string{"carol", "dave"} {
		rec := b.do(http.MethodPost, "/users", url.Values{"username": {name}, "role": {"viewer"}, "_csrf": {csrf}})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("create %s: status = %d, want 303; body: %s", name, rec.Code, rec.Body.String())
		}
	}

	// Each take reads its row once, so the second read is the second
	// password's.
	reads := 0
	failSecond := true
	err := s.db.Callback().Query().Before("gorm:query").Register("test:fail_second_secret_read", func(tx *gorm.DB) {
		if failSecond && tx.Statement.Table == "one_time_secrets" {
			reads++
			if reads == 2 {
				_ = tx.AddError(errors.New("simulated storage failure"))
			}
		}
	})
	if err != nil {
		t.Fatalf("register the failing callback: %v", err)
	}
	first := b.do(http.MethodGet, "/users", nil)
	if got := byTestID(document(t, first), "generated-password").Length(); got != 1 {
		t.Errorf("generated passwords on the failing view = %d, want 1", got)
	}

	failSecond = false
	second := b.do(http.MethodGet, "/users", nil)
	if got := byTestID(document(t, second), "generated-password").Length(); got != 1 {
		t.Errorf("generated passwords on the reload = %d, want 1", got)
	}
	if got := len(heldSecretRows(t, s)); got != 0 {
		t.Errorf("held secret rows after the reload = %d, want 0", got)
	}
}

func TestNewTokensTwiceBeforeLoading(t *testing.T) {
	s := newTestServer(t)
	authtest.CreateUser(t, s.db, "viewer", auth.RoleViewer)
	b := newBrowser(s)
	b.mustSignIn("viewer")
	// sessionCSRF loads /profile, so it runs before the tokens are created.
	csrf := b.sessionCSRF()

	for _, name := range []string{"twoA", "twoB"} {
		rec := b.do(http.MethodPost, "/profile/tokens", url.Values{"name": {name}, "_csrf": {csrf}})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("create %s: status = %d, want 303", name, rec.Code)
		}
	}

	shown := byTestID(document(t, b.do(http.MethodGet, "/profile", nil)), "new-token")
	if shown.Length() != 2 {
		t.Fatalf("new-token elements = %d, want 2", shown.Length())
	}
	for i := range 2 {
		secret := strings.TrimSpace(shown.Eq(i).Text())
		if !strings.HasPrefix(secret, "ecp_") {
			t.Errorf("token %d = %q, want an ecp_ token", i, secret)
			continue
		}
		if api := s.do(http.MethodGet, "/profile", "", "", echo.HeaderAuthorization, "Bearer "+secret); api.Code != http.StatusOK {
			t.Errorf("token %d: GET /profile status = %d, want 200", i, api.Code)
		}
	}
	if held := heldSecretRows(t, s); len(held) != 0 {
		t.Errorf("one-time secret rows after the view = %d, want 0", len(held))
	}
}

func TestNewTokenFullCookieShown(t *testing.T) {
	s := newTestServer(t)
	authtest.CreateUser(t, s.db, "viewer", auth.RoleViewer)
	b := newBrowser(s)
	b.mustSignIn("viewer")
	csrf := b.sessionCSRF()

	// Each token waiting in the flash makes the session cookie longer,
	// until it passes the 4096-byte limit of gorilla/securecookie.
	const maxPosts = 80
	redirected := 0
	var rec *httptest.ResponseRecorder
	for i := range maxPosts {
		rec = b.do(http.MethodPost, "/profile/tokens", url.Values{"name": {"token" + strconv.Itoa(i)}, "_csrf": {csrf}})
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
	secret := strings.TrimSpace(byTestID(document(t, rec), "new-token").Text())
	if !strings.HasPrefix(secret, "ecp_") {
		t.Errorf("token in the form response = %q, want an ecp_ token", secret)
	}

	// The tokens created before are still in the cookie, for the next load.
	waiting := byTestID(document(t, b.do(http.MethodGet, "/profile", nil)), "new-token")
	if waiting.Length() != redirected {
		t.Errorf("new-token elements on the next load = %d, want %d", waiting.Length(), redirected)
	}
}
