package mailer

import (
	"context"
	"errors"
	"fmt"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/dialin/dialin/store"
)

// sendBatch sends due over one connection and records each outcome. It
// reports whether every email went out.
func (m *Mailer) sendBatch(ctx context.Context, due []store.OutboxMail) bool {
	ok := true
	var msgs []*mail.Msg
	var sending []store.OutboxMail
	for _, om := range due {
		msg, err := m.message(om)
		if err != nil {
			m.failed(ctx, om, err)
			ok = false
			continue
		}
		msgs = append(msgs, msg)
		sending = append(sending, om)
	}
	if len(msgs) == 0 {
		return ok
	}

	client, err := mail.NewClient(m.cfg.SMTPHost, m.clientOpts...)
	if err != nil {
		err = fmt.Errorf("SMTP client for %s: %w", m.addr, err)
	} else {
		err = client.DialAndSendWithContext(ctx, msgs...)
	}

	for i, msg := range msgs {
		om := sending[i]
		// IsDelivered: the server accepted the data, even if a later
		// step (RSET, QUIT) failed. Sending it again would duplicate it.
		if msg.IsDelivered() {
			m.sent(ctx, om)
			continue
		}
		ok = false
		if ctx.Err() != nil && !msg.HasSendError() {
			continue // stopping, not a server problem: not an attempt
		}
		sendErr := err
		if msg.HasSendError() {
			sendErr = msg.SendError()
		}
		if sendErr == nil {
			sendErr = errors.New("not delivered, no error reported")
		}
		m.failed(ctx, om, explain(sendErr, m.addr))
	}
	return ok
}

// message builds the email for om.
func (m *Mailer) message(om store.OutboxMail) (*mail.Msg, error) {
	r, err := Render(om.MailContent, m.numbers)
	if err != nil {
		return nil, permanent{err}
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(m.cfg.From); err != nil {
		return nil, fmt.Errorf("sender %q: %w", m.cfg.From, err)
	}
	if err := msg.To(om.To); err != nil {
		return nil, permanent{fmt.Errorf("recipient %q: %w", om.To, err)}
	}
	msg.Subject(r.Subject)
	msg.SetDateWithValue(m.now())
	msg.SetMessageID()
	msg.SetBodyString(mail.TypeTextPlain, r.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, r.HTML)
	return msg, nil
}

// permanent marks an error that retrying soon will not fix (an unknown
// kind from a newer version, a bad address). The email is still kept, but
// retried only every RetryMax.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

func (m *Mailer) sent(ctx context.Context, om store.OutboxMail) {
	m.stats.sent.Add(1)
	m.stats.lastSent.Store(m.now().UnixNano())
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := m.outbox.MailSent(bctx, om.ID); err != nil {
		m.log.Error().Err(err).Int64("id", om.ID).Str("kind", om.Kind).Str("to", om.To).
			Msg("email sent but still in the outbox: it may be sent again")
		return
	}
	m.log.Info().Int64("id", om.ID).Str("kind", om.Kind).Str("to", om.To).
		Int("attempts", om.Attempts+1).Msg("email sent")
}

func (m *Mailer) failed(ctx context.Context, om store.OutboxMail, sendErr error) {
	m.stats.failed.Add(1)
	wait := m.backoff(om.Attempts)
	if errors.As(sendErr, new(permanent)) {
		wait = m.cfg.RetryMax
	}
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := m.outbox.MailFailed(bctx, om.ID, m.now().Add(wait), sendErr.Error()); err != nil {
		m.log.Error().Err(err).Int64("id", om.ID).Msg("cannot record a failed email in the outbox")
	}
	m.log.Error().Err(sendErr).Int64("id", om.ID).Str("kind", om.Kind).Str("to", om.To).
		Int("attempt", om.Attempts+1).Str("retry_in", wait.String()).
		Msg("email not sent; kept in the outbox")
}

// backoff is RetryMin doubled once per failed attempt so far, up to
// RetryMax.
func (m *Mailer) backoff(attempts int) time.Duration {
	d := m.cfg.RetryMin
	for i := 0; i < attempts && d < m.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, m.cfg.RetryMax)
}
