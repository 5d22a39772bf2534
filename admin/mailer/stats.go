package mailer

import (
	"sync/atomic"
	"time"
)

// mailStats count the mailer's sends, for metrics and readiness.
type mailStats struct {
	sent, failed atomic.Uint64
	lastSent     atomic.Int64 // unix ns of the last email sent; 0: none yet
}

// Stats is what the mailer did since it started.
type Stats struct {
	Sent   uint64 // emails the SMTP server took
	Failed uint64 // attempts that failed (each retry counts)
	// LastSent is when the last email went out; zero if none did.
	LastSent time.Time
}

// Stats reads the mailer's counters; safe from any goroutine.
func (m *Mailer) Stats() Stats {
	s := Stats{Sent: m.stats.sent.Load(), Failed: m.stats.failed.Load()}
	if ns := m.stats.lastSent.Load(); ns != 0 {
		s.LastSent = time.Unix(0, ns)
	}
	return s
}
