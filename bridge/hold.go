package bridge

import (
	"time"

	"github.com/dialin/dialin/media/prompts"
)

// holdNoticeGap is the least time between two on-hold notices for one
// participant: a phone that flips hold on and off does not make the
// meeting hear the notice each time.
const holdNoticeGap = time.Minute

// holdChanged follows a participant's hold, on the call's goroutine (attend):
// while they hold the meeting their audio, typically their PBX's hold
// music, is left out of the mix, and everyone hears once, quietly, that a
// participant is on hold; on resume their audio is back in the mix.
func (m *Meeting) holdChanged(mem *member, part *Participant, now time.Time) {
	held := mem.call.Held()
	if part.Held() == held {
		return
	}
	part.SetHeld(held)
	log := mem.call.Log().Info().Str("conference_id", m.id).Str("member", mem.id)
	if !held {
		log.Msg("participant resumed: back in the mix")
		return
	}
	notice := mem.holdNotice.IsZero() || now.Sub(mem.holdNotice) >= holdNoticeGap
	log.Bool("notice", notice).Msg("participant holds the meeting: left out of the mix")
	if notice {
		mem.holdNotice = now
		m.mixer.Announce(m.b.prompt(prompts.ParticipantOnHold))
	}
}
