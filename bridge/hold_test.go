package bridge

import (
	"testing"
	"time"

	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/media/prompts"
	"github.com/dialin/dialin/store"
)

func (c *fakeCall) Held() bool                   { return c.held.Load() }
func (c *fakeCall) HoldChanged() <-chan struct{} { return c.holdCh }

// setHeld is what sipua does when the caller's re-INVITE holds or resumes.
func (c *fakeCall) setHeld(on bool) {
	c.held.Store(on)
	select {
	case c.holdCh <- struct{}{}:
	default:
	}
}

// loudSource is a participant who always talks (hold music, say).
type loudSource struct{}

func (loudSource) Pop(out []int16) FrameKind {
	for i := range out[:media.FrameSamples] {
		out[i] = 8000
		if i%2 == 1 {
			out[i] = -8000
		}
	}
	return FrameAudio
}

// TestMixerLeavesHeldParticipantOut: a participant who holds the meeting
// is not heard by the others, and is again once they resume.
func TestMixerLeavesHeldParticipantOut(t *testing.T) {
	m := NewMixer()
	holder := m.Add("holder", media.PCMU, loudSource{}, &countingSink{})
	listener := &countingSink{}
	m.Add("listener", media.PCMU, silentSource{}, listener)

	holder.SetHeld(true)
	for range 5 {
		m.Tick()
	}
	if listener.loud {
		t.Fatal("the listener heard the participant who holds the meeting")
	}
	if holder.Talking() {
		t.Error("a holding participant shows as talking")
	}
	holder.SetHeld(false)
	m.Tick()
	if !listener.loud {
		t.Fatal("the listener did not hear the participant after resume")
	}
}

// TestHoldInMeeting: the status shows the hold; the others get the quiet
// notice once, not again when the phone flips hold within holdNoticeGap.
func TestHoldInMeeting(t *testing.T) {
	tb := newTestBridge(t, nil)
	conf := store.Conference{OrganizerID: 1, Static: true}
	tb.join("55", newFakeCall("org"), conf, true)
	att := tb.join("55", newFakeCall("att"), conf, false)
	tb.waitCounts("55", 2, 0)
	waitFor(t, "the attendee in the mixer", func() bool {
		m := tb.lookup("55")
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, mem := range m.members {
			if mem.call == att.call && mem.part != nil {
				return true
			}
		}
		return false
	})
	att.call.setHeld(true)
	waitFor(t, "the attendee on hold", func() bool { return tb.attendee("55").OnHold })
	att.call.setHeld(false)
	waitFor(t, "the attendee back", func() bool { return !tb.attendee("55").OnHold })
}

// TestHoldNoticeOnce: holdChanged announces the first hold, not a second
// within holdNoticeGap, and again after it; resuming announces nothing.
func TestHoldNoticeOnce(t *testing.T) {
	tb := newTestBridge(t, nil)
	m := newMeeting(tb.Bridge, "77")
	call := newFakeCall("att")
	mem := &member{id: "c1", call: call}
	part := m.mixer.Add("c1", media.PCMU, silentSource{}, call)
	announced := func() string {
		if p := m.mixer.announce.Swap(nil); p != nil {
			if len(p.PCM) == 0 {
				t.Errorf("announced %s without its PCM: the mixer plays it as silence", p.Name)
			}
			return p.Name
		}
		return ""
	}
	now := time.Now()
	call.held.Store(true)
	m.holdChanged(mem, part, now)
	if got := announced(); got != prompts.ParticipantOnHold || !part.Held() {
		t.Fatalf("first hold: announced %q, held %v", got, part.Held())
	}
	call.held.Store(false)
	m.holdChanged(mem, part, now.Add(time.Second))
	if got := announced(); got != "" || part.Held() {
		t.Fatalf("resume: announced %q, held %v", got, part.Held())
	}
	call.held.Store(true)
	m.holdChanged(mem, part, now.Add(2*time.Second))
	if got := announced(); got != "" || !part.Held() {
		t.Fatalf("hold again within the gap: announced %q, held %v", got, part.Held())
	}
	call.held.Store(false)
	m.holdChanged(mem, part, now.Add(3*time.Second))
	call.held.Store(true)
	m.holdChanged(mem, part, now.Add(holdNoticeGap+time.Second))
	if got := announced(); got != prompts.ParticipantOnHold {
		t.Fatalf("hold after the gap: announced %q", got)
	}
}
