package wire

import (
	"encoding/json"
	"time"
)

// User is a user as the API shows it: the PIN always masked, and whether
// the PIN is locked now.
type User struct {
	ID            int64     `json:"id"`
	Email         string    `json:"email"`
	DisplayName   string    `json:"display_name"`
	EmailOverride string    `json:"email_override"`
	ConferenceID  string    `json:"conference_id"` // "" in dynamic mode
	PIN           string    `json:"pin"`           // always MaskedPIN
	PINLength     int       `json:"pin_length"`
	PINSetAt      time.Time `json:"pin_set_at"`
	Policy        PINPolicy `json:"policy"`
	Lock          LockState `json:"lock"`
	Locked        bool      `json:"locked"`
	CreatedAt     time.Time `json:"created_at"`

	Raw json.RawMessage `json:"-"` // the object as the API sent it
}

// UnmarshalJSON keeps the raw object in Raw.
func (u *User) UnmarshalJSON(data []byte) error {
	type plain User // without this method
	var p plain
	if err := keepRaw(data, &p, &p.Raw); err != nil {
		return err
	}
	*u = User(p)
	return nil
}

// PINPolicy overrides the organisation's PIN policy for one user; absent
// fields inherit.
type PINPolicy struct {
	Length      *int  `json:"length,omitempty"`
	BlockCommon *bool `json:"block_common,omitempty"`
	LocalLimit  *int  `json:"local_limit,omitempty"`
	GlobalLimit *int  `json:"global_limit,omitempty"`
}

// LockState is a user's failed-attempt counters and lock.
type LockState struct {
	Failures      int       `json:"failures"` // consecutive failures since WindowStart
	WindowStart   time.Time `json:"window_start"`
	TotalFailures int       `json:"total_failures"` // consecutive failures toward the global limit
	LockedUntil   time.Time `json:"locked_until"`   // the end of a temporary lock
	LockedByAdmin bool      `json:"locked_by_admin"`
}

// Change is the result of a change to a user: the user as it now is, the
// PIN in clear only when the change generated one (this once), and whether
// an email was queued.
type Change struct {
	User        User   `json:"user"`
	PIN         string `json:"pin,omitempty"`
	EmailQueued bool   `json:"email_queued"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw object in Raw.
func (c *Change) UnmarshalJSON(data []byte) error {
	type plain Change
	var p plain
	if err := keepRaw(data, &p, &p.Raw); err != nil {
		return err
	}
	*c = Change(p)
	return nil
}

// UserPage is one page of GET /users.
type UserPage struct {
	Users     []User `json:"users"`
	NextAfter int64  `json:"next_after"` // 0 at the end
}

// UserToken is the body of POST /users/{email}/token: a user's
// self-service token, shown once.
type UserToken struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"` // it stops working then (30 days by default)
	User      User      `json:"user"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw object in Raw.
func (t *UserToken) UnmarshalJSON(data []byte) error {
	type plain UserToken
	var p plain
	if err := keepRaw(data, &p, &p.Raw); err != nil {
		return err
	}
	*t = UserToken(p)
	return nil
}

// EnableRequest is the body of POST /users.
type EnableRequest struct {
	Email         string `json:"email"`
	DisplayName   string `json:"display_name,omitempty"`
	EmailOverride string `json:"email_override,omitempty"`
	// SendEmail nil leaves it to the send_emails setting; false sends none.
	SendEmail *bool  `json:"send_email,omitempty"`
	EmailTo   string `json:"email_to,omitempty"` // the email goes there instead
}

// MailRequest is the optional body of POST /users/{email}/pin/reset and
// /conference-id/reset: the email the change sends.
type MailRequest struct {
	SendEmail *bool  `json:"send_email,omitempty"` // nil: the send_emails setting
	EmailTo   string `json:"email_to,omitempty"`
}

// ConferenceIDRequest is the body of PUT /users/{email}/conference-id.
type ConferenceIDRequest struct {
	ConferenceID string `json:"conference_id,omitempty"` // required
	// NoCheckDigit imports an ID from another system: any seven digits,
	// without the Damm check digit the bridge's own IDs end with.
	NoCheckDigit bool   `json:"no_check_digit,omitempty"`
	SendEmail    *bool  `json:"send_email,omitempty"`
	EmailTo      string `json:"email_to,omitempty"`
}

// SendInfoRequest is the optional body of POST
// /users/{email}/conference-id/send-info (sending is the point: no
// send_email).
type SendInfoRequest struct {
	EmailTo string `json:"email_to,omitempty"`
}

// UserPatch is the body of PATCH /users/{email}: the fields to change,
// absent ones unchanged.
type UserPatch struct {
	// PINLength is the length of the user's generated PINs (4-12, also the
	// shortest PIN that may be set for them); 0 goes back to the
	// pin_length setting. It applies from the next PIN reset.
	PINLength *int `json:"pin_length,omitempty"`
	// EmailOverride: the address the user's emails go to; "" sends them to
	// the primary address again.
	EmailOverride *string `json:"email_override,omitempty"`
}

// PINRequest is the body of PUT /users/{email}/pin.
type PINRequest struct {
	PIN *string `json:"pin"` // required
}
