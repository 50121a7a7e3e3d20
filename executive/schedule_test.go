package executive

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/connectors"
)

func TestWindowBoundaries(t *testing.T) {
	at := func(value string) time.Time {
		parsed, err := time.Parse(time.RFC3339Nano, value)
		if err != nil {
			t.Fatalf("parse %s: %v", value, err)
		}
		return parsed
	}
	cases := []struct {
		name      string
		interval  int
		now       string
		wantStart string
		wantEnd   string
	}{
		// Below an hour: 15-minute windows start at :00, :15, :30, :45.
		{"15 min, last instant", 15, "2026-03-06T10:14:59.999999Z", "2026-03-06T10:00:00Z", "2026-03-06T10:15:00Z"},
		{"15 min, boundary", 15, "2026-03-06T10:15:00Z", "2026-03-06T10:15:00Z", "2026-03-06T10:30:00Z"},
		{"5 min, minimum interval", 5, "2026-03-06T10:04:00Z", "2026-03-06T10:00:00Z", "2026-03-06T10:05:00Z"},
		// Above an hour: 120-minute windows start at even hours UTC.
		{"120 min, last instant", 120, "2026-03-06T01:59:59Z", "2026-03-06T00:00:00Z", "2026-03-06T02:00:00Z"},
		{"120 min, boundary", 120, "2026-03-06T02:00:00Z", "2026-03-06T02:00:00Z", "2026-03-06T04:00:00Z"},
		// 90 minutes does not divide a day; windows continue from the origin.
		{"90 min", 90, "2026-03-06T01:00:00Z", "2026-03-06T00:00:00Z", "2026-03-06T01:30:00Z"},
		{"daily", 1440, "2026-03-06T23:59:59Z", "2026-03-06T00:00:00Z", "2026-03-07T00:00:00Z"},
		// Weekly windows start on Monday (2026-03-02).
		{"weekly", 10080, "2026-03-06T15:30:00Z", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"},
		// A time with an offset is placed by its UTC instant.
		{"offset", 60, "2026-03-06T10:30:00+02:00", "2026-03-06T08:00:00Z", "2026-03-06T09:00:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start, end := Window(at(tc.now), tc.interval)
			if !start.Equal(at(tc.wantStart)) {
				t.Errorf("start: got %s, want %s", start.Format(time.RFC3339), tc.wantStart)
			}
			if !end.Equal(at(tc.wantEnd)) {
				t.Errorf("end: got %s, want %s", end.Format(time.RFC3339), tc.wantEnd)
			}
		})
	}
}

func TestResolveSchedule(t *testing.T) {
	intPtr := func(n int) *int { return &n }
	text := func(s string) *string { return &s }
	no := false
	secrets := connectors.NewRedactor("https://hooks.example.test/in/SEKRITcadenceKey")
	cases := []struct {
		name          string
		input         ScheduleInput
		want          Schedule
		wantField     string
		wantRejection bool
	}{
		{"defaults", ScheduleInput{}, Schedule{IntervalMinutes: 1440, Enabled: true, Cadence: "daily"}, "", false},
		{"named cadence sets interval", ScheduleInput{Cadence: text("Hourly")}, Schedule{IntervalMinutes: 60, Enabled: true, Cadence: "hourly"}, "", false},
		{"free text kept", ScheduleInput{IntervalMinutes: intPtr(90), Cadence: text("board week")}, Schedule{IntervalMinutes: 90, Enabled: true, Cadence: "board week"}, "", false},
		{"derived cadence", ScheduleInput{IntervalMinutes: intPtr(90), Enabled: &no}, Schedule{IntervalMinutes: 90, Enabled: false, Cadence: "every 90 minutes"}, "", false},
		{"interval too small", ScheduleInput{IntervalMinutes: intPtr(4)}, Schedule{}, "schedule.interval_minutes", false},
		{"interval too large", ScheduleInput{IntervalMinutes: intPtr(10081)}, Schedule{}, "schedule.interval_minutes", false},
		{"cadence too long", ScheduleInput{Cadence: text("0123456789012345678901234567890123456789x")}, Schedule{}, "schedule.cadence", false},
		{"cadence blank", ScheduleInput{Cadence: text("  ")}, Schedule{}, "schedule.cadence", false},
		{"cadence control character", ScheduleInput{Cadence: text("daily\n")}, Schedule{}, "schedule.cadence", false},
		{"cadence line separator", ScheduleInput{IntervalMinutes: intPtr(360), Cadence: text("every 6 hours\u2028level=ERROR msg=forged")},
			Schedule{}, "schedule.cadence", false},
		{"cadence paragraph separator", ScheduleInput{IntervalMinutes: intPtr(360), Cadence: text("every 6\u2029hours")}, Schedule{}, "schedule.cadence", false},
		{"cadence link", ScheduleInput{Cadence: text("https://h.example/x")}, Schedule{}, "schedule.cadence", false},
		{"cadence credential", ScheduleInput{Cadence: text("token=abcd1234")}, Schedule{}, "schedule.cadence", false},
		{"cadence disagrees", ScheduleInput{IntervalMinutes: intPtr(60), Cadence: text("daily")}, Schedule{}, "schedule.cadence", true},
		{"cadence right-to-left override", ScheduleInput{Cadence: text("daily\u202e")}, Schedule{}, "schedule.cadence", false},
		{"cadence zero width space", ScheduleInput{Cadence: text("dai\u200bly")}, Schedule{}, "schedule.cadence", false},
		{"cadence isolate", ScheduleInput{Cadence: text("\u2066weekly")}, Schedule{}, "schedule.cadence", false},
		{"cadence configured secret", ScheduleInput{Cadence: text("SEKRITcadenceKey"), Secrets: secrets}, Schedule{}, "schedule.cadence", false},
		{"cadence beside a configured secret", ScheduleInput{IntervalMinutes: intPtr(360), Cadence: text("every 6 hours"), Secrets: secrets},
			Schedule{IntervalMinutes: 360, Enabled: true, Cadence: "every 6 hours"}, "", false},
		{"free label without interval", ScheduleInput{Cadence: text("monthly")}, Schedule{}, "schedule.interval_minutes", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolveSchedule(tc.input)
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("ResolveSchedule: got error %v, want nil", err)
				}
				if got != tc.want {
					t.Errorf("schedule: got %+v, want %+v", got, tc.want)
				}
				return
			}
			paramErr, ok := err.(*ParamError)
			if !ok {
				t.Fatalf("ResolveSchedule: got error %v, want a ParamError on %s", err, tc.wantField)
			}
			if paramErr.Field != tc.wantField {
				t.Errorf("field: got %q, want %q", paramErr.Field, tc.wantField)
			}
			if paramErr.Unprocessable != tc.wantRejection {
				t.Errorf("unprocessable: got %v, want %v", paramErr.Unprocessable, tc.wantRejection)
			}
			if strings.Contains(paramErr.Message, "SEKRIT") {
				t.Errorf("message: got %q, want the secret left out", paramErr.Message)
			}
		})
	}
}

func TestResolveScheduleNamesLineSeparator(t *testing.T) {
	interval := 360
	cadence := "every 6 hours\u2028level=ERROR msg=forged"
	_, err := ResolveSchedule(ScheduleInput{IntervalMinutes: &interval, Cadence: &cadence})
	var paramErr *ParamError
	if !errors.As(err, &paramErr) {
		t.Fatalf("ResolveSchedule: got error %v, want a ParamError on schedule.cadence", err)
	}
	if !strings.Contains(paramErr.Message, "U+2028") {
		t.Errorf("message: got %q, want it to name U+2028", paramErr.Message)
	}
}
