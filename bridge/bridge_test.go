package bridge

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/lobby"
	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/media/prompts"
	"github.com/dialin/dialin/store"
)

// fakeCall is an in-memory Call: prompts finish at once, keys come from a
// channel, and what it played and was fed is recorded.
type fakeCall struct {
	caller string
	log    zerolog.Logger
	digits chan byte

	mu     sync.Mutex
	played []string
	fed    bool
	frames int
	loud   int // frames of the feed that were not silence (a tone)
	input  *media.JitterBuffer

	held   atomic.Bool   // see hold_test.go
	holdCh chan struct{} // signalled by setHeld
}

func newFakeCall(caller string) *fakeCall {
	return &fakeCall{caller: caller, log: zerolog.Nop(), digits: make(chan byte, 16), holdCh: make(chan struct{}, 1)}
}

func (c *fakeCall) ID() string           { return "fake-" + c.caller }
func (c *fakeCall) Log() *zerolog.Logger { return &c.log }
func (c *fakeCall) Caller() string       { return c.caller }
func (c *fakeCall) SourceIP() string     { return "192.0.2.1" }
func (c *fakeCall) Digits() <-chan byte  { return c.digits }
func (c *fakeCall) StopPlay()            {}
func (c *fakeCall) Codec() media.Codec   { return media.PCMU }
func (c *fakeCall) PlayUntilKey(p ...*media.Prompt) <-chan struct{} {
	return c.Play(p...)
}

func (c *fakeCall) Play(list ...*media.Prompt) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range list {
		c.played = append(c.played, p.Name)
	}
	done := make(chan struct{})
	close(done)
	return done
}

func (c *fakeCall) SetWaiting(bool) {}

func (c *fakeCall) SetFeed(on bool) {
	c.mu.Lock()
	c.fed = on
	c.mu.Unlock()
}

func (c *fakeCall) WriteFrame(p []byte) error {
	c.mu.Lock()
	c.frames++
	for _, x := range p {
		if x != media.PCMU.SilenceByte() {
			c.loud++
			break
		}
	}
	c.mu.Unlock()
	return nil
}

// loudFrames is how many frames of the feed carried sound.
func (c *fakeCall) loudFrames() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loud
}

func (c *fakeCall) framesFed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames
}

func (c *fakeCall) SetAudioInput(in *media.JitterBuffer) {
	c.mu.Lock()
	c.input = in
	c.mu.Unlock()
}

// heard reports whether the call played the prompt.
func (c *fakeCall) heard(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Contains(c.played, name)
}

func (c *fakeCall) press(keys string) {
	for i := 0; i < len(keys); i++ {
		c.digits <- keys[i]
	}
}

// testBridge is a bridge on a clock of its own with the real prompts.
type testBridge struct {
	*Bridge
	t *testing.T
}

func newTestBridge(t *testing.T, edit func(*config.Config)) *testBridge {
	t.Helper()
	list, err := prompts.Load("")
	if err != nil {
		t.Fatal(err)
	}
	list.DropPCM(MixedPrompts()...) // as the binary does
	cfg := config.Default()
	if edit != nil {
		edit(&cfg)
	}
	clock := media.NewClock(1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { clock.Run(ctx); close(done) }()
	room := lobby.New(lobby.Options{Prompts: list, Clock: clock, NoticeInterval: cfg.Lobby.NoticeInterval, Timeout: cfg.Lobby.Timeout})
	b := New(Options{Prompts: list, Clock: clock, Lobby: room, Meeting: cfg.Meeting})
	t.Cleanup(func() {
		room.Close()
		cancel()
		<-done
	})
	return &testBridge{Bridge: b, t: t}
}

// conference is what the directory says of a conference ID.
func conference(admission string) store.Conference {
	return store.Conference{OrganizerID: 1, Static: true, RequireOrganizer: true, LobbyAdmission: admission}
}

// join runs Join on its own goroutine; cancel hangs up, done closes when
// Join has returned.
type joined struct {
	call   *fakeCall
	cancel context.CancelFunc
	done   chan struct{}
	left   Left // what Join returned, once done is closed
}

func (tb *testBridge) join(id string, call *fakeCall, conf store.Conference, organizer bool) *joined {
	ctx, cancel := context.WithCancel(context.Background())
	j := &joined{call: call, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(j.done)
		j.left = tb.Join(ctx, call, Joining{ConferenceID: id, Conference: conf, Organizer: organizer})
	}()
	tb.t.Cleanup(func() { cancel(); <-j.done })
	return j
}

func (j *joined) hangup(t *testing.T) {
	t.Helper()
	j.cancel()
	select {
	case <-j.done:
	case <-time.After(5 * time.Second):
		t.Fatal("Join did not return after hang-up")
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (tb *testBridge) counts(id string) (participants, lobby int) {
	s, _ := tb.Status(id)
	return len(s.Participants), len(s.Lobby)
}

// attendee is the first attendee in the meeting.
func (tb *testBridge) attendee(id string) ParticipantStatus {
	s, _ := tb.Status(id)
	for _, p := range s.Participants {
		if !p.Organizer {
			return p
		}
	}
	return ParticipantStatus{}
}

func (tb *testBridge) waitCounts(id string, participants, lobby int) {
	tb.t.Helper()
	waitFor(tb.t, "participants and lobby", func() bool {
		p, l := tb.counts(id)
		return p == participants && l == lobby
	})
}

const confID = "1234566"

func TestOrganizerAdmissionKeepsLobbyUntilStarOneTwo(t *testing.T) {
	tb := newTestBridge(t, nil)
	conf := conference(store.AdmitByOrganizer)
	att := tb.join(confID, newFakeCall("+100"), conf, false)
	tb.waitCounts(confID, 0, 1)
	if tb.Started(confID) {
		t.Fatal("started before the organizer came")
	}
	waitFor(t, "the lobby notice", func() bool { return att.call.heard(prompts.LobbyNotice) })

	org := tb.join(confID, newFakeCall("+200"), conf, true)
	tb.waitCounts(confID, 1, 1)
	if !tb.Started(confID) {
		t.Fatal("the organizer did not start the meeting")
	}
	// An attendee's *21 admits nobody.
	other := tb.join(confID, newFakeCall("+300"), store.Conference{RequireOrganizer: true, BypassLobby: true, LobbyAdmission: store.AdmitByOrganizer}, false)
	tb.waitCounts(confID, 2, 1) // bypass: straight in
	if c := tb.Counts(); c.Meetings != 1 || c.Participants != 2 || c.Lobby != 1 {
		t.Fatalf("counts %+v, want 1 meeting, 2 in, 1 waiting", c)
	}
	other.call.press("*21")
	waitFor(t, "organizer only", func() bool { return other.call.heard(prompts.OrganizerOnly) })
	if p, l := tb.counts(confID); p != 2 || l != 1 {
		t.Fatalf("after an attendee's *21: %d in, %d waiting; want 2, 1", p, l)
	}
	org.call.press("*21")
	tb.waitCounts(confID, 3, 0)
	waitFor(t, "lobby admitted", func() bool { return org.call.heard(prompts.LobbyAdmitted) })
	org.call.press("*21")
	waitFor(t, "lobby empty", func() bool { return org.call.heard(prompts.LobbyEmpty) })

	for _, j := range []*joined{att, org, other} {
		j.hangup(t)
	}
	if n := tb.Meetings(); n != 0 {
		t.Fatalf("%d meetings held after everyone left, want 0", n)
	}
}

func TestAutoAdmissionAdmitsAtStart(t *testing.T) {
	tb := newTestBridge(t, nil)
	conf := conference(store.AdmitAuto)
	a := tb.join(confID, newFakeCall("+1"), conf, false)
	b := tb.join(confID, newFakeCall("+2"), conf, false)
	tb.waitCounts(confID, 0, 2)
	tb.join(confID, newFakeCall("+3"), conf, true)
	tb.waitCounts(confID, 3, 0)
	// Later callers go straight in.
	tb.join(confID, newFakeCall("+4"), conf, false)
	tb.waitCounts(confID, 4, 0)
	a.hangup(t)
	b.hangup(t)
	tb.waitCounts(confID, 2, 0)
}

func TestAnonymousStart(t *testing.T) {
	tb := newTestBridge(t, nil)
	conf := store.Conference{RequireOrganizer: false, LobbyAdmission: store.AdmitByOrganizer}
	first := tb.join(confID, newFakeCall("+1"), conf, false)
	tb.waitCounts(confID, 1, 0)
	if !tb.Started(confID) {
		t.Fatal("the first caller did not start a meeting that needs no organizer")
	}
	waitFor(t, "only participant", func() bool { return first.call.heard(prompts.OnlyParticipant) })
}

func TestLastOneOutEndsMeetingButLobbyWaits(t *testing.T) {
	tb := newTestBridge(t, nil)
	conf := conference(store.AdmitByOrganizer)
	org := tb.join(confID, newFakeCall("+1"), conf, true)
	tb.waitCounts(confID, 1, 0)
	lob := tb.join(confID, newFakeCall("+2"), conf, false)
	tb.waitCounts(confID, 1, 1)
	waitFor(t, "the started notice", func() bool { return lob.call.heard(prompts.LobbyNoticeStarted) })
	org.hangup(t)
	waitFor(t, "the meeting to end", func() bool { return !tb.Started(confID) })
	if _, l := tb.counts(confID); l != 1 {
		t.Fatalf("lobby has %d callers after the meeting ended, want 1", l)
	}
	lob.hangup(t)
	waitFor(t, "the meeting to be forgotten", func() bool { return tb.Meetings() == 0 })
}

func TestEndWhenOrganizerLeaves(t *testing.T) {
	tb := newTestBridge(t, func(c *config.Config) { c.Meeting.EndWhenOrganizerLeaves = true })
	conf := conference(store.AdmitAuto)
	org := tb.join(confID, newFakeCall("+1"), conf, true)
	att := tb.join(confID, newFakeCall("+2"), conf, false)
	tb.waitCounts(confID, 2, 0)
	org.hangup(t)
	select {
	case <-att.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the attendee's call did not end with the organizer's")
	}
	if !att.call.heard(prompts.MeetingEnded) {
		t.Fatal("the attendee was not told the meeting ended")
	}
	// For the calls' records: how each left, in which meeting.
	if org.left.Reason != "" || !org.left.Admitted || att.left.Reason != "meeting ended" || !att.left.Admitted ||
		att.left.MeetingStart.IsZero() || !att.left.MeetingStart.Equal(org.left.MeetingStart) {
		t.Errorf("left: organizer %+v, attendee %+v", org.left, att.left)
	}
}

func TestFullAndLocked(t *testing.T) {
	tb := newTestBridge(t, func(c *config.Config) { c.Meeting.MaxParticipants = 2 })
	conf := conference(store.AdmitAuto)
	org := tb.join(confID, newFakeCall("+1"), conf, true)
	tb.waitCounts(confID, 1, 0)
	org.call.press("*7")
	waitFor(t, "locked", func() bool { return org.call.heard(prompts.MeetingLocked) })
	late := tb.join(confID, newFakeCall("+2"), conf, false)
	<-late.done
	if !late.call.heard(prompts.MeetingIsLocked) {
		t.Fatal("a caller to a locked meeting was not told")
	}
	if late.left.Reason != "meeting locked" || late.left.Admitted {
		t.Errorf("locked out: %+v", late.left)
	}
	org.call.press("*7")
	waitFor(t, "unlocked", func() bool { return org.call.heard(prompts.MeetingUnlocked) })
	tb.join(confID, newFakeCall("+3"), conf, false)
	tb.waitCounts(confID, 2, 0)
	full := tb.join(confID, newFakeCall("+4"), conf, false)
	<-full.done
	if !full.call.heard(prompts.MeetingFull) {
		t.Fatal("the caller over the limit was not told the meeting is full")
	}
	if c := tb.Counts(); c.RefusedFull != 1 || c.RefusedLocked != 1 {
		t.Fatalf("refusals %+v, want one full and one locked", c)
	}
	if full.left.Reason != "meeting full" {
		t.Errorf("over the limit: %+v", full.left)
	}
}

func TestInMeetingKeys(t *testing.T) {
	tb := newTestBridge(t, nil)
	conf := conference(store.AdmitAuto)
	org := tb.join(confID, newFakeCall("+1"), conf, true)
	att := tb.join(confID, newFakeCall("+2"), conf, false)
	tb.waitCounts(confID, 2, 0)

	att.call.press("*6")
	waitFor(t, "muted", func() bool { return tb.attendee(confID).Muted })
	att.call.press("*5")
	waitFor(t, "hand raised", func() bool { return tb.attendee(confID).HandRaised })
	att.call.press("*3")
	waitFor(t, "head count", func() bool { return att.call.heard("number_2") })
	att.call.press("*1")
	waitFor(t, "help", func() bool { return att.call.heard(prompts.HelpMute) })
	if att.call.heard(prompts.HelpLock) {
		t.Error("an attendee's help reads the organizer's keys")
	}
	att.call.press("*9")
	waitFor(t, "invalid key", func() bool { return att.call.heard(prompts.InvalidKey) })

	org.call.press("*22")
	waitFor(t, "attendees unmuted by *22 toggling mute-all on", func() bool { return org.call.heard(prompts.AttendeesMuted) })
	org.call.press("*22")
	waitFor(t, "attendees unmuted", func() bool { return !tb.attendee(confID).Muted })
	org.call.press("*23")
	waitFor(t, "announcements off", func() bool { return org.call.heard(prompts.AnnouncementsOff) })
	org.call.press("*1")
	waitFor(t, "organizer help", func() bool { return org.call.heard(prompts.HelpAnnounce) })
	if s, _ := tb.Status(confID); s.Participants[0].Muted || s.Participants[1].Muted {
		t.Error("mute-all muted the organizer")
	}
}

// TestMuteAllHoldsForLateJoiners: with the organizer's mute-all on, an
// attendee who joins afterwards starts muted and is told why; once it is
// off, the next one joins unmuted. The attendee may still unmute (*6).
func TestMuteAllHoldsForLateJoiners(t *testing.T) {
	tb := newTestBridge(t, nil)
	conf := conference(store.AdmitAuto)
	org := tb.join(confID, newFakeCall("+1"), conf, true)
	tb.waitCounts(confID, 1, 0)
	org.call.press("*22")
	waitFor(t, "mute-all on", func() bool { return org.call.heard(prompts.AttendeesMuted) })

	late := tb.join(confID, newFakeCall("+2"), conf, false)
	tb.waitCounts(confID, 2, 0)
	waitFor(t, "the late joiner told it is muted", func() bool { return late.call.heard(prompts.MutedByOrganizer) })
	if !tb.attendee(confID).Muted {
		t.Fatal("an attendee joining after *22 is not muted")
	}
	late.call.press("*6")
	waitFor(t, "the late joiner unmutes itself", func() bool { return !tb.attendee(confID).Muted })

	org.call.press("*22")
	waitFor(t, "mute-all off", func() bool { return org.call.heard(prompts.AttendeesUnmuted) })
	later := tb.join(confID, newFakeCall("+3"), conf, false)
	tb.waitCounts(confID, 3, 0)
	waitFor(t, "the third joiner greeted", func() bool { return later.call.heard(prompts.Joining) })
	if later.call.heard(prompts.MutedByOrganizer) {
		t.Error("a joiner after mute-all was turned off was told it is muted")
	}
	s, _ := tb.Status(confID)
	for _, p := range s.Participants {
		if p.Muted {
			t.Errorf("participant %s muted after mute-all off", p.ID)
		}
	}
}

func TestAPIControls(t *testing.T) {
	tb := newTestBridge(t, nil)
	conf := conference(store.AdmitByOrganizer)
	if _, err := tb.Admit(confID, ""); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("admit to a meeting not on: %v, want ErrNotStarted", err)
	}
	l1 := tb.join(confID, newFakeCall("+1"), conf, false)
	l2 := tb.join(confID, newFakeCall("+2"), conf, false)
	tb.waitCounts(confID, 0, 2)
	if _, err := tb.Admit(confID, ""); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("admit before the start: %v, want ErrNotStarted", err)
	}
	tb.Start(confID, conf)
	if !tb.Started(confID) {
		t.Fatal("Start did not start the meeting")
	}
	s, _ := tb.Status(confID)
	if n, err := tb.Admit(confID, s.Lobby[0].ID); n != 1 || err != nil {
		t.Fatalf("admit one: %d, %v", n, err)
	}
	tb.waitCounts(confID, 1, 1)
	if _, err := tb.Admit(confID, "nobody"); !errors.Is(err, ErrNoSuchCaller) {
		t.Fatalf("admit unknown: %v", err)
	}
	s, _ = tb.Status(confID)
	pid := s.Participants[0].ID
	if err := tb.SetMuted(confID, pid, true); err != nil {
		t.Fatal(err)
	}
	if s, _ := tb.Status(confID); !s.Participants[0].Muted {
		t.Fatal("SetMuted did not mute")
	}
	if err := tb.SetMuted(confID, s.Lobby[0].ID, true); !errors.Is(err, ErrNoSuchCaller) {
		t.Fatalf("muting a lobby caller: %v, want ErrNoSuchCaller", err)
	}
	if err := tb.Remove(confID, s.Lobby[0].ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the removed caller's call to end", func() bool {
		select {
		case <-l1.done:
		case <-l2.done:
		default:
			return false
		}
		return true
	})
	if err := tb.End(confID); err != nil {
		t.Fatal(err)
	}
	for _, j := range []*joined{l1, l2} {
		select {
		case <-j.done:
		case <-time.After(5 * time.Second):
			t.Fatal("End did not end every call")
		}
	}
	if err := tb.End(confID); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("second End: %v, want ErrNotStarted", err)
	}
	waitFor(t, "the meeting to be forgotten", func() bool { return tb.Meetings() == 0 })
}

func TestKeyReader(t *testing.T) {
	r := keyReader{keys: newKeyMap(config.Default().Meeting.Keys), timeout: time.Hour}
	defer r.stop()
	type step struct {
		key  byte
		want action
		done bool
	}
	for _, tt := range []struct {
		name  string
		steps []step
	}{
		{"mute", []step{{'*', 0, false}, {'6', actionMute, true}}},
		{"admit", []step{{'*', 0, false}, {'2', 0, false}, {'1', actionAdmit, true}}},
		{"stray digits", []step{{'5', 0, false}, {'#', 0, false}, {'*', 0, false}, {'5', actionHand, true}}},
		{"star restarts", []step{{'*', 0, false}, {'2', 0, false}, {'*', 0, false}, {'3', actionCount, true}}},
		{"unknown", []step{{'*', 0, false}, {'9', actionInvalid, true}}},
		{"unknown second digit", []step{{'*', 0, false}, {'2', 0, false}, {'9', actionInvalid, true}}},
	} {
		for i, s := range tt.steps {
			a, done := r.press(s.key)
			if a != s.want || done != s.done {
				t.Errorf("%s step %d (%c): got %v %v, want %v %v", tt.name, i, s.key, a, done, s.want, s.done)
			}
		}
	}
	// A pause after "*2" names nothing: invalid; after a lone "*": nothing.
	r.press('*')
	r.press('2')
	if a, done := r.expire(); a != actionInvalid || !done {
		t.Errorf("*2 then a pause: %v %v", a, done)
	}
	r.press('*')
	if _, done := r.expire(); done {
		t.Error("a lone star then a pause did something")
	}
}

func TestMixerAnnouncementReachesEveryone(t *testing.T) {
	list, err := prompts.Load("")
	if err != nil {
		t.Fatal(err)
	}
	m := NewMixer()
	a, b := &countingSink{}, &countingSink{}
	m.Add("a", media.PCMU, silentSource{}, a)
	m.Add("b", media.PCMA, silentSource{}, b)
	m.Announce(list.MustGet(prompts.JoinTone))
	m.Tick()
	m.Tick()
	if !a.loud || !b.loud {
		t.Fatalf("the announcement did not reach both participants: %v %v", a.loud, b.loud)
	}
}

type silentSource struct{}

func (silentSource) Pop([]int16) FrameKind { return FrameSilence }

type countingSink struct{ loud bool }

func (s *countingSink) WriteFrame(p []byte) error {
	for _, x := range p {
		if x != media.PCMU.SilenceByte() && x != media.PCMA.SilenceByte() {
			s.loud = true
		}
	}
	return nil
}

// lawSink is a CodecSink whose codec a test switches, like a re-INVITE.
type lawSink struct {
	codec media.Codec
	last  []byte
}

func (s *lawSink) Codec() media.Codec { return s.codec }
func (s *lawSink) WriteFrame(p []byte) error {
	s.last = append(s.last[:0], p...)
	return nil
}

func TestMixerFollowsSinkCodec(t *testing.T) {
	m := NewMixer()
	s := &lawSink{codec: media.PCMU}
	m.Add("a", media.PCMU, silentSource{}, s)
	m.Tick()
	if s.last[0] != media.PCMU.SilenceByte() {
		t.Fatalf("PCMU call got %#x", s.last[0])
	}
	s.codec = media.PCMA
	m.Tick()
	if s.last[0] != media.PCMA.SilenceByte() {
		t.Fatalf("after switching to PCMA the call got %#x, want A-law silence", s.last[0])
	}
}

// The lobby music is on the clock only while someone waits: an idle bridge
// never wakes.
func TestLobbyMusicTicksOnlyWhileSomeoneWaits(t *testing.T) {
	tb := newTestBridge(t, nil)
	clock := tb.opts.Clock
	if n := clock.Len(); n != 0 {
		t.Fatalf("idle bridge: %d tickers on the clock, want 0", n)
	}
	conf := conference(store.AdmitByOrganizer)
	first := tb.join(confID, newFakeCall("+100"), conf, false)
	second := tb.join(confID, newFakeCall("+101"), conf, false)
	tb.waitCounts(confID, 0, 2)
	waitFor(t, "the music on the clock", func() bool { return clock.Len() == 1 })
	waitFor(t, "music heard", func() bool { return first.call.framesFed() > 0 })
	first.hangup(t)
	if n := clock.Len(); n != 1 {
		t.Fatalf("one caller still waiting: %d tickers, want the music", n)
	}
	second.hangup(t)
	if n := clock.Len(); n != 0 {
		t.Fatalf("lobby empty: %d tickers on the clock, want 0", n)
	}
}

// TestEntryExitAnnouncementsSetting: the directory's
// entry_exit_announcements sets the tones when a meeting starts; a change
// of the setting during the meeting does not reach it, *23 does.
func TestEntryExitAnnouncementsSetting(t *testing.T) {
	tb := newTestBridge(t, nil)
	quiet := conference(store.AdmitAuto)
	quiet.EntryExitAnnouncements = store.AnnounceOff
	tones := conference(store.AdmitAuto)
	tones.EntryExitAnnouncements = store.AnnounceTones

	// Started with off: nobody hears a join tone. The callers' sources are
	// silent, so a tone is the only sound the mix can carry.
	org := tb.join(confID, newFakeCall("+1"), quiet, true)
	tb.waitCounts(confID, 1, 0)
	att := tb.join(confID, newFakeCall("+2"), quiet, false)
	tb.waitCounts(confID, 2, 0)
	waitFor(t, "the attendee greeted", func() bool { return att.call.heard(prompts.Joining) })
	// The directory says tones now; the meeting started without them.
	late := tb.join(confID, newFakeCall("+3"), tones, false)
	tb.waitCounts(confID, 3, 0)
	waitFor(t, "the late attendee greeted", func() bool { return late.call.heard(prompts.Joining) })
	late.hangup(t)
	tb.waitCounts(confID, 2, 0)
	// A tone would start on the next tick; 25 ticks (half a second) of
	// silence on the organizer's call is more than enough to tell.
	from := org.call.framesFed()
	waitFor(t, "25 frames to the organizer", func() bool { return org.call.framesFed() >= from+25 })
	if n := org.call.loudFrames(); n != 0 {
		t.Fatalf("a meeting started with announcements off played %d frames of tone", n)
	}

	// *23 still turns them on for this meeting.
	org.call.press("*23")
	waitFor(t, "announcements on", func() bool { return org.call.heard(prompts.AnnouncementsOn) })
	tb.join(confID, newFakeCall("+4"), quiet, false)
	waitFor(t, "the join tone after *23", func() bool { return org.call.loudFrames() > 0 })

	// A meeting started with tones plays them.
	const other = "2345671"
	org2 := tb.join(other, newFakeCall("+5"), tones, true)
	tb.waitCounts(other, 1, 0)
	tb.join(other, newFakeCall("+6"), tones, false)
	waitFor(t, "the join tone", func() bool { return org2.call.loudFrames() > 0 })
}

// TestSetLockedAndLiveIDs: an administrator's lock refuses new callers as
// the organizer's key does (the organizer still gets in), the meeting's
// end unlocks it, and LiveIDs lists what the bridge holds.
func TestSetLockedAndLiveIDs(t *testing.T) {
	tb := newTestBridge(t, nil)
	conf := conference(store.AdmitAuto)
	if err := tb.SetLocked(confID, true); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("locking a meeting not on: %v, want ErrNotStarted", err)
	}
	if ids := tb.LiveIDs(); len(ids) != 0 {
		t.Fatalf("LiveIDs of an idle bridge: %v", ids)
	}
	const other = "7654321"
	tb.join(other, newFakeCall("+9"), conference(store.AdmitByOrganizer), false) // waits in its lobby
	tb.join(confID, newFakeCall("+1"), conf, true)
	tb.waitCounts(confID, 1, 0)
	tb.waitCounts(other, 0, 1)
	if ids := tb.LiveIDs(); len(ids) != 2 || ids[0] != confID || ids[1] != other {
		t.Fatalf("LiveIDs %v, want [%s %s]", ids, confID, other)
	}
	if err := tb.SetLocked(confID, true); err != nil {
		t.Fatal(err)
	}
	if s, _ := tb.Status(confID); !s.Locked {
		t.Fatal("SetLocked did not lock")
	}
	late := tb.join(confID, newFakeCall("+2"), conf, false)
	<-late.done
	if late.left.Reason != "meeting locked" || !late.call.heard(prompts.MeetingIsLocked) {
		t.Fatalf("a caller to a locked meeting: %+v", late.left)
	}
	tb.join(confID, newFakeCall("+3"), conf, true) // the organizer again, from another phone
	tb.waitCounts(confID, 2, 0)
	if err := tb.SetLocked(confID, false); err != nil {
		t.Fatal(err)
	}
	tb.join(confID, newFakeCall("+4"), conf, false)
	tb.waitCounts(confID, 3, 0)
	if err := tb.SetLocked(confID, true); err != nil {
		t.Fatal(err)
	}
	if err := tb.End(confID); err != nil {
		t.Fatal(err)
	}
	tb.waitCounts(confID, 0, 0)
	tb.join(confID, newFakeCall("+5"), conf, true)
	tb.waitCounts(confID, 1, 0)
	if s, _ := tb.Status(confID); s.Locked {
		t.Fatal("the meeting's end did not unlock it")
	}
}
