package handlers

import (
	"net/http"
	"strings"
	"testing"
)

// A request with several unknown query parameters or form fields gets one
// 400 that names all of them in sorted order, with the first as its field.
func TestUnknownNamesAllListed(t *testing.T) {
	s := newAuditServer(t)
	cases := []struct {
		name, path  string
		wantField   string
		wantMessage string
	}{
		{"history", runtimePrefix + "?foo=1&bar=2", "bar",
			"bar and foo are not query parameters of this endpoint; remove them, or use one of " + strings.Join(historyParams, ", ")},
		{"alert history", alertRetryPath + "?zeta=1&alpha=2&mid=3", "alpha",
			"alpha, mid and zeta are not query parameters of this endpoint; remove them, or use one of " + strings.Join(alertHistoryParams, ", ")},
		{"endpoint without parameters", runtimePrefix + "/dashboard?b=1&a=1", "a",
			"a and b are not query parameters of this endpoint, which takes none; remove them"},
		{"one unknown", runtimePrefix + "?foo=1&limit=5", "foo",
			"foo is not a query parameter of this endpoint; remove it, or use one of " + strings.Join(historyParams, ", ")},
		{"export form", "/history/export?from_date=2026-05-01&to_date=2026-05-01&zz=1&from=x", "from",
			"from and zz are not fields of the export form; remove them, or use one of from_date, to_date, kinds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.do(http.MethodGet, tc.path, "", "", "Accept", "application/json")
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

	rec := s.postForm("/console/retry-health", "zeta=1&expected_interval_minutes=30&alpha=2", "Accept", "application/json")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("form status: got %d, want 400: %s", rec.Code, rec.Body.String())
	}
	apiErr := errorOf(t, rec.Body.String())
	if apiErr.Field != "alpha" {
		t.Errorf("form field: got %q, want alpha", apiErr.Field)
	}
	want := "alpha and zeta are not fields of this form; remove them, or use one of " + strings.Join(thresholdParams, ", ")
	if apiErr.Message != want {
		t.Errorf("form message: got %q, want %q", apiErr.Message, want)
	}
}
