package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The outbox as a mail queue an operator can see: each email is pending
// until it is sent, dropped (superseded by a newer one, no longer true, or
// by an administrator) or failed for good (too many attempts, or a
// permanent 5xx). Sent, dropped and failed emails stay listed for a while,
// without their content, then are pruned; only pending ones count as
// pending.

// MailStatus is where an email is in the outbox.
type MailStatus string

const (
	OutboxPending MailStatus = "pending" // waiting to be sent (or retried)
	OutboxSent    MailStatus = "sent"    // the SMTP server took it
	OutboxFailed  MailStatus = "failed"  // given up: the reason is the server's last answer
	OutboxDropped MailStatus = "dropped" // not sent: superseded, no longer true, or dropped by hand
)

// ParseMailStatus checks a status named by an administrator ("" is every
// status).
func ParseMailStatus(s string) (MailStatus, error) {
	switch st := MailStatus(s); st {
	case "", OutboxPending, OutboxSent, OutboxFailed, OutboxDropped:
		return st, nil
	}
	return "", &InputError{Field: "status", Msg: fmt.Sprintf("%q is not pending, sent, failed or dropped", s)}
}

// ErrMailDone: the email was sent or dropped already; it cannot be retried
// or dropped again.
var ErrMailDone = errors.New("the email was already sent or dropped")

// MailFilter selects emails to list, by ID.
type MailFilter struct {
	Status MailStatus // "": every status
	After  int64      // IDs above this one
	Limit  int        // at most this many (Directory: 0 means 100)
}

// MailQueueBackend is the Backend's part for the outbox's states. Listings
// never carry the sealed content.
type MailQueueBackend interface {
	// PendingMailOf reads the pending emails about userID to recipient to,
	// with their content, oldest first.
	PendingMailOf(ctx context.Context, userID int64, to string) ([]SealedMail, error)
	// GetMail reads one email without its content. ErrNotFound if none.
	GetMail(ctx context.Context, id int64) (SealedMail, error)
	// ListMail reads emails by ID, without their content.
	ListMail(ctx context.Context, f MailFilter) ([]SealedMail, error)
	// FinishMail marks a pending or failed email sent or dropped at `at`,
	// with the reason, and erases its content. ErrNotFound if none,
	// ErrMailDone if it was sent or dropped already.
	FinishMail(ctx context.Context, id int64, status MailStatus, reason string, at time.Time) error
	// GiveUpMail counts a last failed attempt and marks a pending email
	// failed at `at`; its content is kept for a retry. ErrNotFound if none,
	// ErrMailDone if it is not pending.
	GiveUpMail(ctx context.Context, id int64, reason string, at time.Time) error
	// RetryMail makes a pending or failed email pending, due at next, with
	// its attempts counted from 0 again. ErrNotFound if none, ErrMailDone
	// if it was sent or dropped.
	RetryMail(ctx context.Context, id int64, next time.Time) error
	// PruneMail deletes the emails sent, dropped or failed before `before`
	// and reports how many.
	PruneMail(ctx context.Context, before time.Time) (int, error)
}

// ---- The administration API's side.

// ListMail reads emails by ID (f.Limit 0: 100, at most 1000), without
// their content.
func (d *Directory) ListMail(ctx context.Context, f MailFilter) ([]SealedMail, error) {
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 0 || f.Limit > 1000 {
		return nil, &InputError{Field: "limit", Msg: fmt.Sprintf("%d is not 1-1000", f.Limit)}
	}
	if _, err := ParseMailStatus(string(f.Status)); err != nil {
		return nil, err
	}
	mails, err := d.backend.ListMail(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("directory: list emails: %w", err)
	}
	return mails, nil
}

// GetMail reads one email without its content. ErrNotFound if none.
func (d *Directory) GetMail(ctx context.Context, id int64) (SealedMail, error) {
	m, err := d.backend.GetMail(ctx, id)
	if err != nil {
		return SealedMail{}, fmt.Errorf("directory: %w", err)
	}
	return m, nil
}

// RetryMail sends a failed (or pending) email again now, with a fresh set
// of attempts. Its facts are checked again when it is sent: one no longer
// true is dropped. ErrMailDone if it was sent or dropped.
func (d *Directory) RetryMail(ctx context.Context, id int64) (SealedMail, error) {
	d.note(ctx, "", "", "retried")
	if err := d.backend.RetryMail(ctx, id, d.now().UTC()); err != nil {
		return SealedMail{}, fmt.Errorf("directory: retry email %d: %w", id, err)
	}
	d.wakeMailer()
	return d.GetMail(ctx, id)
}

// DropMail drops a pending or failed email: it is never sent, and its
// content (which may hold a PIN) is erased. ErrMailDone if it was sent or
// dropped already.
func (d *Directory) DropMail(ctx context.Context, id int64) (SealedMail, error) {
	d.note(ctx, "", "", "dropped")
	if err := d.backend.FinishMail(ctx, id, OutboxDropped, "dropped by an administrator", d.now().UTC()); err != nil {
		return SealedMail{}, fmt.Errorf("directory: drop email %d: %w", id, err)
	}
	return d.GetMail(ctx, id)
}

// ---- The mailer's side (with DueMail, MailSent and MailFailed in outbox.go).

// MailGaveUp records a last failed attempt: the email is failed, kept
// (with its content, for a retry) until pruned, and no longer pending.
func (d *Directory) MailGaveUp(ctx context.Context, id int64, reason string) error {
	if err := d.backend.GiveUpMail(ctx, id, clip(reason), d.now().UTC()); err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	return nil
}

// MailDropped drops an email the mailer found no longer true; reason says
// which fact changed.
func (d *Directory) MailDropped(ctx context.Context, id int64, reason string) error {
	if err := d.backend.FinishMail(ctx, id, OutboxDropped, clip(reason), d.now().UTC()); err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	return nil
}

// PruneMail deletes the emails sent, dropped or failed more than keep ago.
func (d *Directory) PruneMail(ctx context.Context, keep time.Duration) (int, error) {
	n, err := d.backend.PruneMail(ctx, d.now().UTC().Add(-keep))
	if err != nil {
		return 0, fmt.Errorf("directory: prune emails: %w", err)
	}
	return n, nil
}

// SupersededMail counts the emails superseded by newer ones since start
// (the superseding is done in the store, when the newer one is queued).
func (d *Directory) SupersededMail() uint64 { return d.mailSuperseded.Load() }

// clip bounds a reason stored with an email: an SMTP answer can be long.
func clip(reason string) string {
	if len(reason) > 1000 {
		return reason[:1000]
	}
	return reason
}
