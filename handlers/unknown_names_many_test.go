package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// With many unknown query parameters the 400 message lists the first ten,
// counts the rest and still lists the accepted parameters, which its fix
// needs.
func TestManyUnknownNamesKeepAcceptedList(t *testing.T) {
	s := newAuditServer(t)
	var query []string
	for i := range 300 {
		query = append(query, fmt.Sprintf("param_%03d=1", i))
	}
	rec := s.do(http.MethodGet, runtimePrefix+"?"+strings.Join(query, "&"), "", "", "Accept", "application/json")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status: got %d, want 400: %s", rec.Code, rec.Body.String())
	}
	apiErr := errorOf(t, rec.Body.String())
	if !strings.Contains(apiErr.Message, "param_009 and 290 more are not query parameters") {
		t.Errorf("message does not list ten names and count the rest: %.200s", apiErr.Message)
	}
	if !strings.Contains(apiErr.Message, strings.Join(historyParams, ", ")) {
		t.Errorf("message does not list the accepted parameters: ...%s", apiErr.Message[max(0, len(apiErr.Message)-80):])
	}
	if apiErr.Field != "param_000" {
		t.Errorf("field: got %q, want param_000", apiErr.Field)
	}
}
