package metrics

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dialin/dialin/admin/mailer"
)

// The readiness checks' sources, each what it needs.
type (
	// Listeners says whether SIP takes calls (*sipua.Server).
	Listeners interface{ Ready() error }
	// Prober makes one real write to the database (*store.Directory).
	Prober interface {
		Probe(ctx context.Context) error
	}
	// Stalls says whether the media clock ticks (*media.Clock).
	Stalls interface {
		Stalled(now time.Time, limit time.Duration) error
	}
	// Outbox counts the emails waiting (*store.Directory).
	Outbox interface {
		PendingMail(ctx context.Context) (int, error)
	}
)

// HealthOptions are the readiness checks' sources and limits; every
// source is required.
type HealthOptions struct {
	SIP      Listeners
	Database Prober
	Clock    Stalls
	Outbox   Outbox
	Mailer   Mailer
	// MailOn says an SMTP server is configured: without one, emails wait
	// by design and the outbox is never stuck.
	MailOn bool
	// ClockStallAfter and OutboxStuckAfter: see config.Metrics.
	ClockStallAfter, OutboxStuckAfter time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// checkTimeout bounds each check that waits on the database.
const checkTimeout = 3 * time.Second

// Health answers /healthz (the process serves HTTP) and /readyz (it can
// take calls and changes).
type Health struct {
	o HealthOptions

	mu sync.Mutex // one readiness check at a time; guards the outbox watch
	// The outbox watch: since when emails have been waiting with none
	// sent, and the sent count then.
	waitingSince time.Time
	sentThen     uint64
}

// NewHealth returns the health checks.
func NewHealth(o HealthOptions) *Health {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Health{o: o}
}

// Ready runs every readiness check and returns why the bridge is not
// ready, one reason per failed check; none when it is.
func (h *Health) Ready(ctx context.Context) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var reasons []string
	fail := func(what string, err error) {
		if err != nil {
			reasons = append(reasons, what+": "+err.Error())
		}
	}
	fail("sip", h.o.SIP.Ready())
	pctx, cancel := context.WithTimeout(ctx, checkTimeout)
	fail("database", h.o.Database.Probe(pctx))
	cancel()
	fail("media", h.o.Clock.Stalled(h.o.Now(), h.o.ClockStallAfter))
	fail("outbox", h.outboxStuck(ctx))
	return reasons
}

// outboxStuck reports emails that have waited OutboxStuckAfter, as seen
// by successive checks, while the mailer sent none. With mu held.
func (h *Health) outboxStuck(ctx context.Context) error {
	if !h.o.MailOn {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	pending, err := h.o.Outbox.PendingMail(ctx)
	if err != nil {
		return fmt.Errorf("cannot count the waiting emails: %w", err)
	}
	now, st := h.o.Now(), h.o.Mailer.Stats()
	if pending == 0 || h.waitingSince.IsZero() || st.Sent != h.sentThen {
		h.waitingSince, h.sentThen = now, st.Sent
		if pending == 0 {
			h.waitingSince = time.Time{}
		}
		return nil
	}
	if waited := now.Sub(h.waitingSince); waited >= h.o.OutboxStuckAfter {
		return fmt.Errorf("%d emails waiting and none sent for %v (%d failed attempts in all)",
			pending, waited.Round(time.Second), st.Failed)
	}
	return nil
}

// Handler serves GET /healthz and GET /readyz (and HEAD): 200 "ok", or
// for /readyz 503 with the reasons, one a line.
func (h *Health) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if reasons := h.Ready(r.Context()); len(reasons) > 0 {
			writeText(w, http.StatusServiceUnavailable, "not ready\n"+strings.Join(reasons, "\n"))
			return
		}
		writeText(w, http.StatusOK, "ok")
	})
	return mux
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintln(w, body)
}

var _ Mailer = (*mailer.Mailer)(nil)
