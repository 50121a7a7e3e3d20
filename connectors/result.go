package connectors

import (
	"strconv"
	"time"
)

// Class is the outcome category of one attempt or of a whole send.
type Class string

// Result classes. A send that ends in a transient class may succeed when
// retried later. A permanent class needs an operator to change something first.
const (
	ClassOK              Class = "ok"
	ClassTimeout         Class = "timeout"          // no response in time, or HTTP 408
	ClassConnectionError Class = "connection_error" // no usable connection, or HTTP 425
	ClassRateLimited     Class = "rate_limited"     // HTTP 429
	ClassServerError     Class = "server_error"     // HTTP 5xx
	ClassAuthError       Class = "auth_error"       // HTTP 401 and 403
	ClassClientError     Class = "client_error"     // any other HTTP 4xx
	ClassGone            Class = "gone"             // HTTP 410: the destination was deleted
	ClassConfigError     Class = "config_error"     // nothing was sent, for example a secret is missing
)

// Transient reports whether a later retry of the same request may succeed:
// timeout, connection_error, rate_limited and server_error.
func (c Class) Transient() bool {
	switch c {
	case ClassTimeout, ClassConnectionError, ClassRateLimited, ClassServerError:
		return true
	}
	return false
}

// Permanent reports whether retrying is pointless until the configuration or
// the destination changes: auth_error, client_error, gone and config_error.
// Rejected credentials count as permanent because a retry sends the same
// credentials again.
func (c Class) Permanent() bool {
	switch c {
	case ClassAuthError, ClassClientError, ClassGone, ClassConfigError:
		return true
	}
	return false
}

// Attempt is the record of one request to a destination within a send.
type Attempt struct {
	Number      int       `json:"number"`
	StatusCode  int       `json:"status_code"` // HTTP status or, for e-mail, SMTP reply code; 0 without a response
	Class       Class     `json:"class"`
	StartedAt   time.Time `json:"started_at"`
	CompletedAt time.Time `json:"completed_at"`
	// Error describes the failure or, for a success, a problem the reply
	// showed, such as a PagerDuty dedup_key other than the one sent. It is
	// redacted and at most MaxErrorLength characters.
	Error string `json:"error,omitempty"`
	// RetryAfter is from Retry-After on a 429 or 503 response or, for a
	// Datadog 429 without it, from X-RateLimit-Reset.
	RetryAfter time.Time `json:"retry_after,omitzero"`
	// ExistingRecord names the issue or record, such as OPS-12, that an
	// earlier attempt of the same message created. The attempt found it and
	// created no other.
	ExistingRecord string `json:"existing_record,omitempty"`
}

// maxExistingRecordLength bounds Attempt.ExistingRecord.
const maxExistingRecordLength = 100

// RequestSummary is the only description of a request that may be stored or
// shown. It never contains the URL path, the query, user information or the body.
type RequestSummary struct {
	Method      string            `json:"method"`
	Host        string            `json:"host"`    // host[:port] only
	Headers     map[string]string `json:"headers"` // credential headers replaced by "[redacted]"
	BodyBytes   int               `json:"body_bytes"`
	ContentType string            `json:"content_type"`
}

// Result is the redacted outcome of one Send call.
type Result struct {
	Connector       string         `json:"connector"` // configured name, lower-case
	Kind            Kind           `json:"kind"`
	Success         bool           `json:"success"`
	StatusCode      int            `json:"status_code"` // of the last attempt
	Class           Class          `json:"class"`       // of the last attempt
	AttemptCount    int            `json:"attempt_count"`
	Attempts        []Attempt      `json:"attempts"`
	StartedAt       time.Time      `json:"started_at"`
	CompletedAt     time.Time      `json:"completed_at"`
	Request         RequestSummary `json:"request"`
	Error           string         `json:"error,omitempty"`            // of the last attempt, also set for some successes (see Attempt.Error)
	ResponseExcerpt string         `json:"response_excerpt,omitempty"` // redacted, at most MaxExcerptLength characters
	// RetryAfter is the earliest time the destination accepts another
	// request. It is set when a Retry-After or, for Datadog,
	// X-RateLimit-Reset header asked for a wait too long to spend inside one
	// send.
	RetryAfter time.Time `json:"retry_after,omitzero"`
}

// Limits on the free text that a Result carries, in characters.
const (
	MaxErrorLength   = 300
	MaxExcerptLength = 200
)

// ReplyCode names a destination's response code with its protocol, such as
// "SMTP 250" for an e-mail destination and "HTTP 503" for the others. kind
// is the connector kind.
func ReplyCode(kind string, code int) string {
	if kind == string(KindEmail) {
		return "SMTP " + strconv.Itoa(code)
	}
	return "HTTP " + strconv.Itoa(code)
}
