package handlers

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/audit/audittest"
	"github.com/releaseops/evidence-console/evidence"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// jsonPostPaths returns every JSON API POST route with its path parameters
// filled in: an unknown health snapshot and the latest schedule run.
func jsonPostPaths(t *testing.T) []string {
	t.Helper()
	var paths []string
	for key := range routePermissions {
		method, path, _ := strings.Cut(key, " ")
		if method != http.MethodPost || !strings.HasPrefix(path, runtimePrefix) {
			continue
		}
		path = strings.ReplaceAll(path, ":health_id", "hlth_missing")
		path = strings.ReplaceAll(path, ":run_id", "latest")
		if strings.Contains(path, ":") {
			t.Fatalf("route %s has a path parameter this test does not fill in", path)
		}
		paths = append(paths, path)
	}
	slices.Sort(paths)
	return paths
}

func TestJSONBodyDuplicateKeyRejected(t *testing.T) {
	s := newAPIServer(t)
	audittest.Seed(t, s.db)
	s.loadSample()
	cases := []struct {
		name, path, body string
		wantField        string
	}{
		{"top-level number", executiveRetryRunPath, `{"retries":1,"retries":2}`, "retries"},
		{"execute false then true", executiveRetryRunPath, `{"execute":false,"execute":true}`, "execute"},
		{"alert worker run execute", alertRetryPath + "/retry-worker-run", `{"execute":false,"execute":true}`, "execute"},
		{"nested policy field", executiveRetryPlanPath, `{"retry_policy":{"max_retry_attempts":1,"max_retry_attempts":2}}`,
			"retry_policy.max_retry_attempts"},
		{"nested field after others", alertRetryPath + "/retry-plan",
			`{"retry_policy":{"retry_delay_minutes":5,"backoff_multiplier":2,"retry_delay_minutes":6}}`, "retry_policy.retry_delay_minutes"},
		{"whole object twice", executiveRetryRunPath, `{"schedule":{"cadence":"a"},"schedule":{"cadence":"b"}}`, "schedule"},
		{"schedule field", executiveReportPath + "/schedule-run", `{"schedule":{"enabled":true,"enabled":false}}`, "schedule.enabled"},
		{"schedule run parameter", executiveReportPath + "/schedule-run", `{"period_days":7,"period_days":30}`, "period_days"},
		{"key written with an escape", executiveRetryRunPath, `{"dry_run":true,"dry_\u0072un":false}`, "dry_run"},
		{"same value twice", executiveRetryRunPath, `{"dry_run":true,"dry_run":true}`, "dry_run"},
		{"executive delivery destinations", executiveReportPath + "/schedule-runs/latest/deliver",
			`{"provider":"webhook","provider":"failing"}`, "provider"},
		{"alert send force", alertRetryPath + "/deliver", `{"force":false,"force":true}`, "force"},
		{"acknowledgement state", alertRetryPath + "/hlth_missing/acknowledgements",
			`{"provider":"webhook","acknowledgement_state":"acknowledged","acknowledgement_state":"resolved"}`, "acknowledgement_state"},
		{"inside an evidence record", runtimePrefix + "/evidence",
			`{"records":[{"metadata_kind":"recovery_closure"},{"metadata_kind":"a","metadata_kind":"b"}]}`, "records[1].metadata_kind"},
		{"evidence records twice", runtimePrefix + "/evidence", `{"records":[],"records":[]}`, "records"},
	}
	before := dbtest.CountRows(t, s.db)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.postJSON(tc.path, tc.body)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status: got %d, want 400: %s", rec.Code, rec.Body.String())
			}
			apiErr := errorOf(t, rec.Body.String())
			if apiErr.Field != tc.wantField {
				t.Errorf("field: got %q, want %q", apiErr.Field, tc.wantField)
			}
			if apiErr.Code != CodeInvalidField {
				t.Errorf("code: got %q, want %q", apiErr.Code, CodeInvalidField)
			}
			if want := tc.wantField + " is given twice; send it once"; apiErr.Message != want {
				t.Errorf("message: got %q, want %q", apiErr.Message, want)
			}
		})
	}
	if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
		t.Errorf("row counts after rejected bodies: got %v, want %v", after, before)
	}
}

// TestDuplicateExecuteStartsNoLiveRun sends execute twice while a retry is
// due, so a body read with the last value winning would send it.
func TestDuplicateExecuteStartsNoLiveRun(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
	before := dbtest.CountRows(t, s.db)

	rec := s.postJSON(executiveRetryRunPath, `{"execute":false,"execute":true}`)

	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status: got %d, want 400: %s", rec.Code, rec.Body.String())
	}
	if got := errorOf(t, rec.Body.String()).Field; got != "execute" {
		t.Errorf("field: got %q, want execute", got)
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
	if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
		t.Errorf("row counts: got %v, want %v", after, before)
	}

	// The same run with execute sent once is live, so the check above
	// guards a request that would otherwise send.
	rec = s.postJSON(executiveRetryRunPath, `{"execute":true}`)
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"mode":"live"`) {
		t.Fatalf("live run: got %d %s, want 201 live", rec.Code, rec.Body.String())
	}
	if got := len(s.receiver.Requests()); got != 1 {
		t.Errorf("receiver requests after the live run: got %d, want 1", got)
	}
}

func TestJSONBodyNullFieldRejected(t *testing.T) {
	s := newAPIServer(t)
	audittest.Seed(t, s.db)
	cases := []struct {
		name, path, body string
		wantField        string
		// wantExpected is the JSON value the message requests instead.
		wantExpected string
	}{
		{"worker run retries", executiveRetryRunPath, `{"retries":null}`, "retries", "a whole number"},
		{"worker run timeout", alertRetryPath + "/retry-worker-run", `{"timeout_seconds":null}`, "timeout_seconds", "a number"},
		{"worker run schedule", executiveRetryRunPath, `{"schedule":null}`, "schedule", "an object"},
		{"worker run dry_run", executiveRetryRunPath, `{"dry_run":null}`, "dry_run", "a boolean"},
		{"worker run execute", executiveRetryRunPath, `{"execute":null}`, "execute", "a boolean"},
		{"nested policy field", executiveRetryPlanPath, `{"retry_policy":{"max_retry_attempts":3,"backoff_multiplier":null}}`,
			"retry_policy.backoff_multiplier", "a number"},
		{"nested schedule cadence", executiveRetryRunPath, `{"schedule":{"cadence":null}}`, "schedule.cadence", "a string"},
		{"schedule run schedule", executiveReportPath + "/schedule-run", `{"schedule":null}`, "schedule", "an object"},
		{"schedule run period", executiveReportPath + "/schedule-run", `{"period_days":null}`, "period_days", "a whole number"},
		{"executive delivery timeout", executiveReportPath + "/schedule-runs/latest/deliver",
			`{"provider":"webhook","timeout_seconds":null}`, "timeout_seconds", "a number"},
		{"executive delivery destinations", executiveReportPath + "/schedule-runs/latest/deliver", `{"provider":null}`, "provider", "a value"},
		{"alert send retries", alertRetryPath + "/deliver", `{"retries":null}`, "retries", "a whole number"},
		{"acknowledgement notes", alertRetryPath + "/hlth_missing/acknowledgements", `{"provider":"webhook","notes":null}`, "notes", "a string"},
		{"evidence records", runtimePrefix + "/evidence", `{"records":null}`, "records", "a list"},
	}
	before := dbtest.CountRows(t, s.db)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.postJSON(tc.path, tc.body)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status: got %d, want 400: %s", rec.Code, rec.Body.String())
			}
			apiErr := errorOf(t, rec.Body.String())
			if apiErr.Field != tc.wantField {
				t.Errorf("field: got %q, want %q", apiErr.Field, tc.wantField)
			}
			if !strings.HasPrefix(apiErr.Message, tc.wantField+" is null; send "+tc.wantExpected) {
				t.Errorf("message: got %q, want it to name %s and ask for %s", apiErr.Message, tc.wantField, tc.wantExpected)
			}
			if !strings.HasSuffix(apiErr.Message, "or leave the field out if it has a default") {
				t.Errorf("message: got %q, want it to say to leave the field out", apiErr.Message)
			}
		})
	}
	if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
		t.Errorf("row counts after rejected bodies: got %v, want %v", after, before)
	}
}

// TestEvidenceRecordMayHoldNull checks that a null inside an evidence
// record is left to the evidence parser, which reads it as absent.
func TestEvidenceRecordMayHoldNull(t *testing.T) {
	s := newTestServer(t)
	record := `{"metadata_kind":"` + evidence.KindRecoveryClosure + `","closure_id":"clo_null_1","playbook_id":"pb_1",` +
		`"provider":"slack","closure_state":"resolved","closed_at":"2026-04-30T10:00:00Z","session_id":null}`

	rec := s.postJSON(runtimePrefix+"/evidence", `{"records":[`+record+`,null]}`)

	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200: %s", rec.Code, rec.Body.String())
	}
	var result struct {
		Inserted int `json:"inserted"`
		Rejected []struct {
			Index int `json:"index"`
		} `json:"rejected"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &result); err != nil {
		t.Fatal(err)
	}
	if result.Inserted != 1 {
		t.Errorf("inserted: got %d, want 1 (%s)", result.Inserted, rec.Body.String())
	}
	if len(result.Rejected) != 1 || result.Rejected[0].Index != 1 {
		t.Errorf("rejected: got %+v, want the null record at index 1 only", result.Rejected)
	}
}

// TestJSONPostBodyMustBeObject sends bodies that are not objects to every
// JSON POST route, and checks that {} and an empty body get the same response
// as before null values were rejected: the defaults, or the 400 of a
// missing required field.
func TestJSONPostBodyMustBeObject(t *testing.T) {
	s := newAPIServer(t)
	audittest.Seed(t, s.db)
	s.loadSample()
	alerts := alertRetryPath
	// defaults maps each route to the status of {} and of an empty body,
	// and for a 400 the missing field the error names.
	defaults := map[string]struct {
		status int
		field  string
	}{
		alerts + "/hlth_missing/acknowledgements":             {http.StatusBadRequest, "provider"},
		alerts + "/deliver":                                   {http.StatusCreated, ""},
		alerts + "/retry-plan":                                {http.StatusCreated, ""},
		alerts + "/retry-worker-run":                          {http.StatusCreated, ""},
		executiveRetryPlanPath:                                {http.StatusCreated, ""},
		executiveRetryRunPath:                                 {http.StatusCreated, ""},
		executiveReportPath + "/schedule-run":                 {http.StatusCreated, ""},
		executiveReportPath + "/schedule-runs/latest/deliver": {http.StatusBadRequest, "provider"},
		runtimePrefix + "/evidence":                           {http.StatusBadRequest, "records"},
	}
	notObjects := []struct{ body, kind string }{
		{"null", "null"}, {" null\n", "null"}, {"[]", "an array"}, {`[{"retries":1}]`, "an array"},
		{`"{}"`, "a string"}, {"1", "a number"}, {"-0.5", "a number"}, {"true", "a boolean"}, {"false", "a boolean"},
	}

	paths := jsonPostPaths(t)
	if len(paths) != len(defaults) {
		t.Errorf("JSON POST routes: got %d (%v), want the %d this test lists", len(paths), paths, len(defaults))
	}
	for _, path := range paths {
		want, listed := defaults[path]
		if !listed {
			t.Errorf("%s: not listed in this test; add the status of {} and of an empty body", path)
			continue
		}
		t.Run(path, func(t *testing.T) {
			before := dbtest.CountRows(t, s.db)
			for _, tc := range notObjects {
				for _, contentType := range []string{"application/json", ""} {
					rec := s.do(http.MethodPost, path, contentType, tc.body)
					if rec.Code != http.StatusBadRequest {
						t.Errorf("body %q, content type %q: got %d, want 400: %s", tc.body, contentType, rec.Code, rec.Body.String())
						continue
					}
					apiErr := errorOf(t, rec.Body.String())
					if wantMessage := "request body must be a JSON object, such as {}; got " + tc.kind; apiErr.Message != wantMessage {
						t.Errorf("body %q: message %q, want %q", tc.body, apiErr.Message, wantMessage)
					}
					if apiErr.Code != CodeMalformedBody {
						t.Errorf("body %q: code %q, want %q", tc.body, apiErr.Code, CodeMalformedBody)
					}
				}
			}
			if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
				t.Errorf("row counts after bodies that are not objects: got %v, want %v", after, before)
			}

			for _, body := range []string{"{}", " { } ", "", "  \n"} {
				for _, contentType := range []string{"application/json", ""} {
					rec := s.do(http.MethodPost, path, contentType, body)
					if rec.Code != want.status {
						t.Errorf("body %q, content type %q: got %d, want %d: %s", body, contentType, rec.Code, want.status, rec.Body.String())
						continue
					}
					if want.field == "" {
						continue
					}
					if got := errorOf(t, rec.Body.String()).Field; got != want.field {
						t.Errorf("body %q: field %q, want the missing field %q", body, got, want.field)
					}
				}
			}
		})
	}
}

func TestJSONBodyNestingLimit(t *testing.T) {
	s := newAPIServer(t)
	audittest.Seed(t, s.db)
	s.loadSample()
	nested := func(depth int) string {
		return `{"provider":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`
	}
	before := dbtest.CountRows(t, s.db)

	for _, path := range jsonPostPaths(t) {
		for _, depth := range []int{maxJSONNesting + 1, 100_000} {
			rec := s.postJSON(path, nested(depth))
			if rec.Code != http.StatusBadRequest {
				t.Errorf("%s with %d levels: status %d, want 400: %.200s", path, depth, rec.Code, rec.Body.String())
				continue
			}
			apiErr := errorOf(t, rec.Body.String())
			if apiErr.Code != CodeMalformedBody || !strings.Contains(apiErr.Message, "more than 64 levels deep") {
				t.Errorf("%s with %d levels: got code %q and message %q, want %q naming the limit",
					path, depth, apiErr.Code, apiErr.Message, CodeMalformedBody)
			}
		}
	}

	// At the limit, the body gets the field's own message instead.
	rec := s.postJSON(executiveReportPath+"/schedule-runs/latest/deliver", nested(maxJSONNesting))
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("%d levels: status %d, want 400: %s", maxJSONNesting, rec.Code, rec.Body.String())
	}
	if apiErr := errorOf(t, rec.Body.String()); apiErr.Field != "provider" {
		t.Errorf("%d levels: got field %q and message %q, want the provider field's error", maxJSONNesting, apiErr.Field, apiErr.Message)
	}
	// Brackets inside strings do not count.
	rec = s.postJSON(executiveRetryRunPath, `{"unknown_field":"`+strings.Repeat("[", 100)+`"}`)
	if apiErr := errorOf(t, rec.Body.String()); apiErr.Field != "unknown_field" {
		t.Errorf("brackets inside a string: got field %q and message %q, want the unknown field's error", apiErr.Field, apiErr.Message)
	}
	if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
		t.Errorf("row counts after rejected bodies: got %v, want %v", after, before)
	}
}
