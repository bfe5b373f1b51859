package apiserver

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the API server's Prometheus series, named as upstream's.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics() *metrics {
	m := &metrics{registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "apiserver_request_total",
		Help: "Counter of apiserver requests broken out for each verb, group, version, resource and HTTP response code.",
	}, []string{"verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "apiserver_request_duration_seconds",
		Help:    "Response latency distribution in seconds for each verb, group, version, resource and subresource.",
		Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component"})
	m.registry.MustRegister(m.requests, m.latency,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return m
}

func (m *metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.handler.ServeHTTP(w, r) }

// observe records one request under upstream's labels: the verb as
// upstream reports it (GET, LIST, WATCH, POST, PUT, PATCH, APPLY, DELETE),
// the scope (resource, namespace, cluster) and the component.
func (m *metrics) observe(ri requestInfo, isResource bool, r *http.Request, code int, d time.Duration) {
	verb := strings.ToUpper(r.Method)
	scope := ""
	if isResource && ri.Resource != "" {
		switch {
		case ri.Verb == "watch":
			verb = "WATCH"
		case ri.Verb == "list":
			verb = "LIST"
		case verb == http.MethodPatch && strings.HasPrefix(r.Header.Get("Content-Type"), "application/apply-patch"):
			verb = "APPLY"
		}
		switch {
		case ri.Name != "":
			scope = "resource"
		case ri.Namespace != "":
			scope = "namespace"
		default:
			scope = "cluster"
		}
	} else {
		ri = requestInfo{}
	}
	dryRun := ""
	if isDryRun(r) {
		dryRun = "All"
	}
	m.requests.WithLabelValues(verb, dryRun, ri.Group, ri.Version, ri.Resource, ri.Subresource, scope, "apiserver", strconv.Itoa(code)).Inc()
	if verb != "WATCH" {
		m.latency.WithLabelValues(verb, dryRun, ri.Group, ri.Version, ri.Resource, ri.Subresource, scope, "apiserver").Observe(d.Seconds())
	}
}
