package ivr

import (
	"context"
	"sync"
	"time"

	"github.com/dialin/dialin/media"
)

// WaitingRoom is a stand-in for the lobby and the bridge (the next issue
// builds them): it keeps which meetings are on, and plays callers a
// message, then silence, until they hang up. A meeting starts when its
// organizer joins (or, if it needs none, its first caller) and ends when
// its last caller leaves.
type WaitingRoom struct {
	Prompts *media.Prompts
	// Repeat is how often a caller waiting for the meeting to start hears
	// the lobby message again; default 60 s.
	Repeat time.Duration

	mu       sync.Mutex
	meetings map[string]*roomMeeting
}

type roomMeeting struct {
	started bool
	callers int
	start   chan struct{} // closed when the meeting starts
}

// Started implements Meetings.
func (w *WaitingRoom) Started(conferenceID string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.meetings[conferenceID]
	return m != nil && m.started
}

// Join implements Meetings.
func (w *WaitingRoom) Join(ctx context.Context, call Call, j Joining) {
	p := w.Prompts.MustGet
	starts := j.Organizer || !j.Conference.RequireOrganizer
	m, startedNow := w.enter(j.ConferenceID, starts)
	defer w.leave(j.ConferenceID)

	role := "attendee"
	if j.Organizer {
		role = "organizer"
	}
	log := call.Log()
	log.Info().Str("conference_id", j.ConferenceID).Str("role", role).Bool("started_meeting", startedNow).
		Bool("waiting", !w.Started(j.ConferenceID)).Msg("caller joined the meeting")

	select {
	case <-m.start:
		_ = play(ctx, call, p(media.PromptJoining))
	default:
		repeat := w.Repeat
		if repeat <= 0 {
			repeat = time.Minute
		}
		if !w.waitForStart(ctx, call, m, repeat) {
			return
		}
		log.Info().Str("conference_id", j.ConferenceID).Msg("meeting started: caller admitted")
		_ = play(ctx, call, p(media.PromptMeetingStarted), p(media.PromptJoining))
	}
	<-ctx.Done()
}

// waitForStart plays the lobby message every repeat until the meeting
// starts (true) or the caller leaves (false).
func (w *WaitingRoom) waitForStart(ctx context.Context, call Call, m *roomMeeting, repeat time.Duration) bool {
	t := time.NewTicker(repeat)
	defer t.Stop()
	call.Play(w.Prompts.MustGet(media.PromptLobbyWait))
	for {
		select {
		case <-m.start:
			return true
		case <-t.C:
			call.Play(w.Prompts.MustGet(media.PromptLobbyWait))
		case <-ctx.Done():
			call.StopPlay()
			return false
		}
	}
}

// enter counts a caller in and starts the meeting if starts.
func (w *WaitingRoom) enter(id string, starts bool) (*roomMeeting, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.meetings == nil {
		w.meetings = map[string]*roomMeeting{}
	}
	m := w.meetings[id]
	if m == nil {
		m = &roomMeeting{start: make(chan struct{})}
		w.meetings[id] = m
	}
	m.callers++
	startedNow := starts && !m.started
	if startedNow {
		m.started = true
		close(m.start)
	}
	return m, startedNow
}

// leave counts a caller out; the last one ends the meeting.
func (w *WaitingRoom) leave(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if m := w.meetings[id]; m != nil {
		m.callers--
		if m.callers == 0 {
			delete(w.meetings, id)
		}
	}
}
