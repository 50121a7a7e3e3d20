package handlers

import (
	"maps"
	"net/http"
	"net/url"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/releaseops/evidence-console/views"
)

// assertPageLink checks that the element with the test id links to path
// with the query values in want. Query values not in want are not checked.
func assertPageLink(t *testing.T, doc *goquery.Document, testID, path string, want map[string]string) {
	t.Helper()
	href, ok := byTestID(doc, testID).Attr("href")
	if !ok {
		t.Errorf("%s: missing, want a link to %s", testID, path)
		return
	}
	parsed, err := url.Parse(href)
	if err != nil || parsed.Path != path {
		t.Errorf("%s: got %q, want a link to %s", testID, href, path)
		return
	}
	query := parsed.Query()
	for name, value := range want {
		if got := query.Get(name); got != value {
			t.Errorf("%s: got %s=%q in %q, want %q", testID, name, got, href, value)
		}
	}
}

// assertNoElements checks that the page has no element with any of the
// test ids.
func assertNoElements(t *testing.T, doc *goquery.Document, testIDs ...string) {
	t.Helper()
	for _, id := range testIDs {
		if got := byTestID(doc, id).Length(); got != 0 {
			t.Errorf("%s: got %d, want none", id, got)
		}
	}
}

// assertPastEndLinks checks the links that views.PastEndLinks renders with
// the test id prefix. Both go to path with the query values in want, the
// last page at lastOffset and the first page at offset 0.
func assertPastEndLinks(t *testing.T, doc *goquery.Document, prefix, path, lastOffset string, want map[string]string) {
	t.Helper()
	last := maps.Clone(want)
	last["offset"] = lastOffset
	assertPageLink(t, doc, prefix+"-last", path, last)

	first := maps.Clone(want)
	first["offset"] = "0"
	assertPageLink(t, doc, prefix+"-first", path, first)
}

func TestPageLinks(t *testing.T) {
	link := limitOffsetLink("/list", 10)
	cases := []struct {
		name   string
		total  int64
		offset int
		want   views.PageLinks
	}{
		{"first of three pages", 25, 0, views.PageLinks{NextHref: link(10)}},
		{"middle page", 25, 10, views.PageLinks{PreviousHref: link(0), NextHref: link(20)}},
		{"last page", 25, 20, views.PageLinks{PreviousHref: link(10)}},
		{"past the end of three pages", 25, 40, views.PageLinks{PastEnd: true, LastHref: link(20), FirstHref: link(0)}},
		{"past the end at a page boundary", 20, 20, views.PageLinks{PastEnd: true, LastHref: link(10), FirstHref: link(0)}},
		// The last page is the first, so only the link to it is shown.
		{"past the end of one page", 7, 30, views.PageLinks{PastEnd: true, LastHref: link(0)}},
		{"nothing matches on the first page", 0, 0, views.PageLinks{}},
		{"nothing matches past the first page", 0, 30, views.PageLinks{FirstHref: link(0)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := pageLinks(tc.total, tc.offset, 10, link); got != tc.want {
				t.Errorf("pageLinks(%d, %d, 10): got %+v, want %+v", tc.total, tc.offset, got, tc.want)
			}
		})
	}
}

func TestListPagingBoundsShared(t *testing.T) {
	s := newAPIServer(t)
	executive := auditDelivery + "/recovery-executive-report"
	alerts := auditDelivery + "/recovery-escalations/retry-health-alerts"
	lists := []string{
		runtimePrefix,
		alerts,
		alerts + "/retry-worker-runs",
		executive + "/schedule-runs",
		executive + "/delivery-retry-worker-runs",
	}
	cases := []struct {
		query      string
		wantStatus int
	}{
		{"limit=500", http.StatusOK},
		{"limit=501", http.StatusBadRequest},
		{"offset=2147483647", http.StatusOK},
		{"offset=2147483648", http.StatusBadRequest},
		{"limit=0", http.StatusBadRequest},
		{"offset=-1", http.StatusBadRequest},
	}
	for _, list := range lists {
		for _, tc := range cases {
			rec := s.getJSON(list + "?" + tc.query)
			if rec.Code != tc.wantStatus {
				t.Errorf("%s?%s: status = %d, want %d (body %.300s)", list, tc.query, rec.Code, tc.wantStatus, rec.Body.String())
			}
		}
	}
}
