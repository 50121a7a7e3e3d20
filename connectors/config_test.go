package connectors

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const yamlConfig = `
connectors:
  slack:
    url_env: SLACK_WEBHOOK_URL
  slack-exec:
    kind: slack
    enabled: true
    url_env: SLACK_EXEC_WEBHOOK_URL
  webhook:
    url_env: WEBHOOK_URL
    signing_secret_env: WEBHOOK_SIGNING_SECRET
    headers: {X-Team: release-ops}
  teams:
    url_env: TEAMS_WORKFLOW_URL
  jira: {url_env: JIRA_BASE_URL, token_env: JIRA_TOKEN, authorization_scheme: Bearer, project_key: OPS, issue_type: Task}
  mail:
    kind: email
    smtp_host: smtp.example.test
    smtp_port: 2525
    from: console@example.test
    to: [ops@example.test]
    starttls: false
`

const jsonConfig = `{
  "connectors": {
    "slack": {"url_env": "SLACK_WEBHOOK_URL"},
    "Slack-Exec": {"kind": "SLACK", "enabled": false, "url_env": "SLACK_EXEC_WEBHOOK_URL"},
    "pagerduty": {"routing_key_env": "PD_ROUTING_KEY"}
  }
}`

func writeConfig(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return path
}

func TestLoadRegistryYAML(t *testing.T) {
	path := writeConfig(t, "connectors.yaml", yamlConfig)
	env := map[string]string{
		"SLACK_WEBHOOK_URL":      "https://hooks.example.test/services/T/B/X",
		"SLACK_EXEC_WEBHOOK_URL": "https://hooks.example.test/services/T/B/Y",
		"WEBHOOK_URL":            "https://receiver.example.test:8443/hook",
		"WEBHOOK_SIGNING_SECRET": "whsec_c2VjcmV0",
		"TEAMS_WORKFLOW_URL":     "https://teams.example.test/workflows/1",
		"JIRA_BASE_URL":          "https://jira.example.test",
		"JIRA_TOKEN":             "token",
	}

	registry, err := LoadRegistry(path, envMap(env))
	if err != nil {
		t.Fatalf("LoadRegistry: got error %v, want nil", err)
	}

	wantNames := []string{"jira", "mail", "slack", "slack-exec", "teams", "webhook"}
	if got := registry.Names(); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("Names: got %v, want %v", got, wantNames)
	}
	for _, status := range registry.Statuses() {
		if !status.Ready {
			t.Errorf("%s Ready: got false, want true (problem %q)", status.Name, status.Problem)
		}
	}
	webhook, _ := registry.Status("webhook")
	if webhook.Host != "receiver.example.test:8443" {
		t.Errorf("webhook Host: got %q, want %q", webhook.Host, "receiver.example.test:8443")
	}
	mail, _ := registry.Status("MAIL")
	if mail.Host != "smtp.example.test:2525" || mail.Kind != KindEmail {
		t.Errorf("mail status: got host %q kind %q, want smtp.example.test:2525 and email", mail.Host, mail.Kind)
	}
	destination, ok := registry.Lookup("Slack-EXEC")
	if !ok || destination.Kind != KindSlack || destination.Name != "slack-exec" {
		t.Errorf("Lookup(Slack-EXEC): got %+v, %v, want slack-exec of kind slack", destination, ok)
	}
}

func TestLoadRegistryJSON(t *testing.T) {
	for _, name := range []string{"connectors.json", "connectors.conf"} {
		path := writeConfig(t, name, jsonConfig)
		registry, err := LoadRegistry(path, envMap(map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.example.test/x"}))
		if err != nil {
			t.Fatalf("%s: LoadRegistry got error %v, want nil", name, err)
		}

		if got, want := registry.Names(), []string{"pagerduty", "slack", "slack-exec"}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Names got %v, want %v", name, got, want)
		}
		if got, want := registry.EnabledNames(), []string{"pagerduty", "slack"}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: EnabledNames got %v, want %v", name, got, want)
		}
		pagerDuty, _ := registry.Status("pagerduty")
		if pagerDuty.Host != "events.pagerduty.com" {
			t.Errorf("%s: pagerduty Host got %q, want the default events.pagerduty.com", name, pagerDuty.Host)
		}
		if pagerDuty.Ready {
			t.Errorf("%s: pagerduty Ready got true, want false without PD_ROUTING_KEY", name)
		}
	}
}

func TestLoadRegistryEmptyPath(t *testing.T) {
	registry, err := LoadRegistry("", nil)
	if err != nil {
		t.Fatalf("LoadRegistry(\"\"): got error %v, want nil", err)
	}
	if got := registry.Names(); len(got) != 0 {
		t.Errorf("Names: got %v, want none", got)
	}
	if err := registry.Check("slack"); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("Check(slack): got %v, want a not configured error", err)
	}
}

func TestLoadRegistryMissingFile(t *testing.T) {
	_, err := LoadRegistry(filepath.Join(t.TempDir(), "absent.yaml"), nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadRegistry(absent): got %v, want an error wrapping os.ErrNotExist", err)
	}
}

func TestParseConfigRejects(t *testing.T) {
	tests := []struct {
		name          string
		format        string
		content       string
		wantConnector string
		wantField     string
		wantText      string
	}{
		{
			name:          "unknown kind",
			content:       "connectors:\n  slack-exec:\n    kind: slak\n    url_env: X\n",
			wantConnector: "slack-exec", wantField: "kind",
			wantText: `unknown kind "slak"; valid kinds: datadog, email, jira, pagerduty, sentinel, servicenow, slack, splunk, teams, webhook`,
		},
		{
			name:          "missing kind",
			content:       "connectors:\n  alerts:\n    url_env: X\n",
			wantConnector: "alerts", wantField: "kind", wantText: "missing",
		},
		{
			name:          "unknown field",
			content:       "connectors:\n  slack:\n    url_env: X\n    channel: '#ops'\n",
			wantConnector: "slack", wantField: "channel", wantText: "unknown field",
		},
		{
			name:          "literal url",
			content:       "connectors:\n  slack:\n    url: https://hooks.example.test/services/T/B/X\n",
			wantConnector: "slack", wantField: "url", wantText: "url_env",
		},
		{
			name:          "literal token",
			format:        "json",
			content:       `{"connectors": {"jira": {"url_env": "J", "token": "abc", "project_key": "OPS"}}}`,
			wantConnector: "jira", wantField: "token", wantText: "token_env",
		},
		{
			name:          "literal api key",
			content:       "connectors:\n  datadog:\n    url_env: D\n    api_key: abc\n",
			wantConnector: "datadog", wantField: "api_key", wantText: "api_key_env",
		},
		{
			name:          "literal password",
			content:       "connectors:\n  email:\n    smtp_host: h\n    password: abc\n",
			wantConnector: "email", wantField: "password", wantText: "literal secrets",
		},
		{
			name:          "secret header",
			content:       "connectors:\n  webhook:\n    url_env: W\n    headers: {Authorization: Bearer abc}\n",
			wantConnector: "webhook", wantField: "headers.Authorization", wantText: "literal secrets",
		},
		{
			name:          "credential in a plain header",
			content:       "connectors:\n  webhook:\n    url_env: W\n    headers: {X-Trace: xoxb-123456789012-abcdefabcdef}\n",
			wantConnector: "webhook", wantField: "headers.X-Trace", wantText: "looks like a credential",
		},
		{
			name:          "URL in url_env",
			content:       "connectors:\n  slack:\n    url_env: https://hooks.example.test/services/T/B/X\n",
			wantConnector: "slack", wantField: "url_env", wantText: "literal URLs",
		},
		{
			name:          "duplicate names ignoring case",
			content:       "connectors:\n  Slack:\n    url_env: A\n  slack:\n    url_env: B\n",
			wantConnector: "slack", wantField: "name", wantText: `duplicates connector "Slack"`,
		},
		{
			name:          "duplicate JSON name",
			format:        "json",
			content:       `{"connectors": {"slack": {"url_env": "A"}, "slack": {"url_env": "B"}}}`,
			wantConnector: "slack", wantField: "name", wantText: "defined twice",
		},
		{
			name:          "duplicate JSON field",
			format:        "json",
			content:       `{"connectors": {"slack": {"url_env": "A", "url_env": "B"}}}`,
			wantConnector: "slack", wantField: "url_env", wantText: "defined twice",
		},
		{
			name:          "field of another kind",
			content:       "connectors:\n  slack:\n    url_env: A\n    project_key: OPS\n",
			wantConnector: "slack", wantField: "project_key", wantText: "does not apply to kind slack",
		},
		{
			name:          "missing url source",
			content:       "connectors:\n  teams:\n    enabled: true\n",
			wantConnector: "teams", wantField: "url_env", wantText: "missing",
		},
		{
			name:          "conflicting url sources",
			content:       "connectors:\n  teams:\n    url_env: A\n    url_file: /run/secrets/teams\n",
			wantConnector: "teams", wantField: "url_file", wantText: "conflicts with url_env",
		},
		{
			name:          "relative secret file",
			content:       "connectors:\n  teams:\n    url_file: secrets/teams\n",
			wantConnector: "teams", wantField: "url_file", wantText: "absolute",
		},
		{
			name:          "line separator in a header value",
			content:       "connectors:\n  webhook:\n    url_env: W\n    headers: {X-Team: \"ops\\u2028X-Forged: 1\"}\n",
			wantConnector: "webhook", wantField: "headers.X-Team", wantText: "U+2028",
		},
		{
			name:          "paragraph separator in a Jira issue type",
			content:       "connectors:\n  jira:\n    url_env: J\n    token_env: T\n    project_key: OPS\n    issue_type: \"Task\\u2029Bug\"\n",
			wantConnector: "jira", wantField: "issue_type", wantText: "U+2029",
		},
		{
			name:          "line separator in a Splunk sourcetype",
			content:       "connectors:\n  splunk:\n    token_env: H\n    url_env: U\n    sourcetype: \"console\\u2028forged\"\n",
			wantConnector: "splunk", wantField: "sourcetype", wantText: "U+2028",
		},
		{
			name:          "jira without project",
			content:       "connectors:\n  jira:\n    url_env: J\n    token_env: T\n",
			wantConnector: "jira", wantField: "project_key", wantText: "missing",
		},
		{
			name:          "wrong value type",
			content:       "connectors:\n  slack:\n    url_env: A\n    enabled: maybe\n",
			wantConnector: "slack", wantField: "enabled", wantText: "invalid value",
		},
		{
			// The message names the type as a configuration file writes it.
			name:          "recipient not in a list",
			content:       "connectors:\n  email:\n    smtp_host: smtp.example.test\n    from: a@example.test\n    to: b@example.test\n",
			wantConnector: "email", wantField: "to", wantText: "expected a list of strings, such as [a, b]",
		},
		{
			name:          "header value not a string",
			content:       "connectors:\n  webhook:\n    url_env: W\n    headers: {X-Priority: 1}\n",
			wantConnector: "webhook", wantField: "headers", wantText: "each entry must be a string",
		},
		{
			name:          "invalid name",
			content:       "connectors:\n  \"bad name\":\n    kind: slack\n    url_env: A\n",
			wantConnector: "bad name", wantField: "name", wantText: "invalid name",
		},
		{
			name:      "unknown top-level field",
			content:   "connector:\n  slack: {}\n",
			wantField: "connector", wantText: "unknown field",
		},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(test.content), test.format)
			if err == nil {
				t.Fatalf("ParseConfig: got nil error, want one naming field %q", test.wantField)
			}
			var configErr *ConfigError
			if !errors.As(err, &configErr) {
				t.Fatalf("ParseConfig: got %T %v, want *ConfigError", err, err)
			}
			if configErr.Connector != test.wantConnector {
				t.Errorf("Connector: got %q, want %q", configErr.Connector, test.wantConnector)
			}
			if configErr.Field != test.wantField {
				t.Errorf("Field: got %q, want %q", configErr.Field, test.wantField)
			}
			if !strings.Contains(err.Error(), test.wantText) {
				t.Errorf("Error: got %q, want it to contain %q", err.Error(), test.wantText)
			}
			if strings.Contains(err.Error(), "hooks.example.test") || strings.Contains(err.Error(), "abc") {
				t.Errorf("Error: got %q, want no secret value in the message", err.Error())
			}
		})
	}
}

func TestErrorMessageFormat(t *testing.T) {
	_, err := ParseConfig([]byte("connectors:\n  slack-exec:\n    kind: slak\n"), "yaml")
	want := `connector "slack-exec": field "kind": unknown kind "slak"; valid kinds: datadog, email, jira, pagerduty, sentinel, servicenow, slack, splunk, teams, webhook`
	if err == nil || err.Error() != want {
		t.Errorf("error: got %v, want %q", err, want)
	}
}

func TestMissingEnvironmentVariable(t *testing.T) {
	server := newRecordingServer(t, nil)
	registry := newTestRegistry(t, oneConnector("slack", ConnectorConfig{URLEnv: "SLACK_WEBHOOK_URL"}), map[string]string{}, nil)

	status, _ := registry.Status("slack")
	if status.Ready {
		t.Errorf("Ready: got true, want false")
	}
	if want := "environment variable SLACK_WEBHOOK_URL is not set"; status.Problem != want {
		t.Errorf("Problem: got %q, want %q", status.Problem, want)
	}
	if err := registry.Check("slack"); err == nil || !strings.Contains(err.Error(), "SLACK_WEBHOOK_URL") {
		t.Errorf("Check: got %v, want an error naming SLACK_WEBHOOK_URL", err)
	}

	result := registry.Send(context.Background(), "slack", sampleMessage(), SendOptions{Retries: 3})

	if result.Class != ClassConfigError {
		t.Errorf("Class: got %q, want %q", result.Class, ClassConfigError)
	}
	if !strings.Contains(result.Error, "SLACK_WEBHOOK_URL") {
		t.Errorf("Error: got %q, want it to name SLACK_WEBHOOK_URL", result.Error)
	}
	if result.AttemptCount != 0 {
		t.Errorf("AttemptCount: got %d, want 0", result.AttemptCount)
	}
	if got := len(server.captured()); got != 0 {
		t.Errorf("requests received: got %d, want 0", got)
	}
}

func TestSecretProblems(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "slack-url")
	if err := os.WriteFile(secretFile, []byte("https://hooks.example.test/services/T/B/FILE\n"), 0o600); err != nil {
		t.Fatalf("write secret file: %v", err)
	}
	absentFile := filepath.Join(t.TempDir(), "absent")
	tests := []struct {
		name        string
		config      ConnectorConfig
		env         map[string]string
		wantReady   bool
		wantProblem string
	}{
		{name: "secret file", config: ConnectorConfig{URLFile: secretFile}, wantReady: true},
		{name: "absent secret file", config: ConnectorConfig{URLFile: absentFile}, wantProblem: "secret file " + absentFile + " does not exist"},
		{name: "empty variable", config: ConnectorConfig{URLEnv: "SLACK_URL"}, env: map[string]string{"SLACK_URL": "  "}, wantProblem: "environment variable SLACK_URL is empty"},
		{name: "not a URL", config: ConnectorConfig{URLEnv: "SLACK_URL"}, env: map[string]string{"SLACK_URL": "hooks/secret"}, wantProblem: "environment variable SLACK_URL does not contain an absolute http or https URL"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			registry := newTestRegistry(t, oneConnector("slack", test.config), test.env, nil)
			status, _ := registry.Status("slack")
			if status.Ready != test.wantReady {
				t.Errorf("Ready: got %v, want %v", status.Ready, test.wantReady)
			}
			if status.Problem != test.wantProblem {
				t.Errorf("Problem: got %q, want %q", status.Problem, test.wantProblem)
			}
			if strings.Contains(status.Problem, "hooks/secret") {
				t.Errorf("Problem: got %q, want no secret value", status.Problem)
			}
		})
	}
}

// The Basic scheme needs user:password, given as is or base64-encoded. A
// token of neither form would be sent as it is and fail at the service.
func TestBasicSchemeTokenProblems(t *testing.T) {
	encoded := base64.StdEncoding.EncodeToString([]byte("robot:pa55word"))
	tests := []struct {
		name, token, wantProblem string
	}{
		{name: "user and password", token: "robot:pa55word"},
		{name: "encoded user and password", token: encoded},
		{name: "bare token", token: "jiratokCanaryl9k8j7h6g5",
			wantProblem: "environment variable SN_TOKEN does not contain user:password or its base64 encoding, which authorization_scheme Basic needs"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			config := ConnectorConfig{URLEnv: "SN_URL", TokenEnv: "SN_TOKEN", AuthorizationScheme: "Basic"}
			env := map[string]string{"SN_URL": "https://sn.example.test", "SN_TOKEN": test.token}
			registry := newTestRegistry(t, oneConnector("servicenow", config), env, nil)
			status, _ := registry.Status("servicenow")
			if status.Ready != (test.wantProblem == "") {
				t.Errorf("Ready: got %v, want %v", status.Ready, test.wantProblem == "")
			}
			if status.Problem != test.wantProblem {
				t.Errorf("Problem: got %q, want %q", status.Problem, test.wantProblem)
			}
		})
	}
}

func TestNewRegistryValidatesConfig(t *testing.T) {
	cfg := FileConfig{Connectors: map[string]ConnectorConfig{
		"Teams": {URLEnv: "A"},
		"TEAMS": {URLEnv: "B"},
	}}
	_, err := NewRegistry(cfg, nil)
	var configErr *ConfigError
	if !errors.As(err, &configErr) || configErr.Field != "name" {
		t.Errorf("NewRegistry: got %v, want a *ConfigError for field name", err)
	}
}

// HTTP allows a tab inside a header value, so a configured header with one
// loads, while a line break is still rejected.
func TestParseConfigHeaderValueTab(t *testing.T) {
	if _, err := ParseConfig([]byte("connectors:\n  webhook:\n    url_env: W\n    headers: {X-Team: \"release\\tops\"}\n"), "yaml"); err != nil {
		t.Errorf("ParseConfig with a tab in a header value: %v, want it to load", err)
	}
	if _, err := ParseConfig([]byte("connectors:\n  webhook:\n    url_env: W\n    headers: {X-Team: \"release\\nops\"}\n"), "yaml"); err == nil {
		t.Error("ParseConfig with a line feed in a header value: got nil error, want one")
	}
}

func TestSecretFieldHintByKind(t *testing.T) {
	tests := []struct {
		name      string
		content   string
		wantField string
		wantHint  string
	}{
		{
			name:      "datadog app key",
			content:   "connectors:\n  datadog:\n    url_env: D\n    api_key_env: K\n    app_key: abc\n",
			wantField: "app_key", wantHint: "name an environment variable in api_key_env instead",
		},
		{
			name:      "sentinel client secret",
			content:   "connectors:\n  sentinel:\n    url_env: S\n    client_secret: abc\n",
			wantField: "client_secret", wantHint: "name an environment variable in client_secret_env or a file in client_secret_file instead",
		},
		{
			name:      "sentinel shared key",
			content:   "connectors:\n  sentinel:\n    url_env: S\n    shared_key: abc\n",
			wantField: "shared_key",
			wantHint:  "name an environment variable in url_env, token_env, authorization_env or client_secret_env, or a file in url_file, token_file or client_secret_file, instead",
		},
		{
			name:      "slack token",
			content:   "connectors:\n  slack:\n    url_env: S\n    token: abc\n",
			wantField: "token", wantHint: "name an environment variable in url_env or a file in url_file instead",
		},
		{
			name:      "jira token",
			content:   "connectors:\n  tracker:\n    kind: jira\n    url_env: J\n    token: abc\n",
			wantField: "token", wantHint: "name an environment variable in token_env or authorization_env, or a file in token_file, instead",
		},
		{
			name:      "pagerduty key",
			content:   "connectors:\n  pagerduty:\n    integration_key: abc\n",
			wantField: "integration_key", wantHint: "name an environment variable in routing_key_env instead",
		},
		{
			name:      "email password",
			content:   "connectors:\n  email:\n    smtp_host: h\n    smtp_password: abc\n",
			wantField: "smtp_password", wantHint: "name an environment variable in password_env instead",
		},
		{
			name:      "webhook secret",
			content:   "connectors:\n  webhook:\n    url_env: W\n    secret: abc\n",
			wantField: "secret", wantHint: "name an environment variable in signing_secret_env instead",
		},
		{
			name:      "unknown kind",
			content:   "connectors:\n  custom:\n    kind: nosuchkind\n    client_secret: abc\n",
			wantField: "client_secret", wantHint: "name an environment variable in client_secret_env or signing_secret_env, or a file in client_secret_file, instead",
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(test.content), "yaml")
			configErr, ok := err.(*ConfigError)
			if !ok {
				t.Fatalf("ParseConfig: got %v, want a *ConfigError", err)
			}
			checkEqual(t, "Field", configErr.Field, test.wantField)
			checkEqual(t, "Problem", configErr.Problem, "literal secrets are not allowed in the configuration file; "+test.wantHint)
		})
	}
}

func TestHeaderCredentialHintByKind(t *testing.T) {
	tests := []struct {
		name     string
		content  string
		wantHint string
	}{
		{
			name:     "webhook",
			content:  "connectors:\n  webhook:\n    url_env: W\n    headers: {Authorization: Bearer abc}\n",
			wantHint: "use api_key_env with api_key_header, token_env or authorization_env instead",
		},
		{
			name:     "datadog",
			content:  "connectors:\n  datadog:\n    url_env: D\n    api_key_env: K\n    headers: {DD-APPLICATION-KEY: abc}\n",
			wantHint: "use api_key_env with api_key_header instead",
		},
		{
			name:     "sentinel",
			content:  "connectors:\n  sentinel:\n    url_env: S\n    token_env: T\n    headers: {Authorization: Bearer abc}\n",
			wantHint: "use client_secret_env, token_env or authorization_env instead",
		},
		{
			name:     "slack",
			content:  "connectors:\n  slack:\n    url_env: S\n    headers: {X-Api-Key: abc}\n",
			wantHint: "kind slack sends no credential header; name an environment variable in url_env or a file in url_file instead",
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(test.content), "yaml")
			configErr, ok := err.(*ConfigError)
			if !ok {
				t.Fatalf("ParseConfig: got %v, want a *ConfigError", err)
			}
			checkEqual(t, "Problem", configErr.Problem, "literal secrets are not allowed in the configuration file; "+test.wantHint)
		})
	}
}
