package retry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
)

// holdAlertSendLeases takes, for a live run of health alert retries, the
// send lease of each alert whose retries it prepared, the lease a send of
// that alert from the console or the API holds while it plans and sends.
// A retry whose alert another send holds is marked as a yielded skip, so
// the two never reach a destination at once. A send that starts while the
// run holds the lease waits for it, and then finds the retry's success and
// suppresses the duplicate, or sends again after its failure. Each lease
// is tried once, without waiting. It returns the function that frees the
// leases once the run has recorded its outcomes; they also expire on their
// own a minute after the longest the run's sends can take, should the
// process stop.
func (s *Service) holdAlertSendLeases(ctx context.Context, run *models.RetryWorkerRun, prepared []preparedRetry) (func(), error) {
	if run.SubjectKind != models.SubjectHealthAlert {
		return func() {}, nil
	}
	now := models.UTC(s.Now())
	expires := now.Add(s.MaxSendTime(len(prepared), sendOptionsOf(*run)) + time.Minute)
	leased := map[string]bool{}
	busy := map[string]string{}
	release := func() {
		for fingerprint := range leased {
			if err := models.ReleaseAlertSendLease(context.WithoutCancel(ctx), s.DB, fingerprint, run.ID); err != nil {
				s.logger().Error("unable to free an alert send lease; it expires on its own", "worker_run_id", run.ID,
					"fingerprint", fingerprint, "expires_at", expires, "error", err)
			}
		}
	}
	for i := range prepared {
		item := &prepared[i]
		fingerprint := item.decision.SubjectKey
		if item.skipReason != "" {
			continue
		}
		_, isBusy := busy[fingerprint]
		if !leased[fingerprint] && !isBusy {
			acquired, err := models.AcquireAlertSendLease(ctx, s.DB, fingerprint, run.ID, now, expires)
			if err != nil {
				release()
				return nil, err
			}
			leased[fingerprint] = acquired
			if !acquired {
				busy[fingerprint] = s.yieldReason(ctx, fingerprint)
				isBusy = true
			}
		}
		if isBusy {
			s.logger().Info("retry skipped while its alert's send lease is held", "worker_run_id", run.ID,
				"decision_id", item.decision.ID, "fingerprint", fingerprint, "connector", item.decision.Connector)
			item.yield(busy[fingerprint])
		}
	}
	return release, nil
}

// yieldReason is the reason of a retry skipped because another holder has
// the send lease of its alert: another live run that retries the alert at
// other destinations, or a send of the alert from the console or the API.
// The holder is read after the lease was refused, so it may have been
// freed since. The reason then falls back to a send under way, as it does
// when the holder cannot be read.
func (s *Service) yieldReason(ctx context.Context, fingerprint string) string {
	holder, err := models.AlertSendLeaseHolder(ctx, s.DB, fingerprint)
	if err != nil {
		s.logger().Warn("unable to read the holder of an alert send lease", "fingerprint", fingerprint, "error", err)
	}
	if strings.HasPrefix(holder, "rwr_") {
		return fmt.Sprintf("worker run %s holds the send lease of alert %s while it retries the alert; "+
			"a later run retries this one if that run does not deliver the alert here", holder, fingerprint)
	}
	return fmt.Sprintf("a send of alert %s is under way; a later run retries if it does not reach this destination", fingerprint)
}

// yieldToAlertDeliveriesInFlight marks as yielded skips the prepared health
// alert retries whose alert has a delivery to the same destination still in
// flight, from any plan. The run holds the alert's send lease, so such a
// delivery was left by a stopped server and may have arrived. Sending the
// retry beside it could deliver the alert twice. A later run retries once
// that delivery is recorded as interrupted.
func (s *Service) yieldToAlertDeliveriesInFlight(tx *gorm.DB, run *models.RetryWorkerRun, prepared []preparedRetry) error {
	if run.SubjectKind != models.SubjectHealthAlert {
		return nil
	}
	var fingerprints []string
	for _, item := range prepared {
		if item.skipReason == "" && !slices.Contains(fingerprints, item.decision.SubjectKey) {
			fingerprints = append(fingerprints, item.decision.SubjectKey)
		}
	}
	since := models.UTC(s.Now()).Add(-max(s.inFlightTimeout(), StaleSendAfter))
	busy, err := models.InFlightDeliveriesByKey(tx.Statement.Context, tx, run.SubjectKind, fingerprints, since)
	if err != nil {
		return err
	}
	for i := range prepared {
		item := &prepared[i]
		started, ok := busy[models.DeliveryKey{SubjectKey: item.decision.SubjectKey, Connector: item.decision.Connector}]
		if item.skipReason != "" || !ok {
			continue
		}
		s.logger().Info("retry skipped while another delivery of its alert is in flight", "worker_run_id", run.ID,
			"decision_id", item.decision.ID, "fingerprint", item.decision.SubjectKey, "connector", item.decision.Connector,
			"delivery_started_at", started)
		item.yield(fmt.Sprintf("a delivery of alert %s to this destination started at %s is still in flight; a later run retries after its outcome",
			item.decision.SubjectKey, started.Format(time.RFC3339)))
	}
	return nil
}
