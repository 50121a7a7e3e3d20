package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
)

// A confirmed retry id is stored with the run when it names no failed
// delivery, so a credential pasted into confirmed_retries is rejected
// before anything is sent or stored.
func TestConfirmedRetriesRejectsCredential(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-3*time.Hour))
	policy := "max_retry_attempts=3&retry_delay_minutes=30&backoff_multiplier=2&max_retry_deliveries=5"
	confirm := document(t, s.postForm("/console/executive-retry/confirm", policy, "HX-Request", "true"))
	failedID := confirm.Find(`input[name="confirmed_retries"]`).AttrOr("value", "")
	if failedID == "" {
		t.Fatal("confirmed_retries: empty, want the failed delivery")
	}

	token := "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
	rec := s.postForm("/console/executive-retry/run", policy+"&execute=true&confirm=true&confirmed_destinations=webhook&confirmed_count=2&confirmed_retries="+token+","+failedID,
		"HX-Request", "true")
	if rec.Code != http.StatusBadRequest {
		t.Errorf("status: got %d, want 400 (%s)", rec.Code, rec.Body.String())
	}
	if !strings.Contains(rec.Body.String(), "confirmed_retries") {
		t.Errorf("body: got %s, want it to name confirmed_retries", rec.Body.String())
	}
	if got := len(s.receiver.Requests()); got != 0 {
		t.Errorf("receiver requests: got %d, want 0", got)
	}
	var stored int64
	if err := s.db.Model(&models.RetryWorkerRun{}).Where("confirmed_not_sent LIKE ?", "%ghp_%").Count(&stored).Error; err != nil {
		t.Fatalf("count worker runs: %v", err)
	}
	if stored != 0 {
		t.Errorf("worker runs storing the token: got %d, want 0", stored)
	}
}
