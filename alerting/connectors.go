package alerting

import (
	"context"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
)

// ConnectorStatus is the public-safe status of one configured connector
// with the outcome of its newest completed delivery.
type ConnectorStatus struct {
	connectors.Status
	LastResult *LastResult `json:"last_result"`
}

// LastResult is the outcome of a connector's newest completed delivery.
type LastResult struct {
	DeliveryID  string     `json:"delivery_id"`
	SubjectKind string     `json:"subject_kind"`
	Success     bool       `json:"success"`
	Class       string     `json:"class"`
	StatusCode  int        `json:"status_code"`
	CompletedAt *time.Time `json:"completed_at"`
}

// Connectors returns every configured connector's readiness and last result.
func (s *Service) Connectors(ctx context.Context) ([]ConnectorStatus, error) {
	statuses := s.Destinations.Statuses()
	last, err := models.LastDeliveryPerConnector(ctx, s.DB, s.Destinations.Names())
	if err != nil {
		return nil, err
	}
	out := make([]ConnectorStatus, 0, len(statuses))
	for _, status := range statuses {
		item := ConnectorStatus{Status: status}
		if d, ok := last[status.Name]; ok {
			item.LastResult = &LastResult{
				DeliveryID: d.ID, SubjectKind: d.SubjectKind, Success: d.Success, Class: d.ErrorClass,
				StatusCode: d.StatusCode, CompletedAt: d.CompletedAt,
			}
		}
		out = append(out, item)
	}
	return out, nil
}

// Providers returns the configured destination names, lower-case and sorted.
func (s *Service) Providers() []string {
	return s.Destinations.Names()
}
