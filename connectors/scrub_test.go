package connectors

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestSendRemovesConfiguredSecretsFromMessages(t *testing.T) {
	const planted = "plantedSEKRITvalue42"
	server := newRecordingServer(t, nil)
	cfg := FileConfig{Connectors: map[string]ConnectorConfig{
		"webhook": {URLEnv: "TARGET_URL"},
		"jira":    {URLEnv: "JIRA_URL", TokenEnv: "JIRA_TOKEN", ProjectKey: "OPS"},
	}}
	env := map[string]string{"TARGET_URL": server.URL + "/hook", "JIRA_URL": "https://jira.example.test", "JIRA_TOKEN": planted}
	var logs bytes.Buffer
	registry := newTestRegistry(t, cfg, env, &logs)

	// A record stored before the secret was configured carries it into
	// the text and the payload of a message.
	msg := sampleMessage()
	msg.Summary = "provider " + planted + " failed"
	msg.Facts = []Fact{{Label: "Provider", Value: planted}}
	msg.Items = []Item{{Severity: "critical", Title: "split", Detail: "planted\u200bSEKRITvalue42"}}
	msg.Payload = map[string]any{"providers": []any{planted, "slack"}}

	result := registry.Send(context.Background(), "webhook", msg, SendOptions{})

	if !result.Success {
		t.Fatalf("send: got class %q, want a success", result.Class)
	}
	requests := server.captured()
	if len(requests) != 1 {
		t.Fatalf("requests: got %d, want 1", len(requests))
	}
	body := string(requests[0].Body)
	if strings.Contains(body, planted) || strings.Contains(body, "planted\\u200bSEKRIT") || strings.Contains(body, "planted\u200bSEKRIT") {
		t.Errorf("body: got %s, want no configured secret", body)
	}
	if !strings.Contains(body, "slack") || !strings.Contains(body, "provider [redacted] failed") {
		t.Errorf("body: got %s, want the rest of the message kept", body)
	}
	if !strings.Contains(logs.String(), "configured secret removed from a message") || strings.Contains(logs.String(), planted) {
		t.Errorf("log: got %s, want a warning without the secret", logs.String())
	}
	if original := msg.Facts[0].Value; original != planted {
		t.Errorf("caller's message: got fact %q, want it left unchanged", original)
	}
}
