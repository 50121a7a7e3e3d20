package connectors

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// kindSpec describes one destination kind: its configuration fields, the
// secrets it needs and how it renders and delivers a message.
type kindSpec struct {
	// required lists groups of secret roles, and each group needs one of its roles.
	required [][]secretRole
	optional []secretRole
	// settings lists the kind-specific, non-secret configuration fields.
	settings []string
	// defaultURL is the endpoint when no url_env or url_file is configured.
	defaultURL string
	// addressURL is set for kinds whose URL is the address of a site or an
	// API, such as a Jira site, while a token or key is the credential. Only
	// the parts of such a URL that look like credentials are secret, so
	// links to its tickets and its API paths can be typed and are shown.
	addressURL bool
	// secretSegments returns the path segments of the kind's URL that are
	// credentials whatever they look like, such as the team, channel and
	// token segments of a Slack incoming webhook. Nil means none beyond
	// those isCredentialSegment finds.
	secretSegments func(u *url.URL) []string
	// defaultScheme is the Authorization scheme for token_env and token_file.
	defaultScheme string
	// defaultAPIKeyHeader carries the api_key_env value.
	defaultAPIKeyHeader string
	// rateLimitResetHeader names a response header that contains the
	// seconds until the rate limit resets. A 429 response without
	// Retry-After takes its wait from this header.
	rateLimitResetHeader string
	// deferRateLimited ends a send at a 429 response that gives no wait,
	// without a quick retry, so the retry planner's delay applies. It is for
	// destinations whose rate limit lasts far longer than a quick retry's wait.
	deferRateLimited bool
	// tokenScope is the OAuth 2.0 scope of the Microsoft Entra access
	// tokens that client_secret_env or client_secret_file get.
	tokenScope string

	// validate checks the kind-specific settings.
	validate func(name string, cfg ConnectorConfig) error
	// checkEndpoint returns why the resolved URL cannot receive the kind's
	// requests, or "". A problem makes the destination not ready.
	checkEndpoint func(endpoint *url.URL) string
	// build renders the HTTP request of one attempt.
	build func(d *destination, msg Message, now time.Time) (*outboundRequest, error)
	// classify overrides the status-based classification of a response to
	// the request sent.
	classify func(sent *outboundRequest, statusCode int, body []byte) (Class, string)
	// lookup renders the requests that look for a record an earlier attempt
	// of the same message created. Each is tried only when the one before
	// it got HTTP 404. found reads a response: the record's name, or "" when
	// there is none. Kinds whose destination has no idempotency key set
	// both, so a retry after a timeout whose first request did arrive
	// creates no second record.
	lookup func(d *destination, msg Message) ([]*outboundRequest, error)
	found  func(body []byte) (string, error)
	// deliver replaces the HTTP transport for kinds that do not use HTTP.
	deliver func(ctx context.Context, r *Registry, d *destination, msg Message) attemptOutcome
}

// outboundRequest is the rendered request of one attempt.
type outboundRequest struct {
	method      string
	url         string
	header      http.Header
	body        []byte
	contentType string
}

// kindSpecs maps each kind to its description. The entries live in the
// per-kind files.
var kindSpecs = map[Kind]*kindSpec{
	KindWebhook:    &webhookSpec,
	KindSlack:      &slackSpec,
	KindTeams:      &teamsSpec,
	KindJira:       &jiraSpec,
	KindServiceNow: &serviceNowSpec,
	KindSplunk:     &splunkSpec,
	KindDatadog:    &datadogSpec,
	KindSentinel:   &sentinelSpec,
	KindPagerDuty:  &pagerDutySpec,
	KindEmail:      &emailSpec,
}

// allowedFields returns the configuration fields that apply to the kind.
func (s *kindSpec) allowedFields() map[string]bool {
	allowed := map[string]bool{"kind": true, "enabled": true}
	if s.deliver == nil {
		allowed["headers"] = true
	}
	roles := append([]secretRole(nil), s.optional...)
	for _, group := range s.required {
		roles = append(roles, group...)
	}
	for _, role := range roles {
		for _, field := range role.fields() {
			allowed[field] = true
		}
		switch role {
		case roleToken:
			allowed["authorization_scheme"] = true
		case roleAPIKey:
			allowed["api_key_header"] = true
		}
	}
	for _, field := range s.settings {
		allowed[field] = true
	}
	return allowed
}

// newJSONRequest returns a POST request with a JSON body to the endpoint,
// carrying the connector's Authorization and API key headers.
func newJSONRequest(d *destination, target string, body []byte) *outboundRequest {
	header := http.Header{}
	if d.authorization != "" {
		header.Set("Authorization", d.authorization)
	}
	if apiKey, ok := d.secrets[roleAPIKey]; ok {
		name := d.config.APIKeyHeader
		if name == "" {
			name = d.spec.defaultAPIKeyHeader
		}
		header.Set(name, apiKey)
	}
	return &outboundRequest{
		method:      http.MethodPost,
		url:         target,
		header:      header,
		body:        body,
		contentType: "application/json",
	}
}

// newLookupRequest returns a GET request for a JSON response from target,
// carrying the same credential headers as newJSONRequest.
func newLookupRequest(d *destination, target string) *outboundRequest {
	request := newJSONRequest(d, target, nil)
	request.method = http.MethodGet
	request.contentType = ""
	request.header.Set("Accept", "application/json")
	return request
}
