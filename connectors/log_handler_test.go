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
