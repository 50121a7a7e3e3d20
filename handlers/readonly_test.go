package handlers

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/releaseops/evidence-console/audit/audittest"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// TestGetRoutesWriteNothing requests every GET route without path
// parameters, over a database holding records of every kind, and checks that
// no table gained or lost a row.
func TestGetRoutesWriteNothing(t *testing.T) {
	s := newAPIServer(t)
	audittest.Seed(t, s.db)
	s.loadSample()

	var paths []string
	for key := range routePermissions {
		method, path, _ := strings.Cut(key, " ")
		if method != http.MethodGet || strings.Contains(path, ":") || strings.Contains(path, "*") {
			continue
		}
		// Routes that sign the user out or start a sign-in flow are not reads.
		if strings.HasPrefix(path, "/sign-out") || strings.HasPrefix(path, "/auth/") || strings.HasPrefix(path, "/setup") {
			continue
		}
		paths = append(paths, path)
	}
	sort.Strings(paths)
	if len(paths) < 10 {
		t.Fatalf("found %d GET routes, want the application's read routes (at least 10)", len(paths))
	}

	before := dbtest.CountRows(t, s.db)
	for _, path := range paths {
		rec := s.do(http.MethodGet, path, "", "", "Accept", "text/html")
		if rec.Code >= 500 {
			t.Errorf("GET %s: status %d, want a non-5xx response", path, rec.Code)
		}
	}
	after := dbtest.CountRows(t, s.db)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("rows in %s = %d after the GET requests, want %d", table, after[table], n)
		}
	}
	t.Logf("checked %d GET routes: %v", len(paths), paths)
}
