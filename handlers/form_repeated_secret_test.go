package handlers

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth/authtest"
)

// A form that repeats its password field gets a 400, but neither the
// response nor the log may quote the values, because a password is a
// credential whatever it looks like.
func TestRepeatedSecretFieldNotEchoed(t *testing.T) {
	const password = "Correct-horse-battery-42"
	s := newTestServer(t)
	logs := &syncBuffer{}
	s.handler.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.e = NewServer(s.handler)

	t.Run("create user", func(t *testing.T) {
		body := url.Values{"username": {"alex.kim"}, "role": {"viewer"}, "password": {password, password}}.Encode()
		rec := s.postForm("/users", body, echo.HeaderAccept, echo.MIMEApplicationJSON)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("status = %d, want 400; body: %s", rec.Code, rec.Body.String())
		}
		if strings.Contains(rec.Body.String(), password) {
			t.Errorf("response quotes the repeated password: %s", rec.Body.String())
		}
	})

	t.Run("sign in", func(t *testing.T) {
		authtest.CreateUser(t, s.db, "sign-in-user", "viewer")
		b := newBrowser(s)
		csrf := b.formCSRF("/sign-in")
		rec := b.do(http.MethodPost, "/sign-in", url.Values{
			"_csrf": {csrf}, "username": {"sign-in-user"}, "password": {password, password},
		})
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("status = %d, want 400; body: %s", rec.Code, rec.Body.String())
		}
		if strings.Contains(rec.Body.String(), password) {
			t.Errorf("sign-in error page quotes the repeated password")
		}
	})

	if strings.Contains(logs.String(), password) {
		t.Errorf("log quotes the repeated password:\n%s", logs.String())
	}
}
