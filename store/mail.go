package store

import "time"

// Kinds of email the directory queues in its outbox.
const (
	// MailEnabled: the user was enabled; conference ID, dial-in numbers, PIN.
	MailEnabled = "enabled"
	// MailPINReset: the PIN was reset; the new PIN.
	MailPINReset = "pin_reset"
	// MailConferenceIDReset: a new conference ID and the dial-in numbers,
	// with a note to update existing invitations; no PIN.
	MailConferenceIDReset = "conference_id_reset"
	// MailConferenceInfo: the conference ID and dial-in numbers; never the PIN.
	MailConferenceInfo = "conference_info"
)

// MailOptions are an administrator's choices for the email one change sends.
type MailOptions struct {
	// Skip sends no email for this change (the administrator passes the
	// details on by hand), whatever the send_emails setting says.
	Skip bool `json:"skip,omitempty"`
	// To sends this one email to this address instead of the user's, even
	// with send_emails off (as Teams' -SendEmail).
	To string `json:"to,omitempty"`
}

// MailContent is what an email says: the facts, not the text; the mailer
// renders the text when it sends. It is stored sealed (encrypted under a
// key derived from the server secret) because it may hold a PIN.
type MailContent struct {
	Kind          string   `json:"kind"`
	To            string   `json:"to"`           // recipient address
	UserEmail     string   `json:"user_email"`   // the user's primary address
	DisplayName   string   `json:"display_name"` // may be empty
	ConferenceID  string   `json:"conference_id,omitempty"`
	PIN           string   `json:"pin,omitempty"` // only MailEnabled and MailPINReset
	DialInNumbers []string `json:"dial_in_numbers,omitempty"`
}

// OutboxMail is a queued email as the mailer sees it.
type OutboxMail struct {
	ID int64
	MailContent
	Attempts    int       // failed attempts so far
	NextAttempt time.Time // not before this
	LastError   string    // why the last attempt failed
	CreatedAt   time.Time // when it was written: its Date header
	// Stale says which fact is no longer true (the PIN or the conference ID
	// was changed since, the user was disabled): the email must not be
	// sent. Empty while every fact holds.
	Stale string
	// Unreadable says why the content cannot be opened (MailContent is
	// then empty but for Kind and To): the email cannot be sent.
	Unreadable string
}

// Change is the result of an administrative change: the user as it now is,
// the PIN in clear when the change set one (shown this once and never
// again), and whether an email was queued.
type Change struct {
	User       User   `json:"user"`
	PIN        string `json:"pin,omitempty"`
	MailQueued bool   `json:"email_queued"`
}

// MeetingFilter selects meetings to list, ordered by conference ID.
type MeetingFilter struct {
	OrganizerID int64  // 0: every organizer
	After       string // conference IDs above this one
	Limit       int    // at most this many (Directory: 0 means 100)
}
