package models

import (
	"crypto/rand"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

var (
	entropyMu sync.Mutex
	entropy   = ulid.Monotonic(rand.Reader, 0)
)

// NewID returns an identifier made of a readable prefix and a ULID, for
// example "hlth_01JD3N0Q8R6W0X4T5Y7Z9A1B2C". IDs sort by creation time within
// one process because the ULID entropy is monotonic.
func NewID(prefix string, at time.Time) string {
	entropyMu.Lock()
	id := ulid.MustNew(ulid.Timestamp(at), entropy)
	entropyMu.Unlock()

	return prefix + "_" + strings.ToLower(id.String())
}
