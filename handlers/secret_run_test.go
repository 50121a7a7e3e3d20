package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// webhookToken is a bearer token long enough that most of it, without its
// first or last character or as either half, counts as the token.
const webhookToken = "HookBearerTok3n_4f9a8b7c6d5e"

// TestAcknowledgeRejectsSecretRuns posts parts of a configured token and
// of a secret webhook path segment as acknowledgement text.
func TestAcknowledgeRejectsSecretRuns(t *testing.T) {
	const segment = "Whk9PathSecret0123456789ab"
	s := newAlertServer(t, map[string]destination{
		"slack":   {kind: connectors.KindSlack, url: "{receiver}/slack/services/T000/B000/Lr7dQ2vX9kM4pT8wN3bZ6cHj"},
		"webhook": {kind: connectors.KindWebhook, url: "{receiver}/hook/" + segment, token: webhookToken},
	})
	_, result := s.deliver(`{"retries": 0}`)
	path := alertsPath + "/" + result.Health.HealthID + "/acknowledgements"
	before := dbtest.CountRows(t, s.db)

	runs := []string{
		webhookToken[:len(webhookToken)-1],
		webhookToken[1:],
		strings.ToLower(webhookToken[len(webhookToken)/2:]),
		"/hook/" + segment[:len(segment)-1],
		segment[1:],
	}
	for _, field := range []string{"notes", "external_ref"} {
		for _, run := range runs {
			body, _ := json.Marshal(map[string]string{"provider": "slack", "acknowledgement_state": "escalated", field: "see " + run})
			rec := s.postJSON(path, string(body))
			if rec.Code != http.StatusBadRequest {
				t.Errorf("%s %q: status %d, want 400: %s", field, run, rec.Code, rec.Body.String())
				continue
			}
			if got := alertErrorField(t, rec); got != field {
				t.Errorf("%s %q: error field %q, want %q", field, run, got, field)
			}
			if !strings.Contains(rec.Body.String(), "part of a secret of a configured destination") {
				t.Errorf("%s %q: response does not name the problem: %s", field, run, rec.Body.String())
			}
			if strings.Contains(strings.ToLower(rec.Body.String()), strings.ToLower(run)) {
				t.Errorf("%s %q: response repeats the secret: %s", field, run, rec.Body.String())
			}
		}
	}
	assertNothingStored(t, before, dbtest.CountRows(t, s.db))

	// Record ids, timestamps and prose about the token are no part of it.
	note := "Retried dlv_01kjpwf170t1n40rtxrxx3wkre at 2026-05-01T10:19:42Z; the bearer token was rotated."
	body, _ := json.Marshal(map[string]string{"provider": "slack", "acknowledgement_state": "escalated", "notes": note, "external_ref": "OPS-12"})
	if rec := s.postJSON(path, string(body)); rec.Code != http.StatusCreated {
		t.Errorf("ordinary note: status %d, want 201: %s", rec.Code, rec.Body.String())
	}
}

func TestCreateUserRejectsSecretRun(t *testing.T) {
	s, logs := newLoggedTestServer(t)
	secrets := connectors.NewRedactor(webhookToken)
	s.handler.Secrets = secrets
	s.handler.Auth.Service.(*auth.Service).Secrets = secrets
	b, csrf := signedInAdmin(s)
	before := dbtest.CountRows(t, s.db)["users"]
	username := strings.ToLower(webhookToken[:len(webhookToken)-1])

	rec := b.do(http.MethodPost, "/users", url.Values{"username": {username}, "role": {"viewer"}, "_csrf": {csrf}})

	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400; body: %s", rec.Code, rec.Body.String())
	}
	if !strings.Contains(rec.Body.String(), "The username is invalid: looks like a credential or a link") {
		t.Errorf("body does not say the username looks like a credential:\n%s", rec.Body.String())
	}
	if strings.Contains(rec.Body.String(), username) {
		t.Error("body repeats the secret, want the form's username emptied")
	}
	if got := dbtest.CountRows(t, s.db)["users"]; got != before {
		t.Errorf("users rows = %d, want %d", got, before)
	}
	if strings.Contains(logs.String(), username) {
		t.Errorf("log contains the secret:\n%s", logs.String())
	}
}
