package connectors

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"
)

// webhookSpec sends the message as JSON to any HTTP endpoint, signed per
// the Standard Webhooks specification when a signing secret is configured.
var webhookSpec = kindSpec{
	required:            [][]secretRole{{roleURL}},
	optional:            []secretRole{roleSigningSecret, roleToken, roleAuthorization, roleAPIKey},
	defaultScheme:       "Bearer",
	defaultAPIKeyHeader: "X-API-Key",
	build:               buildWebhookRequest,
}

// webhookBody is the JSON body of the generic webhook.
type webhookBody struct {
	Event          string         `json:"event"`
	IdempotencyKey string         `json:"idempotency_key"`
	Title          string         `json:"title"`
	Level          string         `json:"level"`
	Summary        string         `json:"summary"`
	Facts          []Fact         `json:"facts"`
	Items          []Item         `json:"items"`
	OmittedCount   int            `json:"omitted_count"`
	Link           string         `json:"link"`
	OccurredAt     time.Time      `json:"occurred_at"`
	Payload        map[string]any `json:"payload"`
}

func buildWebhookRequest(d *destination, msg Message, now time.Time) (*outboundRequest, error) {
	body := webhookBody{
		Event:          msg.Event,
		IdempotencyKey: msg.IdempotencyKey,
		Title:          msg.Title,
		Level:          msg.Level,
		Summary:        msg.Summary,
		Facts:          nonNil(msg.Facts),
		Items:          nonNil(msg.Items),
		OmittedCount:   msg.OmittedCount,
		Link:           msg.Link,
		OccurredAt:     msg.OccurredAt,
		Payload:        msg.Payload,
	}
	if body.Payload == nil {
		body.Payload = map[string]any{}
	}
	encoded, err := marshalJSON(body)
	if err != nil {
		return nil, err
	}

	request := newJSONRequest(d, d.endpoint.String(), encoded)
	// The webhook-id and webhook-timestamp headers are sent even without a
	// signing secret, so that receivers can deduplicate retries.
	timestamp := strconv.FormatInt(now.Unix(), 10)
	request.header.Set("Idempotency-Key", msg.IdempotencyKey)
	request.header.Set("Webhook-Id", msg.IdempotencyKey)
	request.header.Set("Webhook-Timestamp", timestamp)
	if d.signingKey != nil {
		request.header.Set("Webhook-Signature", SignStandardWebhook(d.signingKey, msg.IdempotencyKey, timestamp, encoded))
	}
	return request, nil
}

// SignStandardWebhook returns the webhook-signature header value defined by
// the Standard Webhooks specification: "v1," followed by the base64 HMAC-SHA256
// of "<id>.<timestamp>.<body>" under key.
func SignStandardWebhook(key []byte, id, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte("."))
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// nonNil returns an empty slice for nil, so that JSON shows [] and not null.
func nonNil[T any](values []T) []T {
	if values == nil {
		return []T{}
	}
	return values
}
