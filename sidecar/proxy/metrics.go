package proxy

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of an exchange, the bounded values of the decision label.
const (
	outcomeAllowed         = "allowed"
	outcomeDenied          = "denied"
	outcomeApproval        = "approval_required"
	outcomeUnauthenticated = "unauthenticated"
	outcomeError           = "error"
)

// Metrics are the proxy's Prometheus collectors. Labels are bounded: no
// subjects, tools or arguments.
type Metrics struct {
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	authFailures   *prometheus.CounterVec
	maskHits       *prometheus.CounterVec
	upstreamErrors prometheus.Counter
}

// NewMetrics creates the collectors and registers them with reg, if not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "airlock_requests_total",
			Help: "HTTP requests through the sidecar by outcome.",
		}, []string{"decision"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "airlock_request_duration_seconds",
			Help:    "Time from a caller's request to the sidecar's reply headers or refusal, by outcome.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"decision"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "airlock_authentication_failures_total",
			Help: "Refused tokens by reason.",
		}, []string{"reason"}),
		maskHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "airlock_mask_hits_total",
			Help: "Values redacted in responses, by detector.",
		}, []string{"detector"}),
		upstreamErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "airlock_upstream_errors_total",
			Help: "Calls that could not reach the MCP server.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration, m.authFailures, m.maskHits, m.upstreamErrors)
	}
	return m
}

func (m *Metrics) observe(ex *exchange) {
	m.requests.WithLabelValues(ex.outcome).Inc()
	m.duration.WithLabelValues(ex.outcome).Observe(time.Since(ex.start).Seconds())
}
