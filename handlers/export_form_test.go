package handlers

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/audit"
	"github.com/releaseops/evidence-console/auth"
)

// exportedManifest downloads the export at path and returns its manifest.
func exportedManifest(t *testing.T, s *auditServer, path string) audit.Manifest {
	t.Helper()
	rec := s.do(http.MethodGet, path, "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: got %d, want 200: %s", path, rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("Content-Disposition"); !strings.HasPrefix(got, "attachment;") {
		t.Errorf("Content-Disposition: got %q, want an attachment", got)
	}
	data := rec.Body.Bytes()
	reader, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("open zip: %v", err)
	}
	for _, file := range reader.File {
		if file.Name != audit.ManifestName {
			continue
		}
		rc, err := file.Open()
		if err != nil {
			t.Fatalf("open manifest: %v", err)
		}
		defer rc.Close()
		body, _ := io.ReadAll(rc)
		var manifest audit.Manifest
		if err := json.Unmarshal(body, &manifest); err != nil {
			t.Fatalf("decode manifest: %v", err)
		}
		return manifest
	}
	t.Fatal("archive has no manifest")
	return audit.Manifest{}
}

func TestExportFormDownloadsWholeDays(t *testing.T) {
	s := newAuditServer(t)
	s.actAs("auditor", auth.RoleAuditor)

	manifest := exportedManifest(t, s, "/history/export?from_date=2026-05-01&to_date=2026-05-01&kinds=deliveries&kinds=retry_executions,+deliveries&kinds=")

	wantRows := map[string]int64{"deliveries.jsonl": 11, "retry_executions.jsonl": 4}
	if len(manifest.Files) != len(wantRows) {
		t.Errorf("manifest files: got %+v, want %d files", manifest.Files, len(wantRows))
	}
	for _, file := range manifest.Files {
		if file.Rows != wantRows[file.Name] {
			t.Errorf("%s rows: got %d, want %d", file.Name, file.Rows, wantRows[file.Name])
		}
	}
	if !manifest.From.Equal(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) || !manifest.To.Equal(time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("range: got %s to %s, want the whole of 2026-05-01", manifest.From, manifest.To)
	}
}

func TestExportFormRejectsBadDays(t *testing.T) {
	s := newAuditServer(t)
	cases := []struct {
		name      string
		query     string
		wantField string
	}{
		{"missing from", "to_date=2026-05-01", "from_date"},
		{"not a day", "from_date=May+1&to_date=2026-05-01", "from_date"},
		{"to before from", "from_date=2026-05-02&to_date=2026-05-01", "to_date"},
		{"longer than a year", "from_date=2025-01-01&to_date=2026-05-01", "to_date"},
		{"no such day", "from_date=2026-13-01&to_date=2026-05-01", "from_date"},
		{"last possible year", "from_date=9999-12-31&to_date=9999-12-31", "from_date"},
		{"unknown kind", "from_date=2026-05-01&to_date=2026-05-01&kinds=passwords", "kinds"},
		{"unknown field", "from_date=2026-05-01&to_date=2026-05-01&from=x", "from"},
		{"repeated day", "from_date=2026-05-01&from_date=2026-04-01&to_date=2026-05-01", "from_date"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.do(http.MethodGet, "/history/export?"+tc.query, "", "", "Accept", "application/json")

			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status: got %d, want 400: %s", rec.Code, rec.Body.String())
			}
			if got := apiErrorOf(t, rec.Body.Bytes()).Field; got != tc.wantField {
				t.Errorf("field: got %q, want %q", got, tc.wantField)
			}
		})
	}
}

func TestExportFormErrorShownOnHistoryPage(t *testing.T) {
	s := newAuditServer(t)

	rec := s.do(http.MethodGet, "/history/export?from_date=2026-05-02&to_date=2026-05-01&kinds=deliveries", "", "", "Accept", "text/html")

	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status: got %d, want 400", rec.Code)
	}
	doc := document(t, rec)
	errorText := byTestID(doc, "export-error")
	if field, _ := errorText.Attr("data-field"); field != "to_date" {
		t.Errorf("error field: got %q, want to_date", field)
	}
	if want := "‘To day, included’ 2026-05-01 is before ‘From day’ 2026-05-02; pick a later day"; errorText.Text() != want {
		t.Errorf("error: got %q, want %q", errorText.Text(), want)
	}
	if got, _ := byTestID(doc, "export-from").Attr("value"); got != "2026-05-02" {
		t.Errorf("from day kept: got %q, want 2026-05-02", got)
	}
	to := byTestID(doc, "export-to")
	if got, _ := to.Attr("aria-invalid"); got != "true" {
		t.Errorf("to day aria-invalid: got %q, want true", got)
	}
	if got, _ := to.Attr("aria-describedby"); got != "export-error" {
		t.Errorf("to day aria-describedby: got %q, want export-error", got)
	}
	if _, focused := to.Attr("autofocus"); !focused {
		t.Error("to day autofocus: missing, want the rejected field to take the focus")
	}
	if got := doc.Find("[autofocus]").Length(); got != 1 {
		t.Errorf("autofocus: got %d elements, want only the to day", got)
	}
	checked := doc.Find(`[data-testid="export-kind"][checked]`)
	if value, _ := checked.Attr("value"); checked.Length() != 1 || value != "deliveries" {
		t.Errorf("ticked kinds: got %d (%q), want only deliveries", checked.Length(), value)
	}
	if byTestID(doc, "history-filters").Length() != 1 {
		t.Errorf("history page: not shown with the error")
	}
}

func TestExportFormByRole(t *testing.T) {
	s := newAuditServer(t)
	for _, tc := range []struct {
		role        auth.Role
		wantBlocked bool
	}{{auth.RoleAuditor, false}, {auth.RoleViewer, true}} {
		s.actAs("user-"+string(tc.role), tc.role)
		doc := document(t, s.do(http.MethodGet, "/history", "", ""))
		note := byTestID(doc, "export-blocked")
		if got := note.Length() == 1; got != tc.wantBlocked {
			t.Errorf("%s: export form blocked %t, want %t", tc.role, got, tc.wantBlocked)
		}
		if tc.wantBlocked {
			if rec := s.do(http.MethodGet, "/history/export?from_date=2026-05-01&to_date=2026-05-01", "", ""); rec.Code != http.StatusForbidden {
				t.Errorf("%s download: got %d, want 403", tc.role, rec.Code)
			}
		} else if got := byTestID(doc, "export-from").AttrOr("value", ""); got != "2026-04-25" {
			t.Errorf("%s default from day: got %q, want 2026-04-25, six days before today", tc.role, got)
		}
	}
}
