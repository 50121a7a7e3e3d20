package handlers

import (
	"regexp"
	"strings"

	"github.com/releaseops/evidence-console/views"
)

// retryPolicyLabels are the on-screen labels of the retry policy inputs,
// keyed by the field paths that errors name. A form posts the fields
// without the retry_policy prefix, and an unreadable checkbox value is
// reported under that plain name.
var retryPolicyLabels = map[string]string{
	"retry_policy.max_retry_attempts":    "Max retry attempts",
	"retry_policy.retry_delay_minutes":   "Retry delay (minutes)",
	"retry_policy.backoff_multiplier":    "Backoff multiplier",
	"retry_policy.allow_immediate_retry": "Allow immediate retry (delay 0)",
	"allow_immediate_retry":              "Allow immediate retry (delay 0)",
}

// retryRunLabels are the labels of the retry run forms, whose
// "Prepare live run…" button posts the same fields to the confirmation.
var retryRunLabels = withLabels(retryPolicyLabels, map[string]string{
	"max_retry_deliveries": "Max retry deliveries",
	"retries":              "Quick retries per delivery",
	"timeout_seconds":      "Timeout per attempt (s)",
})

// healthThresholdLabels are the labels of the threshold inputs that the
// build, send and delivery retry health forms share.
var healthThresholdLabels = map[string]string{
	"expected_interval_minutes": "Expected interval (minutes)",
	"stale_metadata_minutes":    "Stale after (minutes)",
}

// consoleFormLabels maps the route of each console form, and of the
// history page's filter and export forms, to the labels of its inputs,
// keyed by the field paths that the API's errors name. The labels must
// match the templates in views.
var consoleFormLabels = map[string]map[string]string{
	"/console/retry-health":            healthThresholdLabels,
	"/console/executive-retry/health":  healthThresholdLabels,
	"/console/executive-retry/plan":    retryPolicyLabels,
	"/console/executive-retry/run":     retryRunLabels,
	"/console/executive-retry/confirm": retryRunLabels,
	"/console/alert-retry/health":      healthThresholdLabels,
	"/console/alert-retry/plan":        retryPolicyLabels,
	"/console/alert-retry/run":         retryRunLabels,
	"/console/alert-retry/confirm":     retryRunLabels,
	"/console/executive-report/schedule": {
		"schedule.interval_minutes": "Interval (minutes)",
		"schedule.cadence":          "Cadence label",
		"schedule.enabled":          "Schedule",
		"recovery_slo_minutes":      "Recovery SLO (minutes)",
		"period_days":               "Period (days)",
	},
	"/console/executive-report/deliver": {
		"provider":        "Destinations",
		"retries":         "Quick retries",
		"timeout_seconds": "Timeout (seconds)",
	},
	"/console/retry-health-alerts": withLabels(healthThresholdLabels, map[string]string{
		"provider":                   "Destination",
		"force":                      "Force",
		"suppression_window_minutes": "Suppression window (minutes)",
		"max_alerts":                 "Findings in the message",
		"retries":                    "Quick retries",
		"timeout_seconds":            "Timeout per attempt (seconds)",
	}),
	"/console":        views.AlertHistoryFilterLabels,
	"/history":        views.HistoryFilterLabels,
	"/history/export": views.ExportFormLabels,
	"/console/retry-health-alerts/:health_id/acknowledgements": {
		"acknowledgement_state": "State",
		"external_ref":          "External reference",
		"notes":                 "Notes",
	},
}

func withLabels(base, extra map[string]string) map[string]string {
	labels := make(map[string]string, len(base)+len(extra))
	for path, label := range base {
		labels[path] = label
	}
	for path, label := range extra {
		labels[path] = label
	}
	return labels
}

// fieldPathPattern matches a field path such as retries or
// retry_policy.retry_delay_minutes.
var fieldPathPattern = regexp.MustCompile(`[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*`)

// formMessage returns the message and field that a console form shows for
// e, which the form posted to route. The JSON API's message names field
// paths. For the browser, a message written for the form (FormMessage) is
// used as is. Otherwise, when the error's field is an input of the form,
// each field path is replaced by the input's label in quotes. A path without "_" or "." is replaced only when it is
// the error's own field, because a word such as "retries" also appears in
// plain text. Quoted values are left unchanged. The field is FormField
// when set, so the page marks the input that the fix needs.
func formMessage(route string, e *APIError) (message, field string) {
	field = e.Field
	if e.FormField != "" {
		field = e.FormField
	}
	if e.FormMessage != "" {
		return e.FormMessage, field
	}
	// An error about a field that the form does not show, such as an
	// unknown field, keeps its message.
	labels := consoleFormLabels[route]
	if _, shown := labels[e.Field]; !shown {
		return e.Message, field
	}

	quoted := quotedText.FindAllStringIndex(e.Message, -1)
	var out strings.Builder
	last := 0
	for _, span := range fieldPathPattern.FindAllStringIndex(e.Message, -1) {
		path := e.Message[span[0]:span[1]]
		label, ok := labels[path]
		if !ok || insideAny(span, quoted) || (!strings.ContainsAny(path, "_.") && path != e.Field) {
			continue
		}
		// A path inside a longer word, such as a file name, is not a field.
		if span[0] > 0 && isPathCharacter(e.Message[span[0]-1]) {
			continue
		}
		out.WriteString(e.Message[last:span[0]])
		out.WriteString("‘" + label + "’")
		last = span[1]
	}
	out.WriteString(e.Message[last:])
	return out.String(), field
}

func insideAny(span []int, spans [][]int) bool {
	for _, outer := range spans {
		if span[0] >= outer[0] && span[1] <= outer[1] {
			return true
		}
	}
	return false
}

func isPathCharacter(b byte) bool {
	return b == '_' || b == '.' || b == '-' || b == '/' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
}
