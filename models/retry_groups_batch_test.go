package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// More groups than either database binds in one statement are read in
// batches.
func TestGroupsSkippedSinceFailureManyGroups(t *testing.T) {
	db := dbtest.Open(t)
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	groups := make([]models.DeliveryGroup, 70_000)
	for i := range groups {
		groups[i] = models.DeliveryGroup{SubjectKind: models.SubjectExecutiveReport, SubjectID: fmt.Sprintf("run_%05d", i),
			Connector: "webhook", FailureCount: 1, LastFailureAt: &at}
	}
	skipped, err := models.GroupsSkippedSinceFailure(context.Background(), db, models.SubjectExecutiveReport, groups)
	if err != nil {
		t.Fatalf("GroupsSkippedSinceFailure of %d groups: %v", len(groups), err)
	}
	if len(skipped) != 0 {
		t.Errorf("skipped groups: got %d, want 0", len(skipped))
	}
}
