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
	"unicode/utf8"
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
// be sent: opts.Skip, or send_emails off, unless always (an email an
// administrator asked for by name) or opts.To names an address (as Teams'
// -SendEmail does: an address given by hand is sent to). An email that
// could never be sent is refused (an *InputError), so nothing is queued.
// A pending email to the same address about the same fact (the PIN, the
// conference ID) is superseded: the new one replaces it and carries its
// other facts that are still true. With d.mu held.
func (d *Directory) mailFor(ctx context.Context, kind string, u *User, pin string, opts MailOptions, always bool) (*SealedMail, error) {
	s := d.settings.Load()
	switch {
	case always:
	case opts.Skip:
		return nil, nil
	case !s.SendEmails && opts.To == "":
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
	if err := checkMailContent(c); err != nil {
		return nil, err
	}
	var supersedes []int64
	if u.ID != 0 { // a user being enabled has no email queued yet
		var err error
		if c, supersedes, err = d.supersede(ctx, c, u.ID); err != nil {
			return nil, err
		}
	}
	sealed, err := d.seal(c)
	if err != nil {
		return nil, fmt.Errorf("directory: seal %s email: %w", c.Kind, err)
	}
	now := d.now().UTC()
	return &SealedMail{Kind: c.Kind, To: to, Sealed: sealed, NextAttempt: now, CreatedAt: now,
		UserID: u.ID, UserEmail: u.Email, Status: OutboxPending, Supersedes: supersedes}, nil
}

// checkMailContent refuses an email that could never be rendered (the
// mailer would only fail it), naming what is missing.
func checkMailContent(c MailContent) error {
	f := factsOf(c)
	switch {
	case c.To == "":
		return &InputError{Field: "email_to", Msg: "the email has no recipient"}
	case f.pin && c.PIN == "":
		return &InputError{Field: "pin", Msg: "the " + c.Kind + " email needs the PIN, which this change did not set"}
	case (c.Kind == MailConferenceIDReset || c.Kind == MailConferenceInfo) && c.ConferenceID == "":
		return &InputError{Field: "conference_id", Msg: fmt.Sprintf(
			"user %s has no static conference ID (dynamic mode): there is no conference ID to email; "+
				"each meeting's own ID is in its invitation (dialin meeting list --organizer %s)", c.UserEmail, c.UserEmail)}
	}
	return nil
}

// supersede folds the pending emails about userID to c.To that tell one of
// c's facts into c: c tells the facts they told that are still true (the
// change being made touches only c's own facts, so the index is right for
// the others) and takes the kind that says all of them. It returns the
// emails c replaces. With d.mu held.
func (d *Directory) supersede(ctx context.Context, c MailContent, userID int64) (MailContent, []int64, error) {
	olds, err := d.backend.PendingMailOf(ctx, userID, c.To)
	if err != nil {
		return c, nil, fmt.Errorf("directory: read pending emails of user %d: %w", userID, err)
	}
	e := d.users[userID]
	if len(olds) == 0 || e == nil {
		return c, nil, nil
	}
	e.mu.Lock()
	digest, confID := e.digest, e.conferenceID
	e.mu.Unlock()

	own := factsOf(c) // what the change itself tells
	facts := own      // and what c tells once it takes on the others'
	enabled := c.Kind == MailEnabled
	reset := c.Kind == MailConferenceIDReset
	var ids []int64
	for _, s := range olds {
		old, err := d.open(s)
		if err != nil {
			continue // unreadable: the mailer fails it, with the reason
		}
		of := factsOf(old)
		if !of.overlaps(own) {
			continue // about other facts: it stays, and is sent as it is
		}
		// Superseded when this change makes it untrue, or when c tells all
		// it tells. An email that tells more and stays true (the welcome,
		// beside a send-info) is sent as it is: send-info never takes on a
		// PIN.
		untrue := of.pin && own.pin && old.PIN != c.PIN ||
			of.conferenceID && own.conferenceID && old.ConferenceID != c.ConferenceID
		covered := (!of.pin || own.pin) && (!of.conferenceID || own.conferenceID)
		if !untrue && !covered {
			continue
		}
		ids = append(ids, s.ID)
		enabled = enabled || old.Kind == MailEnabled
		reset = reset || old.Kind == MailConferenceIDReset
		if of.pin && !facts.pin && d.hasher.Match(&digest, old.PIN) {
			c.PIN, facts.pin = old.PIN, true
		}
		if of.conferenceID && !facts.conferenceID && old.ConferenceID == confID {
			c.ConferenceID, facts.conferenceID = old.ConferenceID, true
		}
	}
	if len(ids) == 0 {
		return c, nil, nil
	}
	switch {
	case facts.pin && facts.conferenceID, facts.pin && enabled && confID == "":
		c.Kind = MailEnabled // the welcome has not gone out yet
	case facts.pin:
		c.Kind = MailPINReset
	case reset:
		c.Kind = MailConferenceIDReset
	default:
		c.Kind = MailConferenceInfo
	}
	return c, ids, nil
}

// mailFacts are the facts an email tells, which must still be true when it
// is sent and which a newer email about the same fact supersedes.
type mailFacts struct{ pin, conferenceID bool }

// factsOf is what c tells by its kind: a PIN reset email carries the
// conference ID too, but does not show it.
func factsOf(c MailContent) mailFacts {
	switch c.Kind {
	case MailEnabled:
		return mailFacts{pin: true, conferenceID: c.ConferenceID != ""} // none in dynamic mode
	case MailPINReset:
		return mailFacts{pin: true}
	case MailConferenceIDReset, MailConferenceInfo:
		return mailFacts{conferenceID: true}
	}
	return mailFacts{}
}

func (f mailFacts) overlaps(g mailFacts) bool {
	return f.pin && g.pin || f.conferenceID && g.conferenceID
}

// staleReason says which of c's facts is no longer true, "" if all are.
// userID 0 is an email queued before the outbox knew its user: it is found
// by the user's address.
func (d *Directory) staleReason(ctx context.Context, userID int64, c MailContent) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if userID == 0 {
		u, err := d.backend.GetUserByEmail(ctx, c.UserEmail)
		if errors.Is(err, ErrNotFound) {
			return "the user was disabled after this email was written", nil
		}
		if err != nil {
			return "", err
		}
		userID = u.ID
	}
	e := d.users[userID]
	if e == nil {
		return "the user was disabled after this email was written", nil
	}
	e.mu.Lock()
	digest, confID := e.digest, e.conferenceID
	e.mu.Unlock()
	f := factsOf(c)
	switch {
	case f.pin && !d.hasher.Match(&digest, c.PIN):
		return "the PIN was changed after this email was written", nil
	case f.conferenceID && confID != c.ConferenceID:
		return "the conference ID was changed after this email was written", nil
	}
	return "", nil
}

// mailQueued wakes the mailer after a commit that queued m.
func (d *Directory) mailQueued(m *SealedMail) bool {
	if m == nil {
		return false
	}
	// Counting point: emails superseded by m (dropped in m's transaction).
	d.mailSuperseded.Add(uint64(len(m.Supersedes)))
	d.stats.mailQueued.Add(1)
	d.wakeMailer()
	return true
}

func (d *Directory) wakeMailer() {
	select {
	case d.mailSignal <- struct{}{}:
	default: // a wake-up is pending already
	}
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
	return d.SearchUsers(ctx, "", afterID, limit)
}

// maxSearch bounds a search's text: a prefix longer than any address is
// not a search.
const maxSearch = 254

// SearchUsers reads up to limit users (0: 100, at most 1000) with IDs
// above afterID, by ID, whose email or display name starts with q (ASCII
// case ignored) or whose conference ID starts with q (digits); q is
// trimmed, and "" lists every user. A page ends at the last ID it holds:
// the next starts after it.
func (d *Directory) SearchUsers(ctx context.Context, q string, afterID int64, limit int) ([]User, error) {
	if limit == 0 {
		limit = 100
	}
	if limit < 0 || limit > 1000 {
		return nil, &InputError{Field: "limit", Msg: fmt.Sprintf("%d is not 1-1000", limit)}
	}
	q = strings.TrimSpace(q)
	if len(q) > maxSearch || !utf8.ValidString(q) {
		return nil, &InputError{Field: "q", Msg: fmt.Sprintf("a search is at most %d bytes of text", maxSearch)}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var users []User
	var err error
	if q == "" {
		users, err = d.backend.ListUsers(ctx, afterID, limit)
	} else {
		users, err = d.backend.SearchUsers(ctx, q, afterID, limit)
	}
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
// administrator asked for it). mail.Skip is ignored. A user without a
// static conference ID (dynamic mode) has none to send: an *InputError,
// and nothing is queued.
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
	m, err := d.mailFor(ctx, MailConferenceInfo, &u, "", opts, true)
	if err != nil {
		return Change{}, err
	}
	d.note(ctx, u.Email, "user "+u.Email, mailNote(m))
	if err := d.backend.QueueMail(ctx, m); err != nil {
		return Change{}, fmt.Errorf("directory: send conference info to user %d: %w", id, err)
	}
	return Change{User: u, MailQueued: d.mailQueued(m)}, nil
}

// ---- The mailer's side.

// DueMail reads up to limit pending emails whose next attempt is due,
// oldest first, opened, each with Stale set when one of its facts is no
// longer true (the mailer drops it) and Unreadable when it cannot be
// opened (the secret was replaced: the mailer fails it).
func (d *Directory) DueMail(ctx context.Context, limit int) ([]OutboxMail, error) {
	sealed, err := d.backend.DueMail(ctx, d.now(), limit)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	out := make([]OutboxMail, 0, len(sealed))
	for _, s := range sealed {
		om := OutboxMail{ID: s.ID, Attempts: s.Attempts, NextAttempt: s.NextAttempt,
			LastError: s.LastError, CreatedAt: s.CreatedAt}
		c, err := d.open(s)
		if err != nil {
			om.Kind, om.To = s.Kind, s.To
			om.Unreadable = "the queued email cannot be read: " + err.Error()
			out = append(out, om)
			continue
		}
		om.MailContent = c
		if om.Stale, err = d.staleReason(ctx, s.UserID, c); err != nil {
			return nil, fmt.Errorf("directory: check email %d: %w", s.ID, err)
		}
		out = append(out, om)
	}
	return out, nil
}

// MailSent marks a sent email sent and erases its content (and the PIN it
// held); it stays listed until pruned.
func (d *Directory) MailSent(ctx context.Context, id int64) error {
	err := d.backend.FinishMail(ctx, id, OutboxSent, "", d.now().UTC())
	if err != nil && !errors.Is(err, ErrMailDone) { // sent already: two senders raced
		return fmt.Errorf("directory: %w", err)
	}
	return nil
}

// MailFailed records a failed attempt: one more attempt, the reason, and
// when to try again. The email stays pending.
func (d *Directory) MailFailed(ctx context.Context, id int64, next time.Time, reason string) error {
	if err := d.backend.RecordMailFailure(ctx, id, next.UTC(), clip(reason)); err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	return nil
}

// MailQueued receives a value after an email is queued (buffer of one), so
// the mailer need not poll.
func (d *Directory) MailQueued() <-chan struct{} { return d.mailSignal }

// PendingMail counts the emails waiting in the outbox (not the failed or
// dropped ones).
func (d *Directory) PendingMail(ctx context.Context) (int, error) {
	n, err := d.backend.CountMail(ctx)
	if err != nil {
		return 0, fmt.Errorf("directory: %w", err)
	}
	return n, nil
}
