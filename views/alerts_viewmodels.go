package views

import (
	"strconv"
	"strings"

	"github.com/a-h/templ"
)

// AlertsSectionView is the console's retry health alert section.
type AlertsSectionView struct {
	Send        AlertSendFormView
	Result      *AlertResultView
	Dashboard   []CountView
	AlertLevel  string
	Outstanding []OutstandingAckView
	// OutstandingTotal is the exact count; Outstanding lists one page.
	OutstandingTotal int64
	OutstandingPage  OutstandingPageView
	History          AlertHistoryView
	States           []string
	// AcknowledgeBlockedReason is the reason the user's role may not
	// acknowledge alerts, shown once above the disabled forms. It is empty
	// when the role may.
	AcknowledgeBlockedReason string
	// Recorded describes the acknowledgement action the user just saved,
	// or is empty.
	Recorded string
}

// AlertSendFormView holds the choices and defaults of the send form.
type AlertSendFormView struct {
	Providers []string
	// NotReady maps each destination that cannot receive an alert now to
	// the reason, so the form offers it disabled.
	NotReady map[string]string
	// Disabled lists the destinations turned off in the configuration.
	Disabled map[string]bool
	// AllBlocked is true when a send to "all" would be rejected because an
	// enabled destination is not ready.
	AllBlocked               bool
	ExpectedIntervalMinutes  int
	StaleMetadataMinutes     int
	SuppressionWindowMinutes int
	MaxAlerts                int
	Retries                  int
	TimeoutSeconds           string
	// MaxDuration is how long a send with the default options can take,
	// such as "34s".
	MaxDuration string
	// BlockedReason is the reason the user's role may not send alerts,
	// shown under the disabled form. It is empty when the role may.
	BlockedReason string
}

// AlertResultView is the outcome of one send, per destination.
type AlertResultView struct {
	HealthID     string
	PlanID       string
	AlertLevel   string
	Fingerprint  string
	Force        bool
	Success      bool
	Destinations []AlertDestinationView
}

// Outcomes of a destination in a send.
const (
	OutcomeSent       = "sent"
	OutcomeFailed     = "failed"
	OutcomeSuppressed = "suppressed"
	OutcomeInFlight   = "in_flight"
)

// AlertDestinationView is one destination of a send: sent, failed (with
// its result class), suppressed (with the reason and when) or in flight.
type AlertDestinationView struct {
	Provider string
	// Kind is the connector kind, which names the protocol of StatusCode.
	Kind       string
	Outcome    string
	Class      string
	StatusCode int
	Attempts   int
	Reason     string
	When       string
	Error      string
	AckURL     string
	// ExistingRecord is the issue or record an earlier attempt created,
	// which the delivery found instead of creating another.
	ExistingRecord string
}

// OutstandingAckView is one destination that has not closed an alert.
type OutstandingAckView struct {
	HealthID   string
	Provider   string
	State      string
	AlertLevel string
	Since      string
	AckURL     string
	FormAction string
	// ExternalRef is the current ticket reference, which the form shows so
	// that saving a new state keeps it.
	ExternalRef string
}

// OutstandingPageView places one page of the outstanding acknowledgements
// in the whole list.
type OutstandingPageView struct {
	// Showing describes which items the page lists, such as "Items 21–34 of
	// 34, newest first.", or is empty when the page lists every item.
	Showing string
	PageLinks
	// ReturnTo is the console address of this page, where an
	// acknowledgement form returns after saving.
	ReturnTo string
}

// AlertHistoryView is one page of the alert history with its filters.
type AlertHistoryView struct {
	Rows    []AlertHistoryRowView
	Total   int64
	Limit   int
	Offset  int
	Filter  AlertHistoryFilterView
	Kinds   []OptionView
	Showing string
	PageLinks
	// OutstandingLimit and OutstandingOffset keep the page of the
	// outstanding list when the filters are applied; each is empty for its
	// default.
	OutstandingLimit  string
	OutstandingOffset string
	// Error is the message that rejected the console's query, and
	// ErrorField the query parameter it names. Both are empty when the
	// filters were applied.
	Error      string
	ErrorField string
}

// AlertHistoryFilterLabels names the alert history filters' query
// parameters as the filter form labels them.
var AlertHistoryFilterLabels = map[string]string{
	"health_id": "Health id", "provider": "Destination", "metadata_kind": "Kind",
	"acknowledgement_state": "Acknowledgement state", "suppressed": "Suppressed",
}

// FilterAttributes marks the filter input named name as invalid and links
// it to the error message when the error names it.
func (v AlertHistoryView) FilterAttributes(name string) templ.Attributes {
	if v.Error == "" || v.ErrorField != name {
		return templ.Attributes{}
	}
	// The field takes the focus when the page loads, so a keyboard user
	// starts at the value to correct.
	return templ.Attributes{"aria-invalid": "true", "aria-describedby": "alert-history-error", "autofocus": true}
}

// ErrorSentence is Error ending in a full stop, so that a "Check" sentence
// can follow it.
func (v AlertHistoryView) ErrorSentence() string {
	if strings.HasSuffix(v.Error, ".") {
		return v.Error
	}
	return v.Error + "."
}

// CheckLabel is the label of the filter to check, or empty when the error
// names no filter or already names it by its label.
func (v AlertHistoryView) CheckLabel() string {
	label := AlertHistoryFilterLabels[v.ErrorField]
	if label == "" || strings.Contains(v.Error, "‘"+label+"’") {
		return ""
	}
	return label
}

// AlertHistoryFilterView is the filter state, kept in the URL.
type AlertHistoryFilterView struct {
	HealthID             string
	Provider             string
	MetadataKind         string
	AcknowledgementState string
	Suppressed           string
}

// OptionView is one option of a select.
type OptionView struct {
	Value string
	Label string
}

// AlertHistoryRowView is one plan, delivery or acknowledgement action.
type AlertHistoryRowView struct {
	Kind        string
	ID          string
	HealthID    string
	At          string
	Provider    string
	Outcome     string
	Detail      string
	ExternalRef string
	Notes       string
	Actor       string
}

// AcknowledgementPageView is one destination's page for an alert.
type AcknowledgementPageView struct {
	HealthID     string
	OccurrenceID string
	PlanID       string
	Provider     string
	AlertLevel   string
	Fingerprint  string
	EvaluatedAt  string
	Findings     []FindingView
	State        string
	Outstanding  bool
	UpdatedAt    string
	Actor        string
	ExternalRef  string
	Actions      []AckActionView
	Deliveries   []AlertDestinationView
	FormAction   string
	ReturnTo     string
	States       []string
	// AcknowledgeBlockedReason is the reason the user's role may not
	// acknowledge alerts, shown under the disabled form. It is empty when
	// the role may.
	AcknowledgeBlockedReason string
	// Other is the destination's newest outstanding acknowledgement of
	// another occurrence, or nil.
	Other *OutstandingAckView
}

// AckActionView is one acknowledgement action in the history.
type AckActionView struct {
	Sequence    int
	State       string
	Repeat      bool
	ExternalRef string
	Notes       string
	Actor       string
	At          string
}

// ConnectorView is the public-safe status of one connector.
type ConnectorView struct {
	Name        string
	Kind        string
	Enabled     bool
	Host        string
	Ready       bool
	Problem     string
	LastOutcome string
	LastClass   string
	LastStatus  int
	LastAt      string
}

// SuppressionText describes a suppression reason code in words.
func SuppressionText(reason string) string {
	if reason == "duplicate_within_window" {
		return "sent successfully inside the suppression window"
	}
	if reason == "delivery_in_flight" {
		return "an earlier delivery is still in flight, its outcome unknown"
	}
	return strings.ReplaceAll(reason, "_", " ")
}

// AlertResultSummary counts the outcomes of a send in one sentence, which
// the console reads out to screen reader users.
func AlertResultSummary(v AlertResultView) string {
	if len(v.Destinations) == 0 {
		return "Alert not sent: no destination was selected."
	}
	counts := map[string]int{}
	for _, d := range v.Destinations {
		counts[d.Outcome]++
	}
	var parts []string
	for _, outcome := range []string{OutcomeSent, OutcomeFailed, OutcomeSuppressed, OutcomeInFlight} {
		if counts[outcome] > 0 {
			parts = append(parts, strconv.Itoa(counts[outcome])+" "+strings.ReplaceAll(outcome, "_", " "))
		}
	}
	return "Alert delivery to " + CountNoun(len(v.Destinations), "destination", "destinations") + ": " + strings.Join(parts, ", ") + "."
}
