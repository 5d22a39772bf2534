package store

import (
	"context"
	"errors"
	"time"
)

var errTodo = errors.New("store: not implemented yet")

// UserByEmail finds a user by primary address (case-insensitive).
// ErrNotFound if none.
func (d *Directory) UserByEmail(ctx context.Context, email string) (User, error) {
	return User{}, errTodo
}

// ListUsers reads up to limit users (0: 100) with IDs above afterID, by ID.
func (d *Directory) ListUsers(ctx context.Context, afterID int64, limit int) ([]User, error) {
	return nil, errTodo
}

// SetConferenceID gives the user a conference ID chosen by hand: seven
// digits, a valid check digit (an *InputError names the right one), and
// free (ErrExists). The old ID stops working at once.
func (d *Directory) SetConferenceID(ctx context.Context, id int64, conferenceID string, mail MailOptions) (Change, error) {
	return Change{}, errTodo
}

// SendConferenceInfo queues an email with the user's conference ID and the
// dial-in numbers, never the PIN, whatever send_emails says (an
// administrator asked for it). mail.Skip is ignored.
func (d *Directory) SendConferenceInfo(ctx context.Context, id int64, mail MailOptions) (Change, error) {
	return Change{}, errTodo
}

// GetMeeting reads one meeting. ErrNotFound if none.
func (d *Directory) GetMeeting(ctx context.Context, conferenceID string) (Meeting, error) {
	return Meeting{}, errTodo
}

// ListMeetings reads meetings by conference ID.
func (d *Directory) ListMeetings(ctx context.Context, f MeetingFilter) ([]Meeting, error) {
	return nil, errTodo
}

// DueMail reads up to limit queued emails whose next attempt is due,
// oldest first, opened (decrypted).
func (d *Directory) DueMail(ctx context.Context, limit int) ([]OutboxMail, error) {
	return nil, errTodo
}

// MailSent deletes a sent email from the outbox.
func (d *Directory) MailSent(ctx context.Context, id int64) error { return errTodo }

// MailFailed records a failed attempt: one more attempt, the reason, and
// when to try again. The email stays queued.
func (d *Directory) MailFailed(ctx context.Context, id int64, next time.Time, reason string) error {
	return errTodo
}

// MailQueued receives a value after an email is queued (buffer of one), so
// the mailer need not poll.
func (d *Directory) MailQueued() <-chan struct{} { return nil }

// PendingMail counts the emails waiting in the outbox.
func (d *Directory) PendingMail(ctx context.Context) (int, error) { return 0, errTodo }
