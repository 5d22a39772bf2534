// Package store is the directory: users enabled for audio conferencing,
// their PINs and conference IDs, meetings and the organisation's settings.
// Writes go to a Backend (SQLite by default) in one transaction each; the
// call path reads an in-memory index that never waits on the database.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MaskedPIN is how a PIN is shown anywhere but the one response that set it.
const MaskedPIN = "***********"

// Limits of the PIN length setting (Teams: 4-12 digits, default 5).
const (
	MinPINLength     = 4
	MaxPINLength     = 12
	DefaultPINLength = 5
)

// ConferenceIDLength is the length of a conference ID, check digit included.
const ConferenceIDLength = 7

// Conference ID modes.
const (
	ConferenceIDStatic  = "static"  // each enabled user owns one permanent ID
	ConferenceIDDynamic = "dynamic" // each meeting created for an organizer gets its own ID
)

// Lobby admission policies.
const (
	AdmitByOrganizer = "organizer" // Teams: the organizer admits (*21)
	AdmitAuto        = "auto"      // Skype: everyone waiting joins when the meeting starts
)

// Entry and exit announcements: what the meeting hears when a caller joins
// or leaves, from its start (the organizer toggles them with *23). The set
// is open: spoken names may join it.
const (
	AnnounceTones = "tones" // a tone for each caller who joins or leaves
	AnnounceOff   = "off"   // nothing
)

// Errors of the directory. Callers test with errors.Is.
var (
	ErrNotFound       = errors.New("not found")
	ErrExists         = errors.New("already exists")
	ErrPINLocked      = errors.New("the PIN is locked: unlock it before setting or resetting it")
	ErrWrongPIN       = errors.New("wrong PIN")
	ErrInvalidInput   = errors.New("invalid input")
	ErrNoConferenceID = errors.New("no free conference ID")
)

// InputError is a value refused by a rule; Field names it as the API does
// ("email", "pin_length", "conference_id"...). It matches ErrInvalidInput.
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string { return fmt.Sprintf("invalid %s: %s", e.Field, e.Msg) }

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// PolicyError is a PIN refused by the PIN policy; Rule names the rule.
type PolicyError struct {
	Rule string // "length", "digits", "repeated", "sequence", "conference_id"
	Msg  string
}

func (e *PolicyError) Error() string { return fmt.Sprintf("PIN policy (%s): %s", e.Rule, e.Msg) }

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *PolicyError) Is(target error) bool { return target == ErrInvalidInput }

// Settings are the organisation-wide options, stored and changeable at run time.
type Settings struct {
	// PINLength is the length of generated PINs; changing it affects only
	// PINs generated afterwards.
	PINLength int `json:"pin_length"`
	// SendEmails sends PINs and dial-in details to users by email.
	SendEmails bool `json:"send_emails"`
	// ConferenceIDMode is ConferenceIDStatic or ConferenceIDDynamic.
	ConferenceIDMode string `json:"conference_id_mode"`
	// AnonymousCanStart lets callers who are not the organizer start a meeting.
	AnonymousCanStart bool `json:"anonymous_can_start"`
	// LobbyAdmission is AdmitByOrganizer or AdmitAuto.
	LobbyAdmission string `json:"lobby_admission"`
	// DialInBypassLobby lets phone callers skip the lobby.
	DialInBypassLobby bool `json:"dial_in_bypass_lobby"`
	// EntryExitAnnouncements is AnnounceTones or AnnounceOff: what a
	// meeting plays when a caller joins or leaves, set when it starts.
	EntryExitAnnouncements string `json:"entry_exit_announcements"`
	// BlockCommonPINs refuses all-one-digit PINs, runs of 4+ ascending or
	// descending digits, and the user's own conference ID.
	BlockCommonPINs bool `json:"block_common_pins"`
	// Lockout limits failed PIN attempts.
	Lockout Lockout `json:"lockout"`
	// DialInNumbers are the phone numbers shown in emails.
	DialInNumbers []string `json:"dial_in_numbers"`
}

// Lockout is Skype for Business Server's PIN lockout: consecutive failures
// inside Window; at the local limit the PIN locks for LocalLockDuration; at
// the global limit it stays locked until an administrator unlocks it. A
// success resets the counters. A limit of 0 means automatic by PIN length.
type Lockout struct {
	Window            time.Duration `json:"window"`
	LocalLockDuration time.Duration `json:"local_lock_duration"`
	LocalLimit        int           `json:"local_limit"`
	GlobalLimit       int           `json:"global_limit"`
}

// DefaultSettings are the settings of a new directory.
func DefaultSettings() Settings {
	return Settings{
		PINLength:        DefaultPINLength,
		SendEmails:       true,
		ConferenceIDMode: ConferenceIDStatic,
		LobbyAdmission:   AdmitByOrganizer,
		BlockCommonPINs:  true,
		// Settings stored before the field existed decode over these
		// defaults: tones, as every meeting had until then.
		EntryExitAnnouncements: AnnounceTones,
		Lockout: Lockout{
			Window:            30 * time.Minute,
			LocalLockDuration: time.Hour,
		},
	}
}

// LocalLimitFor is the number of consecutive failures that lock a PIN of the
// given length for LocalLockDuration: 10 for 4 digits, 25 for 5 or more.
func (l Lockout) LocalLimitFor(pinLength int) int {
	if l.LocalLimit > 0 {
		return l.LocalLimit
	}
	if pinLength <= 4 {
		return 10
	}
	return 25
}

// GlobalLimitFor is the number of failures that lock a PIN until an
// administrator unlocks it: 100 for 4 digits, 1000 for 5, 5000 for 6+.
func (l Lockout) GlobalLimitFor(pinLength int) int {
	if l.GlobalLimit > 0 {
		return l.GlobalLimit
	}
	switch {
	case pinLength <= 4:
		return 100
	case pinLength == 5:
		return 1000
	}
	return 5000
}

// PINPolicy overrides the organisation's PIN policy for one user (Skype for
// Business Server allows per-user PIN policies). Nil fields inherit.
type PINPolicy struct {
	Length      *int  `json:"length,omitempty"`
	BlockCommon *bool `json:"block_common,omitempty"`
	LocalLimit  *int  `json:"local_limit,omitempty"`
	GlobalLimit *int  `json:"global_limit,omitempty"`
}

// LockState is a user's failed-attempt counters and lock.
type LockState struct {
	// Failures counts consecutive failures since WindowStart.
	Failures    int       `json:"failures"`
	WindowStart time.Time `json:"window_start"`
	// TotalFailures counts consecutive failures toward the global limit.
	TotalFailures int `json:"total_failures"`
	// LockedUntil is the end of a local (temporary) lock.
	LockedUntil time.Time `json:"locked_until"`
	// LockedByAdmin: the global limit was reached (or an administrator
	// locked the PIN); only an administrator unlocks it.
	LockedByAdmin bool `json:"locked_by_admin"`
}

// Locked reports whether the PIN is locked at now.
func (l LockState) Locked(now time.Time) bool {
	return l.LockedByAdmin || now.Before(l.LockedUntil)
}

// User is a user enabled for audio conferencing.
type User struct {
	ID            int64     `json:"id"`
	Email         string    `json:"email"`
	DisplayName   string    `json:"display_name"`
	EmailOverride string    `json:"email_override,omitempty"` // where PIN emails go instead of Email
	ConferenceID  string    `json:"conference_id"`            // static ID; "" in dynamic mode
	PINDigest     []byte    `json:"-"`                        // HMAC-SHA256 of the PIN under the server secret
	PINLength     int       `json:"pin_length"`
	PINSetAt      time.Time `json:"pin_set_at"`
	Policy        PINPolicy `json:"policy"`
	Lock          LockState `json:"lock"`
	CreatedAt     time.Time `json:"created_at"`
}

// MarshalJSON lists the PIN as MaskedPIN, as everywhere but the one
// response that set it; the digest is never output.
func (u User) MarshalJSON() ([]byte, error) {
	type plain User // without this method
	return json.Marshal(struct {
		plain
		PIN string `json:"pin"`
	}{plain(u), MaskedPIN})
}

// Meeting maps a conference ID to its organizer. In static mode each user's
// conference ID has one (Static); in dynamic mode each created meeting does.
type Meeting struct {
	ConferenceID string `json:"conference_id"`
	OrganizerID  int64  `json:"organizer_id"`
	Static       bool   `json:"static"`
	// RequireOrganizer: the organizer must start it; BypassLobby: phone
	// callers skip the lobby. A static meeting's row stores neither (it
	// follows the settings); the Directory's GetMeeting and ListMeetings
	// fill in what a call to it does.
	RequireOrganizer bool `json:"require_organizer"`
	BypassLobby      bool `json:"bypass_lobby"`
	// NoCheckDigit: the ID was imported from another system without a
	// Damm check digit (ImportConferenceID); the bridge's own IDs always
	// have one.
	NoCheckDigit bool      `json:"no_check_digit"`
	CreatedAt    time.Time `json:"created_at"`
}

// Snapshot is what the directory keeps in memory, read once at start-up:
// the settings, the meetings, and of each user what the call path needs
// (ID, conference ID, PIN digest and length, policy, lock state). Names,
// addresses and dates may be left empty: GetUser and ListUsers read them.
type Snapshot struct {
	Settings Settings
	Users    []User
	Meetings []Meeting
}
