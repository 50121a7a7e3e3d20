package main

import (
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/retry"
)

// retryService wires the delivery retry worker with the executive report
// message source. A nil executiveSource leaves live executive retries
// unavailable (plans and dry runs still work). The caller adds the health
// alert source to Sources.
func (a *app) retryService(db *gorm.DB, registry *connectors.Registry, now func() time.Time, executiveSource retry.MessageSource) *retry.Service {
	sources := map[string]retry.MessageSource{}
	if executiveSource != nil {
		sources[models.SubjectExecutiveReport] = executiveSource
	}
	return &retry.Service{
		DB:         db,
		Delivery:   &delivery.Service{DB: db, Sender: registry, Now: now, Logger: a.logger},
		Connectors: registry,
		Sources:    sources,
		Now:        now,
		Logger:     a.logger,
		// One quick retry inside each send; both attempts count as one failure.
		SendOptions: connectors.SendOptions{
			Retries: retry.DefaultSendRetries, Timeout: time.Duration(retry.DefaultSendTimeoutSeconds * float64(time.Second)),
		},
		InFlightTimeout: retry.DefaultInFlightTimeout,
		Concurrency:     retry.DefaultConcurrency,
	}
}
