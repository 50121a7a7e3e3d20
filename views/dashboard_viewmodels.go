package views

import (
	"strconv"
	"strings"

	"github.com/a-h/templ"
)

// DashboardView is the rollback drill notification dashboard: the overall
// alert level with its reasons, and count cards in groups.
type DashboardView struct {
	AlertLevel string
	Reasons    []string
	// NoHealthEvaluation is true while no health evaluation is stored, so
	// the level covers deliveries and acknowledgements only.
	NoHealthEvaluation bool
	Groups             []DashboardGroup
}

// DashboardGroup is one titled row of count cards.
type DashboardGroup struct {
	Title string
	Cards []DashboardCard
}

// DashboardCard is one count with a link to the history it counts.
type DashboardCard struct {
	Key   string
	Label string
	Value string
	Href  string
	// Note names what the link opens when that is more than the records
	// counted, or is empty.
	Note string
}

// HistoryView is one page of the combined history with its filter state.
type HistoryView struct {
	Provider                string
	MetadataKind            string
	AcknowledgementState    string
	ConnectorDeliverySource string
	DeliverySuccess         string
	AlertLevel              string
	Limit                   int
	Offset                  int
	Total                   int64
	MetadataKinds           []string
	Rows                    []HistoryRow
	PageLinks
	Export ExportFormView
	// Error is the message that rejected the filters, and ErrorField the
	// query parameter it names. LimitText is the per-page value as typed,
	// shown when it was rejected.
	Error      string
	ErrorField string
	LimitText  string
}

// PastEndMessage explains that a page past the end shows no rows, although
// records match.
func (v HistoryView) PastEndMessage() string {
	return PastEndText(v.Total, v.Offset, "matching record", "matching records", "record")
}

// HistoryFilterLabels names the history filters' query parameters as the
// filter form labels them. The offset parameter has no input, so it is
// named as the address has it.
var HistoryFilterLabels = map[string]string{
	"metadata_kind": "Record kind", "provider": "Destination", "connector_delivery_source": "Delivery source",
	"delivery_success": "Delivery outcome", "alert_level": "Alert level", "acknowledgement_state": "Acknowledgement",
	"limit": "Per page",
}

// FilterAttributes marks the filter input named name as invalid and links
// it to the error message when the error names it.
func (v HistoryView) FilterAttributes(name string) templ.Attributes {
	if v.Error == "" || v.ErrorField != name {
		return templ.Attributes{}
	}
	// The field takes the focus when the page loads, so a keyboard user
	// starts at the value to correct.
	return templ.Attributes{"aria-invalid": "true", "aria-describedby": "history-error", "autofocus": true}
}

// CheckLabel is the label of the filter to check, or empty when the error
// names no filter or already names it by its label.
func (v HistoryView) CheckLabel() string {
	label := HistoryFilterLabels[v.ErrorField]
	if label == "" || strings.Contains(v.Error, "‘"+label+"’") {
		return ""
	}
	return label
}

// LimitValue is the per-page value the filter form shows.
func (v HistoryView) LimitValue() string {
	if v.LimitText != "" {
		return v.LimitText
	}
	return strconv.Itoa(v.Limit)
}

// ExportFormView is the evidence export form of the history page.
type ExportFormView struct {
	// FromDate and ToDate are the default days, YYYY-MM-DD, in TimeZone.
	FromDate string
	ToDate   string
	TimeZone string
	Kinds    []string
	// BlockedReason is the reason the user's role may not export, or empty.
	BlockedReason string
	// Checked lists the kinds ticked in a submitted form.
	Checked []string
	// Error is the message of a rejected submission and ErrorField the
	// field it names, or both are empty.
	Error      string
	ErrorField string
}

// ExportFormLabels names the export form's fields as the form labels them.
var ExportFormLabels = map[string]string{
	"from_date": "From day", "to_date": "To day, included", "kinds": "Kinds",
}

// FieldAttributes marks the export input named name as invalid and links
// it to the error message when the error names it. The input takes the
// focus when the page loads, so a keyboard user starts at the value to
// correct.
func (v ExportFormView) FieldAttributes(name string) templ.Attributes {
	if v.Error == "" || v.ErrorField != name {
		return templ.Attributes{}
	}
	return templ.Attributes{"aria-invalid": "true", "aria-describedby": "export-error", "autofocus": true}
}

// HistoryRow is one record of the combined history. AuditHref is empty for
// kinds without an audit chain page.
type HistoryRow struct {
	Kind      string
	ID        string
	CreatedAt string
	Provider  string
	Level     string
	Source    string
	Success   string
	Status    string
	// Repeat marks a repeated acknowledgement action.
	Repeat    bool
	Actor     string
	ParentID  string
	AuditHref string
}

// AuditChainView is the chain of records behind one record.
type AuditChainView struct {
	Kind     string
	ID       string
	JSONHref string
	Links    []AuditLinkView
	Missing  []string
}

// AuditLinkView is one record of a chain. Href is empty when the record has
// no chain page of its own or is the traced record itself.
type AuditLinkView struct {
	Kind     string
	ID       string
	Relation string
	At       string
	Actor    string
	Provider string
	Status   string
	Detail   string
	// IdempotencyKey is empty for records that send no message.
	IdempotencyKey string
	Href           string
}
