package connectors

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// issueTracker is a loopback stand-in for Jira or ServiceNow: a create
// stores the record under its label or correlation ID before it responds,
// so a create that the client stopped waiting for still exists, and a
// lookup finds it.
type issueTracker struct {
	mu      sync.Mutex
	records map[string]string // label or correlation ID to record name
	creates int
	// hangFirstCreate holds back the response to the first create until the
	// client gives up.
	hangFirstCreate bool
}

func (tr *issueTracker) handler(kind Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tr.mu.Lock()
		if r.Method == http.MethodGet {
			var key string
			switch kind {
			case KindJira:
				jql := r.URL.Query().Get("jql")
				_, label, _ := strings.Cut(jql, `labels = "`)
				key = strings.TrimSuffix(label, `"`)
			default:
				key = strings.ReplaceAll(strings.TrimPrefix(r.URL.Query().Get("sysparm_query"), "correlation_id="), "^^", "^")
			}
			name, ok := tr.records[key]
			tr.mu.Unlock()
			switch {
			case kind == KindJira && ok:
				_, _ = w.Write([]byte(`{"issues":[{"id":"10007","key":"` + name + `"}]}`))
			case kind == KindJira:
				_, _ = w.Write([]byte(`{"issues":[]}`))
			case ok:
				_, _ = w.Write([]byte(`{"result":[{"number":"` + name + `","sys_id":"abc"}]}`))
			default:
				_, _ = w.Write([]byte(`{"result":[]}`))
			}
			return
		}
		tr.creates++
		first := tr.creates == 1
		var body struct {
			Fields struct {
				Labels []string `json:"labels"`
			} `json:"fields"`
			CorrelationID string `json:"correlation_id"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		if kind == KindJira {
			tr.records[body.Fields.Labels[len(body.Fields.Labels)-1]] = "OPS-7"
		} else {
			tr.records[body.CorrelationID] = "INC0000007"
		}
		tr.mu.Unlock()
		if first && tr.hangFirstCreate {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"key":"OPS-7"}`))
	}
}

// trackerConnector returns the configuration of one Jira or ServiceNow
// connector that sends to serverURL.
func trackerConnector(kind Kind, serverURL string) (FileConfig, map[string]string) {
	config := ConnectorConfig{URLEnv: "TARGET_URL", TokenEnv: "TOKEN"}
	if kind == KindJira {
		config.ProjectKey = "OPS"
	}
	return oneConnector(string(kind), config), map[string]string{"TARGET_URL": serverURL, "TOKEN": "tracker-token"}
}

func TestLookupAfterTimeoutFindsFirstRecord(t *testing.T) {
	for _, kind := range []Kind{KindJira, KindServiceNow} {
		t.Run(string(kind), func(t *testing.T) {
			tracker := &issueTracker{records: map[string]string{}, hangFirstCreate: true}
			server := newRecordingServer(t, tracker.handler(kind))
			config, env := trackerConnector(kind, server.URL)
			registry := newTestRegistry(t, config, env, nil)

			msg := sampleMessage()
			msg.IdempotencyKey = "xrun_0001:" + string(kind) + "^exec"
			result := registry.Send(context.Background(), string(kind), msg, SendOptions{Retries: 1, Timeout: 300 * time.Millisecond})

			checkEqual(t, "creates", tracker.creates, 1)
			checkEqual(t, "Success", result.Success, true)
			checkEqual(t, "AttemptCount", result.AttemptCount, 2)
			checkEqual(t, "first attempt class", result.Attempts[0].Class, ClassTimeout)
			second := result.Attempts[1]
			checkEqual(t, "second attempt class", second.Class, ClassOK)
			checkEqual(t, "second attempt status", second.StatusCode, http.StatusOK)
			want := map[Kind]string{KindJira: "OPS-7", KindServiceNow: "INC0000007"}[kind]
			checkEqual(t, "ExistingRecord", second.ExistingRecord, want)
			checkEqual(t, "request method", result.Request.Method, http.MethodGet)

			var methods []string
			for _, request := range server.captured() {
				methods = append(methods, request.Method)
			}
			checkEqual(t, "requests", strings.Join(methods, " "), "GET POST GET")
		})
	}
}

func TestLookupFindsEarlierRecord(t *testing.T) {
	tracker := &issueTracker{records: map[string]string{"alert-2026-01-02-critical": "OPS-7"}}
	server := newRecordingServer(t, tracker.handler(KindJira))
	config, env := trackerConnector(KindJira, server.URL)
	registry := newTestRegistry(t, config, env, nil)

	result := registry.Send(context.Background(), "jira", sampleMessage(), SendOptions{})

	checkEqual(t, "creates", tracker.creates, 0)
	checkEqual(t, "Success", result.Success, true)
	checkEqual(t, "ExistingRecord", result.Attempts[0].ExistingRecord, "OPS-7")
	checkEqual(t, "ResponseExcerpt", result.ResponseExcerpt, `{"issues":[{"id":"10007","key":"OPS-7"}]}`)
	checkEqual(t, "requests", len(server.captured()), 1)
}

func TestLookupRecordNameIsSanitized(t *testing.T) {
	tracker := &issueTracker{records: map[string]string{"alert-2026-01-02-critical": "OPS tracker-token"}}
	server := newRecordingServer(t, tracker.handler(KindJira))
	config, env := trackerConnector(KindJira, server.URL)
	registry := newTestRegistry(t, config, env, nil)

	result := registry.Send(context.Background(), "jira", sampleMessage(), SendOptions{})

	checkEqual(t, "Success", result.Success, true)
	checkEqual(t, "ExistingRecord", result.Attempts[0].ExistingRecord, "OPS [redacted]")
}

func TestFailedLookupCreatesNothing(t *testing.T) {
	tests := []struct {
		name      string
		kind      Kind
		respond   func(w http.ResponseWriter)
		wantClass Class
		wantError string
	}{
		{
			name: "jira forbidden", kind: KindJira,
			respond:   func(w http.ResponseWriter) { w.WriteHeader(http.StatusForbidden) },
			wantClass: ClassAuthError, wantError: "looking for a record an earlier attempt created: destination returned HTTP 403 Forbidden",
		},
		{
			name: "jira response without issues", kind: KindJira,
			respond:   func(w http.ResponseWriter) { _, _ = w.Write([]byte(`{"total":0}`)) },
			wantClass: ClassServerError, wantError: `looking for a record an earlier attempt created: the destination's response could not be read: search response has no "issues" list`,
		},
		{
			name: "servicenow response not JSON", kind: KindServiceNow,
			respond:   func(w http.ResponseWriter) { _, _ = w.Write([]byte(`<html>login</html>`)) },
			wantClass: ClassServerError, wantError: "looking for a record an earlier attempt created: the destination's response could not be read: query response is not JSON",
		},
		{
			name: "servicenow rate limited", kind: KindServiceNow,
			respond:   func(w http.ResponseWriter) { w.WriteHeader(http.StatusTooManyRequests) },
			wantClass: ClassRateLimited, wantError: "looking for a record an earlier attempt created: destination returned HTTP 429 Too Many Requests",
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			server := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet {
					w.WriteHeader(http.StatusCreated)
					return
				}
				test.respond(w)
			})
			config, env := trackerConnector(test.kind, server.URL)
			registry := newTestRegistry(t, config, env, nil)

			result := registry.Send(context.Background(), string(test.kind), sampleMessage(), SendOptions{})

			checkEqual(t, "Class", result.Class, test.wantClass)
			if !strings.HasPrefix(result.Error, test.wantError) {
				t.Errorf("Error: got %q, want it to start with %q", result.Error, test.wantError)
			}
			for _, request := range server.captured() {
				if request.Method != http.MethodGet {
					t.Errorf("got a %s request after a failed lookup, want none", request.Method)
				}
			}
		})
	}
}

func TestLookupKeepsBaseURLQuery(t *testing.T) {
	server := newRecordingServer(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"result":[{"sys_id":"0a1b"}]}`))
	})
	config, env := trackerConnector(KindServiceNow, server.URL+"/?instance=ops")
	registry := newTestRegistry(t, config, env, nil)

	result := registry.Send(context.Background(), "servicenow", sampleMessage(), SendOptions{})

	checkEqual(t, "ExistingRecord", result.Attempts[0].ExistingRecord, "0a1b")
	query, err := url.ParseQuery(server.captured()[0].Query)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	checkEqual(t, "instance", query.Get("instance"), "ops")
	checkEqual(t, "sysparm_fields", query.Get("sysparm_fields"), "number,sys_id")
}

func TestJiraLookupFallsBackToDataCenterSearch(t *testing.T) {
	server := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/search/jql"):
			w.WriteHeader(http.StatusNotFound)
		case strings.HasSuffix(r.URL.Path, "/search"):
			_, _ = w.Write([]byte(`{"issues":[{"id":"10007"}]}`))
		default:
			w.WriteHeader(http.StatusCreated)
		}
	})
	config, env := trackerConnector(KindJira, server.URL)
	registry := newTestRegistry(t, config, env, nil)

	result := registry.Send(context.Background(), "jira", sampleMessage(), SendOptions{})

	checkEqual(t, "ExistingRecord", result.Attempts[0].ExistingRecord, "10007")
	var paths []string
	for _, request := range server.captured() {
		paths = append(paths, request.Method+" "+request.Path)
	}
	checkEqual(t, "requests", strings.Join(paths, ", "), "GET /rest/api/2/search/jql, GET /rest/api/2/search")
}

func TestLookupListingWithoutNamesCreatesNothing(t *testing.T) {
	server := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte(`{"issues":[{"fields":{}}]}`))
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	config, env := trackerConnector(KindJira, server.URL)
	registry := newTestRegistry(t, config, env, nil)

	result := registry.Send(context.Background(), "jira", sampleMessage(), SendOptions{})

	checkEqual(t, "Class", result.Class, ClassServerError)
	checkEqual(t, "requests", len(server.captured()), 1)
}
