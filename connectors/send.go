package connectors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

var _ Sender = (*Registry)(nil)

// maxResponseBytes is how much of a response body is read for
// classification and the excerpt. The rest is discarded unread.
const maxResponseBytes = 64 << 10

// userAgent identifies the connector in destination logs.
const userAgent = "evidence-console-connectors/1"

// attemptOutcome is the raw result of one attempt before redaction.
type attemptOutcome struct {
	statusCode int
	class      Class
	err        error  // transport error, nil when a response arrived
	problem    string // failure description from the response, such as "HTTP 503 Service Unavailable"
	body       []byte // prefix of the response body
	retryAfter time.Time
	request    RequestSummary
	// lookup is true when the outcome is that of a lookup for a record an
	// earlier attempt created; existing is the record it found.
	lookup   bool
	existing string
}

// Send renders msg for the connector configured under name and sends it,
// retrying transient failures up to opts.Retries times within this call.
// It never returns an error: every failure, including an unknown name or a
// missing secret, is a Result with a failure class and redacted text.
func (r *Registry) Send(ctx context.Context, name string, msg Message, opts SendOptions) Result {
	started := r.now()
	lower := strings.ToLower(strings.TrimSpace(name))
	result := Result{Connector: r.redactor.Sanitize(lower, 64), StartedAt: started, Attempts: []Attempt{}}

	d, ok := r.destinations[lower]
	if !ok {
		return r.finishWithConfigError(result, fmt.Sprintf("connector %q is not configured", result.Connector))
	}
	result.Kind = d.kind
	if status := d.status(); !status.Ready {
		return r.finishWithConfigError(result, fmt.Sprintf("connector %q is not ready: %s", d.name, status.Problem))
	}

	opts = normalizeOptions(opts)
	msg = prepareMessage(msg, started)
	if cleaned, changed := r.redactor.withoutSecrets(msg); changed {
		// The message was built from stored records, so one of them contains
		// the secret; the log names the message but not the secret.
		r.logger.Warn("configured secret removed from a message before sending", "connector", d.name,
			"event", msg.Event, "idempotency_key", r.redactor.Sanitize(msg.IdempotencyKey, 200))
		msg = cleaned
	}
	for number := 1; ; number++ {
		attempt, outcome := r.runAttempt(ctx, d, msg, number, opts.Timeout)
		result.Attempts = append(result.Attempts, attempt)
		result.Request = outcome.request
		result.ResponseExcerpt = r.redactor.Sanitize(string(outcome.body), MaxExcerptLength)
		if attempt.Class == ClassOK {
			if attempt.Error != "" {
				r.logger.Warn("connector send accepted with a problem in the reply",
					"connector", d.name, "kind", d.kind, "attempt", number, "status_code", attempt.StatusCode, "error", attempt.Error)
			}
			break
		}
		r.logger.Warn("connector send attempt failed",
			"connector", d.name, "kind", d.kind, "attempt", number,
			"class", attempt.Class, "status_code", attempt.StatusCode, "error", attempt.Error)

		delay, retry := r.nextRetryDelay(ctx, d, attempt, number, opts.Retries)
		if !retry {
			break
		}
		r.logger.Info("retrying connector send",
			"connector", d.name, "kind", d.kind, "next_attempt", number+1, "delay", delay)
		if !sleepContext(ctx, delay) {
			break
		}
	}

	last := result.Attempts[len(result.Attempts)-1]
	result.AttemptCount = len(result.Attempts)
	result.StatusCode = last.StatusCode
	result.Class = last.Class
	result.Success = last.Class == ClassOK
	result.Error = last.Error
	if !result.Success {
		result.RetryAfter = last.RetryAfter
	}
	result.CompletedAt = r.now()
	return result
}

func normalizeOptions(opts SendOptions) SendOptions {
	opts.Retries = min(max(opts.Retries, 0), MaxRetries)
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return opts
}

// finishWithConfigError returns a result for a send that sent nothing.
func (r *Registry) finishWithConfigError(result Result, problem string) Result {
	now := r.now()
	problem = r.redactor.Sanitize(problem, MaxErrorLength)
	r.logger.Warn("connector send rejected", "connector", result.Connector, "error", problem)
	result.Class = ClassConfigError
	result.Error = problem
	result.CompletedAt = now
	result.Attempts = []Attempt{}
	return result
}

// runAttempt performs one attempt under its own timeout and returns its
// redacted record with the raw outcome.
func (r *Registry) runAttempt(ctx context.Context, d *destination, msg Message, number int, timeout time.Duration) (Attempt, attemptOutcome) {
	attemptCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	attempt := Attempt{Number: number, StartedAt: r.now()}
	var outcome attemptOutcome
	if d.spec.deliver != nil {
		outcome = d.spec.deliver(attemptCtx, r, d, msg)
	} else {
		outcome = r.attemptHTTP(attemptCtx, d, msg)
	}
	attempt.CompletedAt = r.now()
	attempt.StatusCode = outcome.statusCode
	attempt.Class = outcome.class
	attempt.RetryAfter = outcome.retryAfter
	switch {
	case outcome.err != nil && errors.Is(outcome.err, context.DeadlineExceeded) && attemptCtx.Err() != nil && ctx.Err() == nil:
		attempt.Error = fmt.Sprintf("no response within the attempt's timeout of %s", timeout)
	case outcome.err != nil && errors.Is(outcome.err, io.EOF):
		attempt.Error = "the destination closed the connection without a response"
	case outcome.err != nil:
		attempt.Error = r.redactor.DescribeError(outcome.err)
	case outcome.problem != "":
		attempt.Error = r.redactor.Sanitize(outcome.problem, MaxErrorLength)
	}
	if outcome.lookup && attempt.Error != "" {
		attempt.Error = r.redactor.Sanitize("looking for a record an earlier attempt created: "+attempt.Error, MaxErrorLength)
	}
	attempt.ExistingRecord = r.redactor.Sanitize(outcome.existing, maxExistingRecordLength)
	return attempt, outcome
}

// attemptHTTP renders and sends one HTTP request. For a kind whose
// destination has no idempotency key, it first looks for a record that an
// earlier attempt of the same message created, and sends nothing more when
// it finds one.
func (r *Registry) attemptHTTP(ctx context.Context, d *destination, msg Message) attemptOutcome {
	if d.spec.lookup != nil && strings.TrimSpace(msg.IdempotencyKey) != "" {
		if outcome, done := r.lookUpEarlier(ctx, d, msg); done {
			return outcome
		}
	}
	rendered, err := d.spec.build(d, msg, r.now())
	if err != nil {
		return attemptOutcome{class: ClassConfigError, err: fmt.Errorf("render %s message: %w", d.kind, err)}
	}
	return r.exchange(ctx, d, rendered, d.spec.classify)
}

// lookUpEarlier sends the kind's lookup request. It reports done with the
// outcome of the attempt when the lookup failed or found a record, and
// not done when no earlier record exists.
func (r *Registry) lookUpEarlier(ctx context.Context, d *destination, msg Message) (attemptOutcome, bool) {
	candidates, err := d.spec.lookup(d, msg)
	if err != nil {
		return attemptOutcome{class: ClassConfigError, lookup: true, err: fmt.Errorf("render %s lookup: %w", d.kind, err)}, true
	}
	if len(candidates) == 0 {
		return attemptOutcome{}, false
	}

	var outcome attemptOutcome
	for _, rendered := range candidates {
		outcome = r.exchange(ctx, d, rendered, nil)
		if outcome.statusCode != http.StatusNotFound {
			break
		}
	}
	outcome.lookup = true
	if outcome.class != ClassOK {
		return outcome, true
	}

	existing, err := d.spec.found(outcome.body)
	if err != nil {
		// Creating a record without knowing whether one exists could
		// create a second one, so the attempt fails and a later one
		// looks again.
		outcome.class = ClassServerError
		outcome.problem = fmt.Sprintf("the destination's response could not be read: %v", err)
		return outcome, true
	}
	if existing == "" {
		return attemptOutcome{}, false
	}
	outcome.existing = existing
	return outcome, true
}

// exchange sends one rendered request and classifies its response with
// classify, or by status code when classify is nil. A destination with a
// client secret sends its access token with the request.
func (r *Registry) exchange(ctx context.Context, d *destination, rendered *outboundRequest, classify func(*outboundRequest, int, []byte) (Class, string)) attemptOutcome {
	if d.tokens != nil {
		return r.exchangeWithAccessToken(ctx, d, rendered, classify)
	}
	return r.exchangeOnce(ctx, d, rendered, classify)
}

// exchangeOnce sends rendered as it is and classifies the response.
func (r *Registry) exchangeOnce(ctx context.Context, d *destination, rendered *outboundRequest, classify func(*outboundRequest, int, []byte) (Class, string)) attemptOutcome {
	request, err := http.NewRequestWithContext(ctx, rendered.method, rendered.url, bytes.NewReader(rendered.body))
	if err != nil {
		return attemptOutcome{class: ClassConfigError, err: err}
	}
	for name, value := range d.config.Headers {
		request.Header.Set(name, value)
	}
	for name, values := range rendered.header {
		request.Header[name] = values
	}
	if rendered.contentType != "" {
		request.Header.Set("Content-Type", rendered.contentType)
	}
	request.Header.Set("User-Agent", userAgent)

	outcome := attemptOutcome{request: RequestSummary{
		Method:      request.Method,
		Host:        request.URL.Host,
		Headers:     redactHeaders(request.Header, r.redactor),
		BodyBytes:   len(rendered.body),
		ContentType: rendered.contentType,
	}}

	response, err := r.client.Do(request)
	if err != nil {
		outcome.class = classifyTransportError(err)
		outcome.err = err
		return outcome
	}
	defer response.Body.Close()

	outcome.statusCode = response.StatusCode
	outcome.body, err = io.ReadAll(io.LimitReader(response.Body, maxResponseBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(response.Body, maxResponseBytes))

	checksBody := classify != nil
	if classify == nil {
		classify = classifyStatus
	}
	outcome.class, outcome.problem = classify(rendered, response.StatusCode, outcome.body)
	if err != nil && outcome.class == ClassOK && checksBody {
		// A kind that checks the body cannot confirm success from a cut body.
		outcome.class = classifyTransportError(err)
		outcome.err = fmt.Errorf("read response body: %w", err)
	}
	if response.StatusCode == http.StatusTooManyRequests || response.StatusCode == http.StatusServiceUnavailable {
		outcome.retryAfter = parseRetryAfter(response.Header.Get("Retry-After"), r.now())
	}
	if response.StatusCode == http.StatusTooManyRequests && outcome.retryAfter.IsZero() && d.spec.rateLimitResetHeader != "" {
		outcome.retryAfter = parseRetryAfter(response.Header.Get(d.spec.rateLimitResetHeader), r.now())
	}
	return outcome
}

// classifyStatus maps an HTTP status code to a class. Every 2xx status,
// including 202 and 204 with an empty body, is a success.
func classifyStatus(_ *outboundRequest, statusCode int, _ []byte) (Class, string) {
	var class Class
	switch {
	case statusCode >= 200 && statusCode <= 299:
		return ClassOK, ""
	case statusCode == http.StatusTooManyRequests:
		class = ClassRateLimited
	case statusCode == http.StatusRequestTimeout:
		// The server timed out waiting for the request (RFC 9110, 15.5.9),
		// so the same request may arrive in time when sent again.
		class = ClassTimeout
	case statusCode == http.StatusTooEarly:
		// The server would not process a request sent in TLS early data,
		// before the handshake completed (RFC 8470, 5.2). The same request
		// on a completed connection can succeed.
		class = ClassConnectionError
	case statusCode == http.StatusUnauthorized || statusCode == http.StatusForbidden:
		class = ClassAuthError
	case statusCode == http.StatusGone:
		class = ClassGone
	case statusCode >= 500:
		class = ClassServerError
	default:
		// Other 4xx statuses, 3xx redirects that were not followed and
		// 1xx statuses cannot succeed when repeated unchanged.
		class = ClassClientError
	}
	return class, describeStatus(statusCode)
}

func describeStatus(statusCode int) string {
	text := http.StatusText(statusCode)
	if text == "" {
		return fmt.Sprintf("destination returned HTTP %d", statusCode)
	}
	return fmt.Sprintf("destination returned HTTP %d %s", statusCode, text)
}

// classifyTransportError maps an error without a response to timeout or
// connection_error. A cancelled parent context counts as a timeout: the
// caller stopped waiting, and a later retry may still succeed.
func classifyTransportError(err error) Class {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return ClassTimeout
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return ClassTimeout
	}
	// Refused and reset connections, DNS failures, TLS handshake failures
	// and connections closed before a response.
	return ClassConnectionError
}

// maxRetryAfter bounds the wait a Retry-After value can set, so that a
// mistaken or hostile header cannot hold a destination's retries back
// for years.
const maxRetryAfter = 7 * 24 * time.Hour

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date,
// at most maxRetryAfter from now. It returns the zero time for a missing or
// invalid value.
func parseRetryAfter(value string, now time.Time) time.Time {
	value = strings.TrimSpace(value)
	if value == "" {
		return time.Time{}
	}
	seconds, err := strconv.ParseInt(value, 10, 64)
	if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(value, "-") {
		// A count of seconds too large for int64 gets the longest wait.
		return now.Add(maxRetryAfter)
	}
	if err == nil {
		if seconds < 0 {
			return time.Time{}
		}
		seconds = min(seconds, int64(maxRetryAfter/time.Second))
		return now.Add(time.Duration(seconds) * time.Second)
	}
	if date, err := http.ParseTime(value); err == nil {
		if date.Before(now) {
			return now
		}
		return minTime(date, now.Add(maxRetryAfter))
	}
	return time.Time{}
}

// minTime returns the earlier of a and b.
func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// nextRetryDelay decides whether a failed attempt gets a quick retry and
// how long to wait first. A Retry-After longer than the inline limit ends
// the send, because the retry planner can wait without holding a request
// open. So does a 429 without a wait for a kind with deferRateLimited.
func (r *Registry) nextRetryDelay(ctx context.Context, d *destination, attempt Attempt, number, retries int) (time.Duration, bool) {
	if !attempt.Class.Transient() || number > retries || ctx.Err() != nil {
		return 0, false
	}
	if attempt.Class == ClassRateLimited && attempt.RetryAfter.IsZero() && d.spec.deferRateLimited {
		return 0, false
	}
	delay := min(time.Duration(number)*r.backoffBase, r.backoffMax)
	if !attempt.RetryAfter.IsZero() {
		wait := attempt.RetryAfter.Sub(r.now())
		if wait > r.inlineRetryAfter {
			return 0, false
		}
		delay = max(delay, wait)
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= delay {
		return 0, false
	}
	return delay, true
}

// sleepContext waits for delay and reports false when ctx ends first.
func sleepContext(ctx context.Context, delay time.Duration) bool {
	if delay <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
