// Package config reads the Evidence Console's settings from environment
// variables and command-line flags of the same meaning; a flag wins over its
// variable.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/releaseops/evidence-console/auth"

	"github.com/releaseops/evidence-console/connectors"
)

// Config is the validated configuration.
type Config struct {
	DatabaseURL     string
	ListenAddr      string
	PublicURL       string
	TimeZone        *time.Location
	LogLevel        slog.Level
	LogFormat       string
	ConnectorConfig string
	SampleData      bool
	Migrate         bool
	LocalReceiver   string
	// SessionKeys sign and encrypt session cookies; the first protects new
	// cookies. Empty means a key kept in SessionKeyFile.
	SessionKeys         []string
	SessionCookieSecure bool
	OIDC                OIDCConfig
}

// SessionKeyFile is the default path of the generated session key, used
// when SESSION_KEYS is empty and no SQLite file path is configured.
const SessionKeyFile = "data/session.key"

// SessionKeyPath returns the file for a generated session key: session.key
// beside the SQLite database file, or SessionKeyFile for PostgreSQL and the
// default database.
func (c Config) SessionKeyPath() string {
	if c.DatabaseURL == "" || strings.Contains(c.DatabaseURL, "://") || c.DatabaseURL == ":memory:" {
		return SessionKeyFile
	}
	return filepath.Join(filepath.Dir(c.DatabaseURL), "session.key")
}

// minSessionKeyLength is the shortest accepted session key, in characters.
const minSessionKeyLength = 32

// OIDCConfig configures single sign-on; it is off when Issuer is empty.
type OIDCConfig struct {
	Issuer   string
	ClientID string
	// ClientSecretFile is a file holding the client secret, and
	// ClientSecretEnv the name of a variable holding it; exactly one is set.
	ClientSecretFile string
	ClientSecretEnv  string
	GroupsClaim      string
	// RoleMap is "group=role,group=role" as configured.
	RoleMap string
}

// Enabled reports whether single sign-on is configured.
func (o OIDCConfig) Enabled() bool { return o.Issuer != "" }

// setting is one configuration value with its variable, flag and default.
type setting struct {
	env, flag, def, help string
}

var settings = []setting{
	{"DATABASE_URL", "database-url", "", "database: a postgres:// URL, the path of an embedded SQLite file, or empty for the SQLite file data/evidence-console.db"},
	{"LISTEN_ADDR", "listen-addr", "127.0.0.1:8080", "host:port the web server listens on"},
	{"PUBLIC_URL", "public-url", "", "absolute http or https URL users reach the console at, used in links inside delivered messages: scheme, host and a plain path, without user name, query, fragment or encoded characters. Required when LISTEN_ADDR listens on every interface (no host, 0.0.0.0 or [::])"},
	{"TIME_ZONE", "time-zone", "UTC", "IANA time zone in which pages show times, for example Europe/Berlin"},
	{"LOG_LEVEL", "log-level", "info", "minimum log level: debug, info, warn or error"},
	{"LOG_FORMAT", "log-format", "text", "log format: text or json"},
	{"CONNECTOR_CONFIG", "connector-config", "", "path of the connector configuration file (JSON or YAML); secrets and URLs come only from the environment variables or files it names, and a literal one in the file is rejected"},
	{"SAMPLE_DATA", "sample-data", "true", "load sample evidence when the database holds none: true or false"},
	{"AUTO_MIGRATE", "auto-migrate", "true", "apply pending database migrations when a command opens the database: true or false. With false, a command stops while migrations are pending; apply them with evidence-console migrate"},
	{"LOCAL_RECEIVER", "local-receiver", "", "host:port of a local test receiver to start beside the server, for trying deliveries without real destinations"},
	{"SESSION_KEYS", "session-keys", "", "comma-separated secrets of at least 32 characters that sign and encrypt session cookies; the first protects new cookies, later ones still open older cookies (rotation). Empty: a key generated once and kept in session.key beside the SQLite file, or in " + SessionKeyFile + ". Set the same value on every instance that shares a database"},
	{"SESSION_COOKIE_SECURE", "session-cookie-secure", "false", "always mark the session cookie Secure (HTTPS only), for TLS ended at a proxy; it is marked Secure anyway for TLS requests and an https PUBLIC_URL: true or false"},
	{"OIDC_ISSUER", "oidc-issuer", "", "OpenID Connect issuer URL for single sign-on: https, or http only on a loopback address; empty turns single sign-on off, and then the other OIDC_ settings except OIDC_GROUPS_CLAIM must be empty"},
	{"OIDC_CLIENT_ID", "oidc-client-id", "", "OpenID Connect client id registered for PUBLIC_URL/sign-in/oidc/callback"},
	{"OIDC_CLIENT_SECRET_FILE", "oidc-client-secret-file", "", "path of a file holding the OpenID Connect client secret"},
	{"OIDC_CLIENT_SECRET_ENV", "oidc-client-secret-env", "", "name of the environment variable holding the OpenID Connect client secret (instead of OIDC_CLIENT_SECRET_FILE)"},
	{"OIDC_GROUPS_CLAIM", "oidc-groups-claim", "groups", "ID token claim that lists the user's groups"},
	{"OIDC_ROLE_MAP", "oidc-role-map", "", "group=role pairs, comma-separated, for example ops=release_manager,leads=executive. A user in several mapped groups gets the role latest in the order " + auth.RoleList() + "; a user in no mapped group cannot sign in"},
}

// derivedDefaults are the defaults that validate derives from another
// setting when the value is empty, shown in help in place of "(empty)".
var derivedDefaults = map[string]string{
	"PUBLIC_URL": "http://LISTEN_ADDR",
}

// Usage writes the settings table to w: each setting's environment
// variable, flag, default and meaning, in aligned columns.
func Usage(w io.Writer) {
	fmt.Fprintln(w, "Settings (environment variable, flag, default, meaning):")
	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range settings {
		def := s.def
		if derived, ok := derivedDefaults[s.env]; ok && def == "" {
			def = derived
		}
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(table, "  %s\t--%s\t%s\t%s\n", s.env, s.flag, def, s.help)
	}
	table.Flush()
}

// Settings holds the setting values read so far, before validation: the
// defaults, then the environment variables, then the flags parsed by the
// flag sets that AddFlags defined them on.
type Settings struct {
	values map[string]string
}

// NewSettings returns the defaults, overridden by the environment
// variables that lookupEnv finds.
func NewSettings(lookupEnv func(string) (string, bool)) *Settings {
	values := map[string]string{}
	for _, s := range settings {
		values[s.env] = s.def
		if v, ok := lookupEnv(s.env); ok {
			values[s.env] = v
		}
	}
	return &Settings{values: values}
}

// AddFlags defines a flag for every setting on flags. Flag sets that share
// one Settings write into the same values, so when a flag is given more
// than once, the value parsed last wins.
func (s *Settings) AddFlags(flags *flag.FlagSet) {
	for _, setting := range settings {
		flags.Var(settingFlag{values: s.values, env: setting.env}, setting.flag, setting.help)
	}
}

// Config validates the settings. An error starts with the environment
// variable of the invalid setting.
func (s *Settings) Config() (Config, error) {
	return validate(s.values)
}

// settingFlag is the flag.Value of one setting.
type settingFlag struct {
	values map[string]string
	env    string
}

func (f settingFlag) String() string {
	if f.values == nil {
		return ""
	}
	return f.values[f.env]
}

func (f settingFlag) Set(value string) error {
	f.values[f.env] = value
	return nil
}

// postgresKeywordForm finds the key=value form of a PostgreSQL connection
// string, such as "host=db user=app dbname=evidence".
var postgresKeywordForm = regexp.MustCompile(`(^|\s)(host|hostaddr|port|dbname|user|password|sslmode)\s*=`)

// validateDatabaseURL checks DATABASE_URL and returns it with a lower-case
// scheme, which the PostgreSQL driver needs. A PostgreSQL URL must name its
// host and database: the driver would otherwise connect to a default
// database, such as one named after the user, and migrate it. Messages
// never quote the value, which may contain a password.
func validateDatabaseURL(value string) (string, error) {
	const example = "use postgres://user@host:5432/dbname, or the path of an SQLite file, or leave it empty for the embedded SQLite file"
	scheme, rest, isURL := strings.Cut(value, "://")
	if !isURL {
		if postgresKeywordForm.MatchString(value) {
			return "", errors.New("DATABASE_URL: the key=value form of a PostgreSQL connection string is not supported; " + example)
		}
		return value, nil
	}

	scheme = strings.ToLower(scheme)
	if scheme != "postgres" && scheme != "postgresql" {
		return "", errors.New("DATABASE_URL: unsupported scheme; " + example)
	}

	value = scheme + "://" + rest
	parsed, err := url.Parse(value)
	if err != nil {
		return "", errors.New("DATABASE_URL: invalid URL; " + example + ", with special characters in the password percent-encoded")
	}

	query := parsed.Query()
	// A connection service (service= or PGSERVICE) and the PGHOST and
	// PGDATABASE environment variables can give what the URL leaves out.
	if query.Get("service") != "" || os.Getenv("PGSERVICE") != "" {
		return value, nil
	}
	if parsed.Hostname() == "" && query.Get("host") == "" && os.Getenv("PGHOST") == "" {
		return "", errors.New("DATABASE_URL: missing host; " + example + ", or set PGHOST")
	}
	if strings.Trim(parsed.Path, "/") == "" && query.Get("dbname") == "" && query.Get("database") == "" && os.Getenv("PGDATABASE") == "" {
		return "", errors.New("DATABASE_URL: missing database name; " + example + ", or set PGDATABASE")
	}
	return value, nil
}

func validate(values map[string]string) (Config, error) {
	cfg := Config{
		DatabaseURL:     strings.TrimSpace(values["DATABASE_URL"]),
		ListenAddr:      strings.TrimSpace(values["LISTEN_ADDR"]),
		ConnectorConfig: strings.TrimSpace(values["CONNECTOR_CONFIG"]),
		LocalReceiver:   strings.TrimSpace(values["LOCAL_RECEIVER"]),
	}

	databaseURL, err := validateDatabaseURL(cfg.DatabaseURL)
	if err != nil {
		return cfg, err
	}
	cfg.DatabaseURL = databaseURL
	if err := validateListenAddr("LISTEN_ADDR", cfg.ListenAddr, "127.0.0.1:8080"); err != nil {
		return cfg, err
	}
	if cfg.LocalReceiver != "" {
		if err := validateListenAddr("LOCAL_RECEIVER", cfg.LocalReceiver, "127.0.0.1:8090"); err != nil {
			return cfg, err
		}
	}

	publicURL := strings.TrimRight(strings.TrimSpace(values["PUBLIC_URL"]), "/")
	if publicURL == "" {
		// Links in delivered messages and the setup link need an address
		// people can open, which a wildcard host such as 0.0.0.0 is not.
		if host, _, _ := net.SplitHostPort(cfg.ListenAddr); isWildcardHost(host) {
			return cfg, fmt.Errorf("PUBLIC_URL: required when LISTEN_ADDR %s listens on every interface; set the URL people reach the console at, such as http://console.example.com:8080", cfg.ListenAddr)
		}
		publicURL = "http://" + cfg.ListenAddr
	}
	parsed, err := url.Parse(publicURL)
	switch {
	case err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "":
		// The value is not quoted, because an unreadable URL may still
		// carry a password.
		return cfg, errors.New("PUBLIC_URL: not an absolute http or https URL; send one such as https://console.example.com")
	case parsed.User != nil || parsed.RawQuery != "" || parsed.ForceQuery || parsed.Fragment != "" ||
		strings.ContainsAny(parsed.EscapedPath(), ";=%") || (*connectors.Redactor)(nil).FindCredential(publicURL) != "":
		// The URL goes into the log and into every delivered message, so
		// it must carry no credential.
		return cfg, errors.New("PUBLIC_URL: must not contain a user name, password, query, fragment, encoded characters or credential; send scheme, host and a plain path only, such as https://console.example.com")
	}
	cfg.PublicURL = publicURL

	zone, err := time.LoadLocation(strings.TrimSpace(values["TIME_ZONE"]))
	if err != nil {
		return cfg, fmt.Errorf("TIME_ZONE: %q is not a known IANA time zone, for example UTC or Europe/Berlin", values["TIME_ZONE"])
	}
	cfg.TimeZone = zone

	if err := cfg.LogLevel.UnmarshalText([]byte(strings.TrimSpace(values["LOG_LEVEL"]))); err != nil {
		return cfg, fmt.Errorf("LOG_LEVEL: %q is not debug, info, warn or error", values["LOG_LEVEL"])
	}
	cfg.LogFormat = strings.ToLower(strings.TrimSpace(values["LOG_FORMAT"]))
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return cfg, fmt.Errorf("LOG_FORMAT: %q is not text or json", values["LOG_FORMAT"])
	}

	if cfg.SampleData, err = parseBool("SAMPLE_DATA", values["SAMPLE_DATA"]); err != nil {
		return cfg, err
	}
	if cfg.Migrate, err = parseBool("AUTO_MIGRATE", values["AUTO_MIGRATE"]); err != nil {
		return cfg, err
	}
	if err := validateAuth(&cfg, values); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// validateAuth reads the session and single sign-on settings.
func validateAuth(cfg *Config, values map[string]string) error {
	for _, key := range strings.Split(values["SESSION_KEYS"], ",") {
		key = strings.TrimSpace(key)
		if key == "" {
			continue
		}
		if len(key) < minSessionKeyLength {
			return fmt.Errorf("SESSION_KEYS: key %d has %d characters; each key needs at least %d, for example from `openssl rand -hex 32`", len(cfg.SessionKeys)+1, len(key), minSessionKeyLength)
		}
		cfg.SessionKeys = append(cfg.SessionKeys, key)
	}
	var err error
	if cfg.SessionCookieSecure, err = parseBool("SESSION_COOKIE_SECURE", values["SESSION_COOKIE_SECURE"]); err != nil {
		return err
	}

	o := OIDCConfig{
		Issuer: strings.TrimSpace(values["OIDC_ISSUER"]), ClientID: strings.TrimSpace(values["OIDC_CLIENT_ID"]),
		ClientSecretFile: strings.TrimSpace(values["OIDC_CLIENT_SECRET_FILE"]), ClientSecretEnv: strings.TrimSpace(values["OIDC_CLIENT_SECRET_ENV"]),
		GroupsClaim: strings.TrimSpace(values["OIDC_GROUPS_CLAIM"]), RoleMap: strings.TrimSpace(values["OIDC_ROLE_MAP"]),
	}
	cfg.OIDC = o
	// The role map is checked even while single sign-on is off, so a
	// mistake shows when it is written, not when single sign-on is turned on.
	roles, err := auth.ParseRoleMap(o.RoleMap)
	if err != nil {
		return fmt.Errorf("OIDC_ROLE_MAP: %w", err)
	}
	if o.Issuer == "" {
		// Single sign-on settings without an issuer would be ignored, so a
		// forgotten OIDC_ISSUER shows now instead of as a missing button.
		for _, name := range []string{"OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET_FILE", "OIDC_CLIENT_SECRET_ENV", "OIDC_ROLE_MAP"} {
			if strings.TrimSpace(values[name]) != "" {
				return fmt.Errorf("%s: set, but OIDC_ISSUER is empty, so single sign-on is off; set OIDC_ISSUER or remove %s", name, name)
			}
		}
		return nil
	}
	issuer, err := url.Parse(o.Issuer)
	if err != nil || issuer.Host == "" || (issuer.Scheme != "https" && !(issuer.Scheme == "http" && isLoopbackHost(issuer.Hostname()))) {
		return fmt.Errorf("OIDC_ISSUER: %q is not an https URL (http is accepted only for a loopback address)", o.Issuer)
	}
	if o.ClientID == "" {
		return errors.New("OIDC_CLIENT_ID: required when OIDC_ISSUER is set")
	}
	if (o.ClientSecretFile == "") == (o.ClientSecretEnv == "") {
		return errors.New("OIDC_CLIENT_SECRET_FILE or OIDC_CLIENT_SECRET_ENV: set exactly one when OIDC_ISSUER is set")
	}
	if len(roles) == 0 {
		return errors.New("OIDC_ROLE_MAP: required when OIDC_ISSUER is set, for example ops=release_manager")
	}
	if o.GroupsClaim == "" {
		return errors.New("OIDC_GROUPS_CLAIM: must not be empty; the usual claim is groups")
	}
	return nil
}

// validateListenAddr checks that address is host:port with a port from 1
// to 65535 and a host that is empty (every interface), an IP address or a
// host name. It does not resolve the name.
func validateListenAddr(name, address, example string) error {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%s: %q is not host:port, for example %s", name, address, example)
	}
	if number, err := strconv.ParseUint(port, 10, 16); err != nil || number == 0 {
		return fmt.Errorf("%s: the port %q in %q is invalid; use a number from 1 to 65535, for example %s", name, port, address, example)
	}
	if host == "" || isHostName(host) {
		return nil
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return fmt.Errorf("%s: the host %q in %q is neither an IP address nor a host name; use host:port, for example %s", name, host, address, example)
	}
	return nil
}

// isHostName reports whether host is a syntactically valid DNS name:
// dot-separated labels of 1 to 63 letters, digits, hyphens or underscores
// that neither start nor end with a hyphen. The last label must contain a
// letter, so a malformed IPv4 address such as 999.1.1.1 is no host name.
func isHostName(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if host == "" || len(host) > 253 {
		return false
	}
	labels := strings.Split(host, ".")
	for _, label := range labels {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return strings.ContainsFunc(labels[len(labels)-1], func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	})
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func parseBool(name, value string) (bool, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(value))
	if err != nil {
		return false, fmt.Errorf("%s: %q is not true or false", name, value)
	}
	return b, nil
}

// NewLogger returns a slog logger with the configured level and format.
func (c Config) NewLogger(w io.Writer) *slog.Logger {
	options := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, options))
	}
	return slog.New(slog.NewTextHandler(w, options))
}

// isWildcardHost reports whether a listen address with this host listens
// on every interface: an empty host, 0.0.0.0 or ::.
func isWildcardHost(host string) bool {
	if host == "" {
		return true
	}
	address, err := netip.ParseAddr(host)
	return err == nil && address.IsUnspecified()
}
