package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/releaseops/evidence-console/audit"
	"github.com/releaseops/evidence-console/connectors"
)

// visibleText returns the selection's text with runs of whitespace folded
// into one space, the way a browser shows inline text.
func visibleText(selection *goquery.Selection) string {
	return strings.Join(strings.Fields(selection.Text()), " ")
}

func TestAlertPagesSpaceTextAroundValues(t *testing.T) {
	s := newAlertServer(t, map[string]destination{
		"alpha": {kind: connectors.KindWebhook, url: "{receiver}/webhook/alpha"},
		"down":  {kind: connectors.KindWebhook, url: "{receiver}/fail/503/down"},
	})

	sent := document(t, s.postForm("/console/retry-health-alerts", "provider=all&retries=0&timeout_seconds=2", "HX-Request", "true"))
	summary := visibleText(byTestID(sent, "alert-result").Find("p").First())
	if !strings.Contains(summary, " at level critical") {
		t.Errorf("send result summary: got %q, want %q", summary, "… at level critical")
	}
	healthID := byTestID(sent, "alert-result").AttrOr("data-health-id", "")

	ackPath := "/alerts/" + healthID + "/acknowledge/alpha"
	rec := s.postForm("/console/retry-health-alerts/"+healthID+"/acknowledgements", url.Values{
		"provider": {"alpha"}, "acknowledgement_state": {"escalated"}, "external_ref": {"CHG-42"}, "return_to": {ackPath},
	}.Encode())
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("acknowledge: status %d, want 303: %s", rec.Code, rec.Body.String())
	}

	page := document(t, s.do(http.MethodGet, ackPath, "", "", "Accept", "text/html"))
	if got := visibleText(byTestID(page, "ack-current-ref")); got != "External reference CHG-42" {
		t.Errorf("acknowledgement page reference: got %q, want %q", got, "External reference CHG-42")
	}

	console := document(t, s.do(http.MethodGet, "/console", "", "", "Accept", "text/html"))
	rows := byTestID(console, "history-row")
	acknowledgement := rows.Filter(`[data-kind="acknowledgement"]`)
	if got := visibleText(acknowledgement.Find("td").Eq(4)); !strings.Contains(got, "ref CHG-42") {
		t.Errorf("history acknowledgement detail: got %q, want it to contain %q", got, "ref CHG-42")
	}
	failed := rows.Filter(`[data-kind="delivery"]`).FilterFunction(func(_ int, row *goquery.Selection) bool {
		return visibleText(row.Find("td").Eq(2)) == "down"
	})
	if got := visibleText(failed.Find("td").Eq(4)); got != "server_error, HTTP 503, 1 attempt" {
		t.Errorf("history failed delivery detail: got %q, want %q", got, "server_error, HTTP 503, 1 attempt")
	}
}

func TestExecutivePagesSpaceTextAroundValues(t *testing.T) {
	s := newExecutiveServer(t)
	s.handler.Audit = &audit.Service{DB: s.db, Now: func() time.Time { return testNow }, Logger: s.handler.Logger}
	s.seedRecovery()
	s.schedule()

	delivered := document(t, s.postForm("/console/executive-report/deliver",
		url.Values{"provider": {"leaky", "webhook"}, "run_id": {"latest"}, "retries": {"0"}, "timeout_seconds": {"5"}}.Encode(),
		"HX-Request", "true"))
	leaky := byTestID(delivered, "executive-delivery").Filter(`[data-provider="leaky"]`)
	if got := visibleText(leaky); !strings.HasPrefix(got, "failed leaky server_error, HTTP 500, 1 attempt") {
		t.Errorf("failed delivery line: got %q, want it to start with %q", got, "failed leaky server_error, HTTP 500, 1 attempt")
	}

	runs := document(t, s.do(http.MethodGet, "/executive/runs", "", ""))
	if got := visibleText(byTestID(runs, "run-deliveries")); got != "1 sent, 1 failed" {
		t.Errorf("run deliveries: got %q, want %q", got, "1 sent, 1 failed")
	}
	if got := visibleText(runs.Find("main p").First()); !strings.HasPrefix(got, "1 run. ") {
		t.Errorf("runs page summary: got %q, want it to start with %q", got, "1 run. ")
	}

	history := document(t, s.do(http.MethodGet, "/history?metadata_kind=schedule_run", "", ""))
	if got := visibleText(byTestID(history, "history-total")); got != "1 record, showing 1 to 1" {
		t.Errorf("history total: got %q, want %q", got, "1 record, showing 1 to 1")
	}
}
