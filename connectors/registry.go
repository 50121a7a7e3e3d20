package connectors

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Registry contains the configured connectors with their resolved secrets
// and sends messages to them. It is safe for concurrent use.
type Registry struct {
	destinations map[string]*destination // by lower-case name
	names        []string                // lower-case, sorted
	redactor     *Redactor

	client           *http.Client
	now              func() time.Time
	backoffBase      time.Duration
	backoffMax       time.Duration
	inlineRetryAfter time.Duration
	logger           *slog.Logger
	// smtpRootCAs, when set, replaces the system roots that verify an SMTP
	// server's certificate, with STARTTLS or implicit TLS.
	smtpRootCAs *x509.CertPool
}

// destination is one configured connector with its resolved secrets.
type destination struct {
	name    string // lower-case
	kind    Kind
	spec    *kindSpec
	enabled bool
	config  ConnectorConfig

	secrets       map[secretRole]string
	secretValues  []string
	endpoint      *url.URL          // nil for e-mail and when the URL is missing or invalid
	authorization string            // Authorization header value, or ""
	signingKey    []byte            // Standard Webhooks HMAC key, or nil
	tokens        *accessTokenCache // set when a client secret gets access tokens
	problem       string            // reason the destination cannot send, or ""
}

// Destination is the public-safe description of one configured connector.
type Destination struct {
	Name    string `json:"name"` // lower-case
	Kind    Kind   `json:"kind"`
	Enabled bool   `json:"enabled"`
}

// Status is the public-safe readiness of one connector.
type Status struct {
	Name    string `json:"name"` // lower-case
	Kind    Kind   `json:"kind"`
	Enabled bool   `json:"enabled"`
	Host    string `json:"host"`  // host[:port] of the endpoint, "" when unknown
	Ready   bool   `json:"ready"` // enabled and every secret resolves
	// Problem explains why the connector is not ready, for example
	// "environment variable SLACK_WEBHOOK_URL is not set".
	Problem string `json:"problem,omitempty"`
}

// Option configures a Registry.
type Option func(*Registry)

// WithHTTPClient sets the client for HTTP destinations. The default client
// does not follow redirects, so a redirect is reported as a client error.
func WithHTTPClient(client *http.Client) Option {
	return func(r *Registry) {
		if client != nil {
			r.client = client
		}
	}
}

// WithSMTPRootCAs sets the certificate authorities that e-mail destinations
// trust, with STARTTLS or implicit TLS, for relays with certificates of a
// private authority.
func WithSMTPRootCAs(pool *x509.CertPool) Option {
	return func(r *Registry) {
		r.smtpRootCAs = pool
	}
}

// WithClock sets the source of the current time used for timestamps,
// signatures and Retry-After dates.
func WithClock(now func() time.Time) Option {
	return func(r *Registry) {
		if now != nil {
			r.now = now
		}
	}
}

// WithBackoff sets the wait before quick retry n to n*base, capped at maximum.
// The defaults are 200ms and 2s.
func WithBackoff(base, maximum time.Duration) Option {
	return func(r *Registry) {
		r.backoffBase = max(base, 0)
		r.backoffMax = max(maximum, 0)
	}
}

// WithInlineRetryAfter sets the longest Retry-After wait that a send spends
// before its next quick retry. A longer wait ends the send and is reported in
// Result.RetryAfter. The default is 2s.
func WithInlineRetryAfter(limit time.Duration) Option {
	return func(r *Registry) {
		r.inlineRetryAfter = max(limit, 0)
	}
}

// WithLogger sets the logger for failed attempts and retries. The default
// is slog.Default(). Log records contain only redacted text.
func WithLogger(logger *slog.Logger) Option {
	return func(r *Registry) {
		if logger != nil {
			r.logger = logger
		}
	}
}

// LoadRegistry builds a registry from the configuration file at path and
// the environment. An empty path returns an empty registry. Missing secrets
// are not errors: the affected connectors report not ready.
func LoadRegistry(path string, lookupEnv func(string) (string, bool), options ...Option) (*Registry, error) {
	if strings.TrimSpace(path) == "" {
		return NewRegistry(FileConfig{}, lookupEnv, options...)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		return nil, err
	}
	return NewRegistry(cfg, lookupEnv, options...)
}

// LoadRegistryFromEnvironment builds a registry from the file named by
// CONNECTOR_CONFIG and the process environment.
func LoadRegistryFromEnvironment(options ...Option) (*Registry, error) {
	return LoadRegistry(os.Getenv(ConfigEnvVar), os.LookupEnv, options...)
}

// NewRegistry validates cfg and builds a registry, reading each secret
// through lookupEnv or from its secret file. A nil lookupEnv reads nothing,
// so every connector that needs a secret reports not ready.
func NewRegistry(cfg FileConfig, lookupEnv func(string) (string, bool), options ...Option) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}

	r := &Registry{
		destinations:     map[string]*destination{},
		client:           defaultHTTPClient(),
		now:              time.Now,
		backoffBase:      200 * time.Millisecond,
		backoffMax:       MaxPause,
		inlineRetryAfter: MaxPause,
		logger:           slog.Default(),
	}
	for _, option := range options {
		option(r)
	}

	var secretValues, usernames []string
	getsAccessTokens := false
	for name, connector := range cfg.Connectors {
		kind, _ := resolveKind(name, connector) // Validate has checked the kind
		d := &destination{
			name:    strings.ToLower(name),
			kind:    kind,
			spec:    kindSpecs[kind],
			enabled: connector.Enabled == nil || *connector.Enabled,
			config:  connector,
			secrets: map[secretRole]string{},
		}
		d.resolveSecrets(lookupEnv)
		secretValues = append(secretValues, d.secretValues...)
		if username, ok := d.secrets[roleUsername]; ok {
			usernames = append(usernames, username)
		}
		getsAccessTokens = getsAccessTokens || d.tokens != nil
		r.destinations[d.name] = d
		r.names = append(r.names, d.name)
	}
	sort.Strings(r.names)
	r.redactor = NewRedactor(secretValues...)
	r.redactor.ignoreInTypedText(usernames...)
	if getsAccessTokens {
		r.redactor.expectRuntimeSecrets()
	}
	// The registry's own lines pass the same filter as every other log
	// line, so a secret a server echoed in other letters is removed too.
	r.logger = slog.New(r.redactor.LogHandler(r.logger.Handler()))
	return r, nil
}

// maxIdleConnsPerHost is the number of idle connections kept open to one
// destination host: enough for the concurrent sends of a few live retry
// runs and alert sends at once.
const maxIdleConnsPerHost = 16

func defaultHTTPClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Many destinations share a host (every Slack or Teams hook, one Jira
	// site), and a live retry run sends several requests to it at once. The
	// standard library keeps only 2 idle connections per host, so the others
	// would be closed after each request and dialled, with a new TLS
	// handshake, for the next one.
	transport.MaxIdleConnsPerHost = maxIdleConnsPerHost
	return &http.Client{
		Transport: transport,
		// A redirected webhook would resend a signed body to another
		// address, so the first response is final.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Names returns the configured connector names, lower-case and sorted.
func (r *Registry) Names() []string {
	return append([]string(nil), r.names...)
}

// EnabledNames returns the names of enabled connectors, lower-case and sorted.
func (r *Registry) EnabledNames() []string {
	var names []string
	for _, name := range r.names {
		if r.destinations[name].enabled {
			names = append(names, name)
		}
	}
	return names
}

// Lookup returns the connector with the given name, ignoring case.
func (r *Registry) Lookup(name string) (Destination, bool) {
	d, ok := r.destinations[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Destination{}, false
	}
	return Destination{Name: d.name, Kind: d.kind, Enabled: d.enabled}, true
}

// Statuses returns the readiness of every connector, sorted by name.
func (r *Registry) Statuses() []Status {
	statuses := make([]Status, 0, len(r.names))
	for _, name := range r.names {
		statuses = append(statuses, r.destinations[name].status())
	}
	return statuses
}

// Status returns the readiness of the connector with the given name.
func (r *Registry) Status(name string) (Status, bool) {
	d, ok := r.destinations[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Status{}, false
	}
	return d.status(), true
}

func (d *destination) status() Status {
	status := Status{Name: d.name, Kind: d.kind, Enabled: d.enabled, Host: d.host()}
	switch {
	case !d.enabled:
		status.Problem = "connector is disabled in the configuration file"
	case d.problem != "":
		status.Problem = d.problem
	default:
		status.Ready = true
	}
	return status
}

// host returns host[:port] of the endpoint without path, query or user information.
func (d *destination) host() string {
	if d.kind == KindEmail {
		return net.JoinHostPort(d.config.SMTPHost, strconv.Itoa(smtpPort(d.config)))
	}
	if d.endpoint == nil {
		return ""
	}
	return d.endpoint.Host
}

// Check returns nil when the connector exists, is enabled and every secret
// it needs resolves. Callers use it to reject a live send before starting it.
func (r *Registry) Check(name string) error {
	lower := strings.ToLower(strings.TrimSpace(name))
	d, ok := r.destinations[lower]
	if !ok {
		return fmt.Errorf("connector %q is not configured; configured connectors: %s", r.redactor.Sanitize(lower, 64), r.describeNames())
	}
	if status := d.status(); !status.Ready {
		return fmt.Errorf("connector %q is not ready: %s", d.name, status.Problem)
	}
	return nil
}

func (r *Registry) describeNames() string {
	if len(r.names) == 0 {
		return "none"
	}
	return strings.Join(r.names, ", ")
}

// Redactor returns the redactor for every secret value the registry read.
// Other packages use it to scrub log lines and stored text.
func (r *Registry) Redactor() *Redactor {
	return r.redactor
}
