package bridge

import (
	"context"
	"time"

	"github.com/dialin/dialin/lobby"
	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/media/prompts"
	"github.com/dialin/dialin/store"
)

// run is one caller's time with the meeting, on the call's goroutine: the
// lobby if they must wait, then the meeting, until they hang up or the
// bridge ends the call (removed, lobby timeout, meeting ended, full,
// locked). Returning ends the call.
func (m *Meeting) run(ctx context.Context, mem *member, conf store.Conference) Left {
	call := mem.call
	log := call.Log()
	place, startedNow := m.enter(mem, conf)
	role := "attendee"
	if mem.organizer {
		role = "organizer"
	}
	switch place {
	case placeFull:
		m.b.stats.full.Add(1)
		log.Warn().Str("conference_id", m.id).Int("max_participants", m.b.opts.Meeting.MaxParticipants).Msg("call refused: meeting full")
		m.say(ctx, call, prompts.MeetingFull, prompts.Goodbye)
		return Left{Reason: "meeting full"}
	case placeLocked:
		m.b.stats.locked.Add(1)
		log.Info().Str("conference_id", m.id).Msg("call refused: meeting locked")
		m.say(ctx, call, prompts.MeetingIsLocked, prompts.Goodbye)
		return Left{Reason: "meeting locked"}
	}
	defer m.leave(mem)
	log.Info().Str("conference_id", m.id).Str("role", role).Str("member", mem.id).Bool("started_meeting", startedNow).
		Bool("waiting", place == placeLobby).Msg("caller joined the meeting")

	call.SetFeed(true)
	defer call.SetFeed(false)
	if place == placeLobby {
		if ok, why := m.wait(ctx, mem); !ok {
			return Left{Reason: why}
		}
		log.Info().Str("conference_id", m.id).Dur("waited", time.Since(mem.arrived).Round(time.Millisecond)).
			Msg("caller admitted from the lobby")
	}
	return Left{Admitted: true, Reason: m.attend(ctx, mem)}
}

// say plays prompts to the end (or until the caller hangs up).
func (m *Meeting) say(ctx context.Context, call Call, names ...string) {
	list := make([]*media.Prompt, len(names))
	for i, n := range names {
		list[i] = m.b.prompt(n)
	}
	select {
	case <-call.Play(list...):
	case <-ctx.Done():
		call.StopPlay()
	}
}

// sayExit tells the caller why the bridge is ending the call. The caller
// has left the meeting by then: nobody hears them while they are told.
func (m *Meeting) sayExit(ctx context.Context, mem *member, reason exitReason) {
	m.leave(mem)
	mem.call.Log().Info().Str("conference_id", m.id).Str("reason", reason.String()).Msg("bridge ends the call")
	switch reason {
	case exitRemoved:
		m.say(ctx, mem.call, prompts.Removed, prompts.Goodbye)
	case exitEnded:
		m.say(ctx, mem.call, prompts.MeetingEnded, prompts.Goodbye)
	}
}

func (r exitReason) String() string {
	switch r {
	case exitRemoved:
		return "removed"
	case exitEnded:
		return "meeting ended"
	}
	return "unknown"
}

// wait has the lobby hold the caller until the meeting admits them
// (true) or the call ends: hang up, removal, the meeting ended by an
// administrator, or the lobby's timeout; why says which ("": hung up).
func (m *Meeting) wait(ctx context.Context, mem *member) (ok bool, why string) {
	out := m.b.opts.Lobby.Wait(ctx, mem.call, lobby.Waiting{
		ConferenceID: m.id,
		Admitted:     mem.admit,
		Ended:        mem.exit,
		Started:      m.isStarted,
	})
	switch out {
	case lobby.Admitted:
		return true, ""
	case lobby.Ended:
		m.sayExit(ctx, mem, mem.reason)
		return false, mem.reason.String()
	case lobby.TimedOut:
		return false, "lobby timed out"
	}
	return false, ""
}

// isStarted reports whether the meeting is on.
func (m *Meeting) isStarted() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.started
}

// attend is the caller's time in the meeting: in the mix, answering the
// in-meeting keys, until the call ends. It says why the bridge ended it
// ("" when it ended otherwise).
func (m *Meeting) attend(ctx context.Context, mem *member) string {
	call := mem.call
	jitter := media.NewJitterBuffer(m.b.opts.Meeting.JitterDepth)
	jitter.CountInto(m.b.opts.Clock.Totals())
	call.SetAudioInput(jitter)
	defer call.SetAudioInput(nil)
	part := m.mixer.Add(ParticipantID(mem.id), call.Codec(), jitter, call)
	defer m.mixer.Remove(part)
	part.SetHeld(call.Held()) // held already in the lobby: no notice

	m.mu.Lock()
	mutedByOrganizer := mem.muted.Load() // only the organizer's mute-all mutes a newcomer
	part.SetMuted(mutedByOrganizer)
	mem.part = part
	alone := m.participants == 1
	tones := m.tones
	m.mu.Unlock()

	if tones {
		// Everyone else hears the tone; the newcomer hears its own
		// greeting, which takes the mix's place on its call.
		m.mixer.Announce(m.b.prompt(prompts.JoinTone))
	}
	greeting := []*media.Prompt{m.b.prompt(prompts.Joining)}
	if alone {
		greeting = append(greeting, m.b.prompt(prompts.OnlyParticipant))
	}
	if mutedByOrganizer {
		greeting = append(greeting, m.b.prompt(prompts.MutedByOrganizer))
	}
	call.Play(greeting...)

	keys := keyReader{keys: m.b.keys, timeout: m.b.opts.Meeting.KeyTimeout}
	defer keys.stop()
	for {
		select {
		case <-ctx.Done():
			return ""
		case <-mem.exit:
			m.mixer.Remove(part)
			call.SetAudioInput(nil)
			m.sayExit(ctx, mem, mem.reason)
			return mem.reason.String()
		case <-call.HoldChanged():
			m.holdChanged(mem, part, time.Now())
		case k := <-call.Digits():
			if a, done := keys.press(k); done {
				m.command(mem, a)
			}
		case <-keys.expired():
			if a, done := keys.expire(); done {
				m.command(mem, a)
			}
		}
	}
}
