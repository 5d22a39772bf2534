package bridge

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialin/dialin/lobby"
	"github.com/dialin/dialin/media/prompts"
	"github.com/dialin/dialin/store"
)

// exitReason is why the bridge, not the caller, ends a call in a meeting.
type exitReason int

const (
	exitRemoved exitReason = iota + 1 // an administrator removed the caller
	exitEnded                         // the meeting ended
)

// member is one caller held by a meeting, in its lobby or in it. Its call
// flow runs on the call's goroutine (Meeting.run); the meeting changes its
// state under Meeting.mu and tells the flow through admit and exit.
type member struct {
	id        string // the live-status id administrators use
	call      Call
	organizer bool
	arrived   time.Time // set by enter, then read-only

	// Guarded by Meeting.mu.
	inMeeting bool          // false: in the lobby
	since     time.Time     // in the lobby since, or joined at
	admit     chan struct{} // closed when admitted from the lobby
	exit      chan struct{} // closed when the bridge ends the call, for reason
	reason    exitReason    // set before exit is closed
	part      *Participant  // in the mixer; nil until the flow adds it

	muted atomic.Bool
	hand  atomic.Bool

	holdNotice time.Time // the last on-hold notice; the call's goroutine only
}

// setMuted mutes or unmutes the member, in the mixer if it is there
// already and when it gets there otherwise. Called under Meeting.mu.
func (mem *member) setMuted(on bool) {
	mem.muted.Store(on)
	if mem.part != nil {
		mem.part.SetMuted(on)
	}
}

// kickLocked tells the member's flow to end the call for reason (once).
// The flow reads reason after exit is closed.
func (mem *member) kickLocked(reason exitReason) {
	if !mem.exited() {
		mem.reason = reason
		close(mem.exit)
	}
}

// exited reports whether the bridge has ended the call. Called under
// Meeting.mu, which kickLocked holds.
func (mem *member) exited() bool { return mem.reason != 0 }

// Meeting is one conference: who is in it, who waits in its lobby, and its
// mixer. Its state changes under mu; the mixer runs on the clock while
// anyone is in the meeting.
type Meeting struct {
	b      *Bridge
	id     string // conference ID
	mixer  *Mixer
	opened time.Time // when the bridge made it: tells one meeting of an ID from the next

	holders int // callers in Join for this meeting; guarded by Bridge.mu

	mu             sync.Mutex
	started        bool
	admission      lobby.Admission // as last read from the directory
	locked         bool            // no new callers
	tones          bool            // join and leave tones: set at the start (startLocked), *23 toggles
	attendeesMuted bool            // the organizer's mute-all is on
	participants   int             // members in the meeting
	organizers     int             // of which the organizer
	members        map[string]*member
	mixing         bool // the mixer is on the clock
}

func newMeeting(b *Bridge, id string) *Meeting {
	return &Meeting{
		b:       b,
		id:      id,
		opened:  time.Now(),
		mixer:   NewMixer(),
		members: map[string]*member{},
	}
}

// placement is where a new caller goes.
type placement int

const (
	placeMeeting placement = iota
	placeLobby
	placeFull
	placeLocked
)

// enter decides where a new caller goes and counts them in: into the
// meeting (starting it if the caller may), into the lobby, or nowhere
// (full, locked). It reports whether the caller started the meeting.
func (m *Meeting) enter(mem *member, conf store.Conference) (placement, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.admission = admissionOf(conf)
	if len(m.members) >= m.b.opts.Meeting.MaxParticipants {
		return placeFull, false
	}
	if m.locked && !mem.organizer {
		return placeLocked, false
	}
	startedNow := false
	place := placeMeeting
	switch {
	case m.admission.Starts(mem.organizer):
		if !m.started {
			m.startLocked(conf)
			startedNow = true
		}
	case m.admission.Waits(m.started):
		place = placeLobby
	}
	m.members[mem.id] = mem
	mem.arrived = time.Now()
	mem.since = mem.arrived
	if place == placeMeeting {
		m.toMeetingLocked(mem)
	}
	return place, startedNow
}

// startLocked starts the meeting; with automatic admission the lobby comes
// in at once, otherwise it stays until the organizer admits it. The join
// and leave tones start as the directory's setting says, unless the
// bridge's meeting.join_leave_tones turns them off everywhere.
func (m *Meeting) startLocked(conf store.Conference) {
	m.started = true
	m.tones = m.b.opts.Meeting.JoinLeaveTones && announcesJoins(conf.EntryExitAnnouncements)
	if m.admission.AdmitsOnStart() {
		m.admitAllLocked()
	}
}

// toMeetingLocked counts mem into the meeting and starts mixing if it is
// the first one in.
func (m *Meeting) toMeetingLocked(mem *member) {
	mem.inMeeting = true
	if m.attendeesMuted && !mem.organizer {
		// The organizer's mute-all holds for attendees who join after it,
		// as Asterisk's audience mute does: a muted audience stays muted.
		mem.muted.Store(true)
	}
	mem.since = time.Now()
	m.participants++
	if mem.organizer {
		m.organizers++
	}
	if !m.mixing {
		m.mixing = true
		m.b.opts.Clock.Add(m.mixer)
	}
}

// admitLocked moves one lobby caller into the meeting.
func (m *Meeting) admitLocked(mem *member) {
	if mem.inMeeting || mem.exited() {
		return
	}
	m.toMeetingLocked(mem)
	close(mem.admit)
}

// admitAllLocked admits everyone waiting and says how many.
func (m *Meeting) admitAllLocked() int {
	n := 0
	for _, mem := range m.members {
		if !mem.inMeeting && !mem.exited() {
			m.admitLocked(mem)
			n++
		}
	}
	return n
}

// leave counts mem out. The last participant out ends the meeting (the
// lobby keeps waiting for the next start); so does the organizer when
// meeting.end_when_organizer_leaves is set.
//
// Leaving twice is harmless: a caller the bridge is ending leaves before
// hearing why, and again when the call returns.
func (m *Meeting) leave(mem *member) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.members[mem.id] != mem {
		return
	}
	delete(m.members, mem.id)
	if !mem.inMeeting {
		return
	}
	mem.inMeeting = false
	m.participants--
	if mem.organizer {
		m.organizers--
	}
	switch {
	case m.participants == 0:
		m.endLocked(exitEnded, false)
	case mem.organizer && m.organizers == 0 && m.b.opts.Meeting.EndWhenOrganizerLeaves:
		mem.call.Log().Info().Str("conference_id", m.id).Msg("organizer left: meeting ends for everyone")
		m.endLocked(exitEnded, false)
	case m.tones:
		m.mixer.Announce(m.b.prompt(prompts.LeaveTone))
	}
}

// endLocked ends the meeting: the participants (and, if lobbyToo, the
// lobby) are told and hung up; the meeting's settings go back to their
// defaults for its next start.
func (m *Meeting) endLocked(reason exitReason, lobbyToo bool) {
	m.started = false
	m.locked = false
	m.attendeesMuted = false
	m.tones = false // until the next start sets them
	for _, mem := range m.members {
		if mem.inMeeting || lobbyToo {
			mem.kickLocked(reason)
		}
	}
	if m.participants == 0 && m.mixing {
		m.mixing = false
		m.b.opts.Clock.Remove(m.mixer)
	}
}

// announcesJoins reports whether a meeting whose entry and exit
// announcements setting is mode plays a tone as callers join and leave:
// anything but off ("" is a directory that predates the setting).
func announcesJoins(mode string) bool { return mode != store.AnnounceOff }

// status is a snapshot of the meeting for the live-status API.
func (m *Meeting) status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Status{Started: m.started, Locked: m.locked, OrganizerPresent: m.organizers > 0}
	for _, mem := range m.members {
		if mem.inMeeting {
			p := ParticipantStatus{ID: mem.id, Caller: mem.call.Caller(), Organizer: mem.organizer,
				Muted: mem.muted.Load(), HandRaised: mem.hand.Load(), JoinedAt: mem.since}
			if mem.part != nil {
				p.Talking = mem.part.Talking()
				p.OnHold = mem.part.Held()
			}
			s.Participants = append(s.Participants, p)
		} else {
			s.Lobby = append(s.Lobby, LobbyStatus{ID: mem.id, Caller: mem.call.Caller(), WaitingSince: mem.since})
		}
	}
	sort.Slice(s.Participants, func(i, j int) bool { return s.Participants[i].JoinedAt.Before(s.Participants[j].JoinedAt) })
	sort.Slice(s.Lobby, func(i, j int) bool { return s.Lobby[i].WaitingSince.Before(s.Lobby[j].WaitingSince) })
	return s
}
