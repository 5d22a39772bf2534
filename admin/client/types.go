package client

import (
	"encoding/json"
	"time"

	"github.com/dialin/dialin/store"
)

// User is a user as the API shows it: store.User's fields plus the masked
// PIN and whether the PIN is locked now.
type User struct {
	ID            int64           `json:"id"`
	Email         string          `json:"email"`
	DisplayName   string          `json:"display_name"`
	EmailOverride string          `json:"email_override"`
	ConferenceID  string          `json:"conference_id"` // "" in dynamic mode
	PIN           string          `json:"pin"`           // always store.MaskedPIN
	PINLength     int             `json:"pin_length"`
	PINSetAt      time.Time       `json:"pin_set_at"`
	Policy        store.PINPolicy `json:"policy"`
	Lock          store.LockState `json:"lock"`
	Locked        bool            `json:"locked"`
	CreatedAt     time.Time       `json:"created_at"`

	Raw json.RawMessage `json:"-"` // the object as the API sent it
}

// UnmarshalJSON keeps the raw object in Raw.
func (u *User) UnmarshalJSON(data []byte) error {
	type plain User // without this method
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*u = User(p)
	u.Raw = append(json.RawMessage(nil), data...)
	return nil
}

// Change is the result of a change to a user: the user as it now is, the
// PIN in clear when the change generated one (this once), and whether an
// email was queued.
type Change struct {
	User        User   `json:"user"`
	PIN         string `json:"pin"`
	EmailQueued bool   `json:"email_queued"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw object in Raw.
func (c *Change) UnmarshalJSON(data []byte) error {
	type plain Change
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*c = Change(p)
	c.Raw = append(json.RawMessage(nil), data...)
	return nil
}

// Meeting is a meeting as the API shows it: store.Meeting's fields plus the
// organizer's address and, from GET /meetings/{id}, the live state.
type Meeting struct {
	ConferenceID     string    `json:"conference_id"`
	Organizer        string    `json:"organizer"`
	OrganizerID      int64     `json:"organizer_id"`
	Static           bool      `json:"static"`
	RequireOrganizer bool      `json:"require_organizer"`
	BypassLobby      bool      `json:"bypass_lobby"`
	CreatedAt        time.Time `json:"created_at"`
	Live             *Live     `json:"live,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// Live is what the bridge knows of a meeting now.
type Live struct {
	Started          bool          `json:"started"`
	OrganizerPresent bool          `json:"organizer_present"`
	Participants     []Participant `json:"participants"`
	Lobby            []LobbyCaller `json:"lobby"`
}

// Participant is a caller in a started meeting.
type Participant struct {
	ID         string    `json:"id"`     // the bridge's id: SetMuted, RemoveCaller
	Caller     string    `json:"caller"` // masked by the API
	Role       string    `json:"role"`   // "organizer" or "attendee"
	Muted      bool      `json:"muted"`
	HandRaised bool      `json:"hand_raised"`
	Talking    bool      `json:"talking"`
	JoinedAt   time.Time `json:"joined_at"`
}

// LobbyCaller is a caller waiting in a meeting's lobby.
type LobbyCaller struct {
	ID           string    `json:"id"`     // the bridge's id: Admit, RemoveCaller
	Caller       string    `json:"caller"` // masked by the API
	WaitingSince time.Time `json:"waiting_since"`
}

// UnmarshalJSON keeps the raw object in Raw.
func (m *Meeting) UnmarshalJSON(data []byte) error {
	type plain Meeting
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*m = Meeting(p)
	m.Raw = append(json.RawMessage(nil), data...)
	return nil
}

// Settings are store.Settings as the API shows them: the lockout durations
// are Go duration strings ("30m0s") there, not nanoseconds.
type Settings struct {
	PINLength         int      `json:"pin_length"`
	SendEmails        bool     `json:"send_emails"`
	ConferenceIDMode  string   `json:"conference_id_mode"`
	AnonymousCanStart bool     `json:"anonymous_can_start"`
	LobbyAdmission    string   `json:"lobby_admission"`
	DialInBypassLobby bool     `json:"dial_in_bypass_lobby"`
	BlockCommonPINs   bool     `json:"block_common_pins"`
	Lockout           Lockout  `json:"lockout"`
	DialInNumbers     []string `json:"dial_in_numbers"`

	Raw json.RawMessage `json:"-"`
}

// Lockout is the PIN lockout policy; a limit of 0 means automatic by PIN length.
type Lockout struct {
	Window            string `json:"window"`
	LocalLockDuration string `json:"local_lock_duration"`
	LocalLimit        int    `json:"local_limit"`
	GlobalLimit       int    `json:"global_limit"`
}

// UnmarshalJSON keeps the raw object in Raw.
func (s *Settings) UnmarshalJSON(data []byte) error {
	type plain Settings
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*s = Settings(p)
	s.Raw = append(json.RawMessage(nil), data...)
	return nil
}

// SettingsPatch is the body of PATCH /settings: nil fields are left as they
// are. A non-nil DialInNumbers pointing to an empty list clears the numbers.
type SettingsPatch struct {
	PINLength         *int          `json:"pin_length,omitempty"`
	SendEmails        *bool         `json:"send_emails,omitempty"`
	ConferenceIDMode  *string       `json:"conference_id_mode,omitempty"`
	AnonymousCanStart *bool         `json:"anonymous_can_start,omitempty"`
	LobbyAdmission    *string       `json:"lobby_admission,omitempty"`
	DialInBypassLobby *bool         `json:"dial_in_bypass_lobby,omitempty"`
	BlockCommonPINs   *bool         `json:"block_common_pins,omitempty"`
	Lockout           *LockoutPatch `json:"lockout,omitempty"`
	DialInNumbers     *[]string     `json:"dial_in_numbers,omitempty"`
}

// LockoutPatch is the lockout part of a SettingsPatch; durations are Go
// duration strings.
type LockoutPatch struct {
	Window            *string `json:"window,omitempty"`
	LocalLockDuration *string `json:"local_lock_duration,omitempty"`
	LocalLimit        *int    `json:"local_limit,omitempty"`
	GlobalLimit       *int    `json:"global_limit,omitempty"`
}

// UserToken is a user's self-service token, shown once.
type UserToken struct {
	Token string `json:"token"`
	User  User   `json:"user"`

	Raw json.RawMessage `json:"-"`
}

func (t *UserToken) UnmarshalJSON(data []byte) error {
	type plain UserToken
	if err := json.Unmarshal(data, (*plain)(t)); err != nil {
		return err
	}
	t.Raw = append(json.RawMessage(nil), data...)
	return nil
}
