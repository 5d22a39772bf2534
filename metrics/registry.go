package metrics

import (
	"github.com/dialin/dialin/internal/version"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewRegistry is a registry with the bridge's metrics, the Go runtime's and
// the process's, and dialin_build_info.
func NewRegistry(src Sources) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		newCollector(src),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(),
	)
	return reg
}

// buildInfo is dialin_build_info, always 1, with the version and commit
// the binary was built from as labels (internal/version, as --version and
// the status say them).
func buildInfo() prometheus.Collector {
	info := version.Get()
	revision := info.Revision
	if revision == "" {
		revision = "unknown"
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "dialin_build_info",
		Help:        "The version and commit dialin was built from (always 1).",
		ConstLabels: prometheus.Labels{"version": info.Short(), "revision": revision, "goversion": info.GoVersion},
	})
	g.Set(1)
	return g
}
