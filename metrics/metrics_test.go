package metrics

import (
	"net/http/httptest"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape serves Registry once and returns the value of the sample of family
// name whose labels equal labels, or 0 when there is none. A histogram's
// value is its sample count.
func scrape(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	metric := scrapeMetric(t, name, labels)
	switch {
	case metric == nil:
		return 0
	case metric.GetCounter() != nil:
		return metric.GetCounter().GetValue()
	default:
		return float64(metric.GetHistogram().GetSampleCount())
	}
}

// scrapeSum returns the sum of the histogram sample of family name whose
// labels equal labels, or 0 when there is none.
func scrapeSum(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	metric := scrapeMetric(t, name, labels)
	if metric == nil {
		return 0
	}
	return metric.GetHistogram().GetSampleSum()
}

// scrapeMetric serves Registry once and returns the sample of family name
// whose labels equal labels, or nil.
func scrapeMetric(t *testing.T, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	family, ok := families[name]
	if !ok {
		return nil
	}
	for _, metric := range family.GetMetric() {
		matched := 0
		for _, pair := range metric.GetLabel() {
			if labels[pair.GetName()] == pair.GetValue() {
				matched++
			}
		}
		if matched == len(labels) && len(metric.GetLabel()) == len(labels) {
			return metric
		}
	}
	return nil
}

func TestCountersIncrement(t *testing.T) {
	tests := []struct {
		name    string
		observe func()
		family  string
		labels  map[string]string
	}{
		{"delivery", func() { ObserveDelivery("metrics-test", "server_error") },
			"evidence_console_deliveries_total", map[string]string{"connector": "metrics-test", "class": "server_error"}},
		{"delivery without class", func() { ObserveDelivery("metrics-test", "") },
			"evidence_console_deliveries_total", map[string]string{"connector": "metrics-test", "class": "unknown"}},
		{"request", func() { ObserveHTTPRequest("GET", "/metrics-test/:id", 404, time.Millisecond) },
			"evidence_console_http_requests_total", map[string]string{"method": "GET", "route": "/metrics-test/:id", "status": "404"}},
		{"unmatched request", func() { ObserveHTTPRequest("GET", "", 404, time.Millisecond) },
			"evidence_console_http_requests_total", map[string]string{"method": "GET", "route": UnmatchedRoute, "status": "404"}},
		{"live worker run", func() { ObserveWorkerRun(ModeLive) },
			"evidence_console_retry_worker_runs_total", map[string]string{"mode": "live"}},
		{"worker phase", func() { ObserveWorkerPhase("executive_report", PhaseClaim, 4*time.Millisecond) },
			"evidence_console_retry_worker_phase_duration_seconds", map[string]string{"kind": "executive_report", "phase": "claim"}},
		{"evaluation", func() { ObserveEvaluation(3 * time.Millisecond) },
			"evidence_console_health_evaluation_duration_seconds", map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := scrape(t, tc.family, tc.labels)
			tc.observe()
			if got := scrape(t, tc.family, tc.labels); got != before+1 {
				t.Errorf("%s %v: got %v, want %v", tc.family, tc.labels, got, before+1)
			}
		})
	}
}

func TestWorkerPhaseSums(t *testing.T) {
	labels := map[string]string{"kind": "health_alert", "phase": PhaseSend}
	before := scrapeSum(t, "evidence_console_retry_worker_phase_duration_seconds", labels)
	ObserveWorkerPhase("health_alert", PhaseSend, 250*time.Millisecond)
	ObserveWorkerPhase("health_alert", PhaseSend, 500*time.Millisecond)
	if got := scrapeSum(t, "evidence_console_retry_worker_phase_duration_seconds", labels) - before; got != 0.75 {
		t.Errorf("send seconds: got %v, want 0.75", got)
	}
}
