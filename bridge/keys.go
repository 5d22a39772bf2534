package bridge

import (
	"strings"
	"time"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/media/prompts"
)

// action is an in-meeting command.
type action int

const (
	actionInvalid action = iota // keys that name no command
	actionHelp
	actionCount
	actionHand
	actionMute
	actionLock
	actionAdmit
	actionMuteAll
	actionAnnouncements
)

// organizerOnly reports whether only the organizer may use a.
func (a action) organizerOnly() bool {
	return a == actionLock || a == actionAdmit || a == actionMuteAll || a == actionAnnouncements
}

// keyCommand is one command's keys, its action and how the help names it.
type keyCommand struct {
	keys   string
	action action
	help   string // prompt that ends "press <keys> ..."
}

// keyMap is the configured in-meeting commands, in the order the help
// reads them.
type keyMap []keyCommand

func newKeyMap(k config.MeetingKeys) keyMap {
	return keyMap{
		{k.Help, actionHelp, prompts.HelpHelp},
		{k.Count, actionCount, prompts.HelpCount},
		{k.Hand, actionHand, prompts.HelpHand},
		{k.Mute, actionMute, prompts.HelpMute},
		{k.Lock, actionLock, prompts.HelpLock},
		{k.Admit, actionAdmit, prompts.HelpAdmit},
		{k.MuteAll, actionMuteAll, prompts.HelpMuteAll},
		{k.Announcements, actionAnnouncements, prompts.HelpAnnounce},
	}
}

// match looks seq up: the command it names exactly, and whether a longer
// command starts with it (so more keys may follow).
func (km keyMap) match(seq string) (exact action, found, longer bool) {
	for _, c := range km {
		switch {
		case c.keys == seq:
			exact, found = c.action, true
		case strings.HasPrefix(c.keys, seq):
			longer = true
		}
	}
	return exact, found, longer
}

// keyReader collects the keys of one in-meeting command: a star, then
// digits until they name a command, name none, or the caller pauses for
// the key timeout. A star always starts over; other keys outside a command
// are ignored, so a stray digit does nothing.
type keyReader struct {
	keys    keyMap
	timeout time.Duration
	seq     []byte
	timer   *time.Timer
}

// press takes one key; done means a command is complete (a) or the keys
// name none (actionInvalid).
func (r *keyReader) press(k byte) (a action, done bool) {
	if k == '*' {
		r.seq = r.seq[:0]
	} else if len(r.seq) == 0 {
		return 0, false
	}
	r.seq = append(r.seq, k)
	exact, found, longer := r.keys.match(string(r.seq))
	switch {
	case found && !longer:
		r.reset()
		return exact, true
	case !found && !longer:
		r.reset()
		return actionInvalid, true
	}
	r.arm()
	return 0, false
}

// expire ends a command the caller stopped typing: what was typed runs if
// it names a command; a lone star is forgotten quietly.
func (r *keyReader) expire() (action, bool) {
	seq := string(r.seq)
	r.reset()
	if exact, found, _ := r.keys.match(seq); found {
		return exact, true
	}
	if len(seq) > 1 {
		return actionInvalid, true
	}
	return 0, false
}

// expired fires when the caller paused in the middle of a command.
func (r *keyReader) expired() <-chan time.Time {
	if r.timer == nil || len(r.seq) == 0 {
		return nil
	}
	return r.timer.C
}

func (r *keyReader) arm() {
	if r.timer == nil {
		r.timer = time.NewTimer(r.timeout)
		return
	}
	r.timer.Reset(r.timeout) // Go 1.23+: Reset drains a fired timer
}

func (r *keyReader) reset() {
	r.seq = r.seq[:0]
	if r.timer != nil {
		r.timer.Stop()
	}
}

func (r *keyReader) stop() {
	if r.timer != nil {
		r.timer.Stop()
	}
}

// command carries out an in-meeting command for mem and answers with a
// prompt on mem's call.
func (m *Meeting) command(mem *member, a action) {
	call := mem.call
	p := m.b.prompt
	log := call.Log().Info().Str("conference_id", m.id)
	if a.organizerOnly() && !mem.organizer {
		log.Str("command", a.String()).Msg("in-meeting command refused: organizer only")
		call.Play(p(prompts.OrganizerOnly))
		return
	}
	if a == actionInvalid {
		call.Play(p(prompts.InvalidKey))
		return
	}
	log.Str("command", a.String()).Msg("in-meeting command")
	switch a {
	case actionHelp:
		call.Play(m.help(mem)...)
	case actionCount:
		m.mu.Lock()
		n := m.participants
		m.mu.Unlock()
		if n <= 1 {
			call.Play(p(prompts.OnlyParticipant))
			return
		}
		list := []*media.Prompt{p(prompts.ThereAre)}
		for _, name := range prompts.Number(n) {
			list = append(list, p(name))
		}
		call.Play(append(list, p(prompts.ParticipantsInMeeting))...)
	case actionHand:
		if raised := !mem.hand.Load(); raised {
			mem.hand.Store(true)
			call.Play(p(prompts.HandRaised))
		} else {
			mem.hand.Store(false)
			call.Play(p(prompts.HandLowered))
		}
	case actionMute:
		m.mu.Lock()
		muted := !mem.muted.Load()
		mem.setMuted(muted)
		m.mu.Unlock()
		if muted {
			call.Play(p(prompts.Muted))
		} else {
			call.Play(p(prompts.Unmuted))
		}
	case actionLock:
		m.mu.Lock()
		m.locked = !m.locked
		locked := m.locked
		m.mu.Unlock()
		if locked {
			call.Play(p(prompts.MeetingLocked))
		} else {
			call.Play(p(prompts.MeetingUnlocked))
		}
	case actionAdmit:
		m.mu.Lock()
		n := m.admitAllLocked()
		m.mu.Unlock()
		if n == 0 {
			call.Play(p(prompts.LobbyEmpty))
		} else {
			call.Play(p(prompts.LobbyAdmitted))
		}
	case actionMuteAll:
		m.mu.Lock()
		m.attendeesMuted = !m.attendeesMuted
		on := m.attendeesMuted
		for _, other := range m.members {
			if other.inMeeting && !other.organizer {
				other.setMuted(on)
				if on {
					other.call.Play(p(prompts.MutedByOrganizer))
				}
			}
		}
		m.mu.Unlock()
		if on {
			call.Play(p(prompts.AttendeesMuted))
		} else {
			call.Play(p(prompts.AttendeesUnmuted))
		}
	case actionAnnouncements:
		m.mu.Lock()
		m.tones = !m.tones
		on := m.tones
		m.mu.Unlock()
		if on {
			call.Play(p(prompts.AnnouncementsOn))
		} else {
			call.Play(p(prompts.AnnouncementsOff))
		}
	}
}

// help reads the commands mem may use, with the keys as configured:
// "Press star one for help. Press star three ...".
func (m *Meeting) help(mem *member) []*media.Prompt {
	p := m.b.prompt
	out := []*media.Prompt{p(prompts.HelpIntro)}
	for _, c := range m.b.keys {
		if c.action.organizerOnly() && !mem.organizer {
			continue
		}
		out = append(out, p(prompts.HelpPress))
		for i := 0; i < len(c.keys); i++ {
			out = append(out, p(prompts.Digit(c.keys[i])))
		}
		out = append(out, p(c.help))
	}
	return out
}

func (a action) String() string {
	switch a {
	case actionHelp:
		return "help"
	case actionCount:
		return "count"
	case actionHand:
		return "hand"
	case actionMute:
		return "mute"
	case actionLock:
		return "lock"
	case actionAdmit:
		return "admit"
	case actionMuteAll:
		return "mute_all"
	case actionAnnouncements:
		return "announcements"
	}
	return "invalid"
}
