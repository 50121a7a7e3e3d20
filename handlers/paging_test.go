package handlers

import (
	"maps"
	"net/url"
	"testing"

	"github.com/PuerkitoBio/goquery"
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
