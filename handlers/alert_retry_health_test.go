package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
	"github.com/releaseops/evidence-console/retry"
)

const alertRetryHealthPath = alertRetryPath + "/retry-health"

// Finding categories of health alert delivery retry health.
const (
	alertMissedWorker     = "missed_health_alert_delivery_retry_worker"
	alertStalePlan        = "stale_health_alert_delivery_retry_plan"
	alertFailedDelivery   = "failed_health_alert_delivery"
	alertDisabledSchedule = "disabled_health_alert_delivery_retry_schedule"
)

// failAlertDelivery stores a failed delivery of alert plan planID, of the
// alert with fingerprint, to connector, completed at the given time.
func (s *retryTestServer) failAlertDelivery(planID, fingerprint, connector string, at time.Time) {
	s.t.Helper()
	record := models.Delivery{
		ID: models.NewID("dlv", at), SubjectKind: models.SubjectHealthAlert, SubjectID: planID, SubjectKey: fingerprint,
		Connector: connector, State: models.DeliveryInFlight, Attempts: "[]", RequestSummary: "{}",
		IdempotencyKey: "alert-key-" + planID, Origin: models.OriginSend, Actor: "release.manager", StartedAt: at, CreatedAt: at,
	}
	if err := models.CreateDelivery(s.db, &record); err != nil {
		s.t.Fatal(err)
	}
	record.ErrorClass, record.StatusCode, record.ConnectorKind, record.CompletedAt = "server_error", 503, "webhook", &at
	if err := models.CompleteDelivery(context.Background(), s.db, &record); err != nil {
		s.t.Fatal(err)
	}
}

// setRetryClock sets the clock of the retry service, which stamps worker
// runs and plans and against which health measures their age.
func (s *retryTestServer) setRetryClock(now time.Time) {
	s.handler.Retry.(*retry.Service).Now = func() time.Time { return now }
}

// alertRetryHealth reads the health alert retry health with query and
// decodes the report.
func (s *retryTestServer) alertRetryHealth(query string) retry.HealthReport {
	s.t.Helper()
	rec := s.getJSON(alertRetryHealthPath + query)
	if rec.Code != http.StatusOK {
		s.t.Fatalf("GET %s: got %d, want 200 (%s)", query, rec.Code, rec.Body.String())
	}
	var report retry.HealthReport
	if err := json.Unmarshal(rec.Body.Bytes(), &report); err != nil {
		s.t.Fatal(err)
	}
	return report
}

func findingCategories(report retry.HealthReport) []string {
	categories := []string{}
	for _, finding := range report.Findings {
		categories = append(categories, finding.Category)
	}
	return categories
}

func hasCategory(report retry.HealthReport, category string) bool {
	for _, finding := range report.Findings {
		if finding.Category == category {
			return true
		}
	}
	return false
}

func TestAlertRetryHealthIsReadOnly(t *testing.T) {
	s := newRetryTestServer(t, nil)
	s.failAlertDelivery("alp_1", "fp_1", "webhook", testNow.Add(-2*time.Hour))
	// An executive failure and a fresh executive worker run are of the
	// other kind, so they change nothing here.
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
	if rec := s.postJSON(executiveRetryRunPath, `{}`); rec.Code != http.StatusCreated {
		t.Fatalf("executive dry run: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	before := dbtest.CountRows(t, s.db)

	report := s.alertRetryHealth("")
	if report.SubjectKind != models.SubjectHealthAlert {
		t.Errorf("subject_kind: got %q, want %q", report.SubjectKind, models.SubjectHealthAlert)
	}
	if report.ExpectedIntervalMinutes != 60 || report.StaleMetadataMinutes != 180 {
		t.Errorf("defaults: got %d and %d, want 60 and 180", report.ExpectedIntervalMinutes, report.StaleMetadataMinutes)
	}
	if report.AlertLevel != "critical" {
		t.Errorf("alert_level: got %q, want critical", report.AlertLevel)
	}
	if report.Counts.FailedDeliveryCount != 1 {
		t.Errorf("failed_delivery_count: got %d, want 1 (the alert's failure, not the executive one)", report.Counts.FailedDeliveryCount)
	}
	if report.Counts.WorkerRunCount != 0 || report.LatestWorkerRun != nil || report.LatestRetryPlan != nil {
		t.Errorf("worker runs and plans: got count %d, latest run %+v, latest plan %+v, want none of the executive ones",
			report.Counts.WorkerRunCount, report.LatestWorkerRun, report.LatestRetryPlan)
	}
	want := []string{alertMissedWorker, alertStalePlan, alertFailedDelivery}
	if got := findingCategories(report); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("findings: got %v, want %v", got, want)
	}
	for _, finding := range report.Findings {
		if !strings.Contains(finding.Message, "health alert") {
			t.Errorf("finding %s: message %q does not name health alerts", finding.Category, finding.Message)
		}
	}
	if len(report.RecommendedActions) != len(report.Findings) {
		t.Errorf("recommended_actions: got %d, want one per finding (%d)", len(report.RecommendedActions), len(report.Findings))
	}

	after := dbtest.CountRows(t, s.db)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("rows of %s: got %d, want %d", table, after[table], n)
		}
	}
}

func TestAlertRetryHealthThresholdBoundaries(t *testing.T) {
	s := newRetryTestServer(t, nil)
	s.failAlertDelivery("alp_1", "fp_1", "webhook", testNow.Add(-3*time.Hour))
	// The dry run records a worker run and its plan two hours before the
	// handler clock.
	s.setRetryClock(testNow.Add(-2 * time.Hour))
	if rec := s.postJSON(alertRetryPath+"/retry-worker-run", `{}`); rec.Code != http.StatusCreated {
		t.Fatalf("alert dry run: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}

	cases := []struct {
		name        string
		now         time.Time
		query       string
		wantMissed  bool
		wantStale   bool
		wantMinutes int
	}{
		{"run at twice the interval, plan at the stale threshold", testNow, "?expected_interval_minutes=60&stale_metadata_minutes=120", false, false, 120},
		{"one minute later", testNow.Add(time.Minute), "?expected_interval_minutes=60&stale_metadata_minutes=120", true, true, 121},
		{"thresholds one minute lower", testNow, "?expected_interval_minutes=59&stale_metadata_minutes=119", true, true, 120},
		{"default thresholds", testNow, "", false, false, 120},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.setRetryClock(tc.now)
			report := s.alertRetryHealth(tc.query)
			if got := hasCategory(report, alertMissedWorker); got != tc.wantMissed {
				t.Errorf("missed worker finding: got %v, want %v (%v)", got, tc.wantMissed, findingCategories(report))
			}
			if got := hasCategory(report, alertStalePlan); got != tc.wantStale {
				t.Errorf("stale plan finding: got %v, want %v (%v)", got, tc.wantStale, findingCategories(report))
			}
			if !hasCategory(report, alertFailedDelivery) {
				t.Errorf("failed delivery finding: missing from %v", findingCategories(report))
			}
			if hasCategory(report, alertDisabledSchedule) {
				t.Errorf("disabled schedule finding: got one for a run with its schedule enabled (%v)", findingCategories(report))
			}
			if report.LatestWorkerRun == nil || report.LatestWorkerRun.Minutes == nil || *report.LatestWorkerRun.Minutes != tc.wantMinutes {
				t.Errorf("latest_worker_run: got %+v, want an age of %d minutes", report.LatestWorkerRun, tc.wantMinutes)
			}
			if report.LatestRetryPlan == nil || report.Counts.DryRunCount != 1 {
				t.Errorf("latest_retry_plan %+v and dry_run_count %d: want the dry run's plan and 1", report.LatestRetryPlan, report.Counts.DryRunCount)
			}
		})
	}
}

// A disabled schedule is reported only when the newest health alert worker
// run recorded one; without any run there is no schedule to report.
func TestAlertRetryHealthDisabledSchedule(t *testing.T) {
	s := newRetryTestServer(t, nil)
	if hasCategory(s.alertRetryHealth(""), alertDisabledSchedule) {
		t.Error("no worker run: got a disabled schedule finding, want none")
	}

	body := `{"schedule":{"enabled":false}}`
	if rec := s.postJSON(alertRetryPath+"/retry-worker-run", body); rec.Code != http.StatusCreated {
		t.Fatalf("alert dry run with the schedule disabled: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	report := s.alertRetryHealth("")
	if !hasCategory(report, alertDisabledSchedule) || report.Counts.DisabledScheduleCount != 1 {
		t.Errorf("disabled run: got findings %v and disabled_schedule_count %d, want the finding and 1",
			findingCategories(report), report.Counts.DisabledScheduleCount)
	}
	if report.AlertLevel != "warning" {
		t.Errorf("alert_level: got %q, want warning (a fresh run and plan, nothing failing)", report.AlertLevel)
	}

	s.setRetryClock(testNow.Add(time.Minute))
	if rec := s.postJSON(alertRetryPath+"/retry-worker-run", `{}`); rec.Code != http.StatusCreated {
		t.Fatalf("alert dry run: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	report = s.alertRetryHealth("")
	if hasCategory(report, alertDisabledSchedule) {
		t.Errorf("newest run enabled: got findings %v, want no disabled schedule finding", findingCategories(report))
	}
	if report.AlertLevel != "healthy" {
		t.Errorf("alert_level: got %q, want healthy", report.AlertLevel)
	}
}

func TestAlertRetryHealthRejectsBadThresholds(t *testing.T) {
	s := newRetryTestServer(t, nil)
	before := dbtest.CountRows(t, s.db)
	if rec := s.getJSON(alertRetryHealthPath + "?expected_interval_minutes=10080&stale_metadata_minutes=1"); rec.Code != http.StatusOK {
		t.Errorf("thresholds at the range ends: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
	for _, query := range []string{
		"expected_interval_minutes=0", "expected_interval_minutes=10081", "expected_interval_minutes=-1",
		"stale_metadata_minutes=abc", "stale_metadata_minutes=1.5", "stale_metadata_minutes=0", "stale_minutes=5",
	} {
		rec := s.getJSON(alertRetryHealthPath + "?" + query)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: got %d, want 400", query, rec.Code)
			continue
		}
		apiErr := errorOf(t, rec.Body.String())
		field := strings.SplitN(query, "=", 2)[0]
		if apiErr.Field != field {
			t.Errorf("%s: field got %q, want %q", query, apiErr.Field, field)
		}
		if !strings.Contains(apiErr.Message, field) {
			t.Errorf("%s: message %q does not name %s", query, apiErr.Message, field)
		}
	}
	after := dbtest.CountRows(t, s.db)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("rows of %s: got %d, want %d", table, after[table], n)
		}
	}
}

func TestAlertRetryHealthPermission(t *testing.T) {
	s := newRetryTestServer(t, nil)
	s.anonymous()
	rec := s.getJSON(alertRetryHealthPath)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("anonymous: got %d, want 401", rec.Code)
	}
	if got := errorOf(t, rec.Body.String()).Code; got != CodeUnauthenticated {
		t.Errorf("anonymous: code got %q, want %q", got, CodeUnauthenticated)
	}

	// Reading retry health needs console.read only, which every role has,
	// the viewer included.
	s.actAs("retry-health-viewer", auth.RoleViewer)
	if rec := s.getJSON(alertRetryHealthPath); rec.Code != http.StatusOK {
		t.Errorf("viewer: got %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
}
