package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
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
	decisions, err := models.RetryDecisionsOf(context.Background(), s.db, run.RetryPlanID)
	if err != nil || len(decisions) != 1 {
		t.Fatalf("stored decisions of plan %s: got %d (%v), want 1", run.RetryPlanID, len(decisions), err)
	}
	if got := strings.TrimSpace(decision.Find(`[data-testid="decision-id"]`).Text()); got != decisions[0].ID {
		t.Errorf("decision id: got %q, want %q", got, decisions[0].ID)
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
	if byTestID(doc, "retry-plan-selected-only").Length() != 1 {
		t.Error("plan page of a worker run: want the note that only selected decisions are stored")
	}

	if got := s.do(http.MethodGet, "/retries/plans/rpl_missing", "", "", "Accept", "text/html").Code; got != http.StatusNotFound {
		t.Errorf("unknown plan: got %d, want 404", got)
	}
	if got := s.do(http.MethodGet, planHref+"?limit=1", "", "", "Accept", "text/html").Code; got != http.StatusBadRequest {
		t.Errorf("plan page with a query parameter it does not take: got %d, want 400", got)
	}
}

// The run list pages through every run with links and a total, in HTML and
// JSON.
func TestRetryRunListPages(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"alpha": "/webhook/alpha"})
	for range 3 {
		if rec := s.postJSON(executiveRetryRunPath, `{}`); rec.Code != http.StatusCreated {
			t.Fatalf("dry run: status %d: %s", rec.Code, rec.Body)
		}
	}

	first := document(t, s.do(http.MethodGet, "/retries/runs?limit=2", "", ""))
	if got := byTestID(first, "retry-run-row").Length(); got != 2 {
		t.Errorf("first page rows: got %d, want 2", got)
	}
	if got := strings.TrimSpace(byTestID(first, "retry-runs-range").Text()); got != "Runs 1 to 2 of 3, newest first." {
		t.Errorf("first page range: got %q", got)
	}
	if href, _ := byTestID(first, "retry-runs-older").Attr("href"); href != "/retries/runs?limit=2&offset=2" {
		t.Errorf("older link: got %q, want /retries/runs?limit=2&offset=2", href)
	}
	if byTestID(first, "retry-runs-newer").Length() != 0 {
		t.Error("first page: want no link to newer runs")
	}

	second := document(t, s.do(http.MethodGet, "/retries/runs?limit=2&offset=2", "", ""))
	if got := byTestID(second, "retry-run-row").Length(); got != 1 {
		t.Errorf("second page rows: got %d, want 1", got)
	}
	if href, _ := byTestID(second, "retry-runs-newer").Attr("href"); href != "/retries/runs?limit=2&offset=0" {
		t.Errorf("newer link: got %q, want /retries/runs?limit=2&offset=0", href)
	}
	if byTestID(second, "retry-runs-older").Length() != 0 {
		t.Error("last page: want no link to older runs")
	}

	rec := s.getJSON(strings.TrimSuffix(executiveRetryRunPath, "-run") + "-runs?limit=1")
	var list struct {
		WorkerRuns []map[string]any `json:"worker_runs"`
		Total      int64            `json:"total"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatalf("decode the run list: %v: %s", err, rec.Body)
	}
	if len(list.WorkerRuns) != 1 || list.Total != 3 {
		t.Errorf("JSON list: got %d runs of total %d, want 1 of 3", len(list.WorkerRuns), list.Total)
	}
}

// The run page and the audit chain page take no query parameters, so a
// misspelt one is a 400 naming it instead of being ignored.
func TestRecordPagesRejectQueryParameters(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"webhook": "/webhook/exec"})
	rec := s.postJSON(executiveRetryRunPath, `{}`)
	var run retry.RunView
	if err := json.Unmarshal(rec.Body.Bytes(), &run); err != nil {
		t.Fatalf("decode the dry run: %v: %s", err, rec.Body)
	}
	for _, path := range []string{"/retries/runs/" + run.WorkerRunID, "/audit/retry_execution/rex_missing"} {
		rec := s.do(http.MethodGet, path+"?bogus=1", "", "", "Accept", "text/html")
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "bogus") {
			t.Errorf("GET %s?bogus=1: status %d, want a 400 naming bogus", path, rec.Code)
		}
	}
	if got := s.do(http.MethodGet, "/retries/runs/"+run.WorkerRunID, "", "", "Accept", "text/html").Code; got != http.StatusOK {
		t.Errorf("run page: status %d, want 200", got)
	}
}

// A run list page past the last run states that it is past the end and
// links to the last and the first page, as the other lists do. With no run,
// a page past the first links only to the first page.
func TestRetryRunListPastTheEnd(t *testing.T) {
	s := newRetryTestServer(t, map[string]string{"alpha": "/webhook/alpha"})

	empty := document(t, s.do(http.MethodGet, "/retries/runs?limit=2&offset=4", "", ""))
	if got := strings.TrimSpace(byTestID(empty, "retry-runs-empty").Text()); got != "No worker runs yet." {
		t.Errorf("no-runs message: got %q, want %q", got, "No worker runs yet.")
	}
	assertNoElements(t, empty, "retry-runs-past-end", "retry-runs-newer", "retry-runs-older", "retry-runs-last")
	assertPageLink(t, empty, "retry-runs-first", "/retries/runs", map[string]string{"limit": "2", "offset": "0"})

	for range 3 {
		if rec := s.postJSON(executiveRetryRunPath, `{}`); rec.Code != http.StatusCreated {
			t.Fatalf("dry run: status %d: %s", rec.Code, rec.Body)
		}
	}

	for _, tc := range []struct{ offset, firstRun string }{{"100", "101"}, {"3", "4"}} {
		t.Run("offset "+tc.offset, func(t *testing.T) {
			doc := document(t, s.do(http.MethodGet, "/retries/runs?limit=2&offset="+tc.offset, "", ""))
			want := "This page is past the end: there are 3 worker runs, and this page starts at run " + tc.firstRun + "."
			if got := strings.TrimSpace(byTestID(doc, "retry-runs-past-end").Text()); got != want {
				t.Errorf("message: got %q, want %q", got, want)
			}
			assertNoElements(t, doc, "retry-run-row", "retry-runs-empty", "retry-runs-newer", "retry-runs-older")
			assertPastEndLinks(t, doc, "retry-runs", "/retries/runs", "2", map[string]string{"limit": "2"})
		})
	}

	rec := s.getJSON(strings.TrimSuffix(executiveRetryRunPath, "-run") + "-runs?limit=2&offset=100")
	var list struct {
		WorkerRuns []map[string]any `json:"worker_runs"`
		Total      int64            `json:"total"`
		Offset     int              `json:"offset"`
	}
	if rec.Code != http.StatusOK {
		t.Fatalf("JSON past the end: got status %d, want 200: %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatalf("decode the run list: %v: %s", err, rec.Body)
	}
	if len(list.WorkerRuns) != 0 || list.Total != 3 || list.Offset != 100 {
		t.Errorf("JSON past the end: got %d runs, total %d, offset %d; want 0, 3, 100", len(list.WorkerRuns), list.Total, list.Offset)
	}
}
