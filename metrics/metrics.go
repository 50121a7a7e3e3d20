// Package metrics defines every Prometheus collector of the Evidence Console
// in one place, on a registry of its own, and the functions other packages
// call to observe an event. Packages never touch the collectors directly, so
// the label sets stay fixed and no secret can become a label value.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds the collectors below plus the Go runtime and process
// collectors. It is not the client library's global default registry, so
// tests and libraries cannot register into it by accident.
var Registry = prometheus.NewRegistry()

var (
	httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "evidence_console",
		Name:      "http_requests_total",
		Help:      "HTTP requests served, by method, route pattern and status code.",
	}, []string{"method", "route", "status"})

	httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "evidence_console",
		Name:      "http_request_duration_seconds",
		Help:      "Time to serve an HTTP request, in seconds, by method and route pattern.",
		Buckets:   prometheus.DefBuckets,
	}, []string{"method", "route"})

	deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "evidence_console",
		Name:      "deliveries_total",
		Help:      "Completed connector delivery operations, by configured connector name and result class.",
	}, []string{"connector", "class"})

	workerRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "evidence_console",
		Name:      "retry_worker_runs_total",
		Help:      "Delivery retry worker runs, by mode (dry or live).",
	}, []string{"mode"})

	evaluationDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "evidence_console",
		Name:      "health_evaluation_duration_seconds",
		Help:      "Time to evaluate recovery retry health over the stored evidence, in seconds.",
		Buckets:   []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
	})
)

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		httpRequests, httpDuration, deliveries, workerRuns, evaluationDuration,
	)
}

// Handler returns the HTTP handler that serves Registry in the Prometheus
// text exposition format.
func Handler() http.Handler {
	return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{Registry: Registry})
}

// UnmatchedRoute is the route label of a request that matched no route, so
// probes of random addresses cannot create one series per address.
const UnmatchedRoute = "unmatched"

// ObserveHTTPRequest counts one served request. route must be the route
// pattern (such as /audit/:kind/:id), never the raw URL, because a raw URL
// may carry ids without bound or a secret in its query.
func ObserveHTTPRequest(method, route string, status int, elapsed time.Duration) {
	if route == "" {
		route = UnmatchedRoute
	}
	httpRequests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	httpDuration.WithLabelValues(method, route).Observe(elapsed.Seconds())
}

// ObserveDelivery counts one completed delivery operation. connector is the
// configured destination name and class its result class (such as success,
// timeout or http_5xx); neither contains a URL or token.
func ObserveDelivery(connector, class string) {
	if class == "" {
		class = "unknown"
	}
	deliveries.WithLabelValues(connector, class).Inc()
}

// Worker run modes.
const (
	ModeDry  = "dry"
	ModeLive = "live"
)

// ObserveWorkerRun counts one delivery retry worker run; mode is ModeDry or
// ModeLive.
func ObserveWorkerRun(mode string) {
	workerRuns.WithLabelValues(mode).Inc()
}

// ObserveEvaluation records the duration of one health evaluation.
func ObserveEvaluation(elapsed time.Duration) {
	evaluationDuration.Observe(elapsed.Seconds())
}
