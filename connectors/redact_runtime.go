package connectors

import "slices"

// expectRuntimeSecrets marks r as one that may receive secrets through
// setRuntimeSecrets, such as access tokens fetched while sending. Call it
// before LogHandler and ResponseScrubber, which otherwise skip filtering
// when no secret is configured.
func (r *Redactor) expectRuntimeSecrets() {
	r.expectsRuntime.Store(true)
}

// mayAddSecrets reports whether secrets may be registered while r is in use.
func (r *Redactor) mayAddSecrets() bool {
	return r != nil && r.expectsRuntime.Load()
}

// setRuntimeSecrets replaces the secrets registered for owner, such as a
// destination's current and previous access token, and applies them to
// every later call of r. Empty values are ignored. No secrets removes the
// owner's.
func (r *Redactor) setRuntimeSecrets(owner string, secrets ...string) {
	secrets = slices.DeleteFunc(slices.Clone(secrets), func(secret string) bool { return secret == "" })

	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Equal(r.runtime[owner], secrets) {
		return
	}
	if r.runtime == nil {
		r.runtime = map[string][]string{}
	}
	if len(secrets) == 0 {
		delete(r.runtime, owner)
	} else {
		r.runtime[owner] = secrets
	}
	r.rebuild()
}

// rebuild derives a new state from the configured and registered secrets.
// The caller holds r.mu.
func (r *Redactor) rebuild() {
	all := slices.Clone(r.configured)
	for _, owner := range sortedKeys(r.runtime) {
		all = append(all, r.runtime[owner]...)
	}
	r.state.Store(newRedactorState(all, r.ignored))
}
