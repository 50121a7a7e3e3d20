package connectors

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

// goldenCases configures one connector of each kind against a loopback
// address on which nothing listens; the golden tests only render.
var goldenCases = []struct {
	kind   Kind
	config ConnectorConfig
	env    map[string]string
}{
	{
		kind:   KindWebhook,
		config: ConnectorConfig{URLEnv: "URL", SigningSecretEnv: "SECRET", Headers: map[string]string{"X-Team": "release-ops"}},
		env:    map[string]string{"URL": "http://127.0.0.1:9/hooks/evidence", "SECRET": "whsec_c2VjcmV0LWtleS1tYXRlcmlhbA=="},
	},
	{
		kind:   KindSlack,
		config: ConnectorConfig{URLEnv: "URL"},
		env:    map[string]string{"URL": "http://127.0.0.1:9/services/T000/B000/XXXX"},
	},
	{
		kind:   KindTeams,
		config: ConnectorConfig{URLEnv: "URL"},
		env:    map[string]string{"URL": "http://127.0.0.1:9/workflows/abc/triggers/manual/paths/invoke?sig=xyz"},
	},
	{
		kind:   KindPagerDuty,
		config: ConnectorConfig{URLEnv: "URL", RoutingKeyEnv: "ROUTING_KEY"},
		env:    map[string]string{"URL": "http://127.0.0.1:9/v2/enqueue", "ROUTING_KEY": "R0UT1NGKEY"},
	},
	{
		kind:   KindJira,
		config: ConnectorConfig{URLEnv: "URL", TokenEnv: "TOKEN", ProjectKey: "OPS", IssueType: "Task"},
		env:    map[string]string{"URL": "http://127.0.0.1:9/jira", "TOKEN": "jira-token"},
	},
	{
		kind:   KindServiceNow,
		config: ConnectorConfig{URLEnv: "URL", TokenEnv: "TOKEN", AuthorizationScheme: "Basic"},
		env:    map[string]string{"URL": "http://127.0.0.1:9", "TOKEN": "robot:password"},
	},
	{
		kind:   KindSplunk,
		config: ConnectorConfig{URLEnv: "URL", TokenEnv: "TOKEN", Index: "release_ops"},
		env:    map[string]string{"URL": "http://127.0.0.1:9", "TOKEN": "hec-token"},
	},
	{
		kind:   KindDatadog,
		config: ConnectorConfig{URLEnv: "URL", APIKeyEnv: "API_KEY"},
		env:    map[string]string{"URL": "http://127.0.0.1:9", "API_KEY": "dd-key"},
	},
	{
		kind: KindSentinel,
		config: ConnectorConfig{
			URLEnv: "URL", TokenEnv: "TOKEN",
			DCRImmutableID: "dcr-0123456789abcdef0123456789abcdef", StreamName: "Custom-EvidenceConsole_CL",
		},
		env: map[string]string{"URL": "http://127.0.0.1:9", "TOKEN": "entra-token"},
	},
}

// goldenRequest is the stable form of a rendered request.
type goldenRequest struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   string            `json:"query,omitempty"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

func TestGoldenPayloads(t *testing.T) {
	for _, test := range goldenCases {
		t.Run(string(test.kind), func(t *testing.T) {
			registry := newTestRegistry(t, oneConnector(string(test.kind), test.config), test.env, nil)
			d := registry.destinations[string(test.kind)]
			msg := prepareMessage(sampleMessage(), fixedTime)

			rendered, err := d.spec.build(d, msg, fixedTime)
			if err != nil {
				t.Fatalf("build: got error %v, want nil", err)
			}
			target, err := url.Parse(rendered.url)
			if err != nil {
				t.Fatalf("parse rendered URL: %v", err)
			}
			if !json.Valid(rendered.body) {
				t.Fatalf("body: got invalid JSON %s", rendered.body)
			}
			output, err := marshalIndented(goldenRequest{
				Method:  rendered.method,
				Path:    target.Path,
				Query:   target.RawQuery,
				Headers: RedactHeaders(rendered.header),
				Body:    rendered.body,
			})
			if err != nil {
				t.Fatalf("marshal golden request: %v", err)
			}
			compareGolden(t, string(test.kind), output)
		})
	}
}

func TestGoldenEmail(t *testing.T) {
	msg := prepareMessage(sampleMessage(), fixedTime)
	html, err := emailHTML(msg)
	if err != nil {
		t.Fatalf("emailHTML: got error %v, want nil", err)
	}
	output, err := marshalIndented(map[string]string{
		"subject":    emailSubject(msg),
		"message_id": emailMessageID(msg.IdempotencyKey),
		"text":       plainText(msg),
		"html":       html,
	})
	if err != nil {
		t.Fatalf("marshal golden e-mail: %v", err)
	}
	compareGolden(t, string(KindEmail), output)
}

// compareGolden compares output with testdata/<name>.golden.json, or
// rewrites the file when the test runs with -update.
func compareGolden(t *testing.T, name string, output []byte) {
	t.Helper()
	output = append(output, '\n')
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, output, 0o644); err != nil {
			t.Fatalf("write %s: %v", path, err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (run go test -run Golden -update to create it)", path, err)
	}
	if !bytes.Equal(output, want) {
		t.Errorf("%s: output differs from the golden file (run go test -run Golden -update and review the diff)\ngot:\n%s\nwant:\n%s", path, output, want)
	}
}

// marshalIndented encodes a golden file without HTML escaping, so that the
// files read like the bodies the destinations receive.
func marshalIndented(value any) ([]byte, error) {
	var buffer bytes.Buffer
	encoder := json.NewEncoder(&buffer)
	encoder.SetEscapeHTML(false)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(value); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buffer.Bytes(), []byte("\n")), nil
}
