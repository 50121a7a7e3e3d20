package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/auth/authtest"
	"github.com/releaseops/evidence-console/evidence"
	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// testNow is the clock of handler tests.
var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// testServer is the real router over a fresh test database.
type testServer struct {
	t       *testing.T
	e       *echo.Echo
	db      *gorm.DB
	handler *Handler
	// headers are sent with every request, for example credentials.
	headers map[string]string
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	db := dbtest.Open(t)
	clock := func() time.Time { return testNow }
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
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
	// Requests act as an admin by default; s.actAs switches the role and
	// s.anonymous drops the credentials.
	s.actAs("test-admin", auth.RoleAdmin)
	return s
}

// actAs creates a user with role and sends its API token with every
// following request.
func (s *testServer) actAs(username string, role auth.Role) auth.User {
	s.t.Helper()
	user, token := authtest.CreateUser(s.t, s.db, username, role)
	s.headers[echo.HeaderAuthorization] = "Bearer " + token
	return user
}

// anonymous sends the following requests without credentials.
func (s *testServer) anonymous() {
	delete(s.headers, echo.HeaderAuthorization)
}

// loadSample fills the database with the sample evidence.
func (s *testServer) loadSample() {
	s.t.Helper()
	service := &evidence.Service{DB: s.db, Now: func() time.Time { return testNow }}
	if _, err := service.LoadSampleIfEmpty(context.Background()); err != nil {
		s.t.Fatalf("load sample: %v", err)
	}
}

// do sends a request with an optional body and content type.
func (s *testServer) do(method, path, contentType, body string, extraHeaders ...string) *httptest.ResponseRecorder {
	s.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set(echo.HeaderContentType, contentType)
	}
	for name, value := range s.headers {
		req.Header.Set(name, value)
	}
	for i := 0; i+1 < len(extraHeaders); i += 2 {
		req.Header.Set(extraHeaders[i], extraHeaders[i+1])
	}
	rec := httptest.NewRecorder()
	s.e.ServeHTTP(rec, req)
	return rec
}

func (s *testServer) getJSON(path string) *httptest.ResponseRecorder {
	return s.do(http.MethodGet, path, "", "")
}

func (s *testServer) postJSON(path, body string) *httptest.ResponseRecorder {
	return s.do(http.MethodPost, path, echo.MIMEApplicationJSON, body)
}

func (s *testServer) postForm(path, body string, extraHeaders ...string) *httptest.ResponseRecorder {
	return s.do(http.MethodPost, path, echo.MIMEApplicationForm, body, extraHeaders...)
}

// document parses an HTML response.
func document(t *testing.T, rec *httptest.ResponseRecorder) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return doc
}

// byTestID selects elements by their data-testid attribute.
func byTestID(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find(`[data-testid="` + id + `"]`)
}
