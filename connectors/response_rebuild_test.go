package connectors

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Requests that arrive together after a secret is registered share one
// rebuild of the scrubber's patterns.
func TestScrubberRebuildsOncePerChange(t *testing.T) {
	redactor := NewRedactor("configured-secret-value-0001")
	redactor.expectRuntimeSecrets()
	scrubber := redactor.ResponseScrubber()
	scrubber.Scrub("warm-up")

	var builds atomic.Int32
	original := buildScrubberForms
	buildScrubberForms = func(state *redactorState) *scrubberForms {
		builds.Add(1)
		time.Sleep(20 * time.Millisecond)
		return original(state)
	}
	t.Cleanup(func() { buildScrubberForms = original })

	redactor.setRuntimeSecrets("access-token:sentinel", "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.runtime-token-0001")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cleaned, _, _ := scrubber.Scrub("token eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.runtime-token-0001")
			if cleaned == "token eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.runtime-token-0001" {
				t.Error("Scrub left the registered token in the body")
			}
		}()
	}
	wg.Wait()

	checkEqual(t, "rebuilds", int(builds.Load()), 1)
}
