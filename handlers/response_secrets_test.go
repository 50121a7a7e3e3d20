package handlers

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/connectors"
)

// storeScheduleRunActor writes text as a schedule run's actor directly, as
// a record stored before its text was checked would hold it.
func storeScheduleRunActor(t *testing.T, s *auditServer, runID, text string) {
	t.Helper()
	if err := s.db.Exec("UPDATE executive_schedule_runs SET actor = ? WHERE id = ?", text, runID).Error; err != nil {
		t.Fatal(err)
	}
}

// auditChainPaths are the page and the JSON document of delivery e2's
// audit chain, which names its schedule run's actor.
var auditChainPaths = map[string]string{
	"text/html":        "/audit/delivery/e2",
	"application/json": runtimePrefix + "/audit/delivery/e2",
}

func TestResponsesDropStoredSecret(t *testing.T) {
	const secret = "plainvalueSEKRIT"
	s := newAuditServer(t)
	var logs bytes.Buffer
	s.handler.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	s.handler.Secrets = connectors.NewRedactor(secret)
	s.e = NewServer(s.handler)
	storeScheduleRunActor(t, s, "s2", "carol "+secret)

	for accept, path := range auditChainPaths {
		rec := s.do(http.MethodGet, path, "", "", "Accept", accept)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d, want 200: %s", accept, rec.Code, rec.Body.String())
		}
		if strings.Contains(rec.Body.String(), secret) {
			t.Errorf("%s: the response holds the stored secret", accept)
		}
		if !strings.Contains(rec.Body.String(), "carol "+connectors.Redacted) {
			t.Errorf("%s: the response lacks the redacted error text", accept)
		}
	}
	if !strings.Contains(logs.String(), "configured secret removed from a response") {
		t.Errorf("log: got %q, want the removal logged", logs.String())
	}
	if strings.Contains(logs.String(), secret) {
		t.Error("log holds the secret")
	}
}

func TestResponseWithheldWhenSecretSplit(t *testing.T) {
	const secret = "plainvalueSEKRIT"
	s := newAuditServer(t)
	s.handler.Logger = slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	s.handler.Secrets = connectors.NewRedactor(secret)
	s.e = NewServer(s.handler)
	storeScheduleRunActor(t, s, "s2", "carol plainvalue\u200bSEKRIT")

	for accept, path := range auditChainPaths {
		rec := s.do(http.MethodGet, path, "", "", "Accept", accept)
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("%s: status %d, want 500", accept, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "SEKRIT") {
			t.Errorf("%s: the withheld response holds part of the secret: %s", accept, rec.Body.String())
		}
		if !strings.Contains(rec.Body.String(), "withheld") {
			t.Errorf("%s: got %s, want a message that the response was withheld", accept, rec.Body.String())
		}
	}
	// Pages without the record stay available.
	if rec := s.do(http.MethodGet, "/console", "", "", "Accept", "text/html"); rec.Code != http.StatusOK {
		t.Errorf("console page: status %d, want 200", rec.Code)
	}
}

func TestWithheldResponseDropsHTMXHeaders(t *testing.T) {
	e := echo.New()
	scrubber := connectors.NewRedactor("plainvalueSEKRIT").ResponseScrubber()
	handler := withholdSecrets(scrubber, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))(func(c echo.Context) error {
		c.Response().Header().Set("HX-Trigger", "retry-changed")
		return c.HTML(http.StatusOK, "<p>plainvalue\u200bSEKRIT</p>")
	})
	rec := httptest.NewRecorder()
	if err := handler(e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", rec.Code)
	}
	if got := rec.Header().Get("HX-Trigger"); got != "" {
		t.Errorf("HX-Trigger = %q on the withheld response, want none", got)
	}
}
