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
// reports whether every email went out (or was settled without the
// server): false means server trouble, and the rest of the queue waits.
func (m *Mailer) sendBatch(ctx context.Context, due []store.OutboxMail) bool {
	ok := true
	var msgs []*mail.Msg
	var sending []store.OutboxMail
	for _, om := range due {
		switch {
		case om.Unreadable != "":
			m.gaveUp(ctx, om, errors.New(om.Unreadable))
			continue
		case om.Stale != "":
			m.dropped(ctx, om, om.Stale)
			continue
		}
		msg, err := m.message(om)
		if err != nil {
			m.gaveUp(ctx, om, err) // retrying cannot render it
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
		if ctx.Err() != nil && !msg.HasSendError() {
			ok = false
			continue // stopping, not a server problem: not an attempt
		}
		sendErr := err
		if msg.HasSendError() {
			sendErr = msg.SendError()
		}
		if sendErr == nil {
			sendErr = errors.New("not delivered, no error reported")
		}
		explained := explain(sendErr, m.addr)
		switch {
		case refusedForGood(sendErr):
			m.gaveUp(ctx, om, explained) // this message, not the server: the others go on
		case om.Attempts+1 >= m.cfg.MaxAttempts:
			ok = false
			m.gaveUp(ctx, om, fmt.Errorf("gave up after %d attempts (email.max_attempts): %w", om.Attempts+1, explained))
		default:
			ok = false
			m.failed(ctx, om, explained)
		}
	}
	return ok
}

// refusedForGood reports a permanent (5xx) answer to this message: the
// server refused its sender, a recipient or its data, which sending again
// will not change. Authentication (530, 534, 535) and connection trouble
// are the server's setup, fixed by the operator, and are retried.
func refusedForGood(err error) bool {
	var se *mail.SendError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Reason {
	case mail.ErrSMTPMailFrom, mail.ErrSMTPRcptTo, mail.ErrSMTPData, mail.ErrSMTPDataClose:
	default:
		return false
	}
	code := se.ErrorCode()
	return code >= 500 && code < 600 && !isAuthError(err)
}

// message builds the email for om, dated when it was written.
func (m *Mailer) message(om store.OutboxMail) (*mail.Msg, error) {
	r, err := Render(om.MailContent, m.numbers)
	if err != nil {
		return nil, err
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(m.cfg.From); err != nil {
		return nil, fmt.Errorf("sender %q: %w", m.cfg.From, err)
	}
	if err := msg.To(om.To); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", om.To, err)
	}
	msg.Subject(r.Subject)
	written := om.CreatedAt
	if written.IsZero() {
		written = m.now()
	}
	msg.SetDateWithValue(written)
	msg.SetMessageID()
	msg.SetBodyString(mail.TypeTextPlain, r.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, r.HTML)
	return msg, nil
}

// The outcomes of an email. Each is one place, so a counter of sent,
// failed (for good), retried and dropped emails has one line to add;
// superseded emails are counted by the directory (SupersededMail), which
// supersedes them when the newer one is queued.

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

// failed records a failed attempt; the email is retried after the backoff.
func (m *Mailer) failed(ctx context.Context, om store.OutboxMail, sendErr error) {
	m.stats.failed.Add(1)
	wait := m.backoff(om.Attempts)
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := m.outbox.MailFailed(bctx, om.ID, m.now().Add(wait), sendErr.Error()); err != nil {
		m.log.Error().Err(err).Int64("id", om.ID).Msg("cannot record a failed email in the outbox")
	}
	m.log.Error().Err(sendErr).Int64("id", om.ID).Str("kind", om.Kind).Str("to", om.To).
		Int("attempt", om.Attempts+1).Int("max_attempts", m.cfg.MaxAttempts).Str("retry_in", wait.String()).
		Msg("email not sent; kept in the outbox")
}

// gaveUp fails an email for good: it stays listed as failed, with the
// reason, until retried by hand or pruned.
func (m *Mailer) gaveUp(ctx context.Context, om store.OutboxMail, reason error) {
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := m.outbox.MailGaveUp(bctx, om.ID, reason.Error()); err != nil {
		m.log.Error().Err(err).Int64("id", om.ID).Msg("cannot record a failed email in the outbox")
	}
	m.log.Error().Err(reason).Int64("id", om.ID).Str("kind", om.Kind).Str("to", om.To).
		Int("attempts", om.Attempts+1).Msg("email failed: not retried (dialin outbox retry ID sends it again)")
}

// dropped drops an email whose facts are no longer true.
func (m *Mailer) dropped(ctx context.Context, om store.OutboxMail, reason string) {
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := m.outbox.MailDropped(bctx, om.ID, reason); err != nil {
		m.log.Error().Err(err).Int64("id", om.ID).Msg("cannot record a dropped email in the outbox")
		return
	}
	m.log.Info().Int64("id", om.ID).Str("kind", om.Kind).Str("to", om.To).Str("reason", reason).
		Msg("email dropped: no longer true")
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
