package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ---- Sealing: queued emails may hold a PIN, so they are encrypted at rest.

// sealVersion prefixes every sealed content, so the format can change.
const sealVersion = 1

// newMailSealer derives the outbox key from the PIN secret (one secret to
// back up, two keys that never meet) and returns its AES-256-GCM cipher.
func newMailSealer(secret []byte) (cipher.AEAD, error) {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("dialin outbox key v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("directory: outbox key: %w", err)
	}
	return cipher.NewGCM(block)
}

// mailAAD binds the sealed content to the clear columns, so a row's
// recipient cannot be swapped under its content.
func mailAAD(kind, to string) []byte { return []byte(kind + "\x00" + to) }

func (d *Directory) seal(c MailContent) ([]byte, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, d.sealer.NonceSize())
	if _, err := io.ReadFull(d.random, nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	out := append([]byte{sealVersion}, nonce...)
	return d.sealer.Seal(out, nonce, plain, mailAAD(c.Kind, c.To)), nil
}

func (d *Directory) open(m SealedMail) (MailContent, error) {
	n := d.sealer.NonceSize()
	if len(m.Sealed) < 1+n || m.Sealed[0] != sealVersion {
		return MailContent{}, errors.New("unknown sealed format")
	}
	plain, err := d.sealer.Open(nil, m.Sealed[1:1+n], m.Sealed[1+n:], mailAAD(m.Kind, m.To))
	if err != nil {
		return MailContent{}, errors.New("cannot decrypt (was the PIN secret replaced?)")
	}
	var c MailContent
	if err := json.Unmarshal(plain, &c); err != nil {
		return MailContent{}, fmt.Errorf("decode: %w", err)
	}
	return c, nil
}

// ---- Queueing, inside the administrative changes.

// checkMailOptions refuses a bad one-off address, or one given with Skip
// (contradictory: refused rather than guessing which was meant), before
// anything changes.
func checkMailOptions(o MailOptions) error {
	if o.To == "" {
		return nil
	}
	if err := checkAddress("email_to", strings.TrimSpace(o.To)); err != nil {
		return err
	}
	if o.Skip {
		return &InputError{Field: "email_to", Msg: "email_to is given but send_email is false"}
	}
	return nil
}

// mailFor seals the email of kind about u, or returns nil when none is to
// be sent: opts.Skip, or send_emails off (unless always, for an email an
// administrator asked for by name). With d.mu held.
func (d *Directory) mailFor(kind string, u *User, pin string, opts MailOptions, always bool) (*SealedMail, error) {
	s := d.settings.Load()
	if !always && (opts.Skip || !s.SendEmails) {
		return nil, nil
	}
	to := u.Email
	switch {
	case opts.To != "":
		to = strings.TrimSpace(opts.To)
	case u.EmailOverride != "":
		to = u.EmailOverride
	}
	c := MailContent{
		Kind:          kind,
		To:            to,
		UserEmail:     u.Email,
		DisplayName:   u.DisplayName,
		ConferenceID:  u.ConferenceID,
		PIN:           pin,
		DialInNumbers: append([]string(nil), s.DialInNumbers...),
	}
	sealed, err := d.seal(c)
	if err != nil {
		return nil, fmt.Errorf("directory: seal %s email: %w", kind, err)
	}
	now := d.now().UTC()
	return &SealedMail{Kind: kind, To: to, Sealed: sealed, NextAttempt: now, CreatedAt: now}, nil
}

// mailQueued wakes the mailer after a commit that queued m.
func (d *Directory) mailQueued(m *SealedMail) bool {
	if m == nil {
		return false
	}
	select {
	case d.mailSignal <- struct{}{}:
	default: // a wake-up is pending already
	}
	return true
}

// ---- Reading users and meetings for the administration API.

// UserByEmail finds a user by primary address (case-insensitive).
// ErrNotFound if none.
func (d *Directory) UserByEmail(ctx context.Context, email string) (User, error) {
	email = strings.TrimSpace(email)
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.backend.GetUserByEmail(ctx, email)
	if err != nil {
		return User{}, fmt.Errorf("directory: %w", err)
	}
	if err := d.overlayLock(&u); err != nil {
		return User{}, err
	}
	return u, nil
}

// overlayLock replaces u's stored lock state with the index's: failure
// counters may not be written yet, and the index is the truth. With d.mu
// held.
func (d *Directory) overlayLock(u *User) error {
	e, err := d.user(u.ID)
	if err != nil {
		return err
	}
	e.mu.Lock()
	u.Lock = e.lock.expand()
	e.mu.Unlock()
	return nil
}

// ListUsers reads up to limit users (0: 100, at most 1000) with IDs above
// afterID, by ID.
func (d *Directory) ListUsers(ctx context.Context, afterID int64, limit int) ([]User, error) {
	if limit == 0 {
		limit = 100
	}
	if limit < 0 || limit > 1000 {
		return nil, &InputError{Field: "limit", Msg: fmt.Sprintf("%d is not 1-1000", limit)}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	users, err := d.backend.ListUsers(ctx, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("directory: list users: %w", err)
	}
	for i := range users {
		if err := d.overlayLock(&users[i]); err != nil {
			return nil, err
		}
	}
	return users, nil
}

// GetMeeting reads one meeting, its admission flags as a call to it finds
// them (a static ID's follow the settings). ErrNotFound if none.
func (d *Directory) GetMeeting(ctx context.Context, conferenceID string) (Meeting, error) {
	if _, ok := ConferenceIDKey(conferenceID); !ok {
		return Meeting{}, fmt.Errorf("meeting %s: %w", conferenceID, ErrNotFound)
	}
	m, err := d.backend.GetMeeting(ctx, conferenceID)
	if err != nil {
		return Meeting{}, fmt.Errorf("directory: %w", err)
	}
	d.effective(&m)
	return m, nil
}

// ListMeetings reads meetings by conference ID (f.Limit 0: 100, at most
// 1000), their admission flags as GetMeeting's.
func (d *Directory) ListMeetings(ctx context.Context, f MeetingFilter) ([]Meeting, error) {
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 0 || f.Limit > 1000 {
		return nil, &InputError{Field: "limit", Msg: fmt.Sprintf("%d is not 1-1000", f.Limit)}
	}
	meetings, err := d.backend.ListMeetings(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	for i := range meetings {
		d.effective(&meetings[i])
	}
	return meetings, nil
}

// SendConferenceInfo queues an email with the user's conference ID and the
// dial-in numbers, never the PIN, whatever send_emails says (an
// administrator asked for it). mail.Skip is ignored.
func (d *Directory) SendConferenceInfo(ctx context.Context, id int64, opts MailOptions) (Change, error) {
	if err := checkMailOptions(opts); err != nil {
		return Change{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.getUserLocked(ctx, id)
	if err != nil {
		return Change{}, err
	}
	m, err := d.mailFor(MailConferenceInfo, &u, "", opts, true)
	if err != nil {
		return Change{}, err
	}
	if err := d.backend.QueueMail(ctx, m); err != nil {
		return Change{}, fmt.Errorf("directory: send conference info to user %d: %w", id, err)
	}
	return Change{User: u, MailQueued: d.mailQueued(m)}, nil
}

// ---- The mailer's side.

// DueMail reads up to limit queued emails whose next attempt is due,
// oldest first, opened. One that cannot be opened (the secret was
// replaced) is logged and put off for a day, never deleted.
func (d *Directory) DueMail(ctx context.Context, limit int) ([]OutboxMail, error) {
	now := d.now()
	sealed, err := d.backend.DueMail(ctx, now, limit)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	out := make([]OutboxMail, 0, len(sealed))
	for _, s := range sealed {
		c, err := d.open(s)
		if err != nil {
			d.log.Error().Int64("email_id", s.ID).Str("kind", s.Kind).Err(err).Msg("queued email cannot be read; kept, retried in 24h")
			_ = d.backend.RecordMailFailure(ctx, s.ID, now.Add(24*time.Hour), err.Error())
			continue
		}
		out = append(out, OutboxMail{ID: s.ID, MailContent: c, Attempts: s.Attempts,
			NextAttempt: s.NextAttempt, LastError: s.LastError, CreatedAt: s.CreatedAt})
	}
	return out, nil
}

// MailSent deletes a sent email (and the PIN it held) from the outbox.
func (d *Directory) MailSent(ctx context.Context, id int64) error {
	if err := d.backend.DeleteMail(ctx, id); err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	return nil
}

// MailFailed records a failed attempt: one more attempt, the reason, and
// when to try again. The email stays queued.
func (d *Directory) MailFailed(ctx context.Context, id int64, next time.Time, reason string) error {
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	if err := d.backend.RecordMailFailure(ctx, id, next.UTC(), reason); err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	return nil
}

// MailQueued receives a value after an email is queued (buffer of one), so
// the mailer need not poll.
func (d *Directory) MailQueued() <-chan struct{} { return d.mailSignal }

// PendingMail counts the emails waiting in the outbox.
func (d *Directory) PendingMail(ctx context.Context) (int, error) {
	n, err := d.backend.CountMail(ctx)
	if err != nil {
		return 0, fmt.Errorf("directory: %w", err)
	}
	return n, nil
}
