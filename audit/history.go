package audit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/releaseops/evidence-console/models"
)

// Paging bounds of the combined history.
const (
	DefaultHistoryLimit = 50
	MaxHistoryLimit     = 500
)

// MaxFilterLength is the maximum length in characters of a text filter's
// value, such as provider or health_id, on the combined history and the
// alert history. Stored ids, names and states have at most 200 characters,
// so a longer value would match nothing.
const MaxFilterLength = 200

// Delivery sources: the subject kind of the deliveries a record belongs to.
var deliverySources = []string{models.SubjectHealthAlert, models.SubjectExecutiveReport}

// acknowledgementStates are the states an acknowledgement action can record;
// pending is the state before any action, so no action carries it.
var acknowledgementStates = []string{
	models.AcknowledgementAcknowledged, models.AcknowledgementDismissed,
	models.AcknowledgementEscalated, models.AcknowledgementResolved,
}

var alertLevels = []string{LevelHealthy, LevelWarning, LevelCritical}

// FieldError is an invalid query parameter, named so the caller can fix it.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Message }

func fieldErrorf(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// HistoryQuery selects combined history items; see models.HistoryFilter for
// which kinds each filter keeps. DeliverySuccess nil matches everything.
type HistoryQuery struct {
	Provider                string
	MetadataKind            string
	AcknowledgementState    string
	ConnectorDeliverySource string
	DeliverySuccess         *bool
	AlertLevel              string
	Limit                   int
	Offset                  int
}

// MetadataKinds lists the history item kinds, one per stored record type.
func MetadataKinds() []string { return slices.Clone(models.HistoryKinds) }

// Validate checks the query and returns a *FieldError naming the first
// invalid field. It lower-cases the provider.
func (q *HistoryQuery) Validate() error {
	q.Provider = strings.ToLower(strings.TrimSpace(q.Provider))
	checks := []struct {
		field, value string
		allowed      []string
	}{
		{"metadata_kind", q.MetadataKind, models.HistoryKinds},
		{"acknowledgement_state", q.AcknowledgementState, acknowledgementStates},
		{"connector_delivery_source", q.ConnectorDeliverySource, deliverySources},
		{"alert_level", q.AlertLevel, alertLevels},
	}
	for _, check := range checks {
		if check.value != "" && !slices.Contains(check.allowed, check.value) {
			return fieldErrorf(check.field, "%s %q is not valid; send one of %s",
				check.field, check.value, strings.Join(check.allowed, ", "))
		}
	}
	if q.Limit < 1 || q.Limit > MaxHistoryLimit {
		return fieldErrorf("limit", "limit must be a whole number from 1 to %d; got %d", MaxHistoryLimit, q.Limit)
	}
	if q.Offset < 0 {
		return fieldErrorf("offset", "offset must be a whole number of 0 or more; got %d", q.Offset)
	}
	return nil
}

// HistoryItem is one record of the combined history. Provider, AlertLevel,
// AcknowledgementState and ConnectorDeliverySource are empty and
// DeliverySuccess is null when the kind does not carry them. The Provider of
// an alert or retry plan lists the destinations it includes,
// comma-separated in name order, which the provider filter matches one of. ParentID is the
// record one step up the chain (the health snapshot of an alert plan, the
// subject of a delivery, the worker run of an execution). The Status of a
// worker run is its mode and state, such as "live running".
type HistoryItem struct {
	MetadataKind            string    `json:"metadata_kind"`
	ID                      string    `json:"id"`
	CreatedAt               time.Time `json:"created_at"`
	Provider                string    `json:"provider"`
	AlertLevel              string    `json:"alert_level"`
	AcknowledgementState    string    `json:"acknowledgement_state"`
	ConnectorDeliverySource string    `json:"connector_delivery_source"`
	DeliverySuccess         *bool     `json:"delivery_success"`
	Status                  string    `json:"status"`
	// Repeat is true for an acknowledgement action that sent the state that
	// was already current, which changed nothing but its reference.
	Repeat   bool   `json:"repeat"`
	Actor    string `json:"actor"`
	ParentID string `json:"parent_id"`
	// AuditKind is the audit chain kind of this record, or "" when the
	// record has no audit chain page of its own.
	AuditKind string `json:"audit_kind"`
}

// HistoryPage is one page of the combined history, newest first.
type HistoryPage struct {
	Items  []HistoryItem `json:"items"`
	Total  int64         `json:"total"`
	Limit  int           `json:"limit"`
	Offset int           `json:"offset"`
}

// History returns one page of the combined history. The query must be valid.
func (s *Service) History(ctx context.Context, q HistoryQuery) (HistoryPage, error) {
	if err := q.Validate(); err != nil {
		return HistoryPage{}, err
	}
	filter := models.HistoryFilter{
		Provider: q.Provider, AlertLevel: q.AlertLevel, AcknowledgementState: q.AcknowledgementState,
		Source: q.ConnectorDeliverySource, DeliverySuccess: q.DeliverySuccess, Limit: q.Limit, Offset: q.Offset,
	}
	if q.MetadataKind != "" {
		filter.Kinds = []string{q.MetadataKind}
	}
	total, err := s.historyTotal(ctx, filter)
	if err != nil {
		return HistoryPage{}, err
	}
	rows, err := models.HistoryPage(ctx, s.DB, filter)
	if err != nil {
		return HistoryPage{}, err
	}
	page := HistoryPage{Items: make([]HistoryItem, 0, len(rows)), Total: total, Limit: q.Limit, Offset: q.Offset}
	for _, row := range rows {
		page.Items = append(page.Items, HistoryItem{
			MetadataKind: row.Kind, ID: row.ID, CreatedAt: row.CreatedAt, Provider: row.Provider,
			AlertLevel: row.AlertLevel, AcknowledgementState: row.AcknowledgementState,
			ConnectorDeliverySource: row.Source, DeliverySuccess: row.Success, Status: row.Status, Repeat: row.Repeat,
			Actor: row.Actor, ParentID: row.ParentID, AuditKind: auditKindOf(row.Kind),
		})
	}
	return page, nil
}

// historyTotal counts the matching records. Without filters it adds up the
// running totals, whose cost does not grow with the stored records. With
// filters it counts the matching rows, so its cost grows with the matches.
func (s *Service) historyTotal(ctx context.Context, filter models.HistoryFilter) (int64, error) {
	unfiltered := len(filter.Kinds) == 0 && filter.Provider == "" && filter.AlertLevel == "" &&
		filter.AcknowledgementState == "" && filter.Source == "" && filter.DeliverySuccess == nil
	if !unfiltered {
		return models.CountHistory(ctx, s.DB, filter)
	}
	counts, err := models.AuditCounts(ctx, s.DB)
	if err != nil {
		return 0, err
	}
	var total int64
	for name, value := range counts {
		if historyCounter(name) {
			total += value
		}
	}
	return total, nil
}

// historyCounter reports whether a running total counts records of a
// combined history kind (each record under exactly one such counter).
func historyCounter(name string) bool {
	prefix, _, _ := strings.Cut(name, ":")
	switch prefix {
	case "health_snapshot", "alert_plan", "delivery", "acknowledgement", "executive_report", "schedule_run",
		"retry_plan", "retry_worker_run", "retry_execution":
		return true
	}
	return false
}
