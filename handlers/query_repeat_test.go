package handlers

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/audit"
	"github.com/releaseops/evidence-console/audit/audittest"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// TestGetJSONRoutesRejectRepeatedQuery repeats each query parameter that
// openapi.json documents for a GET route of the JSON API. None is a list,
// so each must be rejected rather than read as its first value.
func TestGetJSONRoutesRejectRepeatedQuery(t *testing.T) {
	doc := loadOpenAPI(t)
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

	repeated := 0
	before := dbtest.CountRows(t, s.db)
	for _, path := range paths {
		item := doc.Paths.Find(echoPathToOpenAPI(path))
		if item == nil || item.Get == nil {
			t.Errorf("%s: no GET operation in openapi.json", path)
			continue
		}
		segments := strings.Split(path, "/")
		for i, segment := range segments {
			switch {
			case segment == ":kind":
				segments[i] = audit.ChainKinds()[0]
			case strings.HasPrefix(segment, ":"):
				segments[i] = "missing"
			}
		}
		base := strings.Join(segments, "/")
		for _, parameter := range item.Get.Parameters {
			if parameter.Value.In != "query" {
				continue
			}
			name := parameter.Value.Name
			if parameter.Value.Schema != nil && parameter.Value.Schema.Value.Type.Is("array") {
				t.Errorf("%s: %s is documented as a list; this test expects none", path, name)
				continue
			}
			repeated++
			t.Run(path+"?"+name, func(t *testing.T) {
				query := url.Values{name: {"1", "2"}}
				rec := s.getJSON(base + "?" + query.Encode())
				if rec.Code != http.StatusBadRequest {
					t.Fatalf("status: got %d, want 400: %s", rec.Code, rec.Body.String())
				}
				apiErr := errorOf(t, rec.Body.String())
				if apiErr.Field != name {
					t.Errorf("field: got %q, want %q", apiErr.Field, name)
				}
				if want := name + ` is given 2 times ("1", "2"); send it once`; apiErr.Message != want {
					t.Errorf("message: got %q, want %q", apiErr.Message, want)
				}
			})
		}
	}
	if repeated < 10 {
		t.Errorf("repeated parameters tried: got %d, want every documented one (at least 10)", repeated)
	}
	if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
		t.Errorf("row counts after rejected queries: got %v, want %v", after, before)
	}
}

func TestRepeatedQueryParameterRejected(t *testing.T) {
	s := newAPIServer(t)
	audittest.Seed(t, s.db)
	cases := []struct {
		name, path, query string
		wantField         string
		wantMessage       string
	}{
		{"health threshold", auditDelivery + "/recovery-escalations/retry-health",
			"expected_interval_minutes=30&expected_interval_minutes=40", "expected_interval_minutes",
			`expected_interval_minutes is given 2 times ("30", "40"); send it once`},
		{"history destination", runtimePrefix, "provider=webhook&provider=failing", "provider",
			`provider is given 2 times ("webhook", "failing"); send it once`},
		{"same value twice", runtimePrefix, "limit=5&limit=5", "limit", `limit is given 2 times ("5", "5"); send it once`},
		{"empty values", executiveReportPath, "period_days=&period_days=", "period_days", `period_days is given 2 times ("", ""); send it once`},
		{"first repeated in sorted order", executiveRetryHealthPath,
			"stale_metadata_minutes=1&stale_metadata_minutes=2&expected_interval_minutes=1&expected_interval_minutes=2",
			"expected_interval_minutes", `expected_interval_minutes is given 2 times ("1", "2"); send it once`},
		{"many values", alertRetryPath, "limit=1&limit=2&limit=3&limit=4&limit=5", "limit",
			`limit is given 5 times ("1", "2", "3", …); send it once`},
		{"unknown named before repeated", runtimePrefix + "/dashboard", "zeta=1&zeta=2", "zeta",
			"zeta is not a query parameter of this endpoint, which takes none; remove it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.getJSON(tc.path + "?" + tc.query)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status: got %d, want 400: %s", rec.Code, rec.Body.String())
			}
			apiErr := errorOf(t, rec.Body.String())
			if apiErr.Field != tc.wantField {
				t.Errorf("field: got %q, want %q", apiErr.Field, tc.wantField)
			}
			if apiErr.Message != tc.wantMessage {
				t.Errorf("message: got %q, want %q", apiErr.Message, tc.wantMessage)
			}
		})
	}

	// Each parameter sent once is accepted.
	for _, path := range []string{
		auditDelivery + "/recovery-escalations/retry-health?expected_interval_minutes=30",
		runtimePrefix + "?provider=webhook&limit=5",
		executiveRetryHealthPath + "?stale_metadata_minutes=1&expected_interval_minutes=2",
	} {
		if rec := s.getJSON(path); rec.Code != http.StatusOK {
			t.Errorf("%s: got %d, want 200: %s", path, rec.Code, rec.Body.String())
		}
	}
}
