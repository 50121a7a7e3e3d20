package retry

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
)

// Every alert plan that sends a health alert has its own delivery group at
// each destination, so an alert that failed there in two plans has two open
// groups with the same subject key (the alert's fingerprint). Only the group
// whose latest failure is newest may be retried. The others are suppressed,
// so the destination's latest reply (its Retry-After time included) and the
// attempt count of that group govern every retry of the alert there. The
// database applies the same rule in models.GroupRules.

// alertDestination is one alert at one destination.
type alertDestination struct {
	subjectKey string
	connector  string
}

func alertDestinationOf(group models.DeliveryGroup) alertDestination {
	return alertDestination{subjectKey: group.SubjectKey, connector: group.Connector}
}

// failedAfter reports whether a's latest failure is newer than b's: later,
// or at the same time with a greater delivery ID. A group without a failure
// time is neither newer nor older than another, as in the database rules,
// where a comparison with NULL is never true.
func failedAfter(a, b models.DeliveryGroup) bool {
	if a.LastFailureAt == nil || b.LastFailureAt == nil {
		return false
	}
	if !a.LastFailureAt.Equal(*b.LastFailureAt) {
		return a.LastFailureAt.After(*b.LastFailureAt)
	}
	return a.LastFailureID > b.LastFailureID
}

// newestOpenGroups returns, for each alert and destination among the open
// groups given, the group whose latest failure is newest.
func newestOpenGroups(groups []models.DeliveryGroup) map[alertDestination]models.DeliveryGroup {
	newest := make(map[alertDestination]models.DeliveryGroup, len(groups))
	for _, group := range groups {
		if group.FailureCount == 0 || group.LastFailureAt == nil {
			continue
		}
		pair := alertDestinationOf(group)
		if current, ok := newest[pair]; !ok || failedAfter(group, current) {
			newest[pair] = group
		}
	}
	return newest
}

// supersedingGroup returns the newest open group of group's alert and
// destination when that group failed after group, or nil when group is the
// one that may be retried.
func supersedingGroup(group models.DeliveryGroup, newest map[alertDestination]models.DeliveryGroup) *models.DeliveryGroup {
	newer, ok := newest[alertDestinationOf(group)]
	if !ok || !failedAfter(newer, group) {
		return nil
	}
	return &newer
}

// supersededReason is the reason of a health alert group suppressed because
// newer, the group of another plan of the same alert, failed later at the
// same destination. newerAction is the action decided for newer, or empty
// when it is not known.
func supersededReason(subjectKey string, newer models.DeliveryGroup, newerAction string) string {
	reason := fmt.Sprintf("alert %s failed later at this destination (delivery %s of plan %s); ",
		subjectKey, newer.LastFailureID, newer.SubjectID)
	switch newerAction {
	case ActionSuppress:
		return reason + "only that failure may be retried, and it is suppressed"
	case ActionRetry, ActionWait:
		return reason + "that failure is retried instead"
	}
	return reason + "only that failure may be retried"
}

// newestAlertGroups reads the open health alert groups of subjectKeys and
// returns the newest of each alert and destination.
func newestAlertGroups(ctx context.Context, db *gorm.DB, subjectKeys []string) (map[alertDestination]models.DeliveryGroup, error) {
	seen := make(map[string]bool, len(subjectKeys))
	var keys []string
	for _, key := range subjectKeys {
		if !seen[key] {
			seen[key] = true
			keys = append(keys, key)
		}
	}
	groups, err := models.OpenDeliveryGroupsOfKeys(ctx, db, models.SubjectHealthAlert, keys)
	if err != nil {
		return nil, err
	}
	return newestOpenGroups(groups), nil
}
