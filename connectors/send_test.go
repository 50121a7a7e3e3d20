package connectors

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSendClassifiesResponses(t *testing.T) {
	retryDate := fixedTime.Add(5 * time.Minute)
	tests := []struct {
		name         string
		kind         Kind
		handler      http.HandlerFunc
		retries      int
		wantClass    Class
		wantStatus   int
		wantAttempts int
		wantRetryAt  time.Time
	}{
		{
			name:         "webhook 200",
			kind:         KindWebhook,
			handler:      respond(http.StatusOK, "", `{"status":"ok"}`),
			retries:      2,
			wantClass:    ClassOK,
			wantStatus:   200,
			wantAttempts: 1,
		},
		{
			name:         "teams 202 empty body",
			kind:         KindTeams,
			handler:      respond(http.StatusAccepted, "", ""),
			retries:      2,
			wantClass:    ClassOK,
			wantStatus:   202,
			wantAttempts: 1,
		},
		{
			name:         "slack 200 ok",
			kind:         KindSlack,
			handler:      respond(http.StatusOK, "", "ok"),
			retries:      2,
			wantClass:    ClassOK,
			wantStatus:   200,
			wantAttempts: 1,
		},
		{
			name:         "slack 200 unexpected body",
			kind:         KindSlack,
			handler:      respond(http.StatusOK, "", "<html>login</html>"),
			retries:      2,
			wantClass:    ClassClientError,
			wantStatus:   200,
			wantAttempts: 1,
		},
		{
			name:         "500 retried",
			kind:         KindWebhook,
			handler:      respond(http.StatusInternalServerError, "", "boom"),
			retries:      2,
			wantClass:    ClassServerError,
			wantStatus:   500,
			wantAttempts: 3,
		},
		{
			name:         "408 retried as a timeout",
			kind:         KindWebhook,
			handler:      respond(http.StatusRequestTimeout, "", "request timeout"),
			retries:      1,
			wantClass:    ClassTimeout,
			wantStatus:   408,
			wantAttempts: 2,
		},
		{
			name:         "425 retried as a connection error",
			kind:         KindWebhook,
			handler:      respond(http.StatusTooEarly, "", "too early"),
			retries:      1,
			wantClass:    ClassConnectionError,
			wantStatus:   425,
			wantAttempts: 2,
		},
		{
			name:         "503 without Retry-After retried",
			kind:         KindWebhook,
			handler:      respond(http.StatusServiceUnavailable, "", "busy"),
			retries:      1,
			wantClass:    ClassServerError,
			wantStatus:   503,
			wantAttempts: 2,
		},
		{
			name:         "503 with long Retry-After stops",
			kind:         KindWebhook,
			handler:      respond(http.StatusServiceUnavailable, "120", "busy"),
			retries:      3,
			wantClass:    ClassServerError,
			wantStatus:   503,
			wantAttempts: 1,
			wantRetryAt:  fixedTime.Add(120 * time.Second),
		},
		{
			name:         "429 Retry-After seconds",
			kind:         KindWebhook,
			handler:      respond(http.StatusTooManyRequests, "120", "slow down"),
			retries:      3,
			wantClass:    ClassRateLimited,
			wantStatus:   429,
			wantAttempts: 1,
			wantRetryAt:  fixedTime.Add(120 * time.Second),
		},
		{
			name:         "429 Retry-After HTTP date",
			kind:         KindWebhook,
			handler:      respond(http.StatusTooManyRequests, retryDate.Format(http.TimeFormat), "slow down"),
			retries:      3,
			wantClass:    ClassRateLimited,
			wantStatus:   429,
			wantAttempts: 1,
			wantRetryAt:  retryDate.Truncate(time.Second),
		},
		{
			name:         "429 short Retry-After retried inline",
			kind:         KindWebhook,
			handler:      respond(http.StatusTooManyRequests, "0", "slow down"),
			retries:      2,
			wantClass:    ClassRateLimited,
			wantStatus:   429,
			wantAttempts: 3,
			wantRetryAt:  fixedTime,
		},
		{
			name:         "401",
			kind:         KindWebhook,
			handler:      respond(http.StatusUnauthorized, "", "no"),
			retries:      2,
			wantClass:    ClassAuthError,
			wantStatus:   401,
			wantAttempts: 1,
		},
		{
			name:         "403",
			kind:         KindWebhook,
			handler:      respond(http.StatusForbidden, "", "no"),
			retries:      2,
			wantClass:    ClassAuthError,
			wantStatus:   403,
			wantAttempts: 1,
		},
		{
			name:         "410",
			kind:         KindSlack,
			handler:      respond(http.StatusGone, "", "channel_is_archived"),
			retries:      2,
			wantClass:    ClassGone,
			wantStatus:   410,
			wantAttempts: 1,
		},
		{
			name:         "400",
			kind:         KindSlack,
			handler:      respond(http.StatusBadRequest, "", "invalid_payload"),
			retries:      2,
			wantClass:    ClassClientError,
			wantStatus:   400,
			wantAttempts: 1,
		},
		{
			name:         "redirect not followed",
			kind:         KindWebhook,
			handler:      respond(http.StatusFound, "", ""),
			retries:      2,
			wantClass:    ClassClientError,
			wantStatus:   302,
			wantAttempts: 1,
		},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			server := newRecordingServer(t, test.handler)
			registry := newTestRegistry(t, oneConnector(string(test.kind), ConnectorConfig{URLEnv: "TARGET_URL"}),
				map[string]string{"TARGET_URL": server.URL + "/hook"}, nil)

			result := registry.Send(context.Background(), string(test.kind), sampleMessage(), SendOptions{Retries: test.retries, Timeout: 2 * time.Second})

			if result.Class != test.wantClass {
				t.Errorf("Class: got %q, want %q (error %q)", result.Class, test.wantClass, result.Error)
			}
			if result.StatusCode != test.wantStatus {
				t.Errorf("StatusCode: got %d, want %d", result.StatusCode, test.wantStatus)
			}
			if result.AttemptCount != test.wantAttempts {
				t.Errorf("AttemptCount: got %d, want %d", result.AttemptCount, test.wantAttempts)
			}
			if len(result.Attempts) != test.wantAttempts {
				t.Errorf("len(Attempts): got %d, want %d", len(result.Attempts), test.wantAttempts)
			}
			if got := len(server.captured()); got != test.wantAttempts {
				t.Errorf("requests received: got %d, want %d", got, test.wantAttempts)
			}
			if result.Success != (test.wantClass == ClassOK) {
				t.Errorf("Success: got %v, want %v", result.Success, test.wantClass == ClassOK)
			}
			if !result.RetryAfter.Equal(test.wantRetryAt) {
				t.Errorf("RetryAfter: got %v, want %v", result.RetryAfter, test.wantRetryAt)
			}
			if test.wantClass != ClassOK && result.Error == "" {
				t.Errorf("Error: got empty, want a description of the failure")
			}
			for i, attempt := range result.Attempts {
				if attempt.Number != i+1 {
					t.Errorf("Attempts[%d].Number: got %d, want %d", i, attempt.Number, i+1)
				}
			}
		})
	}
}

// respond returns a handler that responds with a status, an optional
// Retry-After header and a body.
func respond(statusCode int, retryAfter, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		if statusCode == http.StatusFound {
			w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
		}
		w.WriteHeader(statusCode)
		_, _ = w.Write([]byte(body))
	}
}

func TestSendTimeout(t *testing.T) {
	server := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	})
	registry := newTestRegistry(t, oneConnector("webhook", ConnectorConfig{URLEnv: "TARGET_URL"}),
		map[string]string{"TARGET_URL": server.URL + "/hook"}, nil)

	started := time.Now()
	result := registry.Send(context.Background(), "webhook", sampleMessage(), SendOptions{Retries: 1, Timeout: 100 * time.Millisecond})
	elapsed := time.Since(started)

	if result.Class != ClassTimeout {
		t.Errorf("Class: got %q, want %q (error %q)", result.Class, ClassTimeout, result.Error)
	}
	if result.AttemptCount != 2 {
		t.Errorf("AttemptCount: got %d, want 2", result.AttemptCount)
	}
	if want := "no response within the attempt's timeout of 100ms"; result.Error != want {
		t.Errorf("Error: got %q, want %q", result.Error, want)
	}
	if result.StatusCode != 0 {
		t.Errorf("StatusCode: got %d, want 0", result.StatusCode)
	}
	if elapsed > 2*time.Second {
		t.Errorf("elapsed: got %v, want under 2s for two 100ms attempts", elapsed)
	}
}

func TestSendConnectionRefused(t *testing.T) {
	registry := newTestRegistry(t, oneConnector("webhook", ConnectorConfig{URLEnv: "TARGET_URL"}),
		map[string]string{"TARGET_URL": closedPortURL(t) + "/hook"}, nil)

	result := registry.Send(context.Background(), "webhook", sampleMessage(), SendOptions{Retries: 2, Timeout: time.Second})

	if result.Class != ClassConnectionError {
		t.Errorf("Class: got %q, want %q (error %q)", result.Class, ClassConnectionError, result.Error)
	}
	if result.AttemptCount != 3 {
		t.Errorf("AttemptCount: got %d, want 3", result.AttemptCount)
	}
	if !strings.Contains(result.Error, "refused") {
		t.Errorf("Error: got %q, want it to mention the refused connection", result.Error)
	}
	if !strings.HasPrefix(result.Error, "Post: ") {
		t.Errorf("Error: got %q, want the operation without the URL, starting with %q", result.Error, "Post: ")
	}
}

func TestSendRetriesUntilSuccess(t *testing.T) {
	var calls atomic.Int32
	server := newRecordingServer(t, func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	registry := newTestRegistry(t, oneConnector("webhook", ConnectorConfig{URLEnv: "TARGET_URL"}),
		map[string]string{"TARGET_URL": server.URL}, nil)

	result := registry.Send(context.Background(), "webhook", sampleMessage(), SendOptions{Retries: 5, Timeout: time.Second})

	if !result.Success {
		t.Errorf("Success: got false, want true (class %q)", result.Class)
	}
	if result.AttemptCount != 3 {
		t.Errorf("AttemptCount: got %d, want 3", result.AttemptCount)
	}
	wantClasses := []Class{ClassServerError, ClassServerError, ClassOK}
	for i, want := range wantClasses {
		if i < len(result.Attempts) && result.Attempts[i].Class != want {
			t.Errorf("Attempts[%d].Class: got %q, want %q", i, result.Attempts[i].Class, want)
		}
	}
	if result.Error != "" {
		t.Errorf("Error: got %q, want empty after success", result.Error)
	}
}

func TestSendRetriesClamped(t *testing.T) {
	server := newRecordingServer(t, respond(http.StatusInternalServerError, "", ""))
	registry := newTestRegistry(t, oneConnector("webhook", ConnectorConfig{URLEnv: "TARGET_URL"}),
		map[string]string{"TARGET_URL": server.URL}, nil)

	tests := []struct {
		retries      int
		wantAttempts int
	}{
		{retries: -1, wantAttempts: 1},
		{retries: 0, wantAttempts: 1},
		{retries: 99, wantAttempts: MaxRetries + 1},
	}
	for _, test := range tests {
		result := registry.Send(context.Background(), "webhook", sampleMessage(), SendOptions{Retries: test.retries})
		if result.AttemptCount != test.wantAttempts {
			t.Errorf("Retries %d: AttemptCount got %d, want %d", test.retries, result.AttemptCount, test.wantAttempts)
		}
	}
}

func TestSendStopsWhenContextEnds(t *testing.T) {
	server := newRecordingServer(t, respond(http.StatusInternalServerError, "", ""))
	registry := newTestRegistry(t, oneConnector("webhook", ConnectorConfig{URLEnv: "TARGET_URL"}),
		map[string]string{"TARGET_URL": server.URL}, nil, WithBackoff(time.Second, time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()

	started := time.Now()
	result := registry.Send(ctx, "webhook", sampleMessage(), SendOptions{Retries: 5, Timeout: time.Second})

	if result.AttemptCount != 1 {
		t.Errorf("AttemptCount: got %d, want 1 because the 1s backoff exceeds the remaining context", result.AttemptCount)
	}
	if elapsed := time.Since(started); elapsed > 250*time.Millisecond {
		t.Errorf("elapsed: got %v, want no wait for a retry that cannot fit", elapsed)
	}
}

func TestSendUnknownAndDisabledConnectors(t *testing.T) {
	server := newRecordingServer(t, nil)
	disabled := false
	cfg := FileConfig{Connectors: map[string]ConnectorConfig{
		"slack":     {URLEnv: "SLACK_URL"},
		"slack-off": {Kind: KindSlack, URLEnv: "SLACK_URL", Enabled: &disabled},
	}}
	registry := newTestRegistry(t, cfg, map[string]string{"SLACK_URL": server.URL}, nil)

	tests := []struct {
		name      string
		wantError string
	}{
		{name: "missing", wantError: `connector "missing" is not configured`},
		{name: "slack-off", wantError: "disabled"},
	}
	for _, test := range tests {
		result := registry.Send(context.Background(), test.name, sampleMessage(), SendOptions{})
		if result.Class != ClassConfigError {
			t.Errorf("%s: Class got %q, want %q", test.name, result.Class, ClassConfigError)
		}
		if !strings.Contains(result.Error, test.wantError) {
			t.Errorf("%s: Error got %q, want it to contain %q", test.name, result.Error, test.wantError)
		}
		if result.AttemptCount != 0 {
			t.Errorf("%s: AttemptCount got %d, want 0", test.name, result.AttemptCount)
		}
	}
	if got := len(server.captured()); got != 0 {
		t.Errorf("requests received: got %d, want 0", got)
	}
	if got := registry.EnabledNames(); len(got) != 1 || got[0] != "slack" {
		t.Errorf("EnabledNames: got %v, want [slack]", got)
	}
}

func TestSendNameIgnoresCase(t *testing.T) {
	server := newRecordingServer(t, nil)
	registry := newTestRegistry(t, oneConnector("Slack-Exec", ConnectorConfig{Kind: KindSlack, URLEnv: "SLACK_URL"}),
		map[string]string{"SLACK_URL": server.URL}, nil)

	result := registry.Send(context.Background(), "SLACK-exec", sampleMessage(), SendOptions{})

	if !result.Success {
		t.Errorf("Success: got false, want true (error %q)", result.Error)
	}
	if result.Connector != "slack-exec" {
		t.Errorf("Connector: got %q, want %q", result.Connector, "slack-exec")
	}
	if result.Kind != KindSlack {
		t.Errorf("Kind: got %q, want %q", result.Kind, KindSlack)
	}
}

func TestSendRequestSummary(t *testing.T) {
	server := newRecordingServer(t, nil)
	cfg := oneConnector("webhook", ConnectorConfig{
		URLEnv:   "TARGET_URL",
		TokenEnv: "TARGET_TOKEN",
		Headers:  map[string]string{"X-Team": "release-ops"},
	})
	registry := newTestRegistry(t, cfg, map[string]string{"TARGET_URL": server.URL + "/path/secret?q=1", "TARGET_TOKEN": "tok-123456789"}, nil)

	result := registry.Send(context.Background(), "webhook", sampleMessage(), SendOptions{})

	host := strings.TrimPrefix(server.URL, "http://")
	checks := []struct {
		name, got, want string
	}{
		{"Method", result.Request.Method, "POST"},
		{"Host", result.Request.Host, host},
		{"ContentType", result.Request.ContentType, "application/json"},
		{"Authorization", result.Request.Headers["Authorization"], Redacted},
		{"X-Team", result.Request.Headers["X-Team"], "release-ops"},
		{"Webhook-Id", result.Request.Headers["Webhook-Id"], "alert-2026-01-02-critical"},
	}
	for _, check := range checks {
		if check.got != check.want {
			t.Errorf("Request %s: got %q, want %q", check.name, check.got, check.want)
		}
	}
	requests := server.captured()
	if len(requests) != 1 {
		t.Fatalf("requests received: got %d, want 1", len(requests))
	}
	if result.Request.BodyBytes != len(requests[0].Body) {
		t.Errorf("Request BodyBytes: got %d, want %d", result.Request.BodyBytes, len(requests[0].Body))
	}
	if got := requests[0].Header.Get("Authorization"); got != "Bearer tok-123456789" {
		t.Errorf("Authorization sent: got %q, want %q", got, "Bearer tok-123456789")
	}
	if got := requests[0].Header.Get("X-Team"); got != "release-ops" {
		t.Errorf("X-Team sent: got %q, want %q", got, "release-ops")
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		value string
		want  time.Time
	}{
		{value: "", want: time.Time{}},
		{value: "30", want: fixedTime.Add(30 * time.Second)},
		{value: " 0 ", want: fixedTime},
		{value: "-5", want: time.Time{}},
		{value: "soon", want: time.Time{}},
		{value: "Fri, 02 Jan 2026 03:10:00 GMT", want: time.Date(2026, 1, 2, 3, 10, 0, 0, time.UTC)},
		{value: "Thu, 01 Jan 2026 00:00:00 GMT", want: fixedTime},
		{value: "604801", want: fixedTime.Add(7 * 24 * time.Hour)},
		{value: "99999999999999999999", want: fixedTime.Add(7 * 24 * time.Hour)},
		{value: "-99999999999999999999", want: time.Time{}},
		{value: "Fri, 31 Dec 9999 23:59:59 GMT", want: fixedTime.Add(7 * 24 * time.Hour)},
	}
	for _, test := range tests {
		if got := parseRetryAfter(test.value, fixedTime); !got.Equal(test.want) {
			t.Errorf("parseRetryAfter(%q): got %v, want %v", test.value, got, test.want)
		}
	}
}

func TestClassTransientAndPermanent(t *testing.T) {
	tests := []struct {
		class         Class
		wantTransient bool
		wantPermanent bool
	}{
		{ClassOK, false, false},
		{ClassTimeout, true, false},
		{ClassConnectionError, true, false},
		{ClassRateLimited, true, false},
		{ClassServerError, true, false},
		{ClassAuthError, false, true},
		{ClassClientError, false, true},
		{ClassGone, false, true},
		{ClassConfigError, false, true},
	}
	for _, test := range tests {
		if got := test.class.Transient(); got != test.wantTransient {
			t.Errorf("%s.Transient(): got %v, want %v", test.class, got, test.wantTransient)
		}
		if got := test.class.Permanent(); got != test.wantPermanent {
			t.Errorf("%s.Permanent(): got %v, want %v", test.class, got, test.wantPermanent)
		}
	}
}

func TestSendOptionsMaxDuration(t *testing.T) {
	tests := []struct {
		options SendOptions
		want    time.Duration
	}{
		{SendOptions{}, DefaultTimeout},
		{SendOptions{Retries: 1, Timeout: 10 * time.Second}, 22 * time.Second},
		{SendOptions{Retries: 2, Timeout: 250 * time.Millisecond}, 4750 * time.Millisecond},
		{SendOptions{Retries: MaxRetries + 4, Timeout: time.Second}, 16 * time.Second},
	}
	for _, test := range tests {
		if got := test.options.MaxDuration(); got != test.want {
			t.Errorf("%+v: got %v, want %v", test.options, got, test.want)
		}
	}
}

func TestSendDescribesConnectionClosedWithoutResponse(t *testing.T) {
	server := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		hijacker, ok := w.(http.Hijacker)
		if !ok {
			t.Error("response writer cannot be hijacked")
			return
		}
		conn, _, err := hijacker.Hijack()
		if err == nil {
			_ = conn.Close()
		}
	})
	registry := newTestRegistry(t, oneConnector("webhook", ConnectorConfig{URLEnv: "TARGET_URL"}),
		map[string]string{"TARGET_URL": server.URL + "/hook"}, nil)

	result := registry.Send(context.Background(), "webhook", sampleMessage(), SendOptions{Timeout: time.Second})

	if want := "the destination closed the connection without a response"; result.Error != want {
		t.Errorf("Error: got %q (class %s), want %q", result.Error, result.Class, want)
	}
}

func TestSendRepeatedSummaryStaysRedacted(t *testing.T) {
	server := newRecordingServer(t, nil)
	cfg := oneConnector("webhook", ConnectorConfig{
		URLEnv:   "TARGET_URL",
		TokenEnv: "TARGET_TOKEN",
		Headers:  map[string]string{"X-Team": "release-ops", "X-Trace": "tok-123456789"},
	})
	registry := newTestRegistry(t, cfg, map[string]string{"TARGET_URL": server.URL + "/hook", "TARGET_TOKEN": "tok-123456789"}, nil)

	// The second send reads header summaries from the cache that the first
	// one filled.
	for attempt := 1; attempt <= 2; attempt++ {
		result := registry.Send(context.Background(), "webhook", sampleMessage(), SendOptions{})
		if got := result.Request.Headers["X-Trace"]; got != Redacted {
			t.Errorf("send %d X-Trace: got %q, want %q", attempt, got, Redacted)
		}
		if got := result.Request.Headers["X-Team"]; got != "release-ops" {
			t.Errorf("send %d X-Team: got %q, want %q", attempt, got, "release-ops")
		}
	}
}

func TestSendReusesConnections(t *testing.T) {
	var dialled atomic.Int32
	server := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	server.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			dialled.Add(1)
		}
	}
	server.Start()
	t.Cleanup(server.Close)
	registry := newTestRegistry(t, oneConnector("webhook", ConnectorConfig{URLEnv: "TARGET_URL"}), map[string]string{"TARGET_URL": server.URL + "/hook"}, nil)

	// Rounds of concurrent sends, as a live retry run makes them, reuse the
	// connections of earlier rounds. A connection returns to the idle pool
	// just after its response is read, so a round may dial a few more.
	const concurrency, rounds = 8, 10
	for range rounds {
		var wg sync.WaitGroup
		for range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if result := registry.Send(context.Background(), "webhook", sampleMessage(), SendOptions{}); result.Class != ClassOK {
					t.Errorf("send: got class %q, want ok", result.Class)
				}
			}()
		}
		wg.Wait()
	}

	if got := dialled.Load(); got > 2*concurrency {
		t.Errorf("connections opened for %d rounds of %d sends: got %d, want at most %d", rounds, concurrency, got, 2*concurrency)
	}
}

func TestSendRateLimitWaits(t *testing.T) {
	tests := []struct {
		name         string
		kind         Kind
		config       ConnectorConfig
		header       map[string]string
		wantAttempts int
		wantRetryAt  time.Time
	}{
		{"datadog reset header", KindDatadog, ConnectorConfig{URLEnv: "URL", APIKeyEnv: "KEY"},
			map[string]string{"X-RateLimit-Reset": "45", "X-RateLimit-Period": "60"}, 1, fixedTime.Add(45 * time.Second)},
		{"datadog Retry-After first", KindDatadog, ConnectorConfig{URLEnv: "URL", APIKeyEnv: "KEY"},
			map[string]string{"Retry-After": "120", "X-RateLimit-Reset": "45"}, 1, fixedTime.Add(120 * time.Second)},
		{"datadog short reset retried", KindDatadog, ConnectorConfig{URLEnv: "URL", APIKeyEnv: "KEY"},
			map[string]string{"X-RateLimit-Reset": "0"}, 3, fixedTime},
		{"datadog without headers retried", KindDatadog, ConnectorConfig{URLEnv: "URL", APIKeyEnv: "KEY"},
			nil, 3, time.Time{}},
		{"webhook ignores reset header", KindWebhook, ConnectorConfig{URLEnv: "URL"},
			map[string]string{"X-RateLimit-Reset": "45"}, 3, time.Time{}},
		{"pagerduty without wait deferred", KindPagerDuty, ConnectorConfig{URLEnv: "URL", RoutingKeyEnv: "KEY"},
			nil, 1, time.Time{}},
		{"pagerduty short Retry-After retried", KindPagerDuty, ConnectorConfig{URLEnv: "URL", RoutingKeyEnv: "KEY"},
			map[string]string{"Retry-After": "0"}, 3, fixedTime},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			server := newRecordingServer(t, func(w http.ResponseWriter, _ *http.Request) {
				for name, value := range test.header {
					w.Header().Set(name, value)
				}
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = io.WriteString(w, `{"errors":["Rate limit exceeded"]}`)
			})
			registry := newTestRegistry(t, oneConnector(string(test.kind), test.config),
				map[string]string{"URL": server.URL, "KEY": "0123456789abcdef0123456789abcdef"}, nil)

			result := registry.Send(context.Background(), string(test.kind), sampleMessage(), SendOptions{Retries: 2})

			if result.Class != ClassRateLimited {
				t.Errorf("Class: got %q, want %q", result.Class, ClassRateLimited)
			}
			if result.AttemptCount != test.wantAttempts {
				t.Errorf("AttemptCount: got %d, want %d", result.AttemptCount, test.wantAttempts)
			}
			if got := len(server.captured()); got != test.wantAttempts {
				t.Errorf("requests received: got %d, want %d", got, test.wantAttempts)
			}
			if !result.RetryAfter.Equal(test.wantRetryAt) {
				t.Errorf("RetryAfter: got %v, want %v", result.RetryAfter, test.wantRetryAt)
			}
		})
	}
}
