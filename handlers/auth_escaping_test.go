package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestUserTextEscapedOnEveryPage stores an acknowledgement whose notes and
// external reference carry markup, then opens every page without path
// parameters and the acknowledgement page, and checks that the markup never
// comes back raw and that no javascript: reference became a link.
func TestUserTextEscapedOnEveryPage(t *testing.T) {
	s := newAlertServer(t, twoWebhooks())
	s.loadSample()
	_, result := s.deliver(`{"retries": 0}`)
	if result.Health.HealthID == "" {
		t.Fatal("deliver created no alert to acknowledge")
	}

	const notes = `<script>alert("notes")</script><img src=x onerror=alert(1)>`
	const reference = `javascript:alert("ref")`
	body, err := json.Marshal(map[string]string{
		"provider": "alpha", "acknowledgement_state": "dismissed", "notes": notes, "external_ref": reference,
	})
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	rec := s.postJSON(alertsPath+"/"+result.Health.HealthID+"/acknowledgements", string(body))
	if rec.Code != http.StatusCreated {
		t.Fatalf("acknowledge: status = %d, want 201; body: %s", rec.Code, rec.Body.String())
	}

	pages := []string{"/alerts/" + result.Health.HealthID + "/acknowledge/alpha"}
	for key := range routePermissions {
		method, path, _ := strings.Cut(key, " ")
		if method == http.MethodGet && !strings.ContainsAny(path, ":*") && !strings.HasPrefix(path, "/runtime/") &&
			path != "/setup" && !strings.HasPrefix(path, "/sign-in/oidc") {
			pages = append(pages, path)
		}
	}
	sort.Strings(pages)

	var shownOn []string
	for _, page := range pages {
		t.Run(page, func(t *testing.T) {
			rec := s.do(http.MethodGet, page+"?health_id="+url.QueryEscape(result.Health.HealthID), "", "", echo.HeaderAccept, "text/html")
			html := rec.Body.String()
			if strings.Contains(html, notes) || strings.Contains(html, "<script>alert") || strings.Contains(html, "<img src=x") {
				t.Errorf("status %d: notes rendered as markup", rec.Code)
			}
			if strings.Contains(strings.ToLower(html), `href="javascript:`) {
				t.Errorf("status %d: a javascript: reference became a link", rec.Code)
			}
			if strings.Contains(html, "&lt;script&gt;alert(&#34;notes&#34;)") {
				shownOn = append(shownOn, page)
			}
		})
	}
	if len(shownOn) == 0 {
		t.Errorf("no page showed the notes escaped; pages checked: %v", pages)
	}
	t.Logf("pages that show the escaped notes: %v", shownOn)
}
