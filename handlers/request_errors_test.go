package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/audit"
	"github.com/releaseops/evidence-console/audit/audittest"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// stringsOf converts a decoded JSON list of strings.
func stringsOf(value any) []string {
	list, _ := value.([]any)
	out := make([]string, 0, len(list))
	for _, item := range list {
		text, _ := item.(string)
		out = append(out, text)
	}
	return out
}

// detailList returns a list from the details object of an error.
func detailList(apiErr APIError, key string) []string {
	details, _ := apiErr.Details.(map[string]any)
	return stringsOf(details[key])
}

func TestJSONBodyUnknownNestedFieldPath(t *testing.T) {
	s := newAPIServer(t)
	audittest.Seed(t, s.db)
	alertRetry := alertRetryPath
	cases := []struct {
		name, path, body string
		wantField        string
		// wantAccepted is one field the error must list as accepted.
		wantAccepted string
	}{
		{"retry plan policy", executiveRetryPlanPath, `{"retry_policy":{"max_attempts":3}}`, "retry_policy.max_attempts", "max_retry_attempts"},
		{"retry plan policy after valid fields", executiveRetryPlanPath,
			`{"retry_policy":{"retry_delay_minutes":5,"backoff_multiplier":2,"max_attempts":3}}`, "retry_policy.max_attempts", "backoff_multiplier"},
		{"retry plan key in other case", executiveRetryPlanPath, `{"Retry_Policy":{"max_attempts":3}}`, "Retry_Policy", "retry_policy"},
		{"nested key in other case", executiveRetryPlanPath, `{"retry_policy":{"max_retry_attempts":1,"Max_Retry_Attempts":5}}`,
			"retry_policy.Max_Retry_Attempts", "max_retry_attempts"},
		{"alert retry plan policy", alertRetry + "/retry-plan", `{"retry_policy":{"delay":1}}`, "retry_policy.delay", "retry_delay_minutes"},
		{"worker run policy", executiveRetryRunPath, `{"retry_policy":{"max_attempts":3}}`, "retry_policy.max_attempts", "max_retry_attempts"},
		{"worker run schedule", executiveRetryRunPath, `{"schedule":{"every":5}}`, "schedule.every", "interval_minutes"},
		{"alert worker run schedule", alertRetry + "/retry-worker-run", `{"schedule":{"every":5}}`, "schedule.every", "cadence"},
		{"schedule run schedule", executiveReportPath + "/schedule-run", `{"schedule":{"every":5}}`, "schedule.every", "enabled"},
		{"top-level field keeps its name", executiveRetryRunPath, `{"max_attempts":3}`, "max_attempts", "max_retry_deliveries"},
		{"top-level field of the alert send", alertRetry + "/deliver", `{"provider":"all","plan":1}`, "plan", "suppression_window_minutes"},
		{"top-level field of an acknowledgement", alertRetry + "/hlth_missing/acknowledgements", `{"provider":"webhook","state":"acknowledged"}`,
			"state", "acknowledgement_state"},
		{"top-level field of the evidence", runtimePrefix + "/evidence", `{"records":[],"extra":true}`, "extra", "records"},
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
			if !strings.HasPrefix(apiErr.Message, tc.wantField+" is not a field of ") {
				t.Errorf("message: got %q, want it to start with the full path %q", apiErr.Message, tc.wantField)
			}
			if !strings.Contains(apiErr.Message, tc.wantAccepted) {
				t.Errorf("message: got %q, want it to list the accepted field %q", apiErr.Message, tc.wantAccepted)
			}
			if accepted := detailList(apiErr, "accepted_fields"); !slices.Contains(accepted, tc.wantAccepted) {
				t.Errorf("details.accepted_fields: got %v, want it to contain %q", accepted, tc.wantAccepted)
			}
		})
	}
	if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
		t.Errorf("row counts after rejected bodies: got %v, want %v", after, before)
	}

	// A valid plan is stored, so the row count check above can see a write.
	if rec := s.postJSON(executiveRetryPlanPath, `{}`); rec.Code != http.StatusCreated {
		t.Fatalf("valid plan: status %d, want 201: %s", rec.Code, rec.Body.String())
	}
	if after := dbtest.CountRows(t, s.db); sameRowCounts(before, after) {
		t.Error("row counts after a valid plan: unchanged, want the stored plan counted")
	}
}

func TestJSONBodyNumberOutOfRange(t *testing.T) {
	s := newAPIServer(t)
	audittest.Seed(t, s.db)
	s.loadSample()
	alerts := alertRetryPath
	cases := []struct {
		name, path, body string
		wantField        string
		wantLiteral      string
		// wantRange is the range the domain validation states for the field.
		wantRange string
	}{
		{"max deliveries exponent", executiveRetryRunPath, `{"max_retry_deliveries": 1e30}`, "max_retry_deliveries", "1e30", "from 1 to 25"},
		{"max deliveries twenty digits", executiveRetryRunPath, `{"max_retry_deliveries": 99999999999999999999}`,
			"max_retry_deliveries", "99999999999999999999", "from 1 to 25"},
		{"max deliveries far below", alerts + "/retry-worker-run", `{"max_retry_deliveries": -99999999999999999999}`,
			"max_retry_deliveries", "-99999999999999999999", "from 1 to 25"},
		{"policy attempts", executiveRetryPlanPath, `{"retry_policy":{"max_retry_attempts": 99999999999999999999}}`,
			"retry_policy.max_retry_attempts", "99999999999999999999", "from 1 to 20"},
		{"policy delay below", alerts + "/retry-plan", `{"retry_policy":{"retry_delay_minutes": -1e30}}`,
			"retry_policy.retry_delay_minutes", "-1e30", "from 0 to 10080"},
		{"policy multiplier beyond float64", executiveRetryPlanPath, `{"retry_policy":{"backoff_multiplier": 1e400}}`,
			"retry_policy.backoff_multiplier", "1e400", "from 1.0 to 10.0"},
		{"worker run schedule interval", executiveRetryRunPath, `{"schedule":{"interval_minutes": 1e30}}`,
			"schedule.interval_minutes", "1e30", "from 5 to 10080"},
		{"schedule run interval", executiveReportPath + "/schedule-run", `{"schedule":{"interval_minutes": 1e19}}`,
			"schedule.interval_minutes", "1e19", "from 5 to 10080"},
		{"schedule run period", executiveReportPath + "/schedule-run", `{"period_days": 9223372036854775808}`,
			"period_days", "9223372036854775808", "from 1 to 366"},
		{"executive delivery retries", executiveReportPath + "/schedule-runs/latest/deliver", `{"provider":"webhook","retries": 1e30}`,
			"retries", "1e30", "from 0 to 5"},
		{"executive delivery timeout", executiveReportPath + "/schedule-runs/latest/deliver", `{"provider":"webhook","timeout_seconds": -1e400}`,
			"timeout_seconds", "-1e400", "from 0.1 to 60"},
		{"alert max alerts", alerts + "/deliver", `{"max_alerts": 1e30}`, "max_alerts", "1e30", "from 1 to 100"},
		{"alert threshold", alerts + "/deliver", `{"expected_interval_minutes": 99999999999999999999}`,
			"expected_interval_minutes", "99999999999999999999", "from 1 to 10080"},
		{"alert timeout", alerts + "/deliver", `{"timeout_seconds": 1e309}`, "timeout_seconds", "1e309", "from 0.1 to 60"},
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
			if !strings.HasPrefix(apiErr.Message, tc.wantField+" is out of range") {
				t.Errorf("message: got %q, want it to start with %q", apiErr.Message, tc.wantField+" is out of range")
			}
			if !strings.Contains(apiErr.Message, tc.wantRange) {
				t.Errorf("message: got %q, want the range %q", apiErr.Message, tc.wantRange)
			}
			if !strings.HasSuffix(apiErr.Message, "got "+tc.wantLiteral) {
				t.Errorf("message: got %q, want it to end with the number sent, %s", apiErr.Message, tc.wantLiteral)
			}
			if strings.Contains(apiErr.Message, "JSON") {
				t.Errorf("message: got %q, want a range error, not a type error", apiErr.Message)
			}
		})
	}
	if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
		t.Errorf("row counts after rejected numbers: got %v, want %v", after, before)
	}
}

func TestJSONBodyFractionStaysTypeError(t *testing.T) {
	s := newRetryTestServer(t, nil)
	cases := []struct{ name, body, field string }{
		{"fraction", `{"max_retry_deliveries": 2.5}`, "max_retry_deliveries"},
		{"exponent in range", `{"max_retry_deliveries": 1e1}`, "max_retry_deliveries"},
		{"text before an out-of-range number", `{"retry_policy":{"max_retry_attempts":"3","retry_delay_minutes":1e30}}`,
			"retry_policy.max_retry_attempts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.postJSON(executiveRetryRunPath, tc.body)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status: got %d, want 400: %s", rec.Code, rec.Body.String())
			}
			apiErr := errorOf(t, rec.Body.String())
			if apiErr.Field != tc.field {
				t.Errorf("field: got %q, want %q", apiErr.Field, tc.field)
			}
			if !strings.Contains(apiErr.Message, "must be a JSON") {
				t.Errorf("message: got %q, want the type error", apiErr.Message)
			}
		})
	}
}

// pathTestBody has fields of every shape the body walk follows: arrays of
// objects, maps, embedded structs, numbers without a domain range and a
// range check of its own.
type pathTestBody struct {
	Items []struct {
		Name  string  `json:"name"`
		Count int32   `json:"count"`
		Size  uint8   `json:"size"`
		Ratio float32 `json:"ratio"`
	} `json:"items"`
	Groups map[string][]struct {
		ID int `json:"id"`
	} `json:"groups"`
	pathTestEmbedded
	Limit  *int `json:"limit"`
	Quoted int  `json:"quoted,string"`
	Hidden int  `json:"-"`
	// Raw and Records decode themselves, so the walk checks only their
	// keys.
	Raw     json.RawMessage   `json:"raw"`
	Records []json.RawMessage `json:"records"`
}

type pathTestEmbedded struct {
	Note string `json:"note"`
}

// checkRanges accepts limit from 1 to 10.
func (body pathTestBody) checkRanges() error {
	if body.Limit != nil && (*body.Limit < 1 || *body.Limit > 10) {
		return fieldError("limit", "limit must be a whole number from 1 to 10; got %d", *body.Limit)
	}
	return nil
}

func decodeTestBody(t *testing.T, body string) *APIError {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	c := echo.New().NewContext(req, httptest.NewRecorder())
	var dst pathTestBody
	err := decodeJSONBody(c, &dst)
	if err == nil {
		return nil
	}
	return toAPIError(err)
}

func TestDecodeJSONBodyFieldPaths(t *testing.T) {
	cases := []struct {
		name, body string
		wantField  string
		// wantMessage is a part of the message.
		wantMessage string
	}{
		{"array element field", `{"items":[{"name":"a"},{"name":"b"},{"name":"c","colour":"red"}]}`,
			"items[2].colour", "items[2].colour is not a field of items[2]; remove it, or use one of name, count, size, ratio"},
		{"key with a quote and an accent", `{"items":[{"na\u00efve\"key":1}]}`, "items[0].naïve\"key", "use one of name"},
		{"map value element", `{"groups":{"blue":[{"id":1},{"key":2}]}}`, "groups.blue[1].key", "use one of id"},
		{"embedded field is known", `{"note":"x","nope":1}`, "nope", "use one of items, groups, note, limit, quoted"},
		{"ignored field is unknown", `{"Hidden":1}`, "Hidden", "not a field of this request"},
		{"int32 in an array", `{"items":[{},{"count":2147483648}]}`, "items[1].count",
			"items[1].count is out of range; send a whole number from -2147483648 to 2147483647; got 2147483648"},
		{"negative uint8", `{"items":[{"size":-1}]}`, "items[0].size", "send a whole number from 0 to 255; got -1"},
		{"uint8 above range", `{"items":[{"size":256}]}`, "items[0].size", "from 0 to 255; got 256"},
		{"float32 above range", `{"items":[{"ratio":1e39}]}`, "items[0].ratio", "send a number from -3.4028235e+38 to 3.4028235e+38; got 1e39"},
		{"own range check", `{"limit":1e30}`, "limit", "limit is out of range: it must be a whole number from 1 to 10; got 1e30"},
		{"own range check below", `{"limit":-1e30}`, "limit", "limit is out of range: it must be a whole number from 1 to 10; got -1e30"},
		{"fraction in an array", `{"items":[{"count":1.5}]}`, "items.count", "must be a JSON whole number"},
		{"quoted number out of range", `{"quoted":"1e30"}`, "quoted", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			apiErr := decodeTestBody(t, tc.body)
			if apiErr == nil {
				t.Fatal("decode: got no error, want a 400")
			}
			if apiErr.Status != http.StatusBadRequest {
				t.Errorf("status: got %d, want 400 (%s)", apiErr.Status, apiErr.Message)
			}
			if apiErr.Field != tc.wantField {
				t.Errorf("field: got %q, want %q (%s)", apiErr.Field, tc.wantField, apiErr.Message)
			}
			if !strings.Contains(apiErr.Message, tc.wantMessage) {
				t.Errorf("message: got %q, want it to contain %q", apiErr.Message, tc.wantMessage)
			}
		})
	}

	// Field names are case-sensitive, although encoding/json would take
	// these keys.
	apiErr := decodeTestBody(t, `{"ITEMS":[{"Name":"a","COUNT":3}],"limit":5}`)
	if apiErr == nil || apiErr.Field != "ITEMS" || !strings.Contains(apiErr.Message, "case-sensitive, so use items") {
		t.Errorf("keys differing in case: got %v, want ITEMS rejected with the name items", apiErr)
	}
}

func TestDecodeJSONBodyDuplicatesAndNulls(t *testing.T) {
	cases := []struct {
		name, body string
		wantField  string
		// wantMessage is the whole message.
		wantMessage string
	}{
		{"top-level key", `{"note":"a","note":"b"}`, "note", "note is given twice; send it once"},
		{"key written with an escape", `{"note":"a","n\u006fte":"b"}`, "note", "note is given twice; send it once"},
		{"array element key", `{"items":[{"name":"a"},{"name":"b","count":1,"name":"c"}]}`, "items[1].name",
			"items[1].name is given twice; send it once"},
		{"map key", `{"groups":{"blue":[],"blue":[]}}`, "groups.blue", "groups.blue is given twice; send it once"},
		{"key inside a map value", `{"groups":{"blue":[{"id":1,"id":2}]}}`, "groups.blue[0].id", "groups.blue[0].id is given twice; send it once"},
		{"quoted field", `{"quoted":"1","quoted":"2"}`, "quoted", "quoted is given twice; send it once"},
		{"key inside a raw value", `{"raw":{"a":[{"b":1},{"b":1,"b":2}]}}`, "raw.a[1].b", "raw.a[1].b is given twice; send it once"},
		{"key inside a raw element", `{"records":[{},{"kind":"a","kind":"b"}]}`, "records[1].kind", "records[1].kind is given twice; send it once"},
		{"key inside a mismatched value", `{"note":{"a":1,"a":2}}`, "note.a", "note.a is given twice; send it once"},
		{"after a type mismatch", `{"limit":"x","limit":2}`, "limit", "limit is given twice; send it once"},
		{"null number", `{"limit":null}`, "limit", "limit is null; send a whole number, or leave the field out if it has a default"},
		{"null string", `{"note":null}`, "note", "note is null; send a string, or leave the field out if it has a default"},
		{"null list", `{"items":null}`, "items", "items is null; send a list, or leave the field out if it has a default"},
		{"null map", `{"groups":null}`, "groups", "groups is null; send an object, or leave the field out if it has a default"},
		{"null quoted field", `{"quoted":null}`, "quoted", "quoted is null; send a whole number, or leave the field out if it has a default"},
		{"null raw field", `{"raw":null}`, "raw", "raw is null; send a value, or leave the field out if it has a default"},
		{"null nested field", `{"items":[{"ratio":null}]}`, "items[0].ratio", "items[0].ratio is null; send a number, or leave the field out if it has a default"},
		{"null map value", `{"groups":{"blue":null}}`, "groups.blue", "groups.blue is null; send a list, or leave the field out if it has a default"},
		{"null array element", `{"items":[{},null]}`, "items[1]", "items[1] is null; send an object, or remove the element"},
		{"null before an unknown field", `{"note":null,"nope":1}`, "note", "note is null; send a string, or leave the field out if it has a default"},
		{"unknown field before a null", `{"nope":null,"note":null}`, "nope", "nope is not a field of this request; remove it, or use one of items, groups, note, limit, quoted, raw, records"},
		{"null before a duplicate", `{"limit":null,"note":"a","note":"b"}`, "limit", "limit is null; send a whole number, or leave the field out if it has a default"},
		{"duplicate before a null", `{"note":"a","note":"b","limit":null}`, "note", "note is given twice; send it once"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			apiErr := decodeTestBody(t, tc.body)
			if apiErr == nil {
				t.Fatal("decode: got no error, want a 400")
			}
			if apiErr.Status != http.StatusBadRequest {
				t.Errorf("status: got %d, want 400 (%s)", apiErr.Status, apiErr.Message)
			}
			if apiErr.Field != tc.wantField {
				t.Errorf("field: got %q, want %q (%s)", apiErr.Field, tc.wantField, apiErr.Message)
			}
			if apiErr.Message != tc.wantMessage {
				t.Errorf("message: got %q, want %q", apiErr.Message, tc.wantMessage)
			}
		})
	}

	// Nulls inside a value that decodes itself are left to its decoder,
	// and equal keys in different objects are not duplicates.
	for _, body := range []string{
		`{"raw":{"a":null,"b":[null]}}`,
		`{"records":[null,{"session_id":null}]}`,
		`{"items":[{"name":"a"},{"name":"b"}],"groups":{"blue":[{"id":1}],"red":[{"id":1}]}}`,
		`{"raw":[{"a":1},{"a":1}]}`,
	} {
		if apiErr := decodeTestBody(t, body); apiErr != nil {
			t.Errorf("%s: got %q, want no error", body, apiErr.Message)
		}
	}
}

func TestDecodeJSONBodyDocumentShape(t *testing.T) {
	cases := []struct {
		name, body string
		// wantMessage is the whole message, or "" for no error.
		wantMessage string
	}{
		{"empty body", "", ""},
		{"blank body", " \n\t", ""},
		{"empty object", "{}", ""},
		{"null", "null", "request body must be a JSON object, such as {}; got null"},
		{"array", `[{"note":"a"}]`, "request body must be a JSON object, such as {}; got an array"},
		{"string", `"{}"`, "request body must be a JSON object, such as {}; got a string"},
		{"number", "-1.5", "request body must be a JSON object, such as {}; got a number"},
		{"boolean", " true ", "request body must be a JSON object, such as {}; got a boolean"},
		{"trailing object", `{} {"note":"a"}`, "request body has data after the JSON object; send one object"},
		{"trailing brace", `{"note":"a"}}`, "request body has data after the JSON object; send one object"},
		{"trailing null", `{"note":"a"} null`, "request body has data after the JSON object; send one object"},
		{"truncated after a duplicate", `{"note":"a","note":"b"`, "request body is truncated JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			apiErr := decodeTestBody(t, tc.body)
			if tc.wantMessage == "" {
				if apiErr != nil {
					t.Fatalf("decode: got %q, want no error", apiErr.Message)
				}
				return
			}
			if apiErr == nil {
				t.Fatalf("decode: got no error, want %q", tc.wantMessage)
			}
			if apiErr.Status != http.StatusBadRequest || apiErr.Code != CodeMalformedBody {
				t.Errorf("status and code: got %d %q, want 400 %q", apiErr.Status, apiErr.Code, CodeMalformedBody)
			}
			if apiErr.Message != tc.wantMessage {
				t.Errorf("message: got %q, want %q", apiErr.Message, tc.wantMessage)
			}
		})
	}
}

// TestGetJSONRoutesRejectUnknownQuery sends an unknown query parameter to
// every GET route of the JSON API and checks the 400 lists exactly the
// parameters openapi.json documents for the route.
func TestGetJSONRoutesRejectUnknownQuery(t *testing.T) {
	doc := loadOpenAPI(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("build router: %v", err)
	}
	s := newAPIServer(t)
	audittest.Seed(t, s.db)

	var paths []string
	for key := range routePermissions {
		method, path, _ := strings.Cut(key, " ")
		if method == http.MethodGet && strings.HasPrefix(path, runtimePrefix) {
			paths = append(paths, path)
		}
	}
	slices.Sort(paths)
	if len(paths) < 14 {
		t.Fatalf("found %d GET routes under %s, want every JSON read route (at least 14)", len(paths), runtimePrefix)
	}

	before := dbtest.CountRows(t, s.db)
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			segments := strings.Split(path, "/")
			for i, segment := range segments {
				switch {
				case segment == ":kind":
					segments[i] = audit.ChainKinds()[0]
				case strings.HasPrefix(segment, ":"):
					segments[i] = "missing"
				}
			}
			url := strings.Join(segments, "/") + "?unknown_parameter=1"
			rec := validateCall(t, doc, router, s, http.MethodGet, url, "", http.StatusBadRequest)
			if rec == nil {
				return
			}
			apiErr := errorOf(t, rec.Body.String())
			if apiErr.Field != "unknown_parameter" {
				t.Errorf("field: got %q, want unknown_parameter", apiErr.Field)
			}
			if !strings.HasPrefix(apiErr.Message, "unknown_parameter is not a query parameter of this endpoint") {
				t.Errorf("message: got %q, want it to name unknown_parameter", apiErr.Message)
			}

			var documented []string
			if item := doc.Paths.Find(echoPathToOpenAPI(path)); item != nil && item.Get != nil {
				for _, parameter := range item.Get.Parameters {
					if parameter.Value.In == "query" {
						documented = append(documented, parameter.Value.Name)
					}
				}
			}
			accepted := detailList(apiErr, "accepted_parameters")
			for _, name := range accepted {
				if !strings.Contains(apiErr.Message, name) {
					t.Errorf("message: got %q, want it to list %s", apiErr.Message, name)
				}
			}
			slices.Sort(accepted)
			slices.Sort(documented)
			if !slices.Equal(accepted, documented) {
				t.Errorf("details.accepted_parameters: got %v, want the documented query parameters %v", accepted, documented)
			}
		})
	}
	if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
		t.Errorf("row counts after rejected queries: got %v, want %v", after, before)
	}
}

func TestUnknownQueryNamesFirstInOrder(t *testing.T) {
	s := newTestServer(t)
	rec := s.getJSON(runtimePrefix + "/dashboard?zeta=1&alpha=2")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status: got %d, want 400: %s", rec.Code, rec.Body.String())
	}
	apiErr := errorOf(t, rec.Body.String())
	if apiErr.Field != "alpha" {
		t.Errorf("field: got %q, want alpha, the first unknown parameter in sorted order", apiErr.Field)
	}
	if !strings.Contains(apiErr.Message, "takes none") {
		t.Errorf("message: got %q, want it to say the endpoint takes no parameters", apiErr.Message)
	}
}

// TestHugeNumberIsNotEchoed sends a number of 100,000 digits; the error
// names the field without repeating the whole number.
func TestHugeNumberIsNotEchoed(t *testing.T) {
	s := newAPIServer(t)
	body := `{"max_retry_deliveries":` + strings.Repeat("9", 100000) + `}`

	rec := s.postJSON(executiveRetryRunPath, body)

	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status: got %d, want 400", rec.Code)
	}
	if size := rec.Body.Len(); size > 2000 {
		t.Errorf("error size: got %d bytes, want at most 2000", size)
	}
	if !strings.Contains(rec.Body.String(), "max_retry_deliveries is out of range") {
		t.Errorf("error: got %.300s, want it to name max_retry_deliveries as out of range", rec.Body.String())
	}
}

func TestRejectedSecretIsNotEchoed(t *testing.T) {
	s := newAPIServer(t)
	cases := map[string]string{
		"too long to be a label": "https://hooks.slack.com/services/T0/B0/planted-secret-value",
		"short link":             "https://h.example/planted-secret",
		"credential":             "Bearer planted-secret",
	}
	for name, cadence := range cases {
		rec := s.postJSON(executiveReportPath+"/schedule-run", `{"schedule": {"cadence": "`+cadence+`"}}`)

		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status: got %d, want 400", name, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "planted-secret") {
			t.Errorf("%s: error repeats the secret: %s", name, rec.Body.String())
		}
		if !strings.Contains(rec.Body.String(), "schedule.cadence") {
			t.Errorf("%s: error: got %s, want it to name schedule.cadence", name, rec.Body.String())
		}
	}
}

func TestErrorMessagesKeepControlCharactersEscaped(t *testing.T) {
	s := newAPIServer(t)
	cadence := "a\\u202eb\\u0085c then a very long tail so the label is more than forty characters"

	rec := s.postJSON(executiveReportPath+"/schedule-run", `{"schedule": {"cadence": "`+cadence+`"}}`)

	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status: got %d, want 400", rec.Code)
	}
	body := rec.Body.String()
	if strings.ContainsRune(body, '\u202e') || strings.ContainsRune(body, '\u0085') {
		t.Errorf("body: got %q, want no raw control or right-to-left override character", body)
	}
	if !strings.Contains(body, `u202e`) {
		t.Errorf("body: got %s, want the right-to-left override shown escaped", body)
	}
}

func TestUnknownFieldNameIsRedacted(t *testing.T) {
	s := newAPIServer(t)

	rec := s.postJSON(executiveReportPath+"/schedule-run", `{"xoxb-123456789012-abcdefghijkl": 1}`)

	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status: got %d, want 400", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "xoxb-123456789012") {
		t.Errorf("body: got %s, want the token-like field name redacted", rec.Body.String())
	}
}

// A query number takes what a number input sends for a whole number, as a
// GET form sends it: a plus sign, a space, a fraction or text is rejected
// rather than read as the number, and an empty value gets the default.
func TestQueryNumberSyntax(t *testing.T) {
	s := newTestServer(t)
	base := runtimePrefix + "/acknowledgements/audit-delivery/recovery-escalations/retry-health?expected_interval_minutes="
	for _, value := range []string{"%2B30", "%2030", "30%20", "-30", "30.5", "0x1e"} {
		rec := s.getJSON(base + value)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "expected_interval_minutes") {
			t.Errorf("expected_interval_minutes=%s: status %d, body %s; want a 400 naming the parameter", value, rec.Code, rec.Body)
		}
	}
	for _, value := range []string{"030", "30.0", "3e1", ""} {
		if rec := s.getJSON(base + value); rec.Code != http.StatusOK {
			t.Errorf("expected_interval_minutes=%s: status %d, want 200", value, rec.Code)
		}
	}
}
