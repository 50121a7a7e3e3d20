package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// TestAcknowledgeRejectsConfiguredURLs posts the URLs of secret-URL
// destinations, whose paths are plain words, as acknowledgement text.
func TestAcknowledgeRejectsConfiguredURLs(t *testing.T) {
	s := newAlertServer(t, map[string]destination{
		"slack":   {kind: connectors.KindSlack, url: "{receiver}/slack/services/T000/B000/Lr7dQ2vX9kM4pT8wN3bZ6cHj"},
		"webhook": {kind: connectors.KindWebhook, url: "{receiver}/webhook/hooks/local", token: "local-receiver-token"},
	})
	_, result := s.deliver(`{"retries": 0}`)
	path := alertsPath + "/" + result.Health.HealthID + "/acknowledgements"
	before := dbtest.CountRows(t, s.db)

	secrets := []string{
		s.receiver.URL + "/slack/services/T000/B000/Lr7dQ2vX9kM4pT8wN3bZ6cHj",
		s.receiver.URL + "/webhook/hooks/local",
		"/slack/services/T000/B000/Lr7dQ2vX9kM4pT8wN3bZ6cHj",
		"local-receiver-token",
	}
	for _, field := range []string{"notes", "external_ref"} {
		for _, secret := range secrets {
			body, _ := json.Marshal(map[string]string{"provider": "slack", "acknowledgement_state": "escalated", field: secret})
			rec := s.postJSON(path, string(body))
			if rec.Code != http.StatusBadRequest {
				t.Errorf("%s %q: status %d, want 400: %s", field, secret, rec.Code, rec.Body.String())
				continue
			}
			if got := alertErrorField(t, rec); got != field {
				t.Errorf("%s %q: error field %q, want %q", field, secret, got, field)
			}
			if strings.Contains(rec.Body.String(), "Lr7dQ2vX9kM4pT8wN3bZ6cHj") || strings.Contains(rec.Body.String(), "hooks/local") {
				t.Errorf("%s %q: response repeats the secret: %s", field, secret, rec.Body.String())
			}
		}
	}
	assertNothingStored(t, before, dbtest.CountRows(t, s.db))
	if tables := s.dumpTables(); strings.Contains(tables, "Lr7dQ2vX9kM4pT8wN3bZ6cHj") || strings.Contains(tables, "hooks/local") {
		t.Errorf("a configured URL is stored: %s", tables)
	}

	// The receiver's host alone is public, as the connectors page shows it.
	body, _ := json.Marshal(map[string]string{"provider": "slack", "acknowledgement_state": "escalated",
		"notes": "receiver at " + s.receiver.URL + " answered", "external_ref": "OPS-12"})
	if rec := s.postJSON(path, string(body)); rec.Code != http.StatusCreated {
		t.Errorf("notes with the host alone: status %d, want 201: %s", rec.Code, rec.Body.String())
	}
}
