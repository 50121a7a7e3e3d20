package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func TestConsoleRunFormOffersSendOptions(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})

	doc := document(t, s.do(http.MethodGet, "/console", "", "", "Accept", "text/html"))
	form := byTestID(doc, "retry-run-form")
	if got, _ := form.Find(`input[name="retries"]`).Attr("value"); got != "1" {
		t.Errorf("retries input: got %q, want 1", got)
	}
	if got, _ := form.Find(`input[name="timeout_seconds"]`).Attr("value"); got != "10" {
		t.Errorf("timeout_seconds input: got %q, want 10", got)
	}
}

func TestConsoleLiveRunUsesConfirmedSendOptions(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
	policy := "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2&max_retry_deliveries=5"

	confirm := s.postForm("/console/executive-retry/confirm", policy+"&retries=0&timeout_seconds=1.5", "HX-Request", "true")
	if confirm.Code != http.StatusOK {
		t.Fatalf("confirm status: got %d, want 200 (%s)", confirm.Code, confirm.Body.String())
	}
	doc := document(t, confirm)
	if got := byTestID(doc, "retry-confirm-summary").Text(); !strings.Contains(got, "each delivery up to 1 attempt of 1.5s") {
		t.Errorf("confirmation summary: got %q, want it to name 1 attempt of 1.5s", got)
	}
	if got := byTestID(doc, "retry-confirm-summary").Text(); !strings.Contains(got, "The sends can take up to 1.5s") {
		t.Errorf("confirmation summary: got %q, want the sends' longest time, 1.5s", got)
	}
	if got, _ := byTestID(doc, "retry-confirm-form").Attr("hx-disabled-elt"); got != "#executive-retry button" {
		t.Errorf("confirmation form hx-disabled-elt: got %q, want every retry button disabled during the run", got)
	}
	form := byTestID(doc, "retry-confirm-form")
	if got, _ := form.Find(`input[name="retries"]`).Attr("value"); got != "0" {
		t.Errorf("confirmed retries: got %q, want 0", got)
	}
	if got, _ := form.Find(`input[name="timeout_seconds"]`).Attr("value"); got != "1.5" {
		t.Errorf("confirmed timeout_seconds: got %q, want 1.5", got)
	}

	run := s.postForm("/console/executive-retry/run",
		policy+"&retries=0&timeout_seconds=1.5&execute=true&confirm=true&confirmed_destinations=webhook&confirmed_count=1", "HX-Request", "true")
	if run.Code != http.StatusOK {
		t.Fatalf("live run status: got %d, want 200 (%s)", run.Code, run.Body.String())
	}
	if got := byTestID(document(t, run), "retry-run-send").Text(); !strings.Contains(got, "each delivery up to 1 attempt of 1.5s") {
		t.Errorf("run panel: got %q, want it to name 1 attempt of 1.5s", got)
	}
	var stored models.RetryWorkerRun
	if err := s.db.Where("dry_run = ?", false).First(&stored).Error; err != nil {
		t.Fatal(err)
	}
	if stored.SendRetries != 0 || stored.SendTimeoutMS != 1500 {
		t.Errorf("stored send options: got %d retries and %d ms, want 0 and 1500", stored.SendRetries, stored.SendTimeoutMS)
	}
}

func TestConsoleRejectsInvalidSendOptions(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
	policy := "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2"

	tests := []struct {
		name   string
		path   string
		form   string
		status int
		field  string
	}{
		{"blank timeout", "/console/executive-retry/run", "&dry_run=true&max_retry_deliveries=5&retries=1&timeout_seconds=", 400, "timeout_seconds"},
		{"retries above range", "/console/executive-retry/run", "&dry_run=true&max_retry_deliveries=5&retries=9&timeout_seconds=10", 400, "retries"},
		{"confirm of sends outlasting the in-flight timeout", "/console/executive-retry/confirm", "&max_retry_deliveries=25&retries=5&timeout_seconds=60", 422, "timeout_seconds"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			before := dbtest.CountRows(t, s.db)
			rec := s.postForm(test.path, policy+test.form, "HX-Request", "true")
			if rec.Code != test.status {
				t.Fatalf("status: got %d, want %d (%s)", rec.Code, test.status, rec.Body.String())
			}
			if !strings.Contains(rec.Body.String(), test.field) {
				t.Errorf("body: got %s, want it to name %s", rec.Body.String(), test.field)
			}
			after := dbtest.CountRows(t, s.db)
			for table, n := range before {
				if after[table] != n {
					t.Errorf("rows of %s: got %d, want %d", table, after[table], n)
				}
			}
		})
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
}
