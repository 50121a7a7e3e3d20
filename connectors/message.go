// Package connectors renders destination-neutral messages (retry health
// alerts and executive recovery reports) into the request format of each
// destination kind, sends them with per-attempt timeouts and quick retries,
// and returns classified results from which every configured secret has been
// redacted.
//
// Secrets such as webhook URLs, tokens and API keys are read only from
// environment variables or secret files named in the configuration file.
package connectors

import (
	"context"
	"time"
)

// Kind is a destination type, such as "slack" or "webhook".
type Kind string

// Destination kinds.
const (
	KindWebhook    Kind = "webhook"
	KindSlack      Kind = "slack"
	KindTeams      Kind = "teams"
	KindJira       Kind = "jira"
	KindServiceNow Kind = "servicenow"
	KindSplunk     Kind = "splunk"
	KindDatadog    Kind = "datadog"
	KindSentinel   Kind = "sentinel"
	KindPagerDuty  Kind = "pagerduty"
	KindEmail      Kind = "email"
)

// Kinds returns every supported kind, sorted by name.
func Kinds() []Kind {
	return []Kind{
		KindDatadog, KindEmail, KindJira, KindPagerDuty, KindSentinel,
		KindServiceNow, KindSlack, KindSplunk, KindTeams, KindWebhook,
	}
}

// Valid reports whether k is a supported kind.
func (k Kind) Valid() bool {
	_, ok := kindSpecs[k]
	return ok
}

// Event names carried in Message.Event.
const (
	EventRetryHealthAlert        = "retry_health_alert"
	EventExecutiveRecoveryReport = "executive_recovery_report"
)

// Message is a destination-neutral notification. Each kind renders it in its
// own format and within its own size limits. Every field must be safe to show
// to the recipients: the caller must not put credentials or private payloads in it.
type Message struct {
	// IdempotencyKey identifies one logical delivery across retries. It is
	// sent as the webhook-id, the PagerDuty dedup_key and similar fields.
	// When empty, Send derives a stable key from Event, Title, Summary and
	// OccurredAt.
	IdempotencyKey string
	Event          string // EventRetryHealthAlert or EventExecutiveRecoveryReport
	Title          string // headline, for example "Retry health: critical"
	// Level is "critical", "warning" or "healthy". Other values, such as
	// "at_risk", are shown as given with neutral styling.
	Level        string
	Summary      string // one or two sentences
	Facts        []Fact // label and value pairs shown as a table or as fields
	Items        []Item // findings or key risks, already capped by the caller
	OmittedCount int    // items the caller left out, shown as "and N more"
	// Link is the absolute http or https URL of the acknowledgement or
	// report page. Send drops any other value, because Slack and Teams
	// reject relative links.
	Link       string
	LinkText   string
	OccurredAt time.Time
	// Payload contains machine-readable fields for the webhook, Splunk,
	// Datadog and Sentinel bodies. Values must marshal to JSON.
	Payload map[string]any
}

// Fact is one label and value pair, such as "Failed deliveries" and "12".
type Fact struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Item is one finding or key risk.
type Item struct {
	Severity string `json:"severity"`
	Title    string `json:"title"`
	Detail   string `json:"detail"`
}

// SendOptions controls the attempts of one send.
type SendOptions struct {
	// Retries is the number of quick retries after a transient failure,
	// from 0 to MaxRetries. Every attempt is recorded in the Result.
	Retries int
	// Timeout applies to each attempt. Zero means DefaultTimeout.
	Timeout time.Duration
}

// Defaults and bounds for SendOptions.
const (
	MaxRetries     = 5
	DefaultTimeout = 10 * time.Second
	// MaxPause is the longest wait between two attempts of one send: the
	// backoff and an honoured Retry-After are both capped at it.
	MaxPause = 2 * time.Second
)

// MaxDuration returns the maximum time one send with these options takes
// with the default pauses: every attempt times out and each retry waits
// MaxPause first.
func (o SendOptions) MaxDuration() time.Duration {
	o = normalizeOptions(o)
	return time.Duration(o.Retries+1)*o.Timeout + time.Duration(o.Retries)*MaxPause
}

// Sender sends a message to the connector configured under name.
// *Registry implements it, and tests of other packages can use fakes.
type Sender interface {
	Send(ctx context.Context, name string, msg Message, opts SendOptions) Result
}
