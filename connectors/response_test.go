package connectors

import (
	"strings"
	"testing"
)

func TestResponseScrubberForms(t *testing.T) {
	const secret = "s3cr3t&<token>value"
	scrubber := NewRedactor(secret, "https://hooks.example.test/services/T0AB12CD3/B0EF45GH6/aZ8kLm2Qx9Rt7Vw4").ResponseScrubber()
	cases := []struct{ name, body string }{
		{"raw", "note: " + secret},
		{"HTML", "<td>s3cr3t&amp;&lt;token&gt;value</td>"},
		{"JSON", `{"note":"s3cr3t\u0026\u003ctoken\u003evalue"}`},
		{"URL in JSON", `{"url":"https://hooks.example.test/services/T0AB12CD3/B0EF45GH6/aZ8kLm2Qx9Rt7Vw4"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cleaned, changed, complete := scrubber.Scrub(tc.body)
			if !changed || !complete {
				t.Errorf("Scrub(%q): changed %v, complete %v; want both true", tc.body, changed, complete)
			}
			if !strings.Contains(cleaned, Redacted) || strings.Contains(cleaned, "token") || strings.Contains(cleaned, "aZ8kLm2Qx9Rt7Vw4") {
				t.Errorf("Scrub(%q) = %q, want the secret replaced by %s", tc.body, cleaned, Redacted)
			}
		})
	}
}

// A record stored before its secret was configured may contain the secret in
// other letters, which gives most of it away.
func TestResponseScrubberIgnoresLetterCase(t *testing.T) {
	scrubber := NewRedactor("https://hooks.example.test/services/T0AB12CD3/B0EF45GH6/aZ8kLm2Qx9Rt7Vw4").ResponseScrubber()
	cases := []struct{ body, want string }{
		{"<p>HTTPS://HOOKS.EXAMPLE.TEST/SERVICES/T0AB12CD3/B0EF45GH6/AZ8KLM2QX9RT7VW4</p>", "<p>" + Redacted + "</p>"},
		{`{"note":"see https://hooks.example.test/services/t0ab12cd3/b0ef45gh6/az8klm2qx9rt7vw4 now"}`, `{"note":"see ` + Redacted + ` now"}`},
	}
	for _, tc := range cases {
		cleaned, changed, complete := scrubber.Scrub(tc.body)
		if cleaned != tc.want || !changed || !complete {
			t.Errorf("Scrub(%q) = %q, changed %v, complete %v; want %q, changed and complete", tc.body, cleaned, changed, complete, tc.want)
		}
	}
}

func TestResponseScrubberKeepsWords(t *testing.T) {
	scrubber := NewRedactor("https://hooks.example.test/services/T000/B000/XXXXXXXXXXXX").ResponseScrubber()
	body := "<p>Slack services and workflows at https://hooks.example.test</p>"
	cleaned, changed, complete := scrubber.Scrub(body)
	if cleaned != body || changed || !complete {
		t.Errorf("Scrub(%q) = %q, changed %v, complete %v; want the page unchanged", body, cleaned, changed, complete)
	}
}

func TestResponseScrubberIncompleteWhenSplit(t *testing.T) {
	scrubber := NewRedactor("plainvalueSEKRIT").ResponseScrubber()
	_, _, complete := scrubber.Scrub("<p>plainvalue\u200bSEKRIT</p>")
	if complete {
		t.Error("Scrub of a secret split by a zero width space: complete, want incomplete")
	}
}

func TestResponseScrubberNilWithoutSecrets(t *testing.T) {
	if scrubber := NewRedactor().ResponseScrubber(); scrubber != nil {
		t.Errorf("ResponseScrubber without secrets: got %v, want nil", scrubber)
	}
	var scrubber *ResponseScrubber
	if cleaned, changed, complete := scrubber.Scrub("text"); cleaned != "text" || changed || !complete {
		t.Errorf("nil Scrub: got %q, %v, %v; want the text unchanged and complete", cleaned, changed, complete)
	}
}
