package handlers

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/retry"
)

func TestRetryRunPageLinksExecutions(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	s.failDelivery("run_1", "webhook", testNow.Add(-2*time.Hour))
	rec := s.postJSON(executiveRetryRunPath, `{"execute":true}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("live run: got %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	var run retry.RunView
	if err := json.Unmarshal(rec.Body.Bytes(), &run); err != nil {
		t.Fatal(err)
	}
	if len(run.Executions) != 1 {
		t.Fatalf("executions: got %d, want 1", len(run.Executions))
	}

	doc := document(t, s.do(http.MethodGet, "/retries/runs/"+run.WorkerRunID, "", "", "Accept", "text/html"))
	if href, _ := byTestID(doc, "execution-audit-link").Attr("href"); href != "/audit/retry_execution/"+run.Executions[0].ExecutionID {
		t.Errorf("execution link: got %q, want its audit chain", href)
	}
	if href, _ := byTestID(doc, "retry-runs-link").Attr("href"); href != "/retries/runs" {
		t.Errorf("run list link: got %q, want /retries/runs", href)
	}
	if got := byTestID(doc, "execution-duration").Text(); got == "" {
		t.Error("execution duration: got none, want how long the completed execution took")
	}
}
