package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
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
	if href, _ := byTestID(doc, "execution-delivery-link").Attr("href"); href != "/audit/delivery/"+run.Executions[0].DeliveryID {
		t.Errorf("delivery link: got %q, want the audit chain of delivery %s", href, run.Executions[0].DeliveryID)
	}
	if heading := doc.Find("h1").Text(); !strings.Contains(heading, "Live") || !strings.Contains(heading, run.WorkerRunID) {
		t.Errorf("page heading: got %q, want the mode and the run id", heading)
	}
	if href, _ := byTestID(doc, "retry-runs-link").Attr("href"); href != "/retries/runs" {
		t.Errorf("run list link: got %q, want /retries/runs", href)
	}
	if got := byTestID(doc, "execution-duration").Text(); got == "" {
		t.Error("execution duration: got none, want how long the completed execution took")
	}
}

func TestRetryPlanPageShowsDecisions(t *testing.T) {
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

	runPage := document(t, s.do(http.MethodGet, "/retries/runs/"+run.WorkerRunID, "", "", "Accept", "text/html"))
	planHref, _ := byTestID(runPage, "retry-run-plan-link").Attr("href")
	if planHref != "/retries/plans/"+run.RetryPlanID {
		t.Fatalf("plan link of the run page: got %q, want /retries/plans/%s", planHref, run.RetryPlanID)
	}

	planPage := s.do(http.MethodGet, planHref, "", "", "Accept", "text/html")
	if planPage.Code != http.StatusOK {
		t.Fatalf("plan page: got %d, want 200", planPage.Code)
	}
	doc := document(t, planPage)
	if got := byTestID(doc, "retry-plan-id").Text(); got != run.RetryPlanID {
		t.Errorf("plan id: got %q, want %q", got, run.RetryPlanID)
	}
	decision := byTestID(doc, "retry-decision")
	if decision.Length() != 1 {
		t.Fatalf("decision rows: got %d, want 1", decision.Length())
	}
	if action, _ := decision.Attr("data-action"); action != "retry" {
		t.Errorf("decision action: got %q, want retry", action)
	}
	if provider, _ := decision.Attr("data-provider"); provider != "webhook" {
		t.Errorf("decision destination: got %q, want webhook", provider)
	}
	if href, _ := byTestID(doc, "retry-plan-run-link").Attr("href"); href != "/retries/runs/"+run.WorkerRunID {
		t.Errorf("run link of the plan page: got %q, want the worker run that made it", href)
	}

	if got := s.do(http.MethodGet, "/retries/plans/rpl_missing", "", "", "Accept", "text/html").Code; got != http.StatusNotFound {
		t.Errorf("unknown plan: got %d, want 404", got)
	}
	if got := s.do(http.MethodGet, planHref+"?limit=1", "", "", "Accept", "text/html").Code; got != http.StatusBadRequest {
		t.Errorf("plan page with a query parameter it does not take: got %d, want 400", got)
	}
}
