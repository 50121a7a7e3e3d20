package retry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/releaseops/evidence-console/models"
)

// Causes of a confirmed retry that a live run did not send.
const (
	// NotSentClosed: a later delivery to the destination succeeded, so the
	// failure is no longer open.
	NotSentClosed = "closed"
	// NotSentRetriedSince: another delivery to the destination failed
	// after the confirmed one, so the retry that follows it was not shown.
	NotSentRetriedSince = "retried_since"
	// NotSentUnknown: the confirmed id names no delivery, or no failed
	// delivery of the run's kind.
	NotSentUnknown = "unknown"
)

// NotSentRetry is a retry that a person confirmed but that a live run did
// not send, because it was no longer due when the run selected. Cause is
// NotSentClosed, NotSentRetriedSince, NotSentUnknown or the action the
// retry rules now decide for the group (ActionWait, ActionSuppress, or
// ActionRetry when it is due but another retry took its place).
type NotSentRetry struct {
	FailedDeliveryID string     `json:"failed_delivery_id"`
	Provider         string     `json:"provider"`
	SubjectID        string     `json:"subject_id"`
	Cause            string     `json:"cause"`
	Reason           string     `json:"reason"`
	NextRetryAt      *time.Time `json:"next_retry_at"`
}

// confirmedNotSent returns the retries of the confirmation, by failed
// delivery ID, that are not among selected, each with the reason the
// retry rules give now. It writes nothing.
func (s *Service) confirmedNotSent(ctx context.Context, kind string, policy Policy, confirmed *Confirmation, selected []Decision, now time.Time) ([]NotSentRetry, error) {
	if confirmed == nil {
		return nil, nil
	}
	var missing []string
	for _, id := range confirmed.Retries {
		if !slices.ContainsFunc(selected, func(d Decision) bool { return d.LastDeliveryID == id }) {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	decisions, err := s.decide(ctx, kind, policy, now)
	if err != nil {
		return nil, err
	}
	notSent := make([]NotSentRetry, 0, len(missing))
	for _, id := range missing {
		item := NotSentRetry{FailedDeliveryID: id}
		failed, err := models.DeliveryByID(ctx, s.DB, id)
		if errors.Is(err, models.ErrNotFound) {
			item.Cause, item.Reason = NotSentUnknown, fmt.Sprintf("failed delivery %s was not found", id)
			notSent = append(notSent, item)
			continue
		}
		if err != nil {
			return nil, err
		}
		item.Provider, item.SubjectID = failed.Connector, failed.SubjectID
		if failed.Success || failed.SubjectKind != kind {
			// A listed id comes from a form, so it need not name a failed
			// delivery of this kind.
			item.Cause, item.Reason = NotSentUnknown, fmt.Sprintf("delivery %s is not a failed %s delivery", id, kindLabel(kind))
			notSent = append(notSent, item)
			continue
		}
		index := slices.IndexFunc(decisions, func(d Decision) bool {
			return d.SubjectID == failed.SubjectID && d.Connector == failed.Connector
		})
		switch {
		case index < 0:
			item.Cause = NotSentClosed
			item.Reason = fmt.Sprintf("no longer due: a later delivery to %s succeeded, so the failure is closed", failed.Connector)
		case decisions[index].LastDeliveryID != id:
			item.Cause = NotSentRetriedSince
			item.Reason = fmt.Sprintf("no longer due as confirmed: delivery %s to %s failed after it, so the next retry needs a new confirmation",
				decisions[index].LastDeliveryID, failed.Connector)
		default:
			decision := decisions[index]
			item.Cause, item.NextRetryAt = decision.Action, decision.NextRetryAt
			switch decision.Action {
			case ActionWait:
				item.Reason = "no longer due: " + decision.Reason
				if decision.NextRetryAt != nil {
					item.Reason = fmt.Sprintf("no longer due: it waits until %s, because %s", decision.NextRetryAt.UTC().Format(time.RFC3339), decision.Reason)
				}
			case ActionSuppress:
				item.Reason = "no longer retried: " + decision.Reason
			default:
				item.Reason = "still due, but other retries filled this run; a later run sends it"
			}
		}
		notSent = append(notSent, item)
	}
	return notSent, nil
}
