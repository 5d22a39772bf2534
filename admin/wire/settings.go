package wire

import "encoding/json"

// Settings are the organisation-wide settings as the API shows them: the
// lockout durations are Go duration strings ("30m0s"), which people can
// read and write, not nanoseconds.
type Settings struct {
	PINLength         int      `json:"pin_length"`
	SendEmails        bool     `json:"send_emails"`
	ConferenceIDMode  string   `json:"conference_id_mode"`
	AnonymousCanStart bool     `json:"anonymous_can_start"`
	LobbyAdmission    string   `json:"lobby_admission"`
	DialInBypassLobby bool     `json:"dial_in_bypass_lobby"`
	BlockCommonPINs   bool     `json:"block_common_pins"`
	Lockout           Lockout  `json:"lockout"`
	DialInNumbers     []string `json:"dial_in_numbers"` // [] rather than null
	// EntryExitAnnouncements is what a meeting plays as callers join and
	// leave, from its start: "tones" or "off".
	EntryExitAnnouncements string `json:"entry_exit_announcements"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw object in Raw.
func (s *Settings) UnmarshalJSON(data []byte) error {
	type plain Settings
	var p plain
	if err := keepRaw(data, &p, &p.Raw); err != nil {
		return err
	}
	*s = Settings(p)
	return nil
}

// Lockout is the PIN lockout policy; a limit of 0 means automatic by PIN length.
type Lockout struct {
	Window            string `json:"window"`
	LocalLockDuration string `json:"local_lock_duration"`
	LocalLimit        int    `json:"local_limit"`
	GlobalLimit       int    `json:"global_limit"`
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
	// EntryExitAnnouncements: "tones" or "off".
	EntryExitAnnouncements *string `json:"entry_exit_announcements,omitempty"`
}

// LockoutPatch is the lockout part of a SettingsPatch; durations are Go
// duration strings.
type LockoutPatch struct {
	Window            *string `json:"window,omitempty"`
	LocalLockDuration *string `json:"local_lock_duration,omitempty"`
	LocalLimit        *int    `json:"local_limit,omitempty"`
	GlobalLimit       *int    `json:"global_limit,omitempty"`
}
