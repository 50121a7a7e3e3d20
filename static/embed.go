// Package static embeds the built CSS, the vendored htmx, the small
// application script and the icon, so the binary serves them without a
// build step.
package static

import "embed"

// Files is served under /static.
//
//go:embed css js img
var Files embed.FS
