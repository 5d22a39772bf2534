package wire

import (
	"encoding/json"
	"time"
)

// Statuses of an email in the outbox (OutboxEmail.Status).
const (
	EmailPending = "pending" // waiting to be sent or retried
	EmailSent    = "sent"    // the SMTP server took it
	EmailFailed  = "failed"  // given up: last_error is the server's answer
	EmailDropped = "dropped" // not sent: reason says why
)

// OutboxEmail is an email in the outbox as the API shows it: never its
// content (which may hold a PIN), only what it is, to whom and how it went.
type OutboxEmail struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"` // enabled, pin_reset, conference_id_reset, conference_info
	To        string    `json:"to"`
	User      string    `json:"user"` // the user's primary address; "" for emails queued before this field
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`   // failed attempts so far
	LastError string    `json:"last_error"` // the last failed attempt's reason, the SMTP server's answer
	Reason    string    `json:"reason"`     // why it was dropped or failed for good
	CreatedAt time.Time `json:"created_at"` // when it was written: its Date header
	// NextAttempt is when a pending email is tried next (zero otherwise).
	NextAttempt time.Time `json:"next_attempt"`
	DoneAt      time.Time `json:"done_at"` // when it was sent, dropped or failed for good (zero while pending)

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw object in Raw.
func (e *OutboxEmail) UnmarshalJSON(data []byte) error {
	type plain OutboxEmail
	var p plain
	if err := keepRaw(data, &p, &p.Raw); err != nil {
		return err
	}
	*e = OutboxEmail(p)
	return nil
}

// OutboxPage is one page of GET /outbox.
type OutboxPage struct {
	Emails    []OutboxEmail `json:"emails"`
	NextAfter int64         `json:"next_after"` // 0 at the end
}
