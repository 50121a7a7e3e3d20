package handlers

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestClientGoneLoggedAsInfo(t *testing.T) {
	var logs bytes.Buffer
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(slog.New(slog.NewTextHandler(&logs, nil)))
	e.GET("/slow", func(echo.Context) error { return errors.New("database statement interrupted") })

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/slow", nil).WithContext(ctx))

	if rec.Body.Len() != 0 {
		t.Errorf("response body: got %q, want none for a client that left", rec.Body.String())
	}
	if !strings.Contains(logs.String(), "level=INFO") || !strings.Contains(logs.String(), "request ended by the client") {
		t.Errorf("log: got %q, want one info line about the client leaving", logs.String())
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("log: got %q, want no error", logs.String())
	}

	logs.Reset()
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/slow", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("connected client: got %d and log %q, want a 500 logged as an error", rec.Code, logs.String())
	}
}
