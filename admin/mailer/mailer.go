// Package mailer sends the emails the directory queues in its outbox: the
// PIN and dial-in details users get when they are enabled, when their PIN
// or conference ID is reset, and on request.
//
// The directory stores the facts (store.MailContent) in the same
// transaction as the change, a newer email superseding an older one about
// the same fact; the mailer renders them when it sends, dated when they
// were written, and marks each email sent once the SMTP server has accepted
// it. An email whose facts are no longer true (the PIN or the conference ID
// changed since, the user was disabled) is dropped with the reason. One
// that cannot be sent is retried with a growing backoff, up to
// email.max_attempts, then failed with the server's answer; a permanent
// refusal (5xx) fails it at once. Sent, failed and dropped emails stay
// listed for email.retention, then are pruned.
package mailer

import (
	"context"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"strconv"
	"time"

	"github.com/rs/zerolog"
	mail "github.com/wneessen/go-mail"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/store"
)

// Outbox is the part of *store.Directory the mailer uses.
type Outbox interface {
	// DueMail reads up to limit pending emails whose next attempt is due,
	// each with Stale or Unreadable set when it must not be sent.
	DueMail(ctx context.Context, limit int) ([]store.OutboxMail, error)
	// MailSent marks a sent email sent (its content erased).
	MailSent(ctx context.Context, id int64) error
	// MailFailed counts a failed attempt and keeps the email until next.
	MailFailed(ctx context.Context, id int64, next time.Time, reason string) error
	// MailGaveUp counts a last failed attempt: the email is failed.
	MailGaveUp(ctx context.Context, id int64, reason string) error
	// MailDropped drops an email that is no longer true, with the reason.
	MailDropped(ctx context.Context, id int64, reason string) error
	// PruneMail deletes the emails sent, failed or dropped more than keep ago.
	PruneMail(ctx context.Context, keep time.Duration) (int, error)
	// MailQueued wakes the mailer after an email is queued; may be nil.
	MailQueued() <-chan struct{}
}

var _ Outbox = (*store.Directory)(nil)

// Options configure a Mailer.
type Options struct {
	Config        config.Email
	Outbox        Outbox
	DialInNumbers []string // used when an email's own DialInNumbers is empty
	Logger        zerolog.Logger
	Now           func() time.Time // default time.Now
	PollInterval  time.Duration    // how often to look for due retries; default 5s
}

const (
	defaultPollInterval = 5 * time.Second
	defaultTimeout      = 15 * time.Second
	// batchSize bounds one connection: go-mail gives the whole batch one
	// Config.Timeout after connecting.
	batchSize = 10
	// countLimit bounds the one-off count for the smtp_host warning.
	countLimit = 1000
	// bookkeepingTimeout bounds an outbox update, which must happen even
	// when Run is being stopped (a sent email must not be sent again).
	bookkeepingTimeout = 10 * time.Second
	// pruneInterval is how often finished emails past email.retention are
	// deleted.
	pruneInterval    = time.Hour
	defaultRetention = 7 * 24 * time.Hour
)

// Mailer sends the outbox's emails. Run it in one goroutine.
type Mailer struct {
	cfg        config.Email
	outbox     Outbox
	numbers    []string
	log        zerolog.Logger
	now        func() time.Time
	poll       time.Duration
	clientOpts []mail.Option
	addr       string    // host:port, for messages
	lastPrune  time.Time // Run's goroutine only
	stats      mailStats // stats.go
}

// New checks the options and prepares the SMTP client settings; it does not
// connect.
func New(opts Options) (*Mailer, error) {
	if opts.Outbox == nil {
		return nil, errors.New("mailer: no outbox")
	}
	cfg := opts.Config
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("mailer: email.timeout %v is negative", cfg.Timeout)
	}
	if cfg.RetryMin <= 0 {
		return nil, fmt.Errorf("mailer: email.retry_min %v is not positive", cfg.RetryMin)
	}
	if cfg.RetryMax < cfg.RetryMin {
		return nil, fmt.Errorf("mailer: email.retry_max %v is below email.retry_min %v", cfg.RetryMax, cfg.RetryMin)
	}
	if cfg.MaxAttempts < 1 {
		return nil, fmt.Errorf("mailer: email.max_attempts %d is below 1", cfg.MaxAttempts)
	}
	if cfg.Retention <= 0 {
		cfg.Retention = defaultRetention
	}
	m := &Mailer{
		cfg:     cfg,
		outbox:  opts.Outbox,
		numbers: append([]string(nil), opts.DialInNumbers...),
		log:     opts.Logger,
		now:     opts.Now,
		poll:    opts.PollInterval,
		addr:    net.JoinHostPort(cfg.SMTPHost, strconv.Itoa(cfg.SMTPPort)),
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.poll <= 0 {
		m.poll = defaultPollInterval
	}
	if cfg.SMTPHost == "" {
		return m, nil // emails wait in the outbox; Run says so
	}
	if _, err := netmail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("mailer: email.from %q: %w", cfg.From, err)
	}
	clientOpts, err := clientOptions(cfg)
	if err != nil {
		return nil, err
	}
	// Build a client once to have go-mail check the options now.
	if _, err := mail.NewClient(cfg.SMTPHost, clientOpts...); err != nil {
		return nil, fmt.Errorf("mailer: SMTP client for %s: %w", m.addr, err)
	}
	m.clientOpts = clientOpts
	return m, nil
}

// clientOptions turns the config into go-mail options. The TLS options are
// the ones that leave the port alone: WithTLSPortPolicy and WithSSLPort
// replace port 25 by 587 or 465.
func clientOptions(cfg config.Email) ([]mail.Option, error) {
	opts := []mail.Option{
		mail.WithPort(cfg.SMTPPort),
		mail.WithTimeout(cfg.Timeout),
	}
	switch cfg.Security {
	case "starttls":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case "tls":
		opts = append(opts, mail.WithSSL()) // implicit TLS from the first byte
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		return nil, fmt.Errorf("mailer: email.security %q is not starttls, tls or none", cfg.Security)
	}
	if cfg.Username != "" {
		// PLAIN when the server offers it, else the strongest mechanism
		// go-mail finds (Office 365, for one, offers only LOGIN). go-mail
		// refuses PLAIN and LOGIN on a plain connection except to loopback.
		opts = append(opts,
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthPlain),
			mail.WithUsername(cfg.Username),
			mail.WithPassword(cfg.Password),
		)
	} else if cfg.Password != "" {
		return nil, errors.New("mailer: email.password is set but email.username is empty")
	}
	return opts, nil
}

// Run sends due emails until ctx is done: at once, after each queued
// email, and every PollInterval for retries. Errors are logged, never
// returned.
func (m *Mailer) Run(ctx context.Context) {
	queued := m.outbox.MailQueued() // nil blocks forever in select
	ticker := time.NewTicker(m.poll)
	defer ticker.Stop()

	if m.cfg.SMTPHost == "" {
		m.waitForHost(ctx, queued, ticker.C)
		return
	}
	for {
		m.prune(ctx)
		m.sendDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-queued:
		case <-ticker.C:
		}
	}
}

// waitForHost runs without an SMTP server: it says once that emails are
// waiting, then only drains wake-ups until ctx is done.
func (m *Mailer) waitForHost(ctx context.Context, queued <-chan struct{}, tick <-chan time.Time) {
	warned := false
	for {
		m.prune(ctx)
		if !warned {
			due, err := m.outbox.DueMail(ctx, countLimit)
			switch {
			case err != nil && ctx.Err() == nil:
				m.log.Error().Err(err).Msg("cannot read the email outbox")
			case len(due) > 0:
				m.log.Warn().Int("due", len(due)).Msg("email.smtp_host is empty: emails wait in the outbox")
				warned = true
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-queued:
		case <-tick:
		}
	}
}

// sendDue sends batches of due emails while full batches go out.
func (m *Mailer) sendDue(ctx context.Context) {
	for ctx.Err() == nil {
		due, err := m.outbox.DueMail(ctx, batchSize)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Error().Err(err).Msg("cannot read the email outbox")
			}
			return
		}
		if len(due) == 0 {
			return
		}
		// A failure means server trouble: wait for the next round rather
		// than hammer it with the rest of the queue.
		if !m.sendBatch(ctx, due) || len(due) < batchSize {
			return
		}
	}
}

// prune deletes the finished emails past email.retention, once every
// pruneInterval.
func (m *Mailer) prune(ctx context.Context) {
	if now := m.now(); now.Sub(m.lastPrune) >= pruneInterval {
		m.lastPrune = now
		n, err := m.outbox.PruneMail(ctx, m.cfg.Retention)
		switch {
		case err != nil && ctx.Err() == nil:
			m.log.Error().Err(err).Msg("cannot prune the email outbox")
		case n > 0:
			m.log.Info().Int("pruned", n).Str("retention", m.cfg.Retention.String()).
				Msg("sent, failed and dropped emails pruned from the outbox")
		}
	}
}

// bookkeeping is a context for outbox updates that outlives a cancelled
// Run: an email the server took must be marked sent.
func bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
}
