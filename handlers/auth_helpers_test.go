package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth/authtest"
)

// browser sends requests the way a browser does: with cookies and without an
// API token. Requests come from remoteAddr, a loopback address by default.
type browser struct {
	t          *testing.T
	s          *testServer
	cookies    map[string]*http.Cookie
	remoteAddr string
}

func newBrowser(s *testServer) *browser {
	return &browser{t: s.t, s: s, cookies: map[string]*http.Cookie{}, remoteAddr: "127.0.0.1:50000"}
}

// do sends a request and keeps the cookies the response sets.
func (b *browser) do(method, path string, form url.Values, headers ...string) *httptest.ResponseRecorder {
	b.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, path, body)
	req.RemoteAddr = b.remoteAddr
	req.Header.Set(echo.HeaderAccept, "text/html")
	if form != nil {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	for _, cookie := range b.cookies {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	b.s.e.ServeHTTP(rec, req)
	for _, cookie := range rec.Result().Cookies() {
		if cookie.MaxAge < 0 {
			delete(b.cookies, cookie.Name)
			continue
		}
		b.cookies[cookie.Name] = cookie
	}
	return rec
}

// formCSRF returns the _csrf value of the first form in the main part of
// the page at path, not the header's sign-out form.
func (b *browser) formCSRF(path string) string {
	b.t.Helper()
	rec := b.do(http.MethodGet, path, nil)
	if rec.Code != http.StatusOK {
		b.t.Fatalf("GET %s: status = %d, want 200; body: %s", path, rec.Code, rec.Body.String())
	}
	token, ok := document(b.t, rec).Find(`main input[name="_csrf"]`).First().Attr("value")
	if !ok || token == "" {
		b.t.Fatalf("GET %s: page has no _csrf field", path)
	}
	return token
}

// signIn signs in through the form with authtest.Password and returns the
// response of the sign-in post.
func (b *browser) signIn(username, password string) *httptest.ResponseRecorder {
	b.t.Helper()
	csrf := b.formCSRF("/sign-in")
	return b.do(http.MethodPost, "/sign-in", url.Values{
		"_csrf": {csrf}, "username": {username}, "password": {password}, "next": {"/profile"},
	})
}

// mustSignIn signs in and fails the test unless it succeeds.
func (b *browser) mustSignIn(username string) {
	b.t.Helper()
	rec := b.signIn(username, authtest.Password)
	if rec.Code != http.StatusSeeOther || rec.Header().Get(echo.HeaderLocation) != "/profile" {
		b.t.Fatalf("sign in as %s: status = %d, location = %q, want 303 to /profile; body: %s",
			username, rec.Code, rec.Header().Get(echo.HeaderLocation), rec.Body.String())
	}
}

// sessionCSRF returns the CSRF token of the signed-in session from the
// page's meta tag.
func (b *browser) sessionCSRF() string {
	b.t.Helper()
	rec := b.do(http.MethodGet, "/profile", nil)
	if rec.Code != http.StatusOK {
		b.t.Fatalf("GET /profile: status = %d, want 200", rec.Code)
	}
	token, ok := document(b.t, rec).Find(`meta[name="csrf-token"]`).Attr("content")
	if !ok || token == "" {
		b.t.Fatal("signed-in page has no csrf-token meta tag")
	}
	return token
}
