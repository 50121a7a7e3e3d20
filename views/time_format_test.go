package views

import (
	"testing"
	"time"
)

// A time that something waits for is rounded up, so it is never shown as
// due early, and a time at which something happened is rounded down, so it
// is never shown later than recorded.
func TestTimeRoundingBySecond(t *testing.T) {
	at := time.Date(2026, 12, 5, 5, 7, 39, 600_000_000, time.UTC)
	if got := FormatTimeSeconds(at, time.UTC); got != "2026-12-05 05:07:40 UTC" {
		t.Errorf("FormatTimeSeconds: got %q, want 05:07:40", got)
	}
	if got := FormatRecordedTime(at, time.UTC); got != "2026-12-05 05:07:39 UTC" {
		t.Errorf("FormatRecordedTime: got %q, want 05:07:39", got)
	}
	whole := time.Date(2026, 12, 5, 5, 7, 39, 0, time.UTC)
	if got := FormatRecordedTime(whole, time.UTC); got != "2026-12-05 05:07:39 UTC" {
		t.Errorf("FormatRecordedTime of a whole second: got %q, want 05:07:39", got)
	}
	if got := FormatRecordedTime(time.Time{}, nil); got != "—" {
		t.Errorf("FormatRecordedTime of the zero time: got %q, want —", got)
	}
}
