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

	workerPhaseDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "evidence_console",
		Name:      "retry_worker_phase_duration_seconds",
		Help:      "Time a live delivery retry worker run spent in one phase, in seconds, by subject kind and phase (reconcile, select, claim, send or record).",
		Buckets:   []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"kind", "phase"})

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
		httpRequests, httpDuration, deliveries, workerRuns, workerPhaseDuration, evaluationDuration,
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

// Phases of a live worker run, in the order a run takes them. A run that is
// rejected part-way is observed only in the phases it finished.
const (
	// PhaseReconcile is the recording of stale in-flight retries and sends
	// as interrupted.
	PhaseReconcile = "reconcile"
	// PhaseSelect is the wait for the selection lock, the choice of due
	// groups, the reading of their messages and, for health alerts, the
	// wait for their send leases.
	PhaseSelect = "select"
	// PhaseClaim is the transaction that stores the plan, the run and the
	// in-flight claims.
	PhaseClaim = "claim"
	// PhaseSend is the sending of the claimed retries.
	PhaseSend = "send"
	// PhaseRecord is the recording of their outcomes.
	PhaseRecord = "record"
)

// ObserveWorkerPhase records how long one live worker run of subject kind
// kind spent in phase, one of the Phase constants.
func ObserveWorkerPhase(kind, phase string, elapsed time.Duration) {
	workerPhaseDuration.WithLabelValues(kind, phase).Observe(elapsed.Seconds())
}

// ObserveEvaluation records the duration of one health evaluation.
func ObserveEvaluation(elapsed time.Duration) {
	evaluationDuration.Observe(elapsed.Seconds())
}
