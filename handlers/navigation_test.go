package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/auth"
)

func TestExecutiveLinksFollowRole(t *testing.T) {
	cases := []struct {
		role      auth.Role
		wantLinks int
	}{
		{auth.RoleViewer, 0},
		{auth.RoleExecutive, 1},
	}
	for _, tc := range cases {
		t.Run(string(tc.role), func(t *testing.T) {
			s := newTestServer(t)
			s.actAs("user-"+string(tc.role), tc.role)

			rec := s.do(http.MethodGet, "/console", "", "", "Accept", "text/html")

			if rec.Code != http.StatusOK {
				t.Fatalf("console: got %d, want 200", rec.Code)
			}
			doc := document(t, rec)
			if got := byTestID(doc, "nav-Executive report").Length(); got != tc.wantLinks {
				t.Errorf("navigation link to the executive report: got %d, want %d", got, tc.wantLinks)
			}
			if got := byTestID(doc, "executive-runs-link").Length(); got != tc.wantLinks {
				t.Errorf("link to all schedule runs: got %d, want %d", got, tc.wantLinks)
			}
		})
	}
}

func TestPagesLinkTheirIcon(t *testing.T) {
	s := newTestServer(t)

	doc := document(t, s.do(http.MethodGet, "/console", "", "", "Accept", "text/html"))
	href, ok := doc.Find(`link[rel="icon"]`).Attr("href")
	if !ok {
		t.Fatal("console: no icon link, so browsers request /favicon.ico and get a 404")
	}
	rec := s.do(http.MethodGet, href, "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: got %d, want 200", href, rec.Code)
	}
	if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "image/svg+xml") {
		t.Errorf("GET %s Content-Type: got %q, want image/svg+xml", href, got)
	}
}
