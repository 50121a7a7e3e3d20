package models

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// RecordByID reads the row of T whose primary key is id, or returns
// ErrNotFound.
func RecordByID[T any](ctx context.Context, db *gorm.DB, id string) (*T, error) {
	var record T
	err := db.WithContext(ctx).Where("id = ?", id).Take(&record).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read %T %s: %w", record, id, err)
	}
	return &record, nil
}

// AcknowledgementsOfOccurrence returns every acknowledgement action on one
// alert occurrence, oldest first.
func AcknowledgementsOfOccurrence(ctx context.Context, db *gorm.DB, occurrenceID string) ([]AlertAcknowledgement, error) {
	var acks []AlertAcknowledgement
	err := db.WithContext(ctx).Where("occurrence_id = ?", occurrenceID).
		Order("created_at, provider, sequence").Find(&acks).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the acknowledgements of %s: %w", occurrenceID, err)
	}
	return acks, nil
}

// AlertPlanDestinationsOfPlan returns the eligible destinations of one plan.
func AlertPlanDestinationsOfPlan(ctx context.Context, db *gorm.DB, planID string) ([]AlertPlanDestination, error) {
	var destinations []AlertPlanDestination
	err := db.WithContext(ctx).Where("plan_id = ?", planID).Order("provider").Find(&destinations).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the destinations of plan %s: %w", planID, err)
	}
	return destinations, nil
}
