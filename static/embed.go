// Package static embeds the built CSS, the vendored htmx and the small
// application script, so the binary serves them without a build step.
package static

import "embed"

// Files is served under /static.
//
//go:embed css js
var Files embed.FS
