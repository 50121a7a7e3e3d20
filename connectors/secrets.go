package connectors

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// secretRole is the purpose of one secret value of a connector.
type secretRole int

const (
	roleURL secretRole = iota
	roleToken
	roleAuthorization
	roleAPIKey
	roleSigningSecret
	roleRoutingKey
	roleUsername
	rolePassword
	roleClientSecret
)

var allSecretRoles = []secretRole{
	roleURL, roleToken, roleAuthorization, roleAPIKey, roleSigningSecret, roleRoutingKey, roleUsername, rolePassword, roleClientSecret,
}

// fields returns the configuration fields that name the role's source: the
// environment variable field first, then the file field if the role has one.
func (r secretRole) fields() []string {
	switch r {
	case roleURL:
		return []string{"url_env", "url_file"}
	case roleToken:
		return []string{"token_env", "token_file"}
	case roleAuthorization:
		return []string{"authorization_env"}
	case roleAPIKey:
		return []string{"api_key_env"}
	case roleSigningSecret:
		return []string{"signing_secret_env"}
	case roleRoutingKey:
		return []string{"routing_key_env"}
	case roleUsername:
		return []string{"username_env"}
	case rolePassword:
		return []string{"password_env"}
	case roleClientSecret:
		return []string{"client_secret_env", "client_secret_file"}
	}
	return nil
}

// secretSource is the location of one secret value.
type secretSource struct {
	field    string // configuration field, such as "url_env"
	location string // environment variable name or absolute file path
	fromFile bool
}

// describe returns the source for messages, for example
// "environment variable SLACK_WEBHOOK_URL". Names and paths are not secret.
func (s secretSource) describe() string {
	if s.fromFile {
		return "secret file " + s.location
	}
	return "environment variable " + s.location
}

// sources returns the configured sources of the role, in field order.
func (r secretRole) sources(cfg ConnectorConfig) []secretSource {
	var envName, filePath string
	switch r {
	case roleURL:
		envName, filePath = cfg.URLEnv, cfg.URLFile
	case roleToken:
		envName, filePath = cfg.TokenEnv, cfg.TokenFile
	case roleAuthorization:
		envName = cfg.AuthorizationEnv
	case roleAPIKey:
		envName = cfg.APIKeyEnv
	case roleSigningSecret:
		envName = cfg.SigningSecretEnv
	case roleRoutingKey:
		envName = cfg.RoutingKeyEnv
	case roleUsername:
		envName = cfg.UsernameEnv
	case rolePassword:
		envName = cfg.PasswordEnv
	case roleClientSecret:
		envName, filePath = cfg.ClientSecretEnv, cfg.ClientSecretFile
	}
	fields := r.fields()
	var sources []secretSource
	if envName != "" {
		sources = append(sources, secretSource{field: fields[0], location: envName})
	}
	if filePath != "" {
		sources = append(sources, secretSource{field: fields[1], location: filePath, fromFile: true})
	}
	return sources
}

// readSecret reads one secret value. A missing or empty value is a problem
// of the destination, not an error, so that the application still starts.
func readSecret(source secretSource, lookupEnv func(string) (string, bool)) (string, string) {
	if source.fromFile {
		data, err := os.ReadFile(source.location)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", source.describe() + " does not exist"
		case err != nil:
			return "", source.describe() + " cannot be read"
		}
		value := strings.TrimSpace(string(data))
		if value == "" {
			return "", source.describe() + " is empty"
		}
		return value, ""
	}

	value, ok := lookupEnv(source.location)
	if !ok {
		return "", source.describe() + " is not set"
	}
	value = strings.TrimSpace(value)
	if value == "" {
		return "", source.describe() + " is empty"
	}
	return value, ""
}

// resolveSecrets reads every configured secret of d and derives the
// endpoint, the Authorization header value and the signing key. It records
// problems on d instead of returning them.
func (d *destination) resolveSecrets(lookupEnv func(string) (string, bool)) {
	var problems []string
	sourceOf := map[secretRole]secretSource{}
	for _, role := range allSecretRoles {
		for _, source := range role.sources(d.config) {
			value, problem := readSecret(source, lookupEnv)
			if problem != "" {
				problems = append(problems, problem)
				continue
			}
			d.secrets[role] = value
			sourceOf[role] = source
			if role == roleURL && d.spec.addressURL {
				d.secretValues = append(d.secretValues, addressURLSecrets(value)...)
				continue
			}
			d.secretValues = append(d.secretValues, value)
			if role == roleURL && d.spec.secretSegments != nil {
				d.secretValues = append(d.secretValues, kindSecretSegments(d.spec, value)...)
			}
		}
	}

	if raw, ok := d.secrets[roleURL]; ok {
		endpoint, err := url.Parse(raw)
		if err != nil || (endpoint.Scheme != "http" && endpoint.Scheme != "https") || endpoint.Host == "" {
			problems = append(problems, sourceOf[roleURL].describe()+" does not contain an absolute http or https URL")
		} else if problem := d.checkEndpoint(endpoint); problem != "" {
			problems = append(problems, sourceOf[roleURL].describe()+" "+problem)
		} else {
			d.endpoint = endpoint
		}
	} else if d.spec.defaultURL != "" {
		d.endpoint, _ = url.Parse(d.spec.defaultURL)
	}

	if authorization, ok := d.secrets[roleAuthorization]; ok {
		d.authorization = authorization
		d.secretValues = append(d.secretValues, credentialForms(authorization)...)
	} else if token, ok := d.secrets[roleToken]; ok {
		if strings.EqualFold(d.config.AuthorizationScheme, "Basic") && !isBasicCredential(token) {
			problems = append(problems, sourceOf[roleToken].describe()+
				" does not contain user:password or its base64 encoding, which authorization_scheme Basic needs")
		}
		d.authorization = authorizationValue(d.config.AuthorizationScheme, d.spec.defaultScheme, token)
		d.secretValues = append(d.secretValues, d.authorization)
		d.secretValues = append(d.secretValues, credentialForms(d.authorization)...)
	}
	if username, ok := d.secrets[roleUsername]; ok {
		d.secretValues = append(d.secretValues, smtpAuthForms(username, d.secrets[rolePassword])...)
	}
	if _, ok := d.secrets[roleClientSecret]; ok {
		d.tokens = newAccessTokenCache()
	}

	if secret, ok := d.secrets[roleSigningSecret]; ok {
		key, err := decodeSigningSecret(secret)
		if err != nil {
			problems = append(problems, sourceOf[roleSigningSecret].describe()+" does not contain a valid signing secret: "+err.Error())
		} else {
			d.signingKey = key
			d.secretValues = append(d.secretValues, strings.TrimPrefix(secret, signingSecretPrefix))
			if isPrintable(string(key)) {
				d.secretValues = append(d.secretValues, string(key))
			}
		}
	}

	d.problem = strings.Join(problems, " and ")
}

// checkEndpoint applies the kind's endpoint check, if it has one.
func (d *destination) checkEndpoint(endpoint *url.URL) string {
	if d.spec.checkEndpoint == nil {
		return ""
	}
	return d.spec.checkEndpoint(endpoint)
}

// authorizationValue builds the Authorization header value from a token.
// With the Basic scheme the token is "user:password" and is base64-encoded
// here. A token without a colon is taken as already encoded.
func authorizationValue(scheme, defaultScheme, token string) string {
	if scheme == "" {
		scheme = defaultScheme
	}
	if scheme == "" {
		scheme = "Bearer"
	}
	if strings.EqualFold(scheme, "Basic") && strings.Contains(token, ":") {
		token = base64.StdEncoding.EncodeToString([]byte(token))
	}
	return scheme + " " + token
}

// isBasicCredential reports whether token is "user:password" or the
// base64 encoding of one.
func isBasicCredential(token string) bool {
	if strings.Contains(token, ":") {
		return true
	}
	decoded, err := base64.StdEncoding.DecodeString(token)
	return err == nil && strings.Contains(string(decoded), ":")
}

// signingSecretPrefix marks a Standard Webhooks secret whose remainder is
// base64-encoded key material.
const signingSecretPrefix = "whsec_"

// decodeSigningSecret returns the HMAC key for a Standard Webhooks secret:
// the base64-decoded remainder of a "whsec_" secret, or the raw bytes of any
// other secret.
func decodeSigningSecret(secret string) ([]byte, error) {
	encoded, ok := strings.CutPrefix(secret, signingSecretPrefix)
	if !ok {
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("the part after %q is not valid base64", signingSecretPrefix)
	}
	if len(key) == 0 {
		return nil, fmt.Errorf("the part after %q is empty", signingSecretPrefix)
	}
	return key, nil
}

// credentialForms returns the parts of an Authorization header value that a
// server may echo on their own: the credential after the scheme and, for
// Basic, the decoded "user:password" and its password.
func credentialForms(authorization string) []string {
	scheme, credential, found := strings.Cut(strings.TrimSpace(authorization), " ")
	if !found {
		return nil
	}
	credential = strings.TrimSpace(credential)
	forms := []string{credential}
	if !strings.EqualFold(scheme, "Basic") {
		return forms
	}
	decoded, err := base64.StdEncoding.DecodeString(credential)
	if err != nil || !isPrintable(string(decoded)) {
		return forms
	}
	forms = append(forms, string(decoded))
	if _, password, ok := strings.Cut(string(decoded), ":"); ok && password != "" {
		forms = append(forms, password)
	}
	return forms
}

// smtpAuthForms returns the base64 strings in which SMTP authentication
// sends a password, because some servers quote the line they reject:
// AUTH PLAIN with and without an authorization identity, and the password
// line of AUTH LOGIN.
func smtpAuthForms(username, password string) []string {
	if password == "" {
		return nil
	}
	encode := base64.StdEncoding.EncodeToString
	return []string{
		encode([]byte("\x00" + username + "\x00" + password)),
		encode([]byte(username + "\x00" + username + "\x00" + password)),
		encode([]byte(password)),
	}
}

// isPrintable reports whether s is valid UTF-8 text without control
// characters, so that it can appear as text in a response.
func isPrintable(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// kindSecretSegments returns the path segments of raw that spec marks as
// credentials. It leaves out those under minFragmentLength characters, such
// as the T000 of a sample Slack URL, because such short values match
// ordinary words in notes and pages. The whole URL and its path stay secret.
func kindSecretSegments(spec *kindSpec, raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	return slices.DeleteFunc(spec.secretSegments(u), func(segment string) bool { return len(segment) < minFragmentLength })
}
