package wire

import (
	"encoding/json"
	"time"
)

// Meeting is a meeting as the API shows it: the organizer's address and
// the live state (the server always sends it; nil only if absent).
type Meeting struct {
	ConferenceID     string `json:"conference_id"`
	Organizer        string `json:"organizer"` // the organizer's email
	OrganizerID      int64  `json:"organizer_id"`
	Static           bool   `json:"static"`
	RequireOrganizer bool   `json:"require_organizer"`
	BypassLobby      bool   `json:"bypass_lobby"`
	// NoCheckDigit: the ID was imported without a Damm check digit
	// (PUT /users/{email}/conference-id with no_check_digit).
	NoCheckDigit bool      `json:"no_check_digit"`
	CreatedAt    time.Time `json:"created_at"`
	Live         *Live     `json:"live,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw object in Raw.
func (m *Meeting) UnmarshalJSON(data []byte) error {
	type plain Meeting
	var p plain
	if err := keepRaw(data, &p, &p.Raw); err != nil {
		return err
	}
	*m = Meeting(p)
	return nil
}

// Live is what the bridge knows of a meeting now.
type Live struct {
	Started          bool          `json:"started"`
	Locked           bool          `json:"locked"` // no new callers but the organizer
	OrganizerPresent bool          `json:"organizer_present"`
	Participants     []Participant `json:"participants"`
	Lobby            []LobbyCaller `json:"lobby"`
}

// Participant is a caller in a started meeting.
type Participant struct {
	// ID is the bridge's id of the participant, for mute and remove.
	ID string `json:"id"`
	// Caller is the caller's number; the API masks all but its last
	// digits, whatever the bridge gives.
	Caller     string `json:"caller"`
	Role       string `json:"role"` // "organizer" or "attendee"
	Muted      bool   `json:"muted"`
	HandRaised bool   `json:"hand_raised"`
	Talking    bool   `json:"talking"`
	// OnHold: the participant holds the meeting (their phone's hold): they
	// are left out of the mix until they resume.
	OnHold   bool      `json:"on_hold"`
	JoinedAt time.Time `json:"joined_at"`
}

// LobbyCaller is a caller waiting in the lobby to be admitted.
type LobbyCaller struct {
	ID           string    `json:"id"`     // the bridge's id, for admit and remove
	Caller       string    `json:"caller"` // masked like Participant.Caller
	WaitingSince time.Time `json:"waiting_since"`
}

// MeetingPage is one page of GET /meetings.
type MeetingPage struct {
	Meetings  []Meeting `json:"meetings"`
	NextAfter string    `json:"next_after"` // "" at the end
}

// MeetingRequest is the body of POST /meetings.
type MeetingRequest struct {
	Organizer        string `json:"organizer"`
	RequireOrganizer *bool  `json:"require_organizer,omitempty"` // nil: true
	BypassLobby      *bool  `json:"bypass_lobby,omitempty"`      // nil: false
}

// AdmitRequest is the optional body of POST /meetings/{id}/admit.
type AdmitRequest struct {
	CallerID string `json:"caller_id,omitempty"` // "": everyone waiting
}

// AdmitResult is the answer of POST /meetings/{id}/admit.
type AdmitResult struct {
	Admitted int `json:"admitted"`
}

// LiveList is the answer of GET /live: the meetings the bridge holds now
// (a cluster node: every live node's).
type LiveList struct {
	Meetings []Meeting `json:"meetings"`
	// UnansweredNodes are the cluster's nodes that did not list theirs in
	// time (their meetings are missing); absent on a node alone.
	UnansweredNodes []string `json:"unanswered_nodes,omitempty"`
}

// LockRequest is the body of PUT /meetings/{id}/lock.
type LockRequest struct {
	Locked *bool `json:"locked"` // required
}

// MuteRequest is the body of PUT /meetings/{id}/participants/{pid}/mute.
type MuteRequest struct {
	Muted *bool `json:"muted"` // required
}
