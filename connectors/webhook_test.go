package connectors

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// verifyStandardWebhook checks a request as a Standard Webhooks receiver
// does, computing the HMAC independently of SignStandardWebhook.
func verifyStandardWebhook(t *testing.T, key []byte, request capturedRequest) {
	t.Helper()
	id := request.Header.Get("webhook-id")
	timestamp := request.Header.Get("webhook-timestamp")
	signature := request.Header.Get("webhook-signature")

	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "." + string(request.Body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if signature != want {
		t.Errorf("webhook-signature: got %q, want %q", signature, want)
	}
	if _, err := strconv.ParseInt(timestamp, 10, 64); err != nil {
		t.Errorf("webhook-timestamp: got %q, want unix seconds", timestamp)
	}
}

func TestWebhookSignatureVerifies(t *testing.T) {
	rawKey := []byte("0123456789abcdef0123456789abcdef")
	tests := []struct {
		name    string
		secret  string
		wantKey []byte
	}{
		{name: "whsec prefix", secret: "whsec_" + base64.StdEncoding.EncodeToString(rawKey), wantKey: rawKey},
		{name: "raw secret", secret: "plain-shared-secret", wantKey: []byte("plain-shared-secret")},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			server := newRecordingServer(t, respond(http.StatusOK, "", ""))
			cfg := oneConnector("webhook", ConnectorConfig{URLEnv: "HOOK_URL", SigningSecretEnv: "HOOK_SECRET"})
			registry := newTestRegistry(t, cfg, map[string]string{"HOOK_URL": server.URL, "HOOK_SECRET": test.secret}, nil)

			result := registry.Send(context.Background(), "webhook", sampleMessage(), SendOptions{})

			if !result.Success {
				t.Fatalf("Success: got false, want true (error %q)", result.Error)
			}
			requests := server.captured()
			if len(requests) != 1 {
				t.Fatalf("requests received: got %d, want 1", len(requests))
			}
			verifyStandardWebhook(t, test.wantKey, requests[0])
			if got, want := requests[0].Header.Get("webhook-timestamp"), strconv.FormatInt(fixedTime.Unix(), 10); got != want {
				t.Errorf("webhook-timestamp: got %q, want %q", got, want)
			}
		})
	}
}

func TestWebhookIDStableAcrossAttempts(t *testing.T) {
	var calls atomic.Int32
	server := newRecordingServer(t, func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	// A real clock gives the two attempts different timestamps when a
	// second boundary passes, which the signature check must tolerate.
	key := []byte("stable-id-secret")
	cfg := oneConnector("webhook", ConnectorConfig{URLEnv: "HOOK_URL", SigningSecretEnv: "HOOK_SECRET"})
	registry := newTestRegistry(t, cfg, map[string]string{"HOOK_URL": server.URL, "HOOK_SECRET": string(key)}, nil, WithClock(time.Now))

	result := registry.Send(context.Background(), "webhook", sampleMessage(), SendOptions{Retries: 1})

	if result.AttemptCount != 2 {
		t.Fatalf("AttemptCount: got %d, want 2", result.AttemptCount)
	}
	requests := server.captured()
	if len(requests) != 2 {
		t.Fatalf("requests received: got %d, want 2", len(requests))
	}
	first, second := requests[0].Header.Get("webhook-id"), requests[1].Header.Get("webhook-id")
	if first != second {
		t.Errorf("webhook-id: got %q then %q, want the same value", first, second)
	}
	if first != "alert-2026-01-02-critical" {
		t.Errorf("webhook-id: got %q, want the idempotency key %q", first, "alert-2026-01-02-critical")
	}
	if got := requests[1].Header.Get("Idempotency-Key"); got != first {
		t.Errorf("Idempotency-Key: got %q, want %q", got, first)
	}
	if string(requests[0].Body) != string(requests[1].Body) {
		t.Errorf("body: differs between attempts, want identical bodies")
	}
	for _, request := range requests {
		verifyStandardWebhook(t, key, request)
	}
}

func TestWebhookDerivedIdempotencyKey(t *testing.T) {
	server := newRecordingServer(t, respond(http.StatusOK, "", ""))
	registry := newTestRegistry(t, oneConnector("webhook", ConnectorConfig{URLEnv: "HOOK_URL"}),
		map[string]string{"HOOK_URL": server.URL}, nil)
	msg := sampleMessage()
	msg.IdempotencyKey = ""

	registry.Send(context.Background(), "webhook", msg, SendOptions{})
	registry.Send(context.Background(), "webhook", msg, SendOptions{})

	requests := server.captured()
	if len(requests) != 2 {
		t.Fatalf("requests received: got %d, want 2", len(requests))
	}
	first := requests[0].Header.Get("webhook-id")
	if first == "" {
		t.Errorf("webhook-id: got empty, want a derived key")
	}
	if second := requests[1].Header.Get("webhook-id"); second != first {
		t.Errorf("webhook-id: got %q then %q, want the same derived key", first, second)
	}
	var body webhookBody
	if err := json.Unmarshal(requests[0].Body, &body); err != nil {
		t.Fatalf("decode body: %v", err)
	}
	if body.IdempotencyKey != first {
		t.Errorf("body idempotency_key: got %q, want %q", body.IdempotencyKey, first)
	}
}

func TestWebhookInvalidSigningSecret(t *testing.T) {
	cfg := oneConnector("webhook", ConnectorConfig{URLEnv: "HOOK_URL", SigningSecretEnv: "HOOK_SECRET"})
	registry := newTestRegistry(t, cfg, map[string]string{"HOOK_URL": "http://127.0.0.1:9/hook", "HOOK_SECRET": "whsec_***"}, nil)

	status, _ := registry.Status("webhook")

	if status.Ready {
		t.Errorf("Ready: got true, want false for an invalid whsec_ secret")
	}
	want := "environment variable HOOK_SECRET does not contain a valid signing secret: the part after \"whsec_\" is not valid base64"
	if status.Problem != want {
		t.Errorf("Problem: got %q, want %q", status.Problem, want)
	}
}
