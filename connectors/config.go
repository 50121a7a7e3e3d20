package connectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// ConfigEnvVar is the environment variable that names the configuration file.
const ConfigEnvVar = "CONNECTOR_CONFIG"

// FileConfig is the content of the connector configuration file.
type FileConfig struct {
	// Connectors maps each connector name to its settings. Names are
	// compared ignoring case.
	Connectors map[string]ConnectorConfig `json:"connectors" yaml:"connectors"`
}

// ConnectorConfig contains the settings of one connector. Secret values are
// never part of it: fields ending in _env name environment variables and
// fields ending in _file name files, and both are read when the registry is built.
type ConnectorConfig struct {
	// Kind defaults to the connector name when the name is a kind.
	Kind Kind `json:"kind,omitempty" yaml:"kind,omitempty"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled,omitempty" yaml:"enabled,omitempty"`

	URLEnv              string            `json:"url_env,omitempty" yaml:"url_env,omitempty"`
	URLFile             string            `json:"url_file,omitempty" yaml:"url_file,omitempty"`
	TokenEnv            string            `json:"token_env,omitempty" yaml:"token_env,omitempty"`
	TokenFile           string            `json:"token_file,omitempty" yaml:"token_file,omitempty"`
	AuthorizationEnv    string            `json:"authorization_env,omitempty" yaml:"authorization_env,omitempty"`
	AuthorizationScheme string            `json:"authorization_scheme,omitempty" yaml:"authorization_scheme,omitempty"`
	APIKeyEnv           string            `json:"api_key_env,omitempty" yaml:"api_key_env,omitempty"`
	APIKeyHeader        string            `json:"api_key_header,omitempty" yaml:"api_key_header,omitempty"`
	SigningSecretEnv    string            `json:"signing_secret_env,omitempty" yaml:"signing_secret_env,omitempty"`
	RoutingKeyEnv       string            `json:"routing_key_env,omitempty" yaml:"routing_key_env,omitempty"`
	Headers             map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"` // static, non-secret headers

	// Jira.
	ProjectKey string `json:"project_key,omitempty" yaml:"project_key,omitempty"`
	IssueType  string `json:"issue_type,omitempty" yaml:"issue_type,omitempty"`   // default "Task"
	APIVersion string `json:"api_version,omitempty" yaml:"api_version,omitempty"` // "2" (default) or "3"

	// ServiceNow.
	Table string `json:"table,omitempty" yaml:"table,omitempty"` // default "incident"

	// Splunk HTTP Event Collector.
	Index      string `json:"index,omitempty" yaml:"index,omitempty"`
	Sourcetype string `json:"sourcetype,omitempty" yaml:"sourcetype,omitempty"`
	Source     string `json:"source,omitempty" yaml:"source,omitempty"`

	// Microsoft Sentinel through the Logs Ingestion API.
	DCRImmutableID string `json:"dcr_immutable_id,omitempty" yaml:"dcr_immutable_id,omitempty"`
	StreamName     string `json:"stream_name,omitempty" yaml:"stream_name,omitempty"`
	// Microsoft Entra app registration whose client secret, named by
	// client_secret_env or client_secret_file, gets access tokens through
	// the OAuth 2.0 client credentials grant.
	TenantID         string `json:"tenant_id,omitempty" yaml:"tenant_id,omitempty"`
	ClientID         string `json:"client_id,omitempty" yaml:"client_id,omitempty"`
	ClientSecretEnv  string `json:"client_secret_env,omitempty" yaml:"client_secret_env,omitempty"`
	ClientSecretFile string `json:"client_secret_file,omitempty" yaml:"client_secret_file,omitempty"`
	// AuthorityHost is the base URL of the token endpoint, default
	// https://login.microsoftonline.com. It is public, so unlike other
	// URLs it is written in the file.
	AuthorityHost string `json:"authority_host,omitempty" yaml:"authority_host,omitempty"`

	// E-mail over SMTP.
	SMTPHost    string   `json:"smtp_host,omitempty" yaml:"smtp_host,omitempty"`
	SMTPPort    int      `json:"smtp_port,omitempty" yaml:"smtp_port,omitempty"` // default 587, or 465 with implicit_tls: true
	From        string   `json:"from,omitempty" yaml:"from,omitempty"`
	To          []string `json:"to,omitempty" yaml:"to,omitempty"`
	UsernameEnv string   `json:"username_env,omitempty" yaml:"username_env,omitempty"`
	PasswordEnv string   `json:"password_env,omitempty" yaml:"password_env,omitempty"`
	// StartTLS requires STARTTLS before authentication when true (the
	// default without implicit TLS). Set it to false only for a local test
	// server.
	StartTLS *bool `json:"starttls,omitempty" yaml:"starttls,omitempty"`
	// ImplicitTLS starts TLS as soon as the connection opens, as SMTP
	// submission on port 465 does (RFC 8314), in place of STARTTLS. It
	// defaults to true on port 465 and to false on other ports.
	ImplicitTLS *bool `json:"implicit_tls,omitempty" yaml:"implicit_tls,omitempty"`
}

// ConfigError is a validation error in the configuration file. Its message
// names the connector and the field, and never contains a secret value.
type ConfigError struct {
	Connector string // as written in the file, empty for the top level
	Field     string
	Problem   string
}

func (e *ConfigError) Error() string {
	if e.Connector == "" {
		return fmt.Sprintf("connector configuration: field %q: %s", e.Field, e.Problem)
	}
	return fmt.Sprintf("connector %q: field %q: %s", e.Connector, e.Field, e.Problem)
}

func fieldError(connector, field, format string, args ...any) *ConfigError {
	return &ConfigError{Connector: connector, Field: field, Problem: fmt.Sprintf(format, args...)}
}

// LoadConfig reads and validates the configuration file at path. The format
// is JSON for a .json file, YAML for a .yaml or .yml file, and otherwise
// JSON when the content starts with "{" and YAML when it does not.
func LoadConfig(path string) (FileConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return FileConfig{}, fmt.Errorf("read connector configuration: %w", err)
	}
	format := ""
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		format = "json"
	case ".yaml", ".yml":
		format = "yaml"
	}
	cfg, err := ParseConfig(data, format)
	if err != nil {
		return FileConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig parses and validates configuration data. Format is "json",
// "yaml", or "" to detect it from the content.
func ParseConfig(data []byte, format string) (FileConfig, error) {
	if format == "" {
		format = "yaml"
		if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
			format = "json"
		}
	}

	var raw map[string]any
	switch format {
	case "json":
		if err := checkJSONDuplicateKeys(data); err != nil {
			return FileConfig{}, err
		}
		decoder := json.NewDecoder(bytes.NewReader(data))
		decoder.UseNumber()
		if err := decoder.Decode(&raw); err != nil {
			return FileConfig{}, fmt.Errorf("invalid JSON in connector configuration: %w", err)
		}
	case "yaml":
		if err := yaml.Unmarshal(data, &raw); err != nil {
			return FileConfig{}, fmt.Errorf("invalid YAML in connector configuration: %w", err)
		}
	default:
		return FileConfig{}, fmt.Errorf("unknown connector configuration format %q; use json or yaml", format)
	}

	cfg, err := decodeRawConfig(raw)
	if err != nil {
		return FileConfig{}, err
	}
	if err := cfg.Validate(); err != nil {
		return FileConfig{}, err
	}
	return cfg, nil
}

// decodeRawConfig checks the field names of the generic decoded file, so
// that literal secrets and unknown fields get precise errors, and then
// decodes each connector into a ConnectorConfig.
func decodeRawConfig(raw map[string]any) (FileConfig, error) {
	cfg := FileConfig{Connectors: map[string]ConnectorConfig{}}
	for _, key := range sortedKeys(raw) {
		if key != "connectors" {
			return FileConfig{}, fieldError("", key, `unknown field; the file contains only "connectors"`)
		}
	}
	if raw["connectors"] == nil {
		return cfg, nil
	}
	connectors, ok := raw["connectors"].(map[string]any)
	if !ok {
		return FileConfig{}, fieldError("", "connectors", "must be a mapping from connector name to settings")
	}

	for _, name := range sortedKeys(connectors) {
		fields := map[string]any{}
		if connectors[name] != nil {
			fields, ok = connectors[name].(map[string]any)
			if !ok {
				return FileConfig{}, fieldError(name, "name", "settings must be a mapping of fields")
			}
		}
		if err := checkRawFields(name, fields); err != nil {
			return FileConfig{}, err
		}
		connector, err := decodeConnector(name, fields)
		if err != nil {
			return FileConfig{}, err
		}
		cfg.Connectors[name] = connector
	}
	return cfg, nil
}

// checkRawFields rejects literal secrets, literal URLs and unknown fields.
func checkRawFields(name string, fields map[string]any) error {
	known := knownFields()
	for _, field := range sortedKeys(fields) {
		if !known[field] {
			if looksLikeSecretField(field) {
				return fieldError(name, field, "literal secrets are not allowed in the configuration file; %s", secretFieldHint(field, rawAllowedFields(name, fields)))
			}
			return fieldError(name, field, "unknown field; valid fields: %s", strings.Join(sortedKeys(rawAllowedFields(name, fields)), ", "))
		}
		if slices.Contains(publicURLFields, field) {
			continue
		}
		if path, found := findLiteralURL(field, fields[field]); found {
			return fieldError(name, path, "literal URLs are not allowed in the configuration file because webhook URLs are secrets; name an environment variable in url_env or a file in url_file")
		}
	}
	return nil
}

// publicURLFields are the settings whose value is a URL that is not secret.
var publicURLFields = []string{"authority_host"}

// rawAllowedFields returns the fields of the connector's kind, or every
// field when the kind is not yet known to be valid.
func rawAllowedFields(name string, fields map[string]any) map[string]bool {
	kind, _ := fields["kind"].(string)
	if spec, ok := kindSpecs[Kind(strings.ToLower(kind))]; ok {
		return spec.allowedFields()
	}
	if spec, ok := kindSpecs[Kind(strings.ToLower(name))]; ok && kind == "" {
		return spec.allowedFields()
	}
	return knownFields()
}

// settingField returns the type of the ConnectorConfig setting named in the
// file as name when it is a list or a mapping, or nil.
func settingField(name string) reflect.Type {
	t := reflect.TypeFor[ConnectorConfig]()
	for i := range t.NumField() {
		field := t.Field(i)
		tag, _, _ := strings.Cut(field.Tag.Get("json"), ",")
		if tag == name && (field.Type.Kind() == reflect.Slice || field.Type.Kind() == reflect.Map) {
			return field.Type
		}
	}
	return nil
}

// settingType names a setting's Go type as a configuration file writes it.
func settingType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice:
		return "a list of " + strings.TrimPrefix(settingType(t.Elem()), "a ") + "s, such as [a, b]"
	case reflect.Map:
		return "a mapping of names to values"
	case reflect.Pointer:
		return settingType(t.Elem())
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.String:
		return "a string"
	}
	return t.String()
}

// decodeConnector converts one generic connector mapping into a ConnectorConfig.
func decodeConnector(name string, fields map[string]any) (ConnectorConfig, error) {
	encoded, err := json.Marshal(fields)
	if err != nil {
		return ConnectorConfig{}, fieldError(name, "name", "settings cannot be read: %v", err)
	}
	decoder := json.NewDecoder(bytes.NewReader(encoded))
	decoder.DisallowUnknownFields()
	var connector ConnectorConfig
	if err := decoder.Decode(&connector); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			// The decoder names the setting, not the list entry or map
			// value inside it, so the message states which of them is wrong.
			if container := settingField(typeErr.Field); container != nil && container.Elem() == typeErr.Type {
				return ConnectorConfig{}, fieldError(name, typeErr.Field, "invalid value: each entry must be %s", settingType(typeErr.Type))
			}
			return ConnectorConfig{}, fieldError(name, typeErr.Field, "invalid value: expected %s", settingType(typeErr.Type))
		}
		return ConnectorConfig{}, fieldError(name, "name", "settings cannot be read: %v", err)
	}
	return connector, nil
}

// knownFields returns the names of all ConnectorConfig fields.
func knownFields() map[string]bool {
	known := map[string]bool{}
	configType := reflect.TypeFor[ConnectorConfig]()
	for i := range configType.NumField() {
		known[jsonFieldName(configType.Field(i))] = true
	}
	return known
}

func jsonFieldName(field reflect.StructField) string {
	name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
	return name
}

// secretWords mark a field name as one that would contain a secret value.
var secretWords = []string{"url", "uri", "token", "secret", "password", "passwd", "key", "auth", "credential", "webhook", "dsn", "signature"}

func looksLikeSecretField(field string) bool {
	lower := strings.ToLower(field)
	return slices.ContainsFunc(secretWords, func(word string) bool {
		return strings.Contains(lower, word)
	})
}

// secretFieldHint suggests where to store the secret written literally in
// field, naming only fields in allowed, the fields of the connector's kind.
// It prefers the fields of the same purpose as field, such as url_env for
// webhook_url, and lists every secret field of the kind when none applies.
func secretFieldHint(field string, allowed map[string]bool) string {
	var fields []string
	for _, candidate := range secretFieldCandidates(field) {
		if allowed[candidate] && !slices.Contains(fields, candidate) {
			fields = append(fields, candidate)
		}
	}
	if len(fields) == 0 {
		fields = kindSecretFields(allowed)
	}
	return describeSecretFields(fields) + " instead"
}

// secretFieldCandidates returns the secret source fields for a field name,
// most specific first: the name with _env and _file, then the fields of
// each purpose its words suggest.
func secretFieldCandidates(field string) []string {
	lower := strings.ToLower(field)
	candidates := []string{lower + "_env", lower + "_file"}
	has := func(words ...string) bool {
		return slices.ContainsFunc(words, func(word string) bool { return strings.Contains(lower, word) })
	}
	if has("url", "uri", "webhook") {
		candidates = append(candidates, "url_env", "url_file")
	}
	if has("password", "passwd") {
		candidates = append(candidates, "password_env")
	}
	if has("secret") {
		candidates = append(candidates, "client_secret_env", "client_secret_file", "signing_secret_env")
	}
	if has("key") {
		candidates = append(candidates, "api_key_env", "routing_key_env")
	}
	if has("token", "auth", "credential") {
		candidates = append(candidates, "token_env", "token_file", "authorization_env")
	}
	return candidates
}

// describeSecretFields names the fields in a hint, such as "name an
// environment variable in token_env or authorization_env, or a file in
// token_file".
func describeSecretFields(fields []string) string {
	var envFields, fileFields []string
	for _, field := range fields {
		if strings.HasSuffix(field, "_file") {
			fileFields = append(fileFields, field)
		} else {
			envFields = append(envFields, field)
		}
	}
	var parts []string
	if len(envFields) > 0 {
		parts = append(parts, "an environment variable in "+joinAlternatives(envFields))
	}
	if len(fileFields) > 0 {
		parts = append(parts, "a file in "+joinAlternatives(fileFields))
	}
	// Commas set off a list of several variables from the file.
	if len(envFields) > 1 && len(fileFields) > 0 {
		return "name " + strings.Join(parts, ", or ") + ","
	}
	return "name " + strings.Join(parts, " or ")
}

// joinAlternatives joins names as "a", "a or b" or "a, b or c".
func joinAlternatives(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// findLiteralURL reports the first string in value that is an absolute
// http or https URL, with the field path that contains it.
func findLiteralURL(path string, value any) (string, bool) {
	switch v := value.(type) {
	case string:
		return path, isLiteralURL(v)
	case map[string]any:
		for _, key := range sortedKeys(v) {
			if found, ok := findLiteralURL(path+"."+key, v[key]); ok {
				return found, true
			}
		}
	case []any:
		for _, element := range v {
			if found, ok := findLiteralURL(path, element); ok {
				return found, true
			}
		}
	}
	return "", false
}

func isLiteralURL(value string) bool {
	lower := strings.ToLower(strings.TrimSpace(value))
	return strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")
}

// checkJSONDuplicateKeys rejects a key that appears twice in one JSON
// object, which encoding/json would otherwise resolve silently to the last value.
func checkJSONDuplicateKeys(data []byte) error {
	decoder := json.NewDecoder(bytes.NewReader(data))
	if err := walkJSONValue(decoder, nil); err != nil {
		var configErr *ConfigError
		if errors.As(err, &configErr) {
			return err
		}
		return fmt.Errorf("invalid JSON in connector configuration: %w", err)
	}
	return nil
}

func walkJSONValue(decoder *json.Decoder, path []string) error {
	token, err := decoder.Token()
	if err != nil {
		return err
	}
	delim, ok := token.(json.Delim)
	if !ok {
		return nil
	}
	switch delim {
	case '{':
		seen := map[string]bool{}
		for decoder.More() {
			keyToken, err := decoder.Token()
			if err != nil {
				return err
			}
			key, _ := keyToken.(string)
			if seen[key] {
				return duplicateKeyError(append(path, key))
			}
			seen[key] = true
			if err := walkJSONValue(decoder, append(slices.Clip(path), key)); err != nil {
				return err
			}
		}
	case '[':
		for decoder.More() {
			if err := walkJSONValue(decoder, path); err != nil {
				return err
			}
		}
	}
	_, err = decoder.Token() // the closing delimiter
	return err
}

func duplicateKeyError(path []string) error {
	switch {
	case len(path) == 2 && path[0] == "connectors":
		return fieldError(path[1], "name", "connector is defined twice")
	case len(path) >= 3 && path[0] == "connectors":
		return fieldError(path[1], strings.Join(path[2:], "."), "field is defined twice")
	}
	return fieldError("", strings.Join(path, "."), "field is defined twice")
}

// Validate checks every connector: its name, kind, fields, secret sources
// and kind-specific settings. It reads no environment variable or file.
func (c FileConfig) Validate() error {
	names := sortedKeys(c.Connectors)
	byLowerName := map[string]string{}
	for _, name := range names {
		lower := strings.ToLower(name)
		if other, ok := byLowerName[lower]; ok {
			return fieldError(name, "name", "duplicates connector %q because names are compared ignoring case", other)
		}
		byLowerName[lower] = name
		if err := validateConnector(name, c.Connectors[name]); err != nil {
			return err
		}
	}
	return nil
}

var (
	namePattern       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	envNamePattern    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	headerNamePattern = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	schemePattern     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]*$`)
)

// reservedHeaders are set by the connector itself and cannot be configured.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Host", "User-Agent", "Webhook-Id", "Webhook-Timestamp", "Transfer-Encoding"}

// resolveKind returns the configured kind, or the name when it is a kind.
func resolveKind(name string, cfg ConnectorConfig) (Kind, error) {
	if cfg.Kind == "" {
		if kind := Kind(strings.ToLower(name)); kind.Valid() {
			return kind, nil
		}
		return "", fieldError(name, "kind", "missing; valid kinds: %s", kindList())
	}
	kind := Kind(strings.ToLower(string(cfg.Kind)))
	if !kind.Valid() {
		return "", fieldError(name, "kind", "unknown kind %q; valid kinds: %s", cfg.Kind, kindList())
	}
	return kind, nil
}

func kindList() string {
	names := make([]string, 0, len(kindSpecs))
	for _, kind := range Kinds() {
		names = append(names, string(kind))
	}
	return strings.Join(names, ", ")
}

func validateConnector(name string, cfg ConnectorConfig) error {
	if !namePattern.MatchString(name) {
		return fieldError(name, "name", `invalid name; use 1 to 64 letters, digits, "-", "_" or ".", starting with a letter or digit`)
	}
	kind, err := resolveKind(name, cfg)
	if err != nil {
		return err
	}
	spec := kindSpecs[kind]

	allowed := spec.allowedFields()
	for _, field := range setFields(cfg) {
		if !allowed[field] {
			return fieldError(name, field, "does not apply to kind %s; valid fields: %s", kind, strings.Join(sortedKeys(allowed), ", "))
		}
	}

	if err := validateSecretSources(name, kind, spec, cfg); err != nil {
		return err
	}
	if err := validateHeaders(name, cfg.Headers, headerCredentialHint(kind, allowed)); err != nil {
		return err
	}
	if cfg.AuthorizationScheme != "" && !schemePattern.MatchString(cfg.AuthorizationScheme) {
		return fieldError(name, "authorization_scheme", "invalid scheme; use one word such as Bearer or Basic")
	}
	if cfg.AuthorizationScheme != "" && cfg.TokenEnv == "" && cfg.TokenFile == "" {
		return fieldError(name, "authorization_scheme", "applies only with token_env or token_file")
	}
	if cfg.APIKeyHeader != "" {
		if !headerNamePattern.MatchString(cfg.APIKeyHeader) {
			return fieldError(name, "api_key_header", "invalid header name")
		}
		if cfg.APIKeyEnv == "" {
			return fieldError(name, "api_key_header", "applies only with api_key_env")
		}
	}
	if spec.validate != nil {
		return spec.validate(name, cfg)
	}
	return nil
}

// setFields returns the names of the fields that have a non-zero value.
func setFields(cfg ConnectorConfig) []string {
	value := reflect.ValueOf(cfg)
	var fields []string
	for i := range value.NumField() {
		if !value.Field(i).IsZero() {
			fields = append(fields, jsonFieldName(value.Type().Field(i)))
		}
	}
	return fields
}

func validateSecretSources(name string, kind Kind, spec *kindSpec, cfg ConnectorConfig) error {
	for _, role := range allSecretRoles {
		sources := role.sources(cfg)
		if len(sources) > 1 {
			return fieldError(name, sources[1].field, "conflicts with %s; set only one of them", sources[0].field)
		}
		for _, source := range sources {
			if source.fromFile {
				if !filepath.IsAbs(source.location) {
					return fieldError(name, source.field, "must be an absolute file path")
				}
				continue
			}
			if !envNamePattern.MatchString(source.location) {
				return fieldError(name, source.field, "must name an environment variable, such as SLACK_WEBHOOK_URL, and not contain the secret itself")
			}
		}
	}

	for _, group := range spec.required {
		if !slices.ContainsFunc(group, func(role secretRole) bool { return len(role.sources(cfg)) > 0 }) {
			return fieldError(name, group[0].fields()[0], "missing; kind %s needs %s", kind, describeRoleGroup(group))
		}
	}
	if cfg.TokenEnv != "" || cfg.TokenFile != "" {
		if cfg.AuthorizationEnv != "" {
			return fieldError(name, "authorization_env", "conflicts with token_env and token_file; set only one of them")
		}
	}
	if sources := roleClientSecret.sources(cfg); len(sources) > 0 {
		for _, other := range []secretRole{roleToken, roleAuthorization} {
			if otherSources := other.sources(cfg); len(otherSources) > 0 {
				return fieldError(name, otherSources[0].field, "conflicts with %s, which gets access tokens itself; set only one of them", sources[0].field)
			}
		}
	}
	return nil
}

func describeRoleGroup(group []secretRole) string {
	var fields []string
	for _, role := range group {
		fields = append(fields, role.fields()...)
	}
	if len(fields) == 1 {
		return fields[0]
	}
	return "one of " + strings.Join(fields, ", ")
}

// headerCredentialHint names the fields from which the kind takes the
// credential a header would otherwise carry, only those in allowed.
func headerCredentialHint(kind Kind, allowed map[string]bool) string {
	var options []string
	if allowed["api_key_header"] {
		options = append(options, "api_key_env with api_key_header")
	}
	for _, field := range []string{"client_secret_env", "token_env", "authorization_env"} {
		if allowed[field] {
			options = append(options, field)
		}
	}
	if len(options) == 0 {
		return fmt.Sprintf("kind %s sends no credential header; %s instead", kind, describeSecretFields(kindSecretFields(allowed)))
	}
	return "use " + joinAlternatives(options) + " instead"
}

// kindSecretFields returns the secret source fields in allowed, in role order.
func kindSecretFields(allowed map[string]bool) []string {
	var fields []string
	for _, role := range allSecretRoles {
		for _, field := range role.fields() {
			if allowed[field] {
				fields = append(fields, field)
			}
		}
	}
	return fields
}

// validateHeaders checks the static headers. credentialHint names the
// fields for a credential found in one.
func validateHeaders(name string, headers map[string]string, credentialHint string) error {
	for _, header := range sortedKeys(headers) {
		field := "headers." + header
		// HTTP allows a tab inside a header value, so only the other
		// control characters and separators are rejected.
		lineBreak, hasLineBreak := FirstControlOrSeparator(strings.ReplaceAll(headers[header], "\t", " "))
		switch {
		case !headerNamePattern.MatchString(header):
			return fieldError(name, field, "invalid header name")
		case IsSensitiveHeader(header):
			return fieldError(name, field, "literal secrets are not allowed in the configuration file; %s", credentialHint)
		case slices.ContainsFunc(reservedHeaders, func(reserved string) bool { return strings.EqualFold(reserved, header) }):
			return fieldError(name, field, "is set by the connector and cannot be configured")
		case hasLineBreak:
			return fieldError(name, field, "value contains the %s; use a single line of text", DescribeControlOrSeparator(lineBreak))
		case isLiteralURL(headers[header]):
			return fieldError(name, field, "literal URLs are not allowed in the configuration file because webhook URLs are secrets")
		case (*Redactor)(nil).FindCredential(headers[header]) != "":
			return fieldError(name, field, "value looks like a credential, and literal secrets are not allowed in the configuration file; %s", credentialHint)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
