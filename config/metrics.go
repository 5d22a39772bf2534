package config

import (
	"net"
	"strconv"
	"time"
)

// Metrics is the operations listener: Prometheus metrics (/metrics) and
// the health checks (/healthz, /readyz), without a token, apart from the
// admin API. The health checks are on the admin port too.
type Metrics struct {
	// Listen is host:port; empty turns the listener off. Keep it on
	// loopback or a monitoring network: the figures are not secret, but
	// they tell an outsider how busy the bridge is.
	Listen string `yaml:"listen"`
	// OutboxStuckAfter: /readyz fails when emails have waited this long
	// with none sent.
	OutboxStuckAfter time.Duration `yaml:"outbox_stuck_after"`
	// ClockStallAfter: /readyz fails when a media clock shard with calls
	// has not ticked for this long (it ticks every 20 ms).
	ClockStallAfter time.Duration `yaml:"clock_stall_after"`
}

func defaultMetrics() Metrics {
	return Metrics{Listen: "127.0.0.1:9464", OutboxStuckAfter: 15 * time.Minute, ClockStallAfter: time.Second}
}

func (m *Metrics) validate(p *problems) {
	if m.Listen != "" {
		if _, port, err := net.SplitHostPort(m.Listen); err != nil {
			p.add("metrics.listen", "%q is not host:port", m.Listen)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			p.add("metrics.listen", "%q: port %q is not 0-65535", m.Listen, port)
		}
	}
	if m.OutboxStuckAfter < time.Minute || m.OutboxStuckAfter > 7*24*time.Hour {
		p.add("metrics.outbox_stuck_after", "%v is not between 1m and 168h", m.OutboxStuckAfter)
	}
	if m.ClockStallAfter < 100*time.Millisecond || m.ClockStallAfter > time.Minute {
		p.add("metrics.clock_stall_after", "%v is not between 100ms and 1m", m.ClockStallAfter)
	}
}
