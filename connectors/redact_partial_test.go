package connectors

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	runBearerToken  = "HookBearerTok3n_4f9a8b7c6d5e"
	runClientSecret = "Q8v7Q~xy2AB.c3D_e4F-g5H6i7J8k9L0"
	runSMTPPassword = "smtp-Pa55word!Zk7-rotated"
	runFileToken    = "fileTok_9Qw2Er4Ty6Ui8Op0As"
	runPathSegment  = "Whk9PathSecret0123456789ab"
	runSlackToken   = "xoxb-2048204820-4096409640-AbCdEfGhIjKlMnOpQrStUvWx"
)

// secretRunRegistry configures a destination for each kind of secret whose
// parts typed text may not contain.
func secretRunRegistry(t *testing.T) *Registry {
	t.Helper()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(runFileToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	email := emailConfig(2525)
	email.UsernameEnv, email.PasswordEnv = "SMTP_USER", "SMTP_PASSWORD"
	cfg := FileConfig{Connectors: map[string]ConnectorConfig{
		"webhook": {URLEnv: "WEBHOOK_URL", TokenEnv: "WEBHOOK_TOKEN"},
		"filed":   {Kind: "webhook", URLEnv: "FILED_URL", TokenFile: tokenFile},
		"hook":    {Kind: "webhook", URLEnv: "HOOK_URL"},
		"bot":     {Kind: "webhook", URLEnv: "BOT_URL", TokenEnv: "SLACK_TOKEN"},
		"email":   email,
		"sentinel": {
			URLEnv: "SENTINEL_URL", ClientSecretEnv: "SENTINEL_CLIENT_SECRET",
			TenantID: testTenantID, ClientID: testClientID,
			DCRImmutableID: "dcr-0123456789abcdef0123456789abcdef", StreamName: "Custom-Evidence_CL",
		},
	}}
	env := map[string]string{
		"WEBHOOK_URL":            "https://hooks.example.test/events",
		"WEBHOOK_TOKEN":          runBearerToken,
		"FILED_URL":              "https://files.example.test/events",
		"HOOK_URL":               "https://hooks.example.test/hook/" + runPathSegment,
		"BOT_URL":                "https://bot.example.test/events",
		"SLACK_TOKEN":            runSlackToken,
		"SMTP_USER":              "alerts@example.test",
		"SMTP_PASSWORD":          runSMTPPassword,
		"SENTINEL_URL":           "https://dce.example.test",
		"SENTINEL_CLIENT_SECRET": runClientSecret,
	}
	return newTestRegistry(t, cfg, env, nil)
}

// secretRuns returns the parts of secret that must count as the secret: it
// without its last or first character, and its first and second half.
func secretRuns(secret string) map[string]string {
	half := len(secret) / 2
	return map[string]string{
		"prefix-cut":  secret[:len(secret)-1],
		"suffix-cut":  secret[1:],
		"first half":  secret[:half],
		"second half": secret[half:],
	}
}

// runSecrets leaves out a whole secret URL path, because its halves are
// not matched: the first half of /hook/<segment> is mostly the public
// route, and the segment is matched in part on its own.
var runSecrets = map[string]string{
	"webhook bearer token":   runBearerToken,
	"sentinel client secret": runClientSecret,
	"SMTP password":          runSMTPPassword,
	"token from a file":      runFileToken,
	"secret path segment":    runPathSegment,
	"Slack token":            runSlackToken,
}

func TestFindCredentialRejectsSecretRuns(t *testing.T) {
	redactor := secretRunRegistry(t).Redactor()
	for secretName, secret := range runSecrets {
		for runName, run := range secretRuns(secret) {
			for _, typed := range []string{run, strings.ToUpper(run), strings.ToLower(run)} {
				note := "Checked " + typed + " with ops."
				if got := redactor.FindCredential(note); got == "" {
					t.Errorf("%s, %s: FindCredential(%q): got nothing, want it rejected", secretName, runName, note)
				}
				if !redactor.HasConfiguredSecretIgnoringCase(note) {
					t.Errorf("%s, %s: HasConfiguredSecretIgnoringCase(%q): got false, want true", secretName, runName, note)
				}
			}
		}
	}
}

func TestFindCredentialNamesSecretRun(t *testing.T) {
	redactor := secretRunRegistry(t).Redactor()
	got := redactor.FindCredential("ref " + runBearerToken[:len(runBearerToken)-1])
	checkEqual(t, "FindCredential", got, "part of a secret of a configured destination")
}

func TestSecretRunShorterThanHalfAllowed(t *testing.T) {
	redactor := NewRedactor(runBearerToken)
	short := runBearerToken[:len(runBearerToken)/2-1]
	if got := redactor.FindCredential("note " + short); got != "" {
		t.Errorf("FindCredential(%q): got %q, want nothing for less than half the secret", short, got)
	}
}

func TestShortSecretMatchedWholeOnly(t *testing.T) {
	redactor := NewRedactor("Q7w9e1r3")
	if got := redactor.FindCredential("note Q7w9e1r"); got != "" {
		t.Errorf("FindCredential: got %q, want nothing for part of an 8-character secret", got)
	}
	if got := redactor.FindCredential("note Q7w9e1r3"); got == "" {
		t.Error("FindCredential: got nothing, want the whole 8-character secret found")
	}
}

func TestRedactReplacesSecretRuns(t *testing.T) {
	redactor := secretRunRegistry(t).Redactor()
	scrubber := redactor.ResponseScrubber()
	// cleaned reports whether got is the reply with the run replaced. The
	// whole secret path segment in a suffix-cut path is replaced before
	// the run is, so "hook/" may stay.
	cleaned := func(got string) bool {
		return strings.HasPrefix(got, `{"error":"rejected [`) && strings.HasSuffix(got, Redacted+`] as invalid"}`) &&
			!redactor.HasConfiguredSecretIgnoringCase(got)
	}
	for secretName, secret := range runSecrets {
		for runName, run := range secretRuns(secret) {
			for _, quoted := range []string{run, strings.ToUpper(run)} {
				reply := `{"error":"rejected [` + quoted + `] as invalid"}`
				if got := redactor.Sanitize(reply, MaxExcerptLength); !cleaned(got) {
					t.Errorf("%s, %s: Sanitize(%q): got %q, want the run replaced", secretName, runName, reply, got)
				}
				if got := redactor.Redact(reply); strings.Contains(got, quoted) {
					t.Errorf("%s, %s: Redact(%q): got %q, want the run replaced", secretName, runName, reply, got)
				}
				if got, found := redactor.RemoveConfiguredSecrets(reply); !cleaned(got) || !found {
					t.Errorf("%s, %s: RemoveConfiguredSecrets(%q): got %q, %v; want the run replaced", secretName, runName, reply, got, found)
				}
				if got, changed, complete := scrubber.Scrub(reply); !cleaned(got) || !changed || !complete {
					t.Errorf("%s, %s: Scrub(%q): got %q, changed %v, complete %v; want the run replaced, changed and complete",
						secretName, runName, reply, got, changed, complete)
				}
			}
		}
	}
}

// The run is replaced as far as it matches the secret, and the text on
// either side stays.
func TestRedactReplacesWholeRun(t *testing.T) {
	redactor := NewRedactor(runBearerToken)
	text := "got X" + runBearerToken[3:] + "-9 back"
	checkEqual(t, "Sanitize", redactor.Sanitize(text, MaxErrorLength), "got X"+Redacted+"-9 back")
	checkEqual(t, "RedactCredentials", redactor.RedactCredentials(text), "got X"+Redacted+"-9 back")
	two := runBearerToken[:15] + " and " + runBearerToken[13:]
	checkEqual(t, "two runs", redactor.Sanitize(two, MaxErrorLength), Redacted+" and "+Redacted)
}

// A run that is only found decoded cannot be replaced in place, so the
// whole text goes.
func TestRemoveConfiguredSecretsEncodedRun(t *testing.T) {
	redactor := NewRedactor(runBearerToken)
	// "HookBe%61rerTo%6B3n_4f9a" has no run of 14 characters of the token
	// until it is decoded.
	encoded := "HookBe%61rerTo%6B3n_4f9a"
	got, found := redactor.RemoveConfiguredSecrets("ref " + encoded)
	if got != Redacted || !found {
		t.Errorf("RemoveConfiguredSecrets: got %q, %v; want %q, true", got, found, Redacted)
	}
}

func TestLogHandlerRemovesSecretRuns(t *testing.T) {
	redactor := NewRedactor(runClientSecret)
	var logs bytes.Buffer
	logger := slog.New(redactor.LogHandler(slog.NewJSONHandler(&logs, nil)))
	logger.Info("token request failed", "description", "AADSTS7000215: "+runClientSecret[:len(runClientSecret)/2]+" is invalid")
	if strings.Contains(logs.String(), runClientSecret[:len(runClientSecret)/2]) {
		t.Errorf("logs %s: contain the first half of the client secret", logs.String())
	}
	if !strings.Contains(logs.String(), "AADSTS7000215: "+Redacted+" is invalid") {
		t.Errorf("logs %s: want the run replaced in place", logs.String())
	}
}

// A destination that quotes half of its bearer token does not get it into
// the stored response excerpt.
func TestSendRedactsQuotedSecretRun(t *testing.T) {
	half := runBearerToken[len(runBearerToken)/2:]
	server := newRecordingServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprintf(w, `{"message":"token ending %s is not valid"}`, half)
	})
	registry := newTestRegistry(t, oneConnector("webhook", ConnectorConfig{URLEnv: "WEBHOOK_URL", TokenEnv: "WEBHOOK_TOKEN"}),
		map[string]string{"WEBHOOK_URL": server.URL, "WEBHOOK_TOKEN": runBearerToken}, nil)

	result := registry.Send(context.Background(), "webhook", sampleMessage(), SendOptions{})

	encoded, err := json.Marshal(result)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(string(encoded)), strings.ToLower(half)) {
		t.Errorf("result %s: contains the second half of the token", encoded)
	}
	checkEqual(t, "ResponseExcerpt", result.ResponseExcerpt, `{"message":"token ending `+Redacted+` is not valid"}`)
}

// A token endpoint that quotes half of the client secret in its
// error_description does not get it into the stored error or the logs.
func TestSentinelErrorDescriptionSecretRun(t *testing.T) {
	half := testClientSecret[:len(testClientSecret)/2]
	servers := newEntraServers(t, func(*entraServers) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			body, _ := json.Marshal(map[string]string{"error": "invalid_client", "error_description": "Secret starting " + half + " was not accepted."})
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write(body)
		}
	}, acceptIngestion)

	result := servers.send(t)

	checkEqual(t, "Class", result.Class, ClassAuthError)
	encoded, err := json.Marshal(result)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(encoded), half) {
		t.Errorf("result %s: contains the first half of the client secret", encoded)
	}
	if strings.Contains(servers.logs.String(), half) {
		t.Errorf("logs %s: contain the first half of the client secret", servers.logs.String())
	}
	if !strings.Contains(result.Error, "Secret starting "+Redacted+" was not accepted") {
		t.Errorf("Error: got %q, want the description with the run replaced", result.Error)
	}
}

// ordinaryTexts are texts without a secret that notes, replies and pages
// contain: prose, links without secrets, record ids, idempotency keys,
// timestamps and the console's own messages.
var ordinaryTexts = []string{
	"Rotated the webhook bearer token and checked the client secret with the security team.",
	"Client secret expired; Entra client secret renewed by ops, see OPS-4521.",
	"Ticket https://tracker.example.test/ and https://status.example.test/",
	"delivery dlv_01kjpwf170t1n40rtxrxx3wkre, run rwr_01kjpwf2a8g4m7q9v3x5z6b1c2, health hlth_01jd3n0q8r6w0x4t5y7z9a1b2c",
	"idempotency key msg_5f2b9c1d7e3a0b4c6d8e9f01 and exr_01kjpwf170t1n40rtxrxx3wkre:slack",
	"acknowledged at 2026-05-01T10:19:42Z, next check 2026-05-01T10:24:42.123456789+02:00",
	"Trace ID: 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0 Correlation ID: 11111111-2222-3333-4444-555555555555",
	"url must be the data collection endpoint without a path, because the connector appends that path from dcr_immutable_id and stream_name",
	"Posted the drill summary in Teams / Workflows / Local; local-receiver tokens rotate weekly.",
	"The webhook path and the Slack path are configured, and the bearer token is rotated.",
}

func TestSecretRunsKeepOrdinaryText(t *testing.T) {
	for name, redactor := range map[string]*Redactor{
		"secret kinds":    secretRunRegistry(t).Redactor(),
		"make run config": localReceiverRegistry(t).Redactor(),
	} {
		scrubber := redactor.ResponseScrubber()
		for _, text := range ordinaryTexts {
			if got := redactor.FindCredential(text); got != "" {
				t.Errorf("%s: FindCredential(%q): got %q, want nothing", name, text, got)
			}
			if got := redactor.Sanitize(text, 1000); got != text {
				t.Errorf("%s: Sanitize(%q): got %q, want it unchanged", name, text, got)
			}
			if got, found := redactor.RemoveConfiguredSecrets(text); got != text || found {
				t.Errorf("%s: RemoveConfiguredSecrets(%q): got %q, %v; want it unchanged", name, text, got, found)
			}
			if got, changed, complete := scrubber.Scrub(text); got != text || changed || !complete {
				t.Errorf("%s: Scrub(%q): got %q, changed %v, complete %v; want it unchanged", name, text, got, changed, complete)
			}
		}
	}
}

// Values of the make run configuration that are made of words, and the
// words in them, stay usable. Its random-looking values are still matched
// in part.
func TestSecretRunsOfMakeRunConfig(t *testing.T) {
	redactor := localReceiverRegistry(t).Redactor()
	for _, text := range []string{"local-receiver", "receiver-token", "teams/workflows", "webhook/hooks", "services/T000/B000",
		"/slack/services/T000/B000", "http://127.0.0.1:8090/slack/services/T000/B000/"} {
		if got := redactor.FindCredential("note " + text); got != "" {
			t.Errorf("FindCredential(%q): got %q, want nothing", text, got)
		}
	}
	segment := "Lr7dQ2vX9kM4pT8wN3bZ6cHj"
	if got := redactor.FindCredential("note " + segment[1:]); got == "" {
		t.Errorf("FindCredential(%q): got nothing, want part of the Slack path segment found", segment[1:])
	}
}

func TestIsMadeOfWords(t *testing.T) {
	for value, want := range map[string]bool{
		"local-receiver-token":     true,
		"/teams/workflows/local":   true,
		"dataCollectionRules":      true,
		"Custom-Evidence_CL":       true,
		"servicescollectorevent":   false,
		"QwErTyUiOpAsDfGh":         false,
		"HookBearerTok3n_4f9a8b7c": false,
		"smtp-Pa55word!":           false,
	} {
		checkEqual(t, value, isMadeOfWords(value), want)
	}
}

// The user name of a Basic credential is public, and its password is
// matched in part.
func TestSecretRunsOfBasicCredential(t *testing.T) {
	const user, password = "ops-automation-bot@example.test", "Atl4ssianTok3nQ9x"
	redactor := NewRedactor(user+":"+password, password)
	if got := redactor.FindCredential("asked " + user + " to retry"); got != "" {
		t.Errorf("FindCredential of the user name: got %q, want nothing", got)
	}
	if got := redactor.FindCredential("asked " + user + ":" + password[:3]); got != "" {
		t.Errorf("FindCredential of the user name and 3 characters: got %q, want nothing", got)
	}
	if got := redactor.FindCredential("note " + password[1:]); got == "" {
		t.Error("FindCredential of the password without its first character: got nothing, want it found")
	}
}

func TestLowerASCIIBytes(t *testing.T) {
	for b := range 256 {
		for shift := 0; shift < 64; shift += 8 {
			// The other bytes are 'Z', '[', '@' and 'A', next to the range.
			key := uint64(0x5a5b4041_5a5b4041)&^(0xff<<shift) | uint64(b)<<shift
			want := uint64(0)
			for i := 0; i < 64; i += 8 {
				want |= uint64(lowerASCII(byte(key>>i))) << i
			}
			if got := lowerASCIIBytes(key); got != want {
				t.Fatalf("lowerASCIIBytes(%#x): got %#x, want %#x", key, got, want)
			}
		}
	}
}

// A password made of a word and digits, such as Evidence2026!, does not
// make the word a secret: a run of letters alone is not matched for a
// secret that also has digits or symbols.
func TestSecretRunsSkipWordsOfPasswords(t *testing.T) {
	cases := []struct{ secret, text string }{
		{"Evidence2026!", "The Evidence Console shows the alert"},
		{"Password1!", "rotated the password today"},
		{"Operations2026!", "operations.lead"},
	}
	for _, tc := range cases {
		redactor := NewRedactor(tc.secret)
		if got := redactor.FindCredential(tc.text); got != "" {
			t.Errorf("FindCredential(%q) with secret %q: got %q, want nothing", tc.text, tc.secret, got)
		}
		if got := redactor.Redact(tc.text); got != tc.text {
			t.Errorf("Redact(%q) with secret %q: got %q, want it unchanged", tc.text, tc.secret, got)
		}
		if redactor.HasConfiguredSecretIgnoringCase(tc.text) {
			t.Errorf("HasConfiguredSecretIgnoringCase(%q) with secret %q: got true, want false", tc.text, tc.secret)
		}
		if got := redactor.FindCredential("note " + tc.secret[1:]); got == "" {
			t.Errorf("FindCredential of %q without its first character: got nothing, want it found", tc.secret)
		}
	}
	changed := false
	payload := NewRedactor("Evidence2026!").payloadWithoutSecrets(map[string]any{"evidence_url": "https://console.example.test/x"}, &changed)
	if _, kept := payload["evidence_url"]; !kept || changed {
		t.Errorf("payloadWithoutSecrets: got %v, changed %v; want the key kept", payload, changed)
	}
}

// A secret whose random part is letters alone, after a prefix with symbols,
// is found from either half, because those letters are no words.
func TestSecretRunsOfRandomLetterTail(t *testing.T) {
	for _, secret := range []string{"sk_live_QmZpRtXwKvNbLcYdHsJgFeTa", "9f_qmzprtxwkvnblcydhsjgfetauoiwe"} {
		redactor := NewRedactor(secret)
		for runName, run := range secretRuns(secret) {
			note := "note " + run + " here"
			if got := redactor.FindCredential(note); got == "" {
				t.Errorf("%s, %s: FindCredential(%q): got nothing, want it rejected", secret, runName, note)
			}
			if got := redactor.Redact(note); strings.Contains(got, run) {
				t.Errorf("%s, %s: Redact(%q): got %q, want the run replaced", secret, runName, note, got)
			}
		}
	}
}

// Random letters of one case shorter than minWordSegmentLength, after a
// prefix with digits or symbols, are no words either, so either half of the
// secret is found, while a password's words are still not matched.
func TestSecretRunsOfShortRandomLetterTail(t *testing.T) {
	for _, secret := range []string{"9f_qmzprtxwkvnblcy", "tok_9_QMZPRTXWKVNBLC"} {
		redactor := NewRedactor(secret)
		for runName, run := range secretRuns(secret) {
			note := "note " + run + " here"
			if got := redactor.FindCredential(note); got == "" {
				t.Errorf("%s, %s: FindCredential(%q): got nothing, want it rejected", secret, runName, note)
			}
			if got := redactor.Redact(note); strings.Contains(got, run) {
				t.Errorf("%s, %s: Redact(%q): got %q, want the run replaced", secret, runName, note, got)
			}
		}
	}
	words := NewRedactor("Release2026!Operations")
	for _, text := range []string{"Release operations: releaseoperations", "OPERATIONS"} {
		if got := words.Redact(text); got != text {
			t.Errorf("Redact(%q) with a password of words: got %q, want it unchanged", text, got)
		}
	}
}
