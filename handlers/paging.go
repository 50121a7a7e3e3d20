package handlers

import (
	"fmt"

	"github.com/releaseops/evidence-console/views"
)

// Paging bounds shared by every JSON and page list. maxOffset fits every
// database's 32-bit integer type.
const (
	defaultPageLimit = 50
	maxPageLimit     = 500
	maxOffset        = 1<<31 - 1
)

// pageLinks returns the links from the page of limit items at offset, among
// total matching items, to other pages. link returns the address of the
// page that starts at an offset.
//
// A page at or past the end links to no previous page, because that page
// can be past the end too. It links to the last page, which starts at the
// last multiple of limit below total, and to the first page when that is
// another page. When nothing matches, a page past the first links only to
// the first page.
func pageLinks(total int64, offset, limit int, link func(offset int) string) views.PageLinks {
	var links views.PageLinks
	switch {
	case int64(offset) < total:
		if offset > 0 {
			links.PreviousHref = link(max(offset-limit, 0))
		}
		if int64(offset+limit) < total {
			links.NextHref = link(offset + limit)
		}
	case total > 0:
		links.PastEnd = true
		lastOffset := int((total-1)/int64(limit)) * limit
		links.LastHref = link(lastOffset)
		if lastOffset > 0 {
			links.FirstHref = link(0)
		}
	case offset > 0:
		links.FirstHref = link(0)
	}
	return links
}

// limitOffsetLink returns the link function of pageLinks for a list at path
// whose only query parameters are limit and offset.
func limitOffsetLink(path string, limit int) func(offset int) string {
	return func(offset int) string {
		return fmt.Sprintf("%s?limit=%d&offset=%d", path, limit, offset)
	}
}
