package audit

import (
	"context"
	"time"

	"github.com/releaseops/evidence-console/models"
)

// CompactCounts folds the pending dashboard count deltas into the running
// totals. Reads stay exact without it; it keeps their cost small.
func (s *Service) CompactCounts(ctx context.Context) error {
	return models.CompactAuditCounts(ctx, s.DB)
}

// RunCompaction calls CompactCounts every interval until ctx ends, so the
// dashboard's GET endpoints never write. Failures are logged and retried at
// the next tick.
func (s *Service) RunCompaction(ctx context.Context, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if err := s.CompactCounts(ctx); err != nil && ctx.Err() == nil && s.Logger != nil {
				s.Logger.Error("dashboard count compaction failed", "error", err)
			}
		}
	}
}
