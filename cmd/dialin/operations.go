package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin/mailer"
	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/bridge"
	"github.com/dialin/dialin/callrecord"
	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/ivr"
	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/metrics"
	"github.com/dialin/dialin/sipua"
	"github.com/dialin/dialin/store"
)

// operations is the operator's side of a running bridge: the metrics and
// the health checks, served on metrics.listen and (the health checks) on
// the admin port. The mailer is made by startAdmin, so the checks are
// completed there (setMailer) before either listener serves.
type operations struct {
	cfg      config.Config
	ua       *sipua.Server
	menu     *ivr.Menu
	meetings *bridge.Bridge
	clock    *media.Clock
	dir      *store.Directory
	records  *callrecord.Recorder

	mail   *mailer.Mailer
	health *metrics.Health
	srv    *metrics.Server // nil when metrics.listen is empty
	served chan error
}

// setMailer completes the sources with the mailer and builds the checks.
func (o *operations) setMailer(m *mailer.Mailer) {
	o.mail = m
	o.health = metrics.NewHealth(metrics.HealthOptions{
		SIP: o.ua, Database: o.dir, Clock: o.clock, Outbox: o.dir, Mailer: m,
		MailOn:           o.cfg.Email.SMTPHost != "",
		ClockStallAfter:  o.cfg.Metrics.ClockStallAfter,
		OutboxStuckAfter: o.cfg.Metrics.OutboxStuckAfter,
	})
}

// counters are GET /status's figures since start, read from the same
// counters as the metrics.
func (o *operations) counters() wire.Counters {
	c, m, d := o.ua.CallStats(), o.menu.Stats(), o.dir.Stats()
	var mail mailer.Stats
	if o.mail != nil {
		mail = o.mail.Stats()
	}
	return wire.Counters{
		CallsAnswered: c.Answered, CallsUnanswered: c.Unanswered,
		CallsRefused: c.RefusedMaxCalls + c.RefusedShutdown + c.RefusedNotDialIn + c.RefusedBadRequest +
			c.RefusedNoCodec + c.RefusedSessionTimer + c.RefusedNoMedia,
		IDsNotFound: m.IDNotFound, PINsWrong: m.PINWrong, PINsLocked: m.PINLocked, PINLockouts: d.PINLockouts,
		GuardRefusals: m.GuardCallsRefused + m.GuardEntriesRefused,
		EmailsSent:    mail.Sent, EmailsFailed: mail.Failed,
	}
}

// healthHandler serves /healthz and /readyz for the admin API.
func (o *operations) healthHandler() http.Handler { return o.health.Handler() }

// listen starts the metrics listener unless metrics.listen is empty; it
// logs "metrics ready" with its url.
func (o *operations) listen(log zerolog.Logger) error {
	if o.cfg.Metrics.Listen == "" {
		log.Info().Msg("metrics off (metrics.listen is empty)")
		return nil
	}
	reg := metrics.NewRegistry(metrics.Sources{
		Calls: o.ua, Menu: o.menu, Meetings: o.meetings, Media: o.clock, Directory: o.dir, Mailer: o.mail,
		Records: o.records,
	})
	srv, err := metrics.Listen(o.cfg.Metrics.Listen, metrics.Handler(reg, o.health))
	if err != nil {
		return err
	}
	o.srv, o.served = srv, make(chan error, 1)
	go func() { o.served <- srv.Serve() }()
	log.Info().Str("url", fmt.Sprintf("http://%s/metrics", srv.Addr())).Msg("metrics ready")
	return nil
}

// stop closes the metrics listener, letting scrapes in flight finish.
func (o *operations) stop(log zerolog.Logger) {
	if o.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := o.srv.Shutdown(ctx); err != nil {
		log.Warn().Err(err).Msg("metrics listener stopped with an error")
	}
	if err := <-o.served; err != nil {
		log.Warn().Err(err).Msg("metrics listener failed")
	}
}
