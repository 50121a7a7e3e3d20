package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/releaseops/evidence-console/connectors"
)

// scrapeCounter fetches /metrics through the router, parses the text
// format and returns the counter of family whose labels equal labels, or 0.
func scrapeCounter(t *testing.T, s *testServer, family string, labels map[string]string) float64 {
	t.Helper()
	rec := s.getJSON("/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: got status %d, want 200", rec.Code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	for _, metric := range families[family].GetMetric() {
		matched := 0
		for _, pair := range metric.GetLabel() {
			if value, ok := labels[pair.GetName()]; ok && value == pair.GetValue() {
				matched++
			}
		}
		if matched == len(labels) && len(metric.GetLabel()) == len(labels) {
			return metric.GetCounter().GetValue()
		}
	}
	return 0
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	s := newAuditServer(t)
	route := runtimePrefix + "/audit/:kind/:id"
	labels := map[string]string{"method": "GET", "route": route, "status": "404"}
	before := scrapeCounter(t, s.testServer, "evidence_console_http_requests_total", labels)

	for _, id := range []string{"missing-1", "missing-2"} {
		if rec := s.getJSON(runtimePrefix + "/audit/delivery/" + id); rec.Code != http.StatusNotFound {
			t.Fatalf("GET audit chain %s: got status %d, want 404", id, rec.Code)
		}
	}

	if got := scrapeCounter(t, s.testServer, "evidence_console_http_requests_total", labels); got != before+2 {
		t.Errorf("requests %v: got %v, want %v", labels, got, before+2)
	}
	raw := scrapeCounter(t, s.testServer, "evidence_console_http_requests_total",
		map[string]string{"method": "GET", "route": runtimePrefix + "/audit/delivery/missing-1", "status": "404"})
	if raw != 0 {
		t.Errorf("raw URL series: got %v, want none", raw)
	}
}

func TestMetricsLabelUnknownPathsUnmatched(t *testing.T) {
	s := newTestServer(t)
	labels := map[string]string{"method": "GET", "route": "unmatched", "status": "404"}
	before := scrapeCounter(t, s, "evidence_console_http_requests_total", labels)

	if rec := s.getJSON("/no-such-page/s3cretPathValue?token=s3cretQueryValue"); rec.Code != http.StatusNotFound {
		t.Fatalf("GET unknown path: got status %d, want 404", rec.Code)
	}

	if got := scrapeCounter(t, s, "evidence_console_http_requests_total", labels); got != before+1 {
		t.Errorf("requests %v: got %v, want %v", labels, got, before+1)
	}
	body := s.getJSON("/metrics").Body.String()
	for _, secret := range []string{"s3cretPathValue", "s3cretQueryValue", "no-such-page"} {
		if strings.Contains(body, secret) {
			t.Errorf("/metrics contains %q from a request URL", secret)
		}
	}
}

func TestMetricsCountDeliveriesByClass(t *testing.T) {
	s := newAlertServer(t, map[string]destination{
		"metrics-ok":   {kind: connectors.KindWebhook, url: "{receiver}/webhook/metrics"},
		"metrics-fail": {kind: connectors.KindWebhook, url: "{receiver}/fail/503/webhook/metrics"},
	})
	okLabels := map[string]string{"connector": "metrics-ok", "class": string(connectors.ClassOK)}
	failLabels := map[string]string{"connector": "metrics-fail", "class": string(connectors.ClassServerError)}
	okBefore := scrapeCounter(t, s.testServer, "evidence_console_deliveries_total", okLabels)
	failBefore := scrapeCounter(t, s.testServer, "evidence_console_deliveries_total", failLabels)

	rec, _ := s.deliver(`{"provider": "all", "retries": 0}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("deliver: got status %d, want 201: %s", rec.Code, rec.Body.String())
	}

	if got := scrapeCounter(t, s.testServer, "evidence_console_deliveries_total", okLabels); got != okBefore+1 {
		t.Errorf("deliveries %v: got %v, want %v", okLabels, got, okBefore+1)
	}
	if got := scrapeCounter(t, s.testServer, "evidence_console_deliveries_total", failLabels); got != failBefore+1 {
		t.Errorf("deliveries %v: got %v, want %v", failLabels, got, failBefore+1)
	}
}

func TestMetricsIsPublic(t *testing.T) {
	s := newTestServer(t)
	s.anonymous()
	rec := s.getJSON("/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics without credentials: got status %d, want 200", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "evidence_console_http_requests_total") {
		t.Errorf("GET /metrics: body lacks evidence_console_http_requests_total")
	}
}
