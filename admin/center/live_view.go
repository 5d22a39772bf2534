package center

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dialin/dialin/admin/client"
)

// The live pages show what the API answers (GET /api/v1/live, GET
// /api/v1/meetings/{id}) as views with every text ready: the templates
// have no functions, and the event stream compares views to send only
// what changed.

// liveMeetingView is one meeting as the live pages show it.
type liveMeetingView struct {
	ConferenceID     string
	Organizer        string // "" when the meeting was deleted while on
	Started          bool
	Locked           bool
	OrganizerPresent bool
	Lobby            []liveLobbyView
	Participants     []liveParticipantView
}

// Live reports whether the bridge holds the meeting: on, or someone waits.
func (v liveMeetingView) Live() bool { return v.Started || len(v.Lobby) > 0 }

// State is the meeting's state in words, and Badge the badge's class.
func (v liveMeetingView) State() string {
	switch {
	case v.Started:
		return "In progress"
	case len(v.Lobby) > 0:
		return "Waiting for the organizer"
	}
	return "Not in progress"
}

func (v liveMeetingView) Badge() string {
	switch {
	case v.Started:
		return "good"
	case len(v.Lobby) > 0:
		return "warn"
	}
	return "plain"
}

// liveLobbyView is a caller waiting in the lobby.
type liveLobbyView struct {
	ID     string
	Caller string // masked by the API
	// Since is when they started waiting (UTC, to the second), SinceISO
	// the same for the script that counts the wait, Waited how long at
	// render time. Waited is left out of the comparison: it changes every
	// second, the script keeps it current.
	Since, SinceISO string
	Waited          string `json:"-"`
}

// liveParticipantView is a caller in the meeting.
type liveParticipantView struct {
	ID         string
	Caller     string
	Organizer  bool
	Muted      bool
	HandRaised bool
	Talking    bool
	OnHold     bool
	Joined     string
}

// Role is the participant's role in words.
func (p liveParticipantView) Role() string {
	if p.Organizer {
		return "Organizer"
	}
	return "Attendee"
}

// viewOf builds the view of a meeting as the API answers it, at now.
func viewOf(m client.Meeting, now time.Time) liveMeetingView {
	v := liveMeetingView{ConferenceID: m.ConferenceID, Organizer: m.Organizer}
	if m.Live == nil {
		return v
	}
	l := m.Live
	v.Started, v.Locked, v.OrganizerPresent = l.Started, l.Locked, l.OrganizerPresent
	for _, c := range l.Lobby {
		v.Lobby = append(v.Lobby, liveLobbyView{ID: c.ID, Caller: c.Caller,
			Since: clockText(c.WaitingSince), SinceISO: c.WaitingSince.UTC().Format(time.RFC3339),
			Waited: waitedFor(now.Sub(c.WaitingSince))})
	}
	for _, p := range l.Participants {
		v.Participants = append(v.Participants, liveParticipantView{ID: p.ID, Caller: p.Caller,
			Organizer: p.Role == "organizer", Muted: p.Muted, HandRaised: p.HandRaised, Talking: p.Talking,
			OnHold: p.OnHold, Joined: clockText(p.JoinedAt)})
	}
	return v
}

// clockText is a time of day, UTC, to the second.
func clockText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("15:04:05") + " UTC"
}

// waitedFor is a wait in words, as live.js writes it: "45 s", "3 min 05 s",
// "1 h 02 min".
func waitedFor(d time.Duration) string {
	s := int(max(d, 0) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min %02d s", s/60, s%60)
	}
	return fmt.Sprintf("%d h %02d min", s/3600, s%3600/60)
}

// versionOf names a state: two views with the same version look the same
// but for the running waits. The page carries the version it shows, so
// the stream does not send it again at once.
func versionOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "" // a view is plain data; never
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
