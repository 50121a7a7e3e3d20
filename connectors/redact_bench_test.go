package connectors

import (
	"fmt"
	"strings"
	"testing"
)

// benchmarkSecrets returns 20 secrets of the shapes destinations use:
// tokens, client secrets, passwords and webhook URLs with secret paths.
func benchmarkSecrets() []string {
	var secrets []string
	for i := range 5 {
		secrets = append(secrets,
			fmt.Sprintf("HookBearerTok%dn_4f9a8b7c6d5e%02d", i, i),
			fmt.Sprintf("EntraClientSecret~Q8v.xyzABC%03d", i),
			fmt.Sprintf("smtp-Pa55word!%d-Zk7", i),
			fmt.Sprintf("https://hooks.example.com/hook/Whk9PathSecret01234567%02d", i),
		)
	}
	return secrets
}

// benchmarkResponseText returns about 2 KB of a destination's error reply
// with no secret in it, the usual case.
func benchmarkResponseText() string {
	line := `{"error":"invalid_request","error_description":"AADSTS7000215: Invalid client secret provided. ` +
		`Trace ID: 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0 Timestamp: 2026-05-01 10:19:42Z","delivery":"dlv_01kjpwf170t1n40rtxrxx3wkre"}` + "\n"
	return strings.Repeat(line, 2048/len(line)+1)[:2048]
}

// BenchmarkSanitizeResponse sanitizes a 2 KB response excerpt, as every
// send does, against 20 configured secrets.
func BenchmarkSanitizeResponse(b *testing.B) {
	redactor := NewRedactor(benchmarkSecrets()...)
	text := benchmarkResponseText()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		redactor.Sanitize(text, len(text))
	}
}

// BenchmarkRemoveConfiguredSecrets filters a 2 KB log value, as the log
// handler does for every string attribute, against 20 configured secrets.
func BenchmarkRemoveConfiguredSecrets(b *testing.B) {
	redactor := NewRedactor(benchmarkSecrets()...)
	text := benchmarkResponseText()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, changed := redactor.RemoveConfiguredSecrets(text); changed {
			b.Fatal("the text changed")
		}
	}
}

// BenchmarkScrubResponse scrubs a 2 KB page against 20 configured secrets.
func BenchmarkScrubResponse(b *testing.B) {
	scrubber := NewRedactor(benchmarkSecrets()...).ResponseScrubber()
	text := benchmarkResponseText()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, changed, complete := scrubber.Scrub(text); changed || !complete {
			b.Fatal("the text changed")
		}
	}
}

// BenchmarkSecretRunScan looks for runs of 20 configured secrets in a 2 KB
// response, the cost that partial matching adds to each check.
func BenchmarkSecretRunScan(b *testing.B) {
	runs := NewRedactor(benchmarkSecrets()...).current().runs
	text := benchmarkResponseText()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if runs.found(text) {
			b.Fatal("found a run")
		}
	}
}
