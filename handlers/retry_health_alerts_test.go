package handlers

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func twoWebhooks() map[string]destination {
	return map[string]destination{
		"alpha": {kind: connectors.KindWebhook, url: "{receiver}/webhook/alpha"},
		"beta":  {kind: connectors.KindWebhook, url: "{receiver}/webhook/beta"},
	}
}

func TestDeliverResponseKeys(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())

	rec, result := s.deliver(`{"provider": "all", "retries": 0}`)

	if rec.Code != http.StatusCreated {
		t.Fatalf("status: got %d, want 201: %s", rec.Code, rec.Body.String())
	}
	body := decodeObject(t, rec)
	var keys []string
	for key := range body {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	if want := []string{"delivery", "event_id", "health", "plan", "success"}; !slices.Equal(keys, want) {
		t.Errorf("response keys: got %v, want %v", keys, want)
	}
	plan, _ := body["plan"].(map[string]any)
	for _, key := range []string{"plan_id", "health_id", "fingerprint", "alert_level", "eligible_providers", "selected_providers",
		"suppressed_providers", "acknowledgement_required_providers", "suppression_window_minutes", "force"} {
		if _, ok := plan[key]; !ok {
			t.Errorf("plan has no %q key", key)
		}
	}
	deliveries, _ := body["delivery"].([]any)
	if len(deliveries) != 2 {
		t.Fatalf("deliveries: got %d, want 2", len(deliveries))
	}
	first, _ := deliveries[0].(map[string]any)
	for _, key := range []string{"provider", "success", "status_code", "attempt_count", "error_class", "started_at", "completed_at", "request"} {
		if _, ok := first[key]; !ok {
			t.Errorf("delivery has no %q key", key)
		}
	}
	if !result.Success || result.EventID != result.Health.HealthID {
		t.Errorf("success %v event_id %q, want true and the health_id %q", result.Success, result.EventID, result.Health.HealthID)
	}
	if result.Plan.Actor != "test-admin" {
		t.Errorf("actor: got %q, want the authenticated user test-admin", result.Plan.Actor)
	}
}

func TestDeliverAcceptsProviderList(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())

	rec, result := s.deliver(`{"provider": ["alpha", "beta"], "retries": 0}`)

	if rec.Code != http.StatusCreated {
		t.Fatalf("status: got %d, want 201: %s", rec.Code, rec.Body.String())
	}
	if got := strings.Join(result.Plan.SelectedProviders, ","); got != "alpha,beta" {
		t.Errorf("selected providers: got %q, want alpha,beta", got)
	}
}

func TestDeliverUnknownProviderIs422(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	before := dbtest.CountRows(t, s.db)

	rec, _ := s.deliver(`{"provider": "alpha,Slak"}`)

	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status: got %d, want 422: %s", rec.Code, rec.Body.String())
	}
	if !strings.Contains(rec.Body.String(), "configured: alpha, beta") {
		t.Errorf("message does not list the configured connectors: %s", rec.Body.String())
	}
	// The same details as the executive delivery's 422.
	var body struct {
		Error struct {
			Details struct {
				ConfiguredProviders []string `json:"configured_providers"`
			} `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(body.Error.Details.ConfiguredProviders, ","); got != "alpha,beta" {
		t.Errorf("details.configured_providers = %q, want alpha,beta", got)
	}
	assertNothingStored(t, before, dbtest.CountRows(t, s.db))
}

func TestDeliverRejectsBadFields(t *testing.T) {
	cases := []struct {
		body  string
		field string
	}{
		{`{"provider": ""}`, "provider"},
		{`{"provider": 5}`, "provider"},
		{`{"provider": null}`, "provider"},
		{`{"provider": "alpha,,beta"}`, "provider"},
		{`{"provider": ["alpha", ""]}`, "provider[1]"},
		{`{"provider": [1]}`, "provider"},
		{`{"provider": {"name": "alpha"}}`, "provider"},
		{`{"force": "false"}`, "force"},
		{`{"force": 1}`, "force"},
		{`{"force": null}`, "force"},
		{`{"expected_interval_minutes": 0}`, "expected_interval_minutes"},
		{`{"expected_interval_minutes": 10081}`, "expected_interval_minutes"},
		{`{"expected_interval_minutes": "30"}`, "expected_interval_minutes"},
		{`{"stale_metadata_minutes": 0}`, "stale_metadata_minutes"},
		{`{"stale_metadata_minutes": 1.5}`, "stale_metadata_minutes"},
		{`{"suppression_window_minutes": 0}`, "suppression_window_minutes"},
		{`{"suppression_window_minutes": 10081}`, "suppression_window_minutes"},
		{`{"max_alerts": 0}`, "max_alerts"},
		{`{"max_alerts": 101}`, "max_alerts"},
		{`{"retries": -1}`, "retries"},
		{`{"retries": 6}`, "retries"},
		{`{"retries": true}`, "retries"},
		{`{"timeout_seconds": 0}`, "timeout_seconds"},
		{`{"timeout_seconds": 0.05}`, "timeout_seconds"},
		{`{"timeout_seconds": 61}`, "timeout_seconds"},
		{`{"timeout_seconds": "10"}`, "timeout_seconds"},
		{`{"actor": "mallory"}`, "actor"},
	}
	s := newAlertServer(t, twoWebhooks())
	before := dbtest.CountRows(t, s.db)
	for _, tc := range cases {
		rec, _ := s.deliver(tc.body)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tc.body, rec.Code)
			continue
		}
		if got := alertErrorField(t, rec); got != tc.field {
			t.Errorf("%s: field %q, want %q", tc.body, got, tc.field)
		}
	}
	assertNothingStored(t, before, dbtest.CountRows(t, s.db))
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
}

func TestAcknowledgeRejectsBadFields(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"retries": 0}`)
	path := alertsPath + "/" + result.Health.HealthID + "/acknowledgements"
	before := dbtest.CountRows(t, s.db)

	cases := []struct {
		body   string
		status int
		field  string
	}{
		{`{}`, 400, "provider"},
		{`{"provider": ""}`, 400, "provider"},
		{`{"provider": 1}`, 400, "provider"},
		{`{"provider": "alpha", "acknowledgement_state": "closed"}`, 400, "acknowledgement_state"},
		{`{"provider": "alpha", "acknowledgement_state": "pending"}`, 400, "acknowledgement_state"},
		{`{"provider": "alpha", "acknowledgement_state": true}`, 400, "acknowledgement_state"},
		{`{"provider": "alpha", "external_ref": "` + strings.Repeat("x", 201) + `"}`, 400, "external_ref"},
		{`{"provider": "alpha", "external_ref": 7}`, 400, "external_ref"},
		{`{"provider": "alpha", "notes": "` + strings.Repeat("n", 2001) + `"}`, 400, "notes"},
		{`{"provider": "alpha", "notes": null}`, 400, "notes"},
		{`{"provider": "alpha", "plan_id": 3}`, 400, "plan_id"},
		{`{"provider": "alpha", "actor": "mallory"}`, 400, "actor"},
		{`{"provider": "gamma"}`, 422, "provider"},
		{`{"provider": "alpha", "plan_id": "alp_unknown"}`, 422, "plan_id"},
	}
	for _, tc := range cases {
		rec := s.postJSON(path, tc.body)
		if rec.Code != tc.status {
			t.Errorf("%.60s: status %d, want %d: %s", tc.body, rec.Code, tc.status, rec.Body.String())
			continue
		}
		if got := alertErrorField(t, rec); got != tc.field {
			t.Errorf("%.60s: field %q, want %q", tc.body, got, tc.field)
		}
	}

	rec := s.postJSON(alertsPath+"/hlth_unknown/acknowledgements", `{"provider": "alpha"}`)
	if rec.Code != http.StatusNotFound {
		t.Errorf("unknown health_id: status %d, want 404", rec.Code)
	}
	assertNothingStored(t, before, dbtest.CountRows(t, s.db))
}

func TestAcknowledgeRecordsAuthenticatedActor(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"retries": 0}`)
	path := alertsPath + "/" + result.Health.HealthID + "/acknowledgements"

	first := s.postJSON(path, `{"provider": "ALPHA", "external_ref": "CHG-1", "notes": "on it"}`)
	second := s.postJSON(path, `{"provider": "alpha", "acknowledgement_state": "acknowledged"}`)

	if first.Code != http.StatusCreated || second.Code != http.StatusOK {
		t.Fatalf("statuses: got %d then %d, want 201 then 200 (repeat)", first.Code, second.Code)
	}
	var ack alerting.AcknowledgeResult
	if err := json.Unmarshal(first.Body.Bytes(), &ack); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if ack.Acknowledgement.Actor != "test-admin" || ack.Acknowledgement.Provider != "alpha" {
		t.Errorf("actor %q provider %q, want test-admin and alpha", ack.Acknowledgement.Actor, ack.Acknowledgement.Provider)
	}
	if err := json.Unmarshal(second.Body.Bytes(), &ack); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !ack.Repeat || ack.Current.ExternalRef != "CHG-1" {
		t.Errorf("repeat %v, current external_ref %q; want true and CHG-1 kept", ack.Repeat, ack.Current.ExternalRef)
	}
}

// The form route returns a JSON client the status the JSON route returns: 201 for a new state, 200 for a repeat of the current one.
func TestAcknowledgeFormStatusForJSON(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"provider": "alpha", "retries": 0}`)
	path := "/console/retry-health-alerts/" + result.Health.HealthID + "/acknowledgements"

	first := s.postForm(path, "provider=alpha&acknowledgement_state=escalated", "Accept", "application/json")
	repeat := s.postForm(path, "provider=alpha&acknowledgement_state=escalated", "Accept", "application/json")
	changed := s.postForm(path, "provider=alpha&acknowledgement_state=acknowledged", "Accept", "application/json")

	if first.Code != http.StatusCreated {
		t.Errorf("first action: got %d, want 201; body %s", first.Code, first.Body.String())
	}
	if repeat.Code != http.StatusOK {
		t.Errorf("repeated state: got %d, want 200; body %s", repeat.Code, repeat.Body.String())
	}
	if changed.Code != http.StatusCreated {
		t.Errorf("changed state: got %d, want 201; body %s", changed.Code, changed.Body.String())
	}
}

func TestAlertRoutesNeedPermissions(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"retries": 0}`)
	s.actAs("viewer", "viewer")

	send, _ := s.deliver(`{"retries": 0}`)
	ack := s.postJSON(alertsPath+"/"+result.Health.HealthID+"/acknowledgements", `{"provider": "alpha"}`)
	read := s.getJSON(alertsPath)

	if send.Code != http.StatusForbidden || ack.Code != http.StatusForbidden || read.Code != http.StatusOK {
		t.Errorf("viewer statuses: send %d, acknowledge %d, history %d; want 403, 403, 200", send.Code, ack.Code, read.Code)
	}
}

func TestHistoryEndpoint(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	s.deliver(`{"retries": 0}`)
	s.clock.Advance(time.Minute)
	s.deliver(`{"retries": 0}`)

	rec := s.getJSON(alertsPath + "?suppressed=true&limit=1")
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200: %s", rec.Code, rec.Body.String())
	}
	var page alerting.HistoryPage
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if page.Total != 1 || len(page.Items) != 1 || page.Limit != 1 || page.Offset != 0 {
		t.Errorf("page: total %d, %d items, limit %d, offset %d; want 1, 1, 1, 0", page.Total, len(page.Items), page.Limit, page.Offset)
	}
	if page.Items[0].Plan == nil || len(page.Items[0].Plan.SuppressedProviders) != 2 {
		t.Errorf("item: got %+v, want the second plan with two suppressed destinations", page.Items[0])
	}

	all := s.getJSON(alertsPath)
	if err := json.Unmarshal(all.Body.Bytes(), &page); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if page.Total != 4 || page.Limit != 50 {
		t.Errorf("unfiltered: total %d, limit %d; want 4 (2 plans, 2 deliveries) and the default 50", page.Total, page.Limit)
	}

	bad := []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=501", "limit"}, {"limit=ten", "limit"}, {"offset=-1", "offset"},
		{"offset=1.5", "offset"}, {"suppressed=yes", "suppressed"}, {"suppressed=1", "suppressed"},
		{"metadata_kind=plans", "metadata_kind"}, {"acknowledgement_state=pending", "acknowledgement_state"},
	}
	for _, tc := range bad {
		rec := s.getJSON(alertsPath + "?" + tc.query)
		if rec.Code != http.StatusBadRequest || alertErrorField(t, rec) != tc.field {
			t.Errorf("%s: status %d field %q, want 400 naming %s", tc.query, rec.Code, alertErrorField(t, rec), tc.field)
		}
	}
}

func TestDashboardEndpoint(t *testing.T) {
	s := newAlertServer(t, map[string]destination{
		"alpha": {kind: connectors.KindWebhook, url: "{receiver}/webhook/alpha"},
		"down":  {kind: connectors.KindWebhook, url: "{receiver}/fail/500/down"},
	})
	s.deliver(`{"retries": 0}`)

	rec := s.getJSON(auditDelivery + "/recovery-escalations/retry-health-alert-dashboard")
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200", rec.Code)
	}
	body := decodeObject(t, rec)
	want := map[string]float64{
		"plan_count": 1, "delivery_count": 2, "delivered_count": 1, "failed_delivery_count": 1,
		"suppressed_provider_count": 0, "acknowledgement_count": 0, "outstanding_acknowledgement_count": 2,
	}
	for key, value := range want {
		if got, _ := body[key].(float64); got != value {
			t.Errorf("%s: got %v, want %v", key, body[key], value)
		}
	}
	if body["alert_level"] != "critical" {
		t.Errorf("alert_level: got %v, want critical", body["alert_level"])
	}
	if list, _ := body["outstanding_acknowledgements"].([]any); len(list) != 2 {
		t.Errorf("outstanding_acknowledgements: got %d, want 2", len(list))
	}
	if list, _ := body["latest"].([]any); len(list) != 3 {
		t.Errorf("latest: got %d items, want 3", len(list))
	}
}

func TestDeliverResultClasses(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	refusedURL := "http://" + closed.Addr().String() + "/webhook"
	_ = closed.Close()

	cases := []struct {
		name           string
		dest           destination
		wantClass      string
		wantStatus     int
		wantSuccess    bool
		wantRetryAfter bool
	}{
		{"timeout", destination{kind: connectors.KindWebhook, url: "{receiver}/hang/webhook"}, "timeout", 0, false, false},
		{"refused connection", destination{kind: connectors.KindWebhook, url: refusedURL}, "connection_error", 0, false, false},
		{"server error", destination{kind: connectors.KindWebhook, url: "{receiver}/fail/502/webhook"}, "server_error", 502, false, false},
		{"rate limited", destination{kind: connectors.KindWebhook, url: "{receiver}/fail/429/webhook"}, "rate_limited", 429, false, true},
		{"unauthorised", destination{kind: connectors.KindWebhook, url: "{receiver}/fail/401/webhook"}, "auth_error", 401, false, false},
		{"gone", destination{kind: connectors.KindWebhook, url: "{receiver}/fail/410/webhook"}, "gone", 410, false, false},
		{"accepted with empty body", destination{kind: connectors.KindTeams, url: "{receiver}/teams/workflows/x"}, "ok", 202, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newAlertServer(t, map[string]destination{"dest": tc.dest})

			rec, result := s.deliver(`{"retries": 1, "timeout_seconds": 0.3}`)

			if rec.Code != http.StatusCreated || len(result.Delivery) != 1 {
				t.Fatalf("status %d with %d deliveries, want 201 with 1: %s", rec.Code, len(result.Delivery), rec.Body.String())
			}
			d := result.Delivery[0]
			if d.ErrorClass != tc.wantClass || d.StatusCode != tc.wantStatus || d.Success != tc.wantSuccess {
				t.Errorf("result: class %q status %d success %v, want %q %d %v", d.ErrorClass, d.StatusCode, d.Success, tc.wantClass, tc.wantStatus, tc.wantSuccess)
			}
			if result.Success != tc.wantSuccess {
				t.Errorf("overall success: got %v, want %v", result.Success, tc.wantSuccess)
			}

			// The evidence row is the delivery as stored, read back through the history.
			page := s.getJSON(alertsPath + "?metadata_kind=" + alerting.KindAlertDelivery)
			var history alerting.HistoryPage
			if err := json.Unmarshal(page.Body.Bytes(), &history); err != nil || len(history.Items) != 1 {
				t.Fatalf("history: %d items, err %v", len(history.Items), err)
			}
			stored := history.Items[0].Delivery
			if stored.State != "completed" || stored.ErrorClass != tc.wantClass || stored.StatusCode != tc.wantStatus {
				t.Errorf("stored: state %q class %q status %d, want completed %q %d", stored.State, stored.ErrorClass, stored.StatusCode, tc.wantClass, tc.wantStatus)
			}
			if stored.AttemptCount < 1 || len(stored.Attempts) != stored.AttemptCount {
				t.Errorf("stored attempts: count %d with %d records, want equal and at least 1", stored.AttemptCount, len(stored.Attempts))
			}
			if tc.wantRetryAfter && stored.RetryAfter == nil {
				t.Errorf("stored retry_after: missing, want the Retry-After of the 429")
			}
			if tc.wantClass == "rate_limited" && stored.AttemptCount != 1 {
				t.Errorf("rate limited attempts: got %d, want 1 (a 120 s Retry-After is not waited for inside the request)", stored.AttemptCount)
			}
		})
	}
}

func TestDeliverRedactsSecrets(t *testing.T) {
	const (
		pathSecret  = "pathsecret0123456789"
		querySecret = "querysecret0123456789"
		tokenSecret = "tokensecret0123456789"
	)
	secrets := []string{pathSecret, querySecret, tokenSecret}

	// echo responds with the status the path requests and a body that repeats
	// the path, query and Authorization header it received.
	released := make(chan struct{})
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusInternalServerError
		switch {
		case strings.Contains(r.URL.Path, "/hang/"):
			select {
			case <-r.Context().Done():
			case <-released:
			}
			return
		case strings.Contains(r.URL.Path, "/s429/"):
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", "1")
		case strings.Contains(r.URL.Path, "/s401/"):
			status = http.StatusUnauthorized
		case strings.Contains(r.URL.Path, "/s410/"):
			status = http.StatusGone
		case strings.Contains(r.URL.Path, "/s400/"):
			status = http.StatusBadRequest
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte("rejected " + r.URL.String() + " auth=" + r.Header.Get("Authorization")))
	}))
	defer echo.Close()
	defer close(released)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	refused := "http://" + closed.Addr().String()
	_ = closed.Close()

	paths := map[string]string{
		"timeout": echo.URL + "/hang/", "refused": refused + "/", "server": echo.URL + "/s500/",
		"limited": echo.URL + "/s429/", "auth": echo.URL + "/s401/", "gone": echo.URL + "/s410/", "client": echo.URL + "/s400/",
	}
	destinations := map[string]destination{}
	for name, base := range paths {
		destinations[name] = destination{kind: connectors.KindWebhook, url: base + pathSecret + "/hook?key=" + querySecret, token: tokenSecret}
	}
	s := newAlertServer(t, destinations)

	rec, result := s.deliver(`{"retries": 1, "timeout_seconds": 0.3}`)
	if rec.Code != http.StatusCreated || len(result.Delivery) != len(paths) {
		t.Fatalf("status %d with %d deliveries, want 201 with %d", rec.Code, len(result.Delivery), len(paths))
	}
	classes := map[string]bool{}
	for _, d := range result.Delivery {
		classes[d.ErrorClass] = true
	}
	for _, class := range []string{"timeout", "connection_error", "server_error", "rate_limited", "auth_error", "gone", "client_error"} {
		if !classes[class] {
			t.Errorf("no delivery ended in class %s; got %v", class, classes)
		}
	}

	healthID := result.Health.HealthID
	outputs := map[string]string{
		"deliver JSON":   rec.Body.String(),
		"database":       s.dumpTables(),
		"history JSON":   s.getJSON(alertsPath + "?limit=500").Body.String(),
		"dashboard JSON": s.getJSON(auditDelivery + "/recovery-escalations/retry-health-alert-dashboard").Body.String(),
		"connectors":     s.getJSON(auditDelivery + "/connectors").Body.String(),
		"console HTML":   s.do(http.MethodGet, "/console?plan_id="+result.Plan.PlanID, "", "", "Accept", "text/html").Body.String(),
		"connector page": s.do(http.MethodGet, "/connectors", "", "", "Accept", "text/html").Body.String(),
		"ack page":       s.do(http.MethodGet, "/alerts/"+healthID+"/acknowledge/server", "", "", "Accept", "text/html").Body.String(),
	}
	outputs["logs"] = s.logs.String()
	for name, text := range outputs {
		if len(text) < 50 {
			t.Errorf("%s: suspiciously short output %q", name, text)
		}
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains the secret %q", name, secret)
			}
		}
	}
}

func assertNothingStored(t *testing.T, before, after map[string]int64) {
	t.Helper()
	for table, n := range after {
		if before[table] != n {
			t.Errorf("table %s: %d rows after the request, want %d (nothing stored)", table, n, before[table])
		}
	}
}

func TestAcknowledgeConcurrentRequests(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"retries": 0}`)
	path := alertsPath + "/" + result.Health.HealthID + "/acknowledgements"
	states := alerting.AcknowledgementStates()

	const requests = 20
	statuses := make(chan int, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			body := `{"provider": "alpha", "acknowledgement_state": "` + states[i%len(states)] + `"}`
			statuses <- s.postJSON(path, body).Code
		})
	}
	wg.Wait()
	close(statuses)
	for status := range statuses {
		if status != http.StatusCreated && status != http.StatusOK {
			t.Errorf("concurrent acknowledgement: status %d, want 201 or 200", status)
		}
	}

	var page alerting.HistoryPage
	rec := s.getJSON(alertsPath + "?provider=alpha&metadata_kind=" + alerting.KindAlertAcknowledgement + "&limit=100")
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		t.Fatalf("decode history: %v", err)
	}
	if page.Total != requests {
		t.Fatalf("history: got %d actions, want %d", page.Total, requests)
	}
	var newestChange string
	for _, item := range page.Items {
		if !item.Acknowledgement.Repeat {
			newestChange = item.Acknowledgement.AcknowledgementState
			break
		}
	}
	dashboard := decodeObject(t, s.getJSON(auditDelivery+"/recovery-escalations/retry-health-alert-dashboard"))
	outstanding := map[string]string{}
	for _, item := range dashboard["outstanding_acknowledgements"].([]any) {
		o := item.(map[string]any)
		outstanding[o["provider"].(string)] = o["acknowledgement_state"].(string)
	}
	state, listed := outstanding["alpha"]
	if closes := alerting.ClosesOutstanding(newestChange); closes == listed {
		t.Errorf("alpha listed as outstanding %v (state %q), but the newest change is %q", listed, state, newestChange)
	}
	if listed && state != newestChange {
		t.Errorf("alpha state: got %q, want the newest change %q", state, newestChange)
	}
}

// A state change without external_ref keeps the current reference, and the
// forms show it so a save from the browser keeps it too. An empty
// external_ref clears it.
func TestAcknowledgeKeepsReferenceOnStateChange(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	_, result := s.deliver(`{"retries": 0}`)
	healthID := result.Health.HealthID
	path := alertsPath + "/" + healthID + "/acknowledgements"
	currentRef := func(rec *httptest.ResponseRecorder) string {
		t.Helper()
		var ack alerting.AcknowledgeResult
		if err := json.Unmarshal(rec.Body.Bytes(), &ack); err != nil {
			t.Fatalf("decode %q: %v", rec.Body.String(), err)
		}
		return ack.Current.ExternalRef
	}

	s.postJSON(path, `{"provider": "alpha", "acknowledgement_state": "escalated", "external_ref": "INC-500"}`)
	resolved := s.postJSON(path, `{"provider": "alpha", "acknowledgement_state": "resolved", "notes": "fixed"}`)
	if resolved.Code != http.StatusCreated || currentRef(resolved) != "INC-500" {
		t.Errorf("state change without external_ref: status %d, reference %q; want 201 and INC-500 kept", resolved.Code, currentRef(resolved))
	}

	s.postJSON(path, `{"provider": "beta", "acknowledgement_state": "escalated", "external_ref": "INC-600"}`)
	doc := document(t, s.do(http.MethodGet, "/console", "", "", "Accept", "text/html"))
	field := byTestID(doc, "outstanding-row").Filter(`[data-provider="beta"]`).Find(`input[name="external_ref"]`)
	if got := field.AttrOr("value", ""); got != "INC-600" {
		t.Errorf("console form reference: got %q, want INC-600 prefilled", got)
	}
	page := document(t, s.do(http.MethodGet, "/alerts/"+healthID+"/acknowledge/alpha", "", "", "Accept", "text/html"))
	if got := byTestID(page, "acknowledge-form").Find(`input[name="external_ref"]`).AttrOr("value", ""); got != "INC-500" {
		t.Errorf("acknowledgement page form reference: got %q, want INC-500 prefilled", got)
	}

	cleared := s.postJSON(path, `{"provider": "alpha", "acknowledgement_state": "escalated", "external_ref": ""}`)
	if cleared.Code != http.StatusCreated || currentRef(cleared) != "" {
		t.Errorf("empty external_ref: status %d, reference %q; want 201 and the reference cleared", cleared.Code, currentRef(cleared))
	}

	form := "/console/retry-health-alerts/" + healthID + "/acknowledgements"
	withoutField := s.postForm(form, "provider=beta&acknowledgement_state=resolved", "Accept", "application/json")
	if currentRef(withoutField) != "INC-600" {
		t.Errorf("form without external_ref: reference %q, want INC-600 kept", currentRef(withoutField))
	}
	emptied := s.postForm(form, "provider=beta&acknowledgement_state=escalated&external_ref=", "Accept", "application/json")
	if currentRef(emptied) != "" {
		t.Errorf("form with an emptied external_ref: reference %q, want it cleared", currentRef(emptied))
	}
}
