package connectors

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

const runtimeToken = "opaque-access-token-7Hq2Zr9W"

func TestRuntimeSecretRedacted(t *testing.T) {
	redactor := NewRedactor("configured-secret-1234")
	text := "server echoed " + runtimeToken
	checkEqual(t, "Sanitize before registering", redactor.Sanitize(text, 200), text)

	redactor.setRuntimeSecrets("sentinel", runtimeToken)

	checkEqual(t, "Sanitize", redactor.Sanitize(text, 200), "server echoed "+Redacted)
	checkEqual(t, "Redact", redactor.Redact(runtimeToken+" and configured-secret-1234"), Redacted+" and "+Redacted)
	checkEqual(t, "Contains", redactor.Contains(text), true)
	checkEqual(t, "HasConfiguredSecretIgnoringCase", redactor.HasConfiguredSecretIgnoringCase(strings.ToUpper(text)), true)
	removed, found := redactor.RemoveConfiguredSecrets(strings.ToUpper(text))
	checkEqual(t, "RemoveConfiguredSecrets", removed, "SERVER ECHOED "+Redacted)
	checkEqual(t, "RemoveConfiguredSecrets found", found, true)
	checkEqual(t, "FindCredential", redactor.FindCredential("note "+runtimeToken), "a secret of a configured destination")
	checkEqual(t, "configured secret kept", redactor.Contains("configured-secret-1234"), true)
}

func TestRuntimeSecretReplacedByOwner(t *testing.T) {
	redactor := NewRedactor()
	redactor.setRuntimeSecrets("sentinel", runtimeToken)
	redactor.setRuntimeSecrets("other", "other-owner-token-5521")
	redactor.setRuntimeSecrets("sentinel", "next-access-token-0042")

	checkEqual(t, "replaced token", redactor.Contains(runtimeToken), false)
	checkEqual(t, "new token", redactor.Contains("next-access-token-0042"), true)
	checkEqual(t, "other owner's token", redactor.Contains("other-owner-token-5521"), true)

	redactor.setRuntimeSecrets("other")
	checkEqual(t, "removed owner's token", redactor.Contains("other-owner-token-5521"), false)
}

func TestRuntimeSecretKeepsIgnoredValues(t *testing.T) {
	redactor := NewRedactor("robot@example.test")
	redactor.ignoreInTypedText("robot@example.test")
	redactor.setRuntimeSecrets("sentinel", runtimeToken)

	checkEqual(t, "FindCredential of the ignored value", redactor.FindCredential("mail robot@example.test"), "")
	checkEqual(t, "ignored value still redacted", redactor.Redact("robot@example.test"), Redacted)
}

func TestRuntimeSecretInCachedHeader(t *testing.T) {
	redactor := NewRedactor()
	header := http.Header{"X-Trace": {"trace " + runtimeToken}}
	checkEqual(t, "before registering", redactHeaders(header, redactor)["X-Trace"], "trace "+runtimeToken)

	redactor.setRuntimeSecrets("sentinel", runtimeToken)
	checkEqual(t, "after registering", redactHeaders(header, redactor)["X-Trace"], Redacted)
}

func TestRuntimeSecretInLogHandler(t *testing.T) {
	var out bytes.Buffer
	next := slog.NewTextHandler(&out, nil)
	redactor := NewRedactor()
	redactor.expectRuntimeSecrets()
	handler := redactor.LogHandler(next)
	if handler == slog.Handler(next) {
		t.Fatal("LogHandler with runtime secrets expected: got the next handler, want a filter")
	}

	redactor.setRuntimeSecrets("sentinel", runtimeToken)
	slog.New(handler).Info("token "+strings.ToLower(runtimeToken), "value", runtimeToken)

	if strings.Contains(strings.ToLower(out.String()), strings.ToLower(runtimeToken)) {
		t.Errorf("log line %q: want the registered token removed", out.String())
	}
}

func TestRuntimeSecretInResponseScrubber(t *testing.T) {
	redactor := NewRedactor()
	redactor.expectRuntimeSecrets()
	scrubber := redactor.ResponseScrubber()
	if scrubber == nil {
		t.Fatal("ResponseScrubber with runtime secrets expected: got nil, want a scrubber")
	}
	body := `{"note":"` + runtimeToken + `"}`
	cleaned, changed, complete := scrubber.Scrub(body)
	checkEqual(t, "before registering", cleaned, body)
	checkEqual(t, "changed before registering", changed, false)
	checkEqual(t, "complete before registering", complete, true)

	redactor.setRuntimeSecrets("sentinel", runtimeToken)
	cleaned, changed, complete = scrubber.Scrub(body)
	checkEqual(t, "after registering", cleaned, `{"note":"`+Redacted+`"}`)
	checkEqual(t, "changed", changed, true)
	checkEqual(t, "complete", complete, true)
}

func TestRuntimeSecretConcurrentUse(t *testing.T) {
	redactor := NewRedactor("configured-secret-1234")
	scrubber := redactor.ResponseScrubber()
	var wait sync.WaitGroup
	for i := range 4 {
		wait.Add(2)
		go func() {
			defer wait.Done()
			for range 20 {
				redactor.setRuntimeSecrets("sentinel", runtimeToken+strings.Repeat("x", i))
			}
		}()
		go func() {
			defer wait.Done()
			for range 20 {
				_ = redactor.Sanitize("configured-secret-1234 "+runtimeToken, 200)
				_, _, _ = scrubber.Scrub(runtimeToken)
			}
		}()
	}
	wait.Wait()
	checkEqual(t, "configured secret", redactor.Sanitize("configured-secret-1234", 200), Redacted)
}
