package executive

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/releaseops/evidence-console/connectors"
)

// Schedule bounds and defaults, in minutes.
const (
	DefaultIntervalMinutes = 1440
	MinIntervalMinutes     = 5
	MaxIntervalMinutes     = 10080
	MaxCadenceLength       = 40
)

// Named cadences and the interval each one implies.
var namedCadences = map[string]int{"hourly": 60, "daily": 1440, "weekly": 10080}

// windowOrigin is the instant schedule windows are aligned to: a Monday at
// midnight UTC, so intervals that divide a day start at midnight UTC and a
// weekly interval starts on Monday.
var windowOrigin = time.Date(1970, 1, 5, 0, 0, 0, 0, time.UTC)

// Schedule is the schedule a run was produced under.
type Schedule struct {
	IntervalMinutes int    `json:"interval_minutes"`
	Enabled         bool   `json:"enabled"`
	Cadence         string `json:"cadence"`
}

// ScheduleInput is a schedule as requested: nil fields take their defaults.
type ScheduleInput struct {
	IntervalMinutes *int
	Enabled         *bool
	Cadence         *string
	// Secrets contains the configured destinations' secrets, which the
	// cadence must not contain. Nil contains none.
	Secrets *connectors.Redactor
}

// ResolveSchedule applies the defaults and checks the schedule.
//
// The cadence is a label of at most 40 printable characters on one line,
// without invisible formatting characters, links, credentials or a secret
// of in.Secrets. "hourly",
// "daily" and "weekly" (any case) imply an interval of 60, 1440 or 10080
// minutes: without interval_minutes they set it, and with a different
// interval_minutes they are a 422. Any other text is kept as given. Without a
// cadence, one is derived from the interval ("daily", or "every 90 minutes").
func ResolveSchedule(in ScheduleInput) (Schedule, error) {
	schedule := Schedule{IntervalMinutes: DefaultIntervalMinutes, Enabled: true}
	if in.Enabled != nil {
		schedule.Enabled = *in.Enabled
	}

	var named int
	if in.Cadence != nil {
		cadence := strings.TrimSpace(*in.Cadence)
		if cadence == "" || len([]rune(cadence)) > MaxCadenceLength {
			return schedule, &ParamError{Field: "schedule.cadence", Message: fmt.Sprintf(
				"schedule.cadence must be hourly, daily, weekly or a label of 1 to %d printable characters; got %q", MaxCadenceLength, *in.Cadence)}
		}
		if c, found := connectors.FirstControlOrSeparator(*in.Cadence); found {
			// The label is sent in every report, where a line break could
			// start a forged line.
			return schedule, &ParamError{Field: "schedule.cadence", Message: fmt.Sprintf(
				"schedule.cadence contains the %s; send hourly, daily, weekly or a label on one line, such as \"every 6 hours\"",
				connectors.DescribeControlOrSeparator(c))}
		}
		if strings.IndexFunc(*in.Cadence, isFormatCharacter) >= 0 {
			// Invisible and bidirectional characters make the label read
			// differently from what is stored and sent.
			return schedule, &ParamError{Field: "schedule.cadence", Message: "schedule.cadence contains an invisible or " +
				"bidirectional formatting character such as U+200B or U+202E; remove it and send hourly, daily, weekly " +
				"or a plain label such as \"every 6 hours\""}
		}
		if strings.Contains(cadence, "://") || in.Secrets.FindCredential(cadence) != "" {
			// The label is shown and sent in every report, so it must not
			// carry a link or credential. The value is not repeated.
			return schedule, &ParamError{Field: "schedule.cadence", Message: "schedule.cadence contains a link or " +
				"credential; send hourly, daily, weekly or a plain label such as \"every 6 hours\""}
		}
		if interval, ok := namedCadences[strings.ToLower(cadence)]; ok {
			cadence = strings.ToLower(cadence)
			named = interval
			schedule.IntervalMinutes = interval
		}
		schedule.Cadence = cadence
	}

	if in.IntervalMinutes != nil {
		interval := *in.IntervalMinutes
		if interval < MinIntervalMinutes || interval > MaxIntervalMinutes {
			return schedule, &ParamError{Field: "schedule.interval_minutes", Message: fmt.Sprintf(
				"schedule.interval_minutes must be a whole number of minutes from %d to %d; got %d", MinIntervalMinutes, MaxIntervalMinutes, interval)}
		}
		if named != 0 && interval != named {
			return schedule, &ParamError{Field: "schedule.cadence", Unprocessable: true, Message: fmt.Sprintf(
				"schedule.cadence %q means every %d minutes but schedule.interval_minutes is %d; send one of them or make them agree",
				schedule.Cadence, named, interval)}
		}
		schedule.IntervalMinutes = interval
	}

	if named == 0 && schedule.Cadence != "" && in.IntervalMinutes == nil {
		// A label such as "monthly" would otherwise get the daily default
		// and read as an interval it does not have.
		return schedule, &ParamError{Field: "schedule.interval_minutes", Unprocessable: true, Message: fmt.Sprintf(
			"schedule.interval_minutes is missing: the cadence label %q implies no interval, as only hourly, daily and weekly do; "+
				"send the interval in minutes (%d to %d) with the label", schedule.Cadence, MinIntervalMinutes, MaxIntervalMinutes)}
	}
	if schedule.Cadence == "" {
		schedule.Cadence = cadenceOf(schedule.IntervalMinutes)
	}
	return schedule, nil
}

// isFormatCharacter reports whether c is a Unicode format character
// (category Cf), such as U+200B ZERO WIDTH SPACE or U+2066 LEFT-TO-RIGHT
// ISOLATE.
func isFormatCharacter(c rune) bool {
	return unicode.Is(unicode.Cf, c)
}

// configuredSecrets returns the secrets of the configured destinations when
// Destinations is a connector registry, and nil otherwise.
func (s *Service) configuredSecrets() *connectors.Redactor {
	if registry, ok := s.Destinations.(interface{ Redactor() *connectors.Redactor }); ok {
		return registry.Redactor()
	}
	return nil
}

func cadenceOf(interval int) string {
	for name, minutes := range namedCadences {
		if minutes == interval {
			return name
		}
	}
	return fmt.Sprintf("every %d minutes", interval)
}

// Window returns the interval-aligned window [start, end) that contains at.
// Windows are aligned to windowOrigin, so consecutive windows of one interval
// never overlap and leave no gap.
func Window(at time.Time, intervalMinutes int) (start, end time.Time) {
	interval := time.Duration(intervalMinutes) * time.Minute
	elapsed := at.UTC().Sub(windowOrigin)
	index := elapsed / interval
	if elapsed < 0 && elapsed%interval != 0 {
		index--
	}
	start = windowOrigin.Add(index * interval)
	return start, start.Add(interval)
}
