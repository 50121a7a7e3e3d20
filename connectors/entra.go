package connectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// defaultAuthorityHost is the Microsoft Entra sign-in host of the Azure
// public cloud.
const defaultAuthorityHost = "https://login.microsoftonline.com"

var (
	guidPattern = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)
	// tenantDomainPattern matches a domain name with at least one dot,
	// such as contoso.onmicrosoft.com.
	tenantDomainPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$`)
)

// validateEntraClient checks the app registration settings that go with
// client_secret_env or client_secret_file.
func validateEntraClient(name string, cfg ConnectorConfig) error {
	if len(roleClientSecret.sources(cfg)) == 0 {
		settings := []struct{ field, value string }{
			{"tenant_id", cfg.TenantID}, {"client_id", cfg.ClientID}, {"authority_host", cfg.AuthorityHost},
		}
		for _, setting := range settings {
			if setting.value != "" {
				return fieldError(name, setting.field, "applies only with client_secret_env or client_secret_file")
			}
		}
		return nil
	}

	switch {
	case cfg.TenantID == "":
		return fieldError(name, "tenant_id", "missing; set the directory (tenant) ID of the app registration, such as 11111111-2222-3333-4444-555555555555")
	case !guidPattern.MatchString(cfg.TenantID) && !tenantDomainPattern.MatchString(cfg.TenantID):
		return fieldError(name, "tenant_id", "invalid tenant %q; use the directory (tenant) ID, a GUID, or a domain of the tenant such as contoso.onmicrosoft.com, "+
			"because the client credentials grant needs one tenant and does not accept common or organizations", cfg.TenantID)
	case cfg.ClientID == "":
		return fieldError(name, "client_id", "missing; set the application (client) ID of the app registration, such as 66666666-7777-8888-9999-000000000000")
	case !guidPattern.MatchString(cfg.ClientID):
		return fieldError(name, "client_id", "invalid ID %q; use the application (client) ID, a GUID such as 66666666-7777-8888-9999-000000000000", cfg.ClientID)
	}
	if cfg.AuthorityHost != "" {
		if problem := checkAuthorityHost(cfg.AuthorityHost); problem != "" {
			return fieldError(name, "authority_host", "%s", problem)
		}
	}
	return nil
}

// checkAuthorityHost returns why raw cannot be the base URL of the token
// endpoint, or "".
func checkAuthorityHost(raw string) string {
	endpoint, err := url.Parse(raw)
	switch {
	case err != nil || endpoint.Host == "" || (endpoint.Scheme != "https" && endpoint.Scheme != "http"):
		return "invalid URL; use an absolute https URL such as " + defaultAuthorityHost
	case endpoint.User != nil || endpoint.RawQuery != "" || endpoint.Fragment != "" || strings.Trim(endpoint.Path, "/") != "":
		return "must contain only the scheme and host, such as " + defaultAuthorityHost +
			", because the connector appends /{tenant_id}/oauth2/v2.0/token"
	case endpoint.Scheme == "http" && !isLoopbackHost(endpoint.Hostname()):
		return "must use https, because the token request carries the client secret; " +
			"http is allowed only for a test server on a loopback address such as 127.0.0.1"
	}
	return ""
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tokenEndpoint returns the URL of the Microsoft identity platform v2.0
// token endpoint of the configured tenant.
func tokenEndpoint(cfg ConnectorConfig) string {
	authority := cfg.AuthorityHost
	if authority == "" {
		authority = defaultAuthorityHost
	}
	return strings.TrimRight(authority, "/") + "/" + url.PathEscape(cfg.TenantID) + "/oauth2/v2.0/token"
}

// accessTokenCache contains a destination's current access token. The lock
// is a channel of capacity 1, so that concurrent sends share one token
// request and a send waiting for it can give up when its context ends.
type accessTokenCache struct {
	lock     chan struct{}
	token    string
	previous string    // the token that token replaced
	renewAt  time.Time // when to request a new token, shortly before token expires
}

func newAccessTokenCache() *accessTokenCache {
	return &accessTokenCache{lock: make(chan struct{}, 1)}
}

// maxTokenRenewalMargin is how long before its expiry a token is replaced,
// so that a request does not carry a token that expires on the way. A
// token with a shorter lifetime is replaced after half of it.
const maxTokenRenewalMargin = 5 * time.Minute

// accessTokenOwner names a destination's tokens in the redactor.
func accessTokenOwner(d *destination) string {
	return "access-token:" + d.name
}

// receivedTokenOwner names, in the redactor, the last access token the
// destination's token endpoint returned, which may be one that was not used.
func receivedTokenOwner(d *destination) string {
	return "received-access-token:" + d.name
}

// exchangeWithAccessToken sends rendered with the destination's access
// token. When the destination rejects a cached token with HTTP 401, which
// happens when the token was revoked or expired early, it requests a new
// token and sends once more.
func (r *Registry) exchangeWithAccessToken(ctx context.Context, d *destination, rendered *outboundRequest, classify func(*outboundRequest, int, []byte) (Class, string)) attemptOutcome {
	token, fresh, failure := r.accessToken(ctx, d, "")
	if failure != nil {
		return *failure
	}
	outcome := r.exchangeOnce(ctx, d, withBearerToken(rendered, token), classify)
	if outcome.statusCode == http.StatusUnauthorized && !fresh {
		r.logger.Info("destination rejected the cached access token; requesting a new one", "connector", d.name, "kind", d.kind)
		token, _, failure = r.accessToken(ctx, d, token)
		if failure != nil {
			return *failure
		}
		outcome = r.exchangeOnce(ctx, d, withBearerToken(rendered, token), classify)
	}
	if outcome.statusCode == http.StatusForbidden {
		outcome.problem += fmt.Sprintf("; the app registration %s needs the Monitoring Metrics Publisher role on the data collection rule", d.config.ClientID)
	}
	return outcome
}

// withBearerToken returns a copy of rendered that carries token.
func withBearerToken(rendered *outboundRequest, token string) *outboundRequest {
	authorized := *rendered
	authorized.header = rendered.header.Clone()
	if authorized.header == nil {
		authorized.header = http.Header{}
	}
	authorized.header.Set("Authorization", "Bearer "+token)
	return &authorized
}

// accessToken returns the destination's cached access token, or requests a
// new one when there is none, it is due for renewal or it is rejected.
// fresh reports a token requested by this call. A failed request returns
// the outcome of the attempt.
func (r *Registry) accessToken(ctx context.Context, d *destination, rejected string) (token string, fresh bool, failure *attemptOutcome) {
	cache := d.tokens
	select {
	case cache.lock <- struct{}{}:
	case <-ctx.Done():
		return "", false, &attemptOutcome{class: classifyTransportError(ctx.Err()), err: fmt.Errorf("wait for an access token: %w", ctx.Err())}
	}
	defer func() { <-cache.lock }()

	now := r.now()
	if cache.token != "" && cache.token != rejected && now.Before(cache.renewAt) {
		return cache.token, false, nil
	}
	token, lifetime, failure := r.requestAccessToken(ctx, d)
	if failure != nil {
		return "", false, failure
	}
	if cache.token != "" && cache.token != token {
		cache.previous = cache.token
	}
	cache.token = token
	cache.renewAt = now.Add(lifetime - min(maxTokenRenewalMargin, lifetime/2))
	// The previous token stays registered, because a response to a
	// request that carried it may still arrive.
	r.redactor.setRuntimeSecrets(accessTokenOwner(d), token, cache.previous)
	r.logger.Info("access token received", "connector", d.name, "kind", d.kind, "expires_in_seconds", int64(lifetime/time.Second))
	return token, true, nil
}

// tokenResponse is a response of the token endpoint, successful or not.
type tokenResponse struct {
	AccessToken      string        `json:"access_token"`
	TokenType        string        `json:"token_type"`
	ExpiresIn        tokenLifetime `json:"expires_in"`
	Error            string        `json:"error"`
	ErrorDescription string        `json:"error_description"`
	ErrorCodes       []int         `json:"error_codes"`
}

// tokenLifetime is expires_in in seconds, which the v2.0 endpoint sends as
// a number and the v1.0 endpoint as a string of digits.
type tokenLifetime int64

func (l *tokenLifetime) UnmarshalJSON(data []byte) error {
	text := strings.Trim(string(data), `"`)
	seconds, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return fmt.Errorf("expires_in %s is not a whole number of seconds", data)
	}
	*l = tokenLifetime(seconds)
	return nil
}

// requestAccessToken gets a token through the OAuth 2.0 client credentials
// grant. It returns the token and its lifetime, or the outcome of the
// failed attempt.
func (r *Registry) requestAccessToken(ctx context.Context, d *destination) (string, time.Duration, *attemptOutcome) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {d.config.ClientID},
		"client_secret": {d.secrets[roleClientSecret]},
		"scope":         {d.spec.tokenScope},
	}
	body := form.Encode()
	request, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenEndpoint(d.config), strings.NewReader(body))
	if err != nil {
		return "", 0, &attemptOutcome{class: ClassConfigError, err: fmt.Errorf("build the token request: %w", err)}
	}
	request.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	request.Header.Set("Accept", "application/json")
	request.Header.Set("User-Agent", userAgent)
	host := request.URL.Host
	outcome := attemptOutcome{request: RequestSummary{
		Method:      request.Method,
		Host:        host,
		Headers:     redactHeaders(request.Header, r.redactor),
		BodyBytes:   len(body),
		ContentType: "application/x-www-form-urlencoded",
	}}

	response, err := r.client.Do(request)
	if err != nil {
		outcome.class = classifyTransportError(err)
		outcome.err = &tokenRequestError{host: host, err: err}
		return "", 0, &outcome
	}
	defer response.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(response.Body, maxResponseBytes))
	outcome.statusCode = response.StatusCode

	if response.StatusCode == http.StatusOK {
		// The body of a successful response contains a token, so it is
		// never kept as the response excerpt.
		var parsed tokenResponse
		parseErr := json.Unmarshal(data, &parsed)
		if parseErr == nil && parsed.AccessToken != "" {
			// The token is registered before any problem is described,
			// because a response that is rejected below may still quote it.
			r.redactor.setRuntimeSecrets(receivedTokenOwner(d), parsed.AccessToken)
		}
		switch {
		case readErr != nil:
			outcome.class = classifyTransportError(readErr)
			outcome.err = &tokenRequestError{host: host, err: readErr}
		case parseErr != nil || parsed.AccessToken == "":
			outcome.class = ClassConfigError
			outcome.problem = fmt.Sprintf("the token endpoint %s returned HTTP 200 without an access token; check authority_host", host)
		case parsed.TokenType != "" && !strings.EqualFold(parsed.TokenType, "Bearer"):
			outcome.class = ClassConfigError
			outcome.problem = fmt.Sprintf("the token endpoint %s returned a token of %s instead of Bearer; check authority_host", host, describeTokenType(parsed.TokenType))
		default:
			return parsed.AccessToken, time.Duration(max(parsed.ExpiresIn, 0)) * time.Second, nil
		}
		return "", 0, &outcome
	}

	outcome.body = data
	outcome.class, outcome.problem = classifyTokenError(d, r.redactor, host, response.StatusCode, data)
	if response.StatusCode == http.StatusTooManyRequests || response.StatusCode == http.StatusServiceUnavailable {
		outcome.retryAfter = parseRetryAfter(response.Header.Get("Retry-After"), r.now())
	}
	return "", 0, &outcome
}

// tokenTypePattern matches a token_type that a problem may quote: a short
// word such as Bearer, DPoP or N_A. Another value may be the token itself.
var tokenTypePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z_]{0,15}$`)

// describeTokenType names a token_type for a problem, quoting only a short
// word.
func describeTokenType(tokenType string) string {
	if tokenTypePattern.MatchString(tokenType) {
		return fmt.Sprintf("type %q", tokenType)
	}
	return "another type"
}

// Microsoft Entra error codes (AADSTS numbers) that name a setting to fix.
const (
	entraTenantNotFound      = 90002   // no tenant with this ID or domain
	entraTenantInvalid       = 900023  // the tenant ID is not a valid GUID or domain
	entraApplicationNotFound = 700016  // no application with this client ID in the tenant
	entraInvalidSecret       = 7000215 // the client secret is wrong
	entraExpiredSecret       = 7000222 // the client secret has expired
)

// classifyTokenError maps a failed token response to a class and a
// description that names the fix. Rejected client credentials are
// auth_error and wrong settings config_error, and neither is retried.
func classifyTokenError(d *destination, redactor *Redactor, host string, statusCode int, body []byte) (Class, string) {
	var parsed tokenResponse
	_ = json.Unmarshal(body, &parsed)
	problem := fmt.Sprintf("the token endpoint %s returned HTTP %d", host, statusCode)
	if text := http.StatusText(statusCode); text != "" {
		problem += " " + text
	}
	if parsed.Error != "" {
		problem += " (" + parsed.Error
		if summary := summarizeErrorDescription(redactor, parsed.ErrorDescription); summary != "" {
			problem += ": " + summary
		}
		problem += ")"
	}
	hasCode := func(codes ...int) bool {
		return slices.ContainsFunc(parsed.ErrorCodes, func(code int) bool { return slices.Contains(codes, code) })
	}
	secretSource := describeSources(roleClientSecret.sources(d.config))

	switch {
	case statusCode == http.StatusTooManyRequests:
		return ClassRateLimited, problem
	case statusCode >= 500:
		return ClassServerError, problem
	case statusCode == http.StatusRequestTimeout || statusCode == http.StatusTooEarly:
		// A proxy in front of the token endpoint may return these statuses.
		// The same request can succeed later, as for the destination itself.
		class, _ := classifyStatus(nil, statusCode, nil)
		return class, problem
	case hasCode(entraTenantNotFound, entraTenantInvalid):
		return ClassConfigError, problem + fmt.Sprintf("; check tenant_id %q", d.config.TenantID)
	case hasCode(entraApplicationNotFound) || parsed.Error == "unauthorized_client":
		return ClassConfigError, problem + fmt.Sprintf("; check that client_id %s is an app registration in tenant %s", d.config.ClientID, d.config.TenantID)
	case hasCode(entraExpiredSecret):
		return ClassAuthError, problem + "; create a new client secret for the app registration and put its value in " + secretSource
	case parsed.Error == "invalid_client" || hasCode(entraInvalidSecret):
		return ClassAuthError, problem + "; check that " + secretSource +
			" contains the client secret's value, not its ID, and that the secret has not expired"
	case statusCode == http.StatusUnauthorized || statusCode == http.StatusForbidden:
		return ClassAuthError, problem + "; check client_id and the client secret in " + secretSource
	}
	return ClassConfigError, problem + "; check tenant_id, client_id and authority_host"
}

// describeSources describes the configured secret sources for messages.
func describeSources(sources []secretSource) string {
	descriptions := make([]string, len(sources))
	for i, source := range sources {
		descriptions[i] = source.describe()
	}
	return strings.Join(descriptions, " and ")
}

// maxErrorSummaryLength bounds the part of an error description quoted in
// a problem, in characters.
const maxErrorSummaryLength = 160

// summarizeErrorDescription returns the first sentence of an error
// description, redacted and at most maxErrorSummaryLength characters long.
// The whole description is checked first, because the cut at a line break or
// at the end of a sentence could keep part of a split secret that the
// redactor recognizes only whole.
func summarizeErrorDescription(redactor *Redactor, description string) string {
	if redactor.Sanitize(description, len(description)) == Redacted {
		return Redacted
	}
	return redactor.Sanitize(firstSentence(description), maxErrorSummaryLength)
}

// firstSentence returns the first line of text up to the end of its first
// sentence, such as "AADSTS7000215: Invalid client secret provided.". The
// rest of an Entra error description is a trace ID and a timestamp. It does
// not shorten the sentence, so that it can be redacted before it is cut.
func firstSentence(text string) string {
	text, _, _ = strings.Cut(strings.TrimSpace(text), "\n")
	if end := strings.Index(text, ". "); end >= 0 {
		text = text[:end+1]
	}
	return strings.TrimSpace(text)
}

// tokenRequestError is a failed token request without a response. It names
// the token endpoint's host, because the attempt's destination is another
// host. errors.Is finds the error it wraps, so a timeout is still reported as
// one, but errors.As does not, so that DescribeError keeps this text
// instead of describing only the *url.Error inside.
type tokenRequestError struct {
	host string
	err  error
}

func (e *tokenRequestError) Error() string {
	return "request to the token endpoint " + e.host + " failed: " + describeInnerError(e.err)
}

func (e *tokenRequestError) Is(target error) bool {
	return errors.Is(e.err, target)
}
