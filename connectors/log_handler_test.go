package connectors

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestLogHandlerRemovesSecrets(t *testing.T) {
	const secret = "local-receiver-token-X9"
	var out bytes.Buffer
	logger := slog.New(NewRedactor(secret).LogHandler(slog.NewTextHandler(&out, nil)))

	logger.With("actor", strings.ToUpper(secret)).Info("sign-in failed for "+secret,
		"username", secret, "error", errors.New("token "+secret+" refused"),
		slog.Group("request", slog.String("user", "x"+secret)), "count", 3)

	line := out.String()
	if strings.Contains(strings.ToLower(line), strings.ToLower(secret)) {
		t.Errorf("log line %q: want the secret removed in every place", line)
	}
	for _, want := range []string{"sign-in failed for " + Redacted, "username=" + Redacted, "count=3", "request.user=x" + Redacted} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q: want it to contain %q", line, want)
		}
	}
}

func TestLogHandlerWithoutSecretsIsNext(t *testing.T) {
	next := slog.NewTextHandler(&bytes.Buffer{}, nil)
	if got := NewRedactor().LogHandler(next); got != next {
		t.Errorf("LogHandler without secrets: got %T, want the next handler itself", got)
	}
}

type actorRecord struct{ Actor string }

type namedActor struct{ name string }

func (a namedActor) String() string { return a.name }

type failingError struct{ text *string }

func (e *failingError) Error() string { return *e.text }

// Lists, structs, Stringers and errors are cleaned as fmt prints them, and
// an error whose Error method panics does not break the log line.
func TestLogHandlerCleansPrintedValues(t *testing.T) {
	const secret = "local-receiver-token-X9"
	var out bytes.Buffer
	logger := slog.New(NewRedactor(secret).LogHandler(slog.NewTextHandler(&out, nil)))
	var broken *failingError

	logger.Info("values", "groups", []string{"ops", secret}, "request", actorRecord{Actor: secret},
		"actor", namedActor{name: secret}, "typed_nil", broken, "other", []int{1, 2})

	line := out.String()
	if strings.Contains(line, secret) {
		t.Errorf("log line %q: want the secret removed from every value", line)
	}
	if !strings.Contains(line, "other=\"[1 2]\"") && !strings.Contains(line, "other=[1 2]") {
		t.Errorf("log line %q: want a value without a secret logged as it was", line)
	}
}

// textActor prints as the name it holds through MarshalText, which text
// and JSON handlers call in place of String.
type textActor struct{ name string }

func (a textActor) MarshalText() ([]byte, error) { return []byte(a.name), nil }

func (a textActor) String() string { return "actor" }

// outerRecord holds a pointer, which %+v prints as an address while a JSON
// handler prints the record it points to.
type outerRecord struct{ Inner *actorRecord }

// A byte slice, a text marshaler and a pointer inside a struct print
// otherwise than %+v in text or JSON handlers, and are cleaned as printed.
func TestLogHandlerCleansHandlerForms(t *testing.T) {
	const secret = "local-receiver-token-X9"
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(out *bytes.Buffer) slog.Handler { return slog.NewTextHandler(out, nil) },
		"JSON": func(out *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(out, nil) },
	}
	values := map[string]any{
		"byte slice":     []byte("token=" + secret),
		"text marshaler": textActor{name: secret},
		"nested pointer": outerRecord{Inner: &actorRecord{Actor: secret}},
	}
	for handlerName, newHandler := range handlers {
		for valueName, value := range values {
			var out bytes.Buffer
			logger := slog.New(NewRedactor(secret).LogHandler(newHandler(&out)))
			logger.Info("value", "v", value)
			if line := out.String(); strings.Contains(line, secret) {
				t.Errorf("%s, %s handler: log line %q, want the secret removed", valueName, handlerName, line)
			}
		}
	}
}

// The registry's own log lines remove configured secrets in any letter
// case, as the commands' logger does.
func TestRegistryLogRemovesSecretsInAnyCase(t *testing.T) {
	const secret = "Registry-Token-Canary-7q"
	var out bytes.Buffer
	cfg := FileConfig{Connectors: map[string]ConnectorConfig{"webhook": {URLEnv: "HOOK_URL", TokenEnv: "HOOK_TOKEN"}}}
	env := map[string]string{"HOOK_URL": "https://hooks.example.test/in", "HOOK_TOKEN": secret}
	registry, err := NewRegistry(cfg, func(name string) (string, bool) {
		value, ok := env[name]
		return value, ok
	}, WithLogger(slog.New(slog.NewTextHandler(&out, nil))))
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}

	registry.logger.Warn("connector send attempt failed", "error", "server echoed "+strings.ToUpper(secret))

	if line := out.String(); strings.Contains(strings.ToLower(line), strings.ToLower(secret)) {
		t.Errorf("log line %q: want the secret removed in any letter case", line)
	}
}
