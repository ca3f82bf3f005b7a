package stdio

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	up      prometheus.Gauge
	starts  prometheus.Counter
	dropped *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) metrics {
	m := metrics{
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "airlock_stdio_server_up",
			Help: "1 while an initialized stdio MCP server process serves callers.",
		}),
		starts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "airlock_stdio_server_starts_total",
			Help: "Starts of the stdio MCP server process, the first one included.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "airlock_stdio_dropped_lines_total",
			Help: "Lines of the stdio MCP server's stdout dropped, by reason (oversize, not_jsonrpc).",
		}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.up, m.starts, m.dropped)
	}
	return m
}
