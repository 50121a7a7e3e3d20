package connectors

import (
	"fmt"
	"slices"
	"strings"
)

// AllDestinations is the provider value that names every enabled
// destination.
const AllDestinations = "all"

// NameListError is an invalid provider value: an empty name between commas,
// or "all" beside other names.
type NameListError struct {
	Message string
}

func (e *NameListError) Error() string { return e.Message }

// ParseNames reads the provider values of a delivery request into
// lower-case destination names, in order and without duplicates. Each value
// may contain several names separated by commas, and a blank value is
// skipped, so the caller decides whether no name at all is valid. all is
// true when "all" is the only name. "all" beside another name, or an empty
// name between commas, is a *NameListError, because either would send to
// destinations the client did not mean.
func ParseNames(values []string) (names []string, all bool, err error) {
	for _, value := range values {
		if strings.TrimSpace(value) == "" {
			continue
		}
		for part := range strings.SplitSeq(value, ",") {
			name := strings.ToLower(strings.TrimSpace(part))
			if name == "" {
				return nil, false, &NameListError{Message: fmt.Sprintf(
					"provider %q has an empty name; separate configured connector names with single commas", value)}
			}
			if name == AllDestinations {
				all = true
			}
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	if all && len(names) > 1 {
		return nil, false, &NameListError{Message: `provider "all" cannot be combined with other names; send "all" alone`}
	}
	if all {
		return nil, true, nil
	}
	return names, false, nil
}

// NotReadyError names the enabled destinations of a delivery request that
// cannot send, such as one whose secret's environment variable is empty.
// A delivery rejects the whole request with it before anything is sent or
// recorded, as a live retry run does.
type NotReadyError struct {
	// Statuses are the statuses of the destinations that are not ready.
	Statuses []Status
	// Ready names the requested destinations that can send, which a
	// request for "all" may name instead.
	Ready []string
}

func (e *NotReadyError) Error() string {
	problems := make([]string, 0, len(e.Statuses))
	for _, status := range e.Statuses {
		problems = append(problems, fmt.Sprintf("%q is not ready: %s", status.Name, status.Problem))
	}
	// Leaving a name out of "all" is not possible, so the ready
	// destinations are named. Without one, nothing can be sent until the
	// setting is fixed.
	sent := "Nothing was sent"
	fix := "; none of the requested destinations can send until then"
	if len(e.Ready) > 0 {
		sent = "Nothing was sent, not even to the other destinations"
		fix = ", or send provider with only the destinations that are ready: " + strings.Join(e.Ready, ",")
	}
	return fmt.Sprintf("provider %s. %s. "+
		"Set what is missing in the server's environment or in CONNECTOR_CONFIG and restart the server%s",
		strings.Join(problems, ", and "), sent, fix)
}

// CheckReady returns a *NotReadyError naming each enabled destination among
// statuses that is not ready, or nil. A disabled destination is left out,
// because the caller rejects or skips it by its own rule.
func CheckReady(statuses []Status) error {
	var notReady []Status
	var ready []string
	for _, status := range statuses {
		switch {
		case status.Enabled && !status.Ready:
			notReady = append(notReady, status)
		case status.Enabled:
			ready = append(ready, status.Name)
		}
	}
	if len(notReady) == 0 {
		return nil
	}
	return &NotReadyError{Statuses: notReady, Ready: ready}
}
