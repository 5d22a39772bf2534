package bridge

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/lobby"
	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/media/prompts"
	"github.com/dialin/dialin/store"
)

// Errors of the live controls (Start, End, Admit, SetMuted, SetLocked, Remove).
var (
	ErrNotStarted   = errors.New("the meeting has not started")
	ErrNoSuchCaller = errors.New("no such caller in the meeting or its lobby")
)

// Call is what a meeting needs of a call: prompts, keys, who is calling,
// and its media. sipua.Call provides it.
type Call interface {
	ID() string
	Log() *zerolog.Logger
	// Play starts prompts in order, replacing anything playing; the channel
	// closes when they are done or stopped.
	Play(list ...*media.Prompt) <-chan struct{}
	// StopPlay ends playback at once.
	StopPlay()
	// Digits delivers the caller's keys.
	Digits() <-chan byte
	// Caller is the calling number.
	Caller() string
	// Codec is the law the call's audio is in.
	Codec() media.Codec
	// SetFeed makes the time between the call's prompts play what
	// WriteFrame gets (the music, the mix) instead of silence.
	SetFeed(on bool)
	// WriteFrame sends one frame of the feed; a prompt playing on the call
	// takes its place. It is called from a clock tick and must not block.
	WriteFrame(payload []byte) error
	// SetAudioInput sends the caller's audio to in (nil: nowhere).
	SetAudioInput(in *media.JitterBuffer)
	// SetWaiting says the caller only waits (the lobby): nobody hears
	// them and no key is read, so their media may be read less often.
	SetWaiting(on bool)
	// Held reports whether the caller holds the bridge (their offer was
	// sendonly or inactive): what they send then is their PBX's hold
	// music. HoldChanged signals after it changed.
	Held() bool
	HoldChanged() <-chan struct{}
}

// Options configure a Bridge.
type Options struct {
	Prompts *prompts.Set
	// Clock paces every meeting's mixer.
	Clock *media.Clock
	// Lobby is where callers wait until their meeting lets them in.
	Lobby   *lobby.Room
	Meeting config.Meeting
}

// Bridge holds the meetings that are on and the callers waiting for them.
// The composition root hands it every caller the IVR identified; callers
// who must wait, it asks the lobby to hold until it admits them.
type Bridge struct {
	opts Options
	keys keyMap

	nextID atomic.Uint64 // for member ids
	stats  bridgeStats   // for metrics (stats.go)

	mu       sync.Mutex
	meetings map[string]*Meeting // by conference ID, while started or anyone is in it
}

// New returns a bridge.
func New(opts Options) *Bridge {
	return &Bridge{
		opts:     opts,
		keys:     newKeyMap(opts.Meeting.Keys),
		meetings: map[string]*Meeting{},
	}
}

// MixedPrompts names the prompts the mixer plays over a meeting
// (Mixer.Announce mixes their linear samples): whoever drops the prompts'
// PCM to save memory (prompts.Set.DropPCM) must keep these, or they play
// as silence.
func MixedPrompts() []string {
	return []string{prompts.JoinTone, prompts.LeaveTone, prompts.ParticipantOnHold}
}

// prompt is a prompt of the bridge's set by name.
func (b *Bridge) prompt(name string) *media.Prompt { return b.opts.Prompts.MustGet(name) }

// Joining is who joins which meeting.
type Joining struct {
	ConferenceID string
	Conference   store.Conference
	// Organizer: the caller gave the organizer's PIN, which starts the
	// meeting.
	Organizer bool
}

// Started reports whether the meeting of a conference ID is on.
func (b *Bridge) Started(conferenceID string) bool {
	b.mu.Lock()
	m := b.meetings[conferenceID]
	b.mu.Unlock()
	if m == nil {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.started
}

// Join takes the caller into the meeting or its lobby and returns when the
// caller hangs up, is removed, times out in the lobby or the meeting ends
// for them; returning ends the call.
//
// The Left it returns says how the caller's time with the meeting ended,
// for the call's record.
func (b *Bridge) Join(ctx context.Context, call Call, j Joining) Left {
	m := b.hold(j.ConferenceID)
	defer b.release(m)
	mem := &member{
		id:        "c" + strconv.FormatUint(b.nextID.Add(1), 10),
		call:      call,
		organizer: j.Organizer,
		admit:     make(chan struct{}),
		exit:      make(chan struct{}),
	}
	left := m.run(ctx, mem, j.Conference)
	left.MeetingStart = m.opened
	return left
}

// Left is how a caller's time with a meeting ended.
type Left struct {
	// Reason is why the bridge ended the call: "meeting full", "meeting
	// locked", "lobby timed out", "removed", "meeting ended"; "" when the
	// call ended otherwise (the caller hung up).
	Reason string
	// Admitted: the caller reached the meeting (at once or from the lobby).
	Admitted bool
	// MeetingStart is when the bridge opened this meeting of the
	// conference ID: callers of one meeting share it.
	MeetingStart time.Time
}

// hold finds or makes the meeting of a conference ID and counts one more
// caller holding it, so that it stays in the map until release.
func (b *Bridge) hold(id string) *Meeting {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.meetings[id]
	if m == nil {
		m = newMeeting(b, id)
		b.meetings[id] = m
	}
	m.holders++
	return m
}

// release undoes hold, forgetting a meeting that is over and empty.
func (b *Bridge) release(m *Meeting) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m.holders--
	b.forgetLocked(m)
}

// forgetLocked drops m from the map if nobody holds it and it is not on.
func (b *Bridge) forgetLocked(m *Meeting) {
	if m.holders > 0 {
		return
	}
	m.mu.Lock()
	started := m.started
	m.mu.Unlock()
	if !started && b.meetings[m.id] == m {
		delete(b.meetings, m.id)
	}
}

// lookup is the meeting of a conference ID, if it is on or anyone is in it.
func (b *Bridge) lookup(id string) *Meeting {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.meetings[id]
}

// admissionOf is the lobby's rule for a conference ID's settings.
func admissionOf(conf store.Conference) lobby.Admission {
	return lobby.Admission{
		RequireOrganizer: conf.RequireOrganizer,
		Bypass:           conf.BypassLobby,
		Auto:             conf.LobbyAdmission == store.AdmitAuto,
	}
}

// Start starts a meeting as if its organizer had joined from an app: the
// lobby is admitted if conf's admission is automatic. Starting a started
// meeting changes nothing. The meeting stays on until End, or until
// callers have joined and the last one has left.
func (b *Bridge) Start(id string, conf store.Conference) {
	b.mu.Lock()
	m := b.meetings[id]
	if m == nil {
		m = newMeeting(b, id)
		b.meetings[id] = m
	}
	b.mu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.admission = admissionOf(conf)
	if !m.started {
		m.startLocked(conf)
	}
}

// End ends a meeting for everyone in it and in its lobby: they hear that it
// ended and are hung up.
func (b *Bridge) End(id string) error {
	m := b.lookup(id)
	if m == nil {
		return ErrNotStarted
	}
	m.mu.Lock()
	if !m.started {
		m.mu.Unlock()
		return ErrNotStarted
	}
	m.endLocked(exitEnded, true)
	m.mu.Unlock()
	b.mu.Lock()
	b.forgetLocked(m)
	b.mu.Unlock()
	return nil
}

// Admit moves the lobby caller with callerID, or everyone in the lobby if
// callerID is "", into the meeting, and says how many.
func (b *Bridge) Admit(id, callerID string) (int, error) {
	m := b.lookup(id)
	if m == nil {
		return 0, ErrNotStarted
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.started {
		return 0, ErrNotStarted
	}
	if callerID == "" {
		return m.admitAllLocked(), nil
	}
	mem := m.members[callerID]
	if mem == nil || mem.inMeeting {
		return 0, ErrNoSuchCaller
	}
	m.admitLocked(mem)
	return 1, nil
}

// SetMuted mutes or unmutes a participant.
func (b *Bridge) SetMuted(id, participantID string, muted bool) error {
	m := b.lookup(id)
	if m == nil {
		return ErrNoSuchCaller
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mem := m.members[participantID]
	if mem == nil || !mem.inMeeting {
		return ErrNoSuchCaller
	}
	mem.setMuted(muted)
	return nil
}

// Remove hangs up a participant or lobby caller, who first hears that they
// were removed.
func (b *Bridge) Remove(id, callerID string) error {
	m := b.lookup(id)
	if m == nil {
		return ErrNoSuchCaller
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mem := m.members[callerID]
	if mem == nil {
		return ErrNoSuchCaller
	}
	mem.kickLocked(exitRemoved)
	return nil
}

// SetLocked locks or unlocks a started meeting from outside, as the
// organizer's lock key does: while it is locked, new callers other than
// the organizer are refused; those already in it and in its lobby stay.
// The meeting's end unlocks it.
func (b *Bridge) SetLocked(id string, locked bool) error {
	m := b.lookup(id)
	if m == nil {
		return ErrNotStarted
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.started {
		return ErrNotStarted
	}
	m.locked = locked
	return nil
}

// Holds reports whether the bridge holds the meeting of a conference ID
// (on, or with someone in it or its lobby).
func (b *Bridge) Holds(conferenceID string) bool { return b.lookup(conferenceID) != nil }

// LiveIDs lists the conference IDs of the meetings the bridge holds now
// (on, or with someone waiting or being turned away), in order. It holds
// the bridge's lock only to copy the keys: the admin center polls it.
func (b *Bridge) LiveIDs() []string {
	b.mu.Lock()
	ids := make([]string, 0, len(b.meetings))
	for id := range b.meetings {
		ids = append(ids, id)
	}
	b.mu.Unlock()
	sort.Strings(ids)
	return ids
}

// Meetings is the number of meetings the bridge holds (on, or with
// someone waiting), for status and tests.
func (b *Bridge) Meetings() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.meetings)
}

// Status is a meeting's live state.
type Status struct {
	Started          bool
	Locked           bool
	OrganizerPresent bool
	Participants     []ParticipantStatus // in joining order
	Lobby            []LobbyStatus       // in arrival order
}

// ParticipantStatus is one caller in a meeting.
type ParticipantStatus struct {
	ID         string
	Caller     string
	Organizer  bool
	Muted      bool
	HandRaised bool
	Talking    bool
	JoinedAt   time.Time
	OnHold     bool // the participant holds the meeting: left out of the mix
}

// LobbyStatus is one caller waiting in the lobby.
type LobbyStatus struct {
	ID           string
	Caller       string
	WaitingSince time.Time
}

// Status reports a meeting's live state; false if the bridge does not hold
// it (not on, nobody waiting).
func (b *Bridge) Status(id string) (Status, bool) {
	m := b.lookup(id)
	if m == nil {
		return Status{}, false
	}
	return m.status(), true
}
