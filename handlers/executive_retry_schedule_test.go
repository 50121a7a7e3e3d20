package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/executive"
	"github.com/releaseops/evidence-console/models/dbtest"
	"github.com/releaseops/evidence-console/retry"
)

func TestRetryRunScheduleMatchesScheduleRun(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	executiveServer := newExecutiveServer(t)
	registry := executiveServer.handler.Executive.(*executive.Service).Destinations.(*connectors.Registry)
	s.handler.Secrets = registry.Redactor()
	cases := []struct {
		name       string
		schedule   string
		wantStatus int
		wantField  string
	}{
		{"interval too small", `{"interval_minutes": 1}`, 400, "schedule.interval_minutes"},
		{"interval too large", `{"interval_minutes": 10081}`, 400, "schedule.interval_minutes"},
		{"cadence disagrees", `{"cadence": "hourly", "interval_minutes": 1440}`, 422, "schedule.cadence"},
		{"cadence too long", `{"cadence": "` + strings.Repeat("x", 41) + `"}`, 400, "schedule.cadence"},
		{"cadence empty", `{"cadence": ""}`, 400, "schedule.cadence"},
		{"cadence configured secret", `{"cadence": "` + executiveSecretPath + `"}`, 400, "schedule.cadence"},
		{"cadence zero width space", `{"cadence": "dai\u200bly"}`, 400, "schedule.cadence"},
		{"cadence isolate", `{"cadence": "\u2066weekly"}`, 400, "schedule.cadence"},
		{"label without an interval", `{"cadence": "monthly"}`, 422, "schedule.interval_minutes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := dbtest.CountRows(t, s.db)
			rec := s.postJSON(executiveRetryRunPath, `{"schedule": `+tc.schedule+`}`)
			if rec.Code != tc.wantStatus {
				t.Fatalf("worker run status: got %d, want %d (%s)", rec.Code, tc.wantStatus, rec.Body.String())
			}
			got := errorOf(t, rec.Body.String())
			if got.Field != tc.wantField {
				t.Errorf("worker run field: got %q, want %q", got.Field, tc.wantField)
			}
			if after := dbtest.CountRows(t, s.db); !sameRowCounts(before, after) {
				t.Errorf("row counts changed: got %v, want %v", after, before)
			}

			scheduleRun := executiveServer.postJSON(executiveReportPath+"/schedule-run", `{"schedule": `+tc.schedule+`}`)
			if scheduleRun.Code != rec.Code {
				t.Errorf("schedule-run status: got %d, want the worker run's %d", scheduleRun.Code, rec.Code)
			}
			want := errorOf(t, scheduleRun.Body.String())
			if got.Message != want.Message {
				t.Errorf("worker run message: got %q, want the schedule-run message %q", got.Message, want.Message)
			}
			if got.Field != want.Field {
				t.Errorf("worker run field: got %q, want the schedule-run field %q", got.Field, want.Field)
			}
		})
	}
}

func TestRetryRunScheduleDefaults(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	cases := []struct {
		name         string
		body         string
		wantInterval int
		wantCadence  string
	}{
		{"no schedule", `{}`, 60, "manual"},
		{"empty schedule", `{"schedule": {}}`, 60, "manual"},
		{"interval only", `{"schedule": {"interval_minutes": 90}}`, 90, "manual"},
		{"named cadence sets interval", `{"schedule": {"cadence": "Daily"}}`, 1440, "daily"},
		{"named cadence with its interval", `{"schedule": {"cadence": "hourly", "interval_minutes": 60}}`, 60, "hourly"},
		{"default cadence sent back", `{"schedule": {"cadence": "manual"}}`, 60, "manual"},
		{"default cadence in capitals", `{"schedule": {"cadence": " Manual "}}`, 60, "manual"},
		{"label with an interval", `{"schedule": {"cadence": "every 2 hours", "interval_minutes": 120}}`, 120, "every 2 hours"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.postJSON(executiveRetryRunPath, tc.body)
			if rec.Code != http.StatusCreated {
				t.Fatalf("status: got %d, want 201 (%s)", rec.Code, rec.Body.String())
			}
			var run retry.RunView
			if err := json.Unmarshal(rec.Body.Bytes(), &run); err != nil {
				t.Fatalf("decode run: %v", err)
			}
			if run.Schedule.IntervalMinutes != tc.wantInterval {
				t.Errorf("schedule.interval_minutes: got %d, want %d", run.Schedule.IntervalMinutes, tc.wantInterval)
			}
			if run.Schedule.Cadence != tc.wantCadence {
				t.Errorf("schedule.cadence: got %q, want %q", run.Schedule.Cadence, tc.wantCadence)
			}
			if !run.Schedule.Enabled {
				t.Error("schedule.enabled: got false, want true")
			}
			if got := run.Schedule.WindowEnd.Sub(run.Schedule.WindowStart); got != time.Duration(tc.wantInterval)*time.Minute {
				t.Errorf("schedule window: got %s, want %d minutes", got, tc.wantInterval)
			}
		})
	}
}

func TestRetryRunDisabledScheduleStillRuns(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))

	rec := s.postJSON(executiveRetryRunPath, `{"schedule": {"enabled": false}}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	var run retry.RunView
	if err := json.Unmarshal(rec.Body.Bytes(), &run); err != nil {
		t.Fatalf("decode run: %v", err)
	}
	if run.Schedule.Enabled {
		t.Error("schedule.enabled: got true, want false")
	}
	if run.Counts.SelectedCount != 1 {
		t.Errorf("selected_count: got %d, want 1 (a manual run ignores a disabled schedule)", run.Counts.SelectedCount)
	}

	list := s.do(http.MethodGet, executiveRetryRunsPath, "", "")
	if !strings.Contains(list.Body.String(), `"schedule_enabled":false`) {
		t.Errorf("run list: got %s, want schedule_enabled false", list.Body.String())
	}

	console := document(t, s.do(http.MethodGet, "/console", "", ""))
	schedule := byTestID(console, "retry-run-schedule")
	if got := schedule.AttrOr("data-enabled", ""); got != "false" {
		t.Errorf("console schedule data-enabled: got %q, want %q", got, "false")
	}
	if got := schedule.Text(); !strings.Contains(got, "disabled") {
		t.Errorf("console schedule: got %q, want it to say disabled", got)
	}
}
