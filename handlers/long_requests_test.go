package handlers

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/views"
)

// TestSlowLiveRunStillResponds runs a live retry whose send waits for its
// 1-second timeout on a server whose write timeout is half a second. The
// client still gets the run.
func TestSlowLiveRunStillResponds(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"slow": "/hang/slow"})
	s.failDelivery("run_1", "slow", testNow.Add(-2*time.Hour))
	server := httptest.NewUnstartedServer(s.e)
	server.Config.WriteTimeout = 500 * time.Millisecond
	server.Start()
	t.Cleanup(server.Close)

	request, err := http.NewRequest(http.MethodPost, server.URL+executiveRetryRunPath,
		strings.NewReader(`{"execute":true,"retries":0,"timeout_seconds":1}`))
	if err != nil {
		t.Fatal(err)
	}
	request.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	request.Header.Set(echo.HeaderAuthorization, s.headers[echo.HeaderAuthorization])
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("live run: got %v, want a response", err)
	}
	defer func() { _ = response.Body.Close() }()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}

	if response.StatusCode != http.StatusCreated {
		t.Fatalf("status: got %d, want 201 (%s)", response.StatusCode, body)
	}
	if !strings.Contains(string(body), `"failed_count":1`) {
		t.Errorf("body: got %s, want one failed execution", body)
	}
}

func TestSendPauseMatchesConnectors(t *testing.T) {
	if want := strconv.FormatFloat(connectors.MaxPause.Seconds(), 'f', -1, 64); views.SendPauseSeconds != want {
		t.Errorf("views.SendPauseSeconds = %q, want %q (connectors.MaxPause)", views.SendPauseSeconds, want)
	}
}
