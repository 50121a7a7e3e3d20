package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/auth/authtest"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// testClock is a clock a test moves forward.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// useClock gives the server's auth service a clock the test controls.
func useClock(s *testServer) *testClock {
	clock := &testClock{now: testNow}
	s.handler.Auth.Service = &auth.Service{DB: s.db, Now: clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return clock
}

func TestSignInSessionCookieFlags(t *testing.T) {
	cases := []struct {
		name       string
		publicURL  string
		wantSecure bool
	}{
		{"http public URL", "http://127.0.0.1:8080", false},
		{"https public URL", "https://console.example.test", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t)
			s.handler.PublicURL = tc.publicURL
			authtest.CreateUser(t, s.db, "alice", auth.RoleViewer)
			b := newBrowser(s)

			rec := b.signIn("alice", authtest.Password)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("sign in: status = %d, want 303", rec.Code)
			}
			var cookie *http.Cookie
			for _, c := range rec.Result().Cookies() {
				if c.Name == sessionCookieName {
					cookie = c
				}
			}
			if cookie == nil {
				t.Fatal("sign-in set no session cookie")
			}
			if !cookie.HttpOnly {
				t.Error("session cookie HttpOnly = false, want true")
			}
			if cookie.SameSite != http.SameSiteLaxMode {
				t.Errorf("session cookie SameSite = %v, want Lax", cookie.SameSite)
			}
			if cookie.Secure != tc.wantSecure {
				t.Errorf("session cookie Secure = %t, want %t", cookie.Secure, tc.wantSecure)
			}
			if cookie.Path != "/" {
				t.Errorf("session cookie Path = %q, want /", cookie.Path)
			}
			if want := int(auth.DefaultSessionLifetime.Seconds()); cookie.MaxAge != want {
				t.Errorf("session cookie Max-Age = %d, want %d", cookie.MaxAge, want)
			}
			if strings.Contains(cookie.Value, authtest.Password) {
				t.Error("session cookie contains the password")
			}
		})
	}
}

func TestSignInRenewsSession(t *testing.T) {
	s := newTestServer(t)
	authtest.CreateUser(t, s.db, "alice", auth.RoleViewer)
	b := newBrowser(s)

	b.formCSRF("/sign-in")
	before := b.cookies[sessionCookieName].Value
	b.mustSignIn("alice")
	first := *b.cookies[sessionCookieName]
	if first.Value == before {
		t.Fatal("session cookie unchanged by sign-in, want a new one")
	}
	firstCSRF := b.sessionCSRF()

	// Signing in again from the same browser replaces the session, and the
	// old cookie stops working.
	b.mustSignIn("alice")
	if b.cookies[sessionCookieName].Value == first.Value {
		t.Fatal("second sign-in kept the session cookie, want a new one")
	}
	if b.sessionCSRF() == firstCSRF {
		t.Error("CSRF token unchanged across sessions, want a new one")
	}
	old := newBrowser(s)
	old.cookies[sessionCookieName] = &first
	rec := old.do(http.MethodGet, "/profile", nil)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get(echo.HeaderLocation), "/sign-in") {
		t.Errorf("replaced session: status = %d, location = %q, want 303 to /sign-in", rec.Code, rec.Header().Get(echo.HeaderLocation))
	}
}

func TestSessionExpiry(t *testing.T) {
	cases := []struct {
		name string
		// steps are pauses between requests; the last request must fail.
		steps []time.Duration
	}{
		{"idle timeout", []time.Duration{auth.DefaultIdleTimeout}},
		{"lifetime", []time.Duration{
			time.Hour + 50*time.Minute, time.Hour + 50*time.Minute, time.Hour + 50*time.Minute, time.Hour + 50*time.Minute,
			time.Hour + 50*time.Minute, time.Hour + 50*time.Minute, time.Hour + 50*time.Minute,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t)
			clock := useClock(s)
			authtest.CreateUser(t, s.db, "alice", auth.RoleViewer)
			b := newBrowser(s)
			b.mustSignIn("alice")

			for i, pause := range tc.steps {
				clock.Advance(pause)
				rec := b.do(http.MethodGet, "/profile", nil)
				last := i == len(tc.steps)-1
				if !last && rec.Code != http.StatusOK {
					t.Fatalf("request %d after %v: status = %d, want 200", i+1, pause, rec.Code)
				}
				if last && (rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get(echo.HeaderLocation), "/sign-in")) {
					t.Fatalf("request after expiry: status = %d, location = %q, want 303 to /sign-in", rec.Code, rec.Header().Get(echo.HeaderLocation))
				}
			}
			if n := dbtest.CountRows(t, s.db)["user_sessions"]; n != 0 {
				t.Errorf("user_sessions rows after expiry = %d, want 0 (expired session deleted)", n)
			}
		})
	}
}

func TestSignOut(t *testing.T) {
	s := newTestServer(t)
	authtest.CreateUser(t, s.db, "alice", auth.RoleViewer)
	b := newBrowser(s)
	b.mustSignIn("alice")
	session := *b.cookies[sessionCookieName]
	csrf := b.sessionCSRF()

	rec := b.do(http.MethodPost, "/sign-out", url.Values{"_csrf": {csrf}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get(echo.HeaderLocation) != "/sign-in" {
		t.Fatalf("sign out: status = %d, location = %q, want 303 to /sign-in", rec.Code, rec.Header().Get(echo.HeaderLocation))
	}
	if _, kept := b.cookies[sessionCookieName]; kept {
		t.Error("sign-out kept the session cookie, want it expired")
	}
	if n := dbtest.CountRows(t, s.db)["user_sessions"]; n != 0 {
		t.Errorf("user_sessions rows after sign-out = %d, want 0", n)
	}

	replay := newBrowser(s)
	replay.cookies[sessionCookieName] = &session
	rec = replay.do(http.MethodGet, "/profile", nil)
	if rec.Code != http.StatusSeeOther {
		t.Errorf("signed-out cookie replayed: status = %d, want 303 to /sign-in", rec.Code)
	}
}

func TestSignInRejects(t *testing.T) {
	s := newTestServer(t)
	authtest.CreateUser(t, s.db, "alice", auth.RoleViewer)

	cases := []struct {
		name     string
		username string
		password string
		want     int
	}{
		{"wrong password", "alice", "not-the-password", http.StatusUnauthorized},
		{"unknown user", "nobody", authtest.Password, http.StatusUnauthorized},
		{"empty password", "alice", "", http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(s)
			b.remoteAddr = "127.0.0.2:1000"
			rec := b.signIn(tc.username, tc.password)
			if rec.Code != tc.want {
				t.Fatalf("status = %d, want %d", rec.Code, tc.want)
			}
			doc := document(t, rec)
			if byTestID(doc, "sign-in-error").Length() != 1 {
				t.Error("sign-in page shows no error")
			}
			// The username is filled in again, so the password is focused.
			if _, focused := byTestID(doc, "password").Attr("autofocus"); !focused {
				t.Error("password: not focused after a rejected sign-in, want it focused")
			}
			if _, focused := byTestID(doc, "username").Attr("autofocus"); focused {
				t.Error("username: focused although filled in, want the password focused")
			}
			if got := sessionCount(t, s); got != 0 {
				t.Errorf("failed sign-in created %d sessions, want 0", got)
			}
		})
	}

	t.Run("missing CSRF token", func(t *testing.T) {
		b := newBrowser(s)
		rec := b.do(http.MethodPost, "/sign-in", url.Values{"username": {"alice"}, "password": {authtest.Password}})
		if rec.Code != http.StatusForbidden {
			t.Errorf("status = %d, want 403", rec.Code)
		}
		if got := sessionCount(t, s); got != 0 {
			t.Errorf("sessions = %d, want 0", got)
		}
	})

	t.Run("next to another site", func(t *testing.T) {
		b := newBrowser(s)
		csrf := b.formCSRF("/sign-in")
		rec := b.do(http.MethodPost, "/sign-in", url.Values{
			"_csrf": {csrf}, "username": {"alice"}, "password": {authtest.Password}, "next": {"//evil.example/x"},
		})
		if got := rec.Header().Get(echo.HeaderLocation); got != "/console" {
			t.Errorf("location = %q, want /console", got)
		}
	})
}

// sessionCount returns the number of stored sessions.
func sessionCount(t *testing.T, s *testServer) int64 {
	t.Helper()
	return dbtest.CountRows(t, s.db)["user_sessions"]
}

func TestSignInRateLimit(t *testing.T) {
	t.Run("per username", func(t *testing.T) {
		s := newTestServer(t)
		clock := useClock(s)
		authtest.CreateUser(t, s.db, "alice", auth.RoleViewer)
		for i := range 5 {
			b := newBrowser(s)
			b.remoteAddr = "10.0.0." + string(rune('1'+i)) + ":1000"
			if rec := b.signIn("alice", "wrong-password-guess"); rec.Code != http.StatusUnauthorized {
				t.Fatalf("failure %d: status = %d, want 401", i+1, rec.Code)
			}
		}
		b := newBrowser(s)
		b.remoteAddr = "10.0.0.9:1000"
		rec := b.signIn("alice", authtest.Password)
		if rec.Code != http.StatusTooManyRequests {
			t.Fatalf("right password after 5 failures: status = %d, want 429", rec.Code)
		}
		want := "Too many failed sign-ins for this username (5 in 15 minutes). Try again in 15 minutes."
		if got := strings.TrimSpace(byTestID(document(t, rec), "sign-in-error").Text()); got != want {
			t.Errorf("message = %q, want %q", got, want)
		}
		if got := rec.Header().Get("Retry-After"); got != "900" {
			t.Errorf("Retry-After = %q, want 900 (the failures happened at the test clock's time)", got)
		}
		clock.Advance(15 * time.Minute)
		if rec := b.signIn("alice", authtest.Password); rec.Code != http.StatusSeeOther {
			t.Errorf("after the window: status = %d, want 303", rec.Code)
		}
	})

	t.Run("same message for an unknown username", func(t *testing.T) {
		s := newTestServer(t)
		useClock(s)
		authtest.CreateUser(t, s.db, "alice", auth.RoleViewer)
		messages := map[string]string{}
		for _, username := range []string{"alice", "nobody"} {
			b := newBrowser(s)
			b.remoteAddr = "10.0.2.1:1000"
			if username == "nobody" {
				b.remoteAddr = "10.0.2.2:1000"
			}
			for range 5 {
				b.signIn(username, "wrong-password-guess")
			}
			rec := b.signIn(username, authtest.Password)
			if rec.Code != http.StatusTooManyRequests {
				t.Fatalf("%s after 5 failures: status = %d, want 429", username, rec.Code)
			}
			messages[username] = strings.TrimSpace(byTestID(document(t, rec), "sign-in-error").Text())
		}
		if messages["alice"] != messages["nobody"] {
			t.Errorf("messages differ: existing user %q, unknown user %q; want the same", messages["alice"], messages["nobody"])
		}
	})

	t.Run("one user's failures leave the address open", func(t *testing.T) {
		s := newTestServer(t)
		useClock(s)
		authtest.CreateUser(t, s.db, "alice", auth.RoleViewer)
		authtest.CreateUser(t, s.db, "bob", auth.RoleViewer)
		b := newBrowser(s)
		b.remoteAddr = "10.0.3.1:1000"
		for range 6 {
			b.signIn("alice", "wrong-password-guess")
		}
		colleague := newBrowser(s)
		colleague.remoteAddr = "10.0.3.1:2000"
		if rec := colleague.signIn("bob", authtest.Password); rec.Code != http.StatusSeeOther {
			t.Errorf("bob behind the same address: status = %d, want 303", rec.Code)
		}
	})

	t.Run("per client address", func(t *testing.T) {
		s := newTestServer(t)
		useClock(s)
		authtest.CreateUser(t, s.db, "bob", auth.RoleViewer)
		b := newBrowser(s)
		b.remoteAddr = "10.0.1.1:1000"
		for i := range 20 {
			if rec := b.signIn("guess"+strconv.Itoa(i), "wrong-password-guess"); rec.Code != http.StatusUnauthorized {
				t.Fatalf("failure %d: status = %d, want 401", i+1, rec.Code)
			}
		}
		rec := b.signIn("bob", authtest.Password)
		if rec.Code != http.StatusTooManyRequests {
			t.Fatalf("attempt after 20 failures from the same address: status = %d, want 429", rec.Code)
		}
		want := "Too many failed sign-ins from this network address (20 in 15 minutes), for any username. Try again in 15 minutes."
		if got := strings.TrimSpace(byTestID(document(t, rec), "sign-in-error").Text()); got != want {
			t.Errorf("message = %q, want %q", got, want)
		}
		other := newBrowser(s)
		other.remoteAddr = "10.0.1.2:1000"
		if rec := other.signIn("bob", authtest.Password); rec.Code != http.StatusSeeOther {
			t.Errorf("another address: status = %d, want 303", rec.Code)
		}
	})
}

func TestDisabledUserAndRevokedToken(t *testing.T) {
	s := newTestServer(t)
	alice, aliceToken := authtest.CreateUser(t, s.db, "alice", auth.RoleViewer)
	service := s.handler.Auth.Service
	ctx := context.Background()

	b := newBrowser(s)
	b.mustSignIn("alice")
	if err := service.SetDisabled(ctx, alice.ID, true, "test"); err != nil {
		t.Fatalf("disable: %v", err)
	}

	t.Run("session ends", func(t *testing.T) {
		if rec := b.do(http.MethodGet, "/profile", nil); rec.Code != http.StatusSeeOther {
			t.Errorf("session of a disabled user: status = %d, want 303 to /sign-in", rec.Code)
		}
	})
	t.Run("sign-in fails", func(t *testing.T) {
		if rec := newBrowser(s).signIn("alice", authtest.Password); rec.Code != http.StatusUnauthorized {
			t.Errorf("disabled user signs in: status = %d, want 401", rec.Code)
		}
	})
	t.Run("token fails", func(t *testing.T) {
		rec := s.do(http.MethodGet, "/console", "", "", echo.HeaderAuthorization, "Bearer "+aliceToken, echo.HeaderAccept, "application/json")
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("disabled user's token: status = %d, want 401", rec.Code)
		}
		assertErrorCode(t, rec, CodeUnauthenticated)
	})

	t.Run("revoked token fails", func(t *testing.T) {
		bob, bobToken := authtest.CreateUser(t, s.db, "bob", auth.RoleViewer)
		headers := []string{echo.HeaderAuthorization, "Bearer " + bobToken, echo.HeaderAccept, "application/json"}
		if rec := s.do(http.MethodGet, "/profile", "", "", headers...); rec.Code != http.StatusOK {
			t.Fatalf("token before revocation: status = %d, want 200", rec.Code)
		}
		tokens, err := service.ListTokens(ctx, bob.ID)
		if err != nil || len(tokens) != 1 {
			t.Fatalf("list tokens: %v, %d tokens, want 1", err, len(tokens))
		}
		if tokens[0].LastUsedAt == nil {
			t.Error("token last use not recorded")
		}
		if err := service.RevokeToken(ctx, bob.ID, tokens[0].ID, "test"); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		rec := s.do(http.MethodGet, "/profile", "", "", headers...)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("revoked token: status = %d, want 401", rec.Code)
		}
		assertErrorCode(t, rec, CodeUnauthenticated)
	})

	t.Run("unknown token fails", func(t *testing.T) {
		rec := s.do(http.MethodGet, "/profile", "", "", echo.HeaderAuthorization, "Bearer ecp_not-a-real-token", echo.HeaderAccept, "text/html")
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("unknown token: status = %d, want 401", rec.Code)
		}
	})
}

func TestSignInDeletesExpiredSessions(t *testing.T) {
	s := newTestServer(t)
	clock := useClock(s)
	authtest.CreateUser(t, s.db, "alice", auth.RoleViewer)
	authtest.CreateUser(t, s.db, "bob", auth.RoleViewer)
	newBrowser(s).mustSignIn("alice")
	clock.Advance(auth.DefaultIdleTimeout + time.Minute)

	newBrowser(s).mustSignIn("bob")
	if got := sessionCount(t, s); got != 1 {
		t.Errorf("sessions after bob's sign-in = %d, want 1 (alice's idle session deleted)", got)
	}
}
