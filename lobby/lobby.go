// Package lobby is the waiting room: callers who may not join a meeting yet
// wait here, hearing one shared music-on-hold stream and a notice every
// notice interval, until the meeting admits them, ends their call, or the
// lobby's timeout hangs them up. Who waits, and who is let in when a
// meeting starts, is the Admission rule. The bridge decides when to admit
// (the organizer's *21, an administrator admitting one or everyone) and
// tells the room through the channels of Waiting.
package lobby

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/media/prompts"
)

// Caller is what the room needs of a waiting call; the bridge's call
// (sipua.Call) provides it.
type Caller interface {
	Sink
	Log() *zerolog.Logger
	// Play starts prompts, replacing anything playing; a prompt takes the
	// music's place on the call while it plays.
	Play(list ...*media.Prompt) <-chan struct{}
	StopPlay()
	// Digits are the caller's keys; they do nothing in the lobby.
	Digits() <-chan byte
	// SetWaiting says the caller only waits: nobody hears them and no key
	// is read, so their media may be read less often.
	SetWaiting(on bool)
}

// Options configure a Room.
type Options struct {
	// Prompts has the lobby's notices and goodbye.
	Prompts *prompts.Set
	// Music is what waiting callers hear; nil: the built-in music-on-hold.
	Music *media.Prompt
	// Clock paces the music.
	Clock *media.Clock
	// NoticeInterval is how often a waiting caller is told why they wait.
	NoticeInterval time.Duration
	// Timeout hangs up a caller who has waited this long.
	Timeout time.Duration
}

// Room is the lobby of every meeting of a bridge: the music is one stream
// for all its callers, on the clock only while someone waits, so an idle
// bridge never wakes for it.
type Room struct {
	opts  Options
	music *Music

	// mu serialises putting the music on the clock and taking it off.
	mu sync.Mutex
}

// New returns a room whose music starts with the first caller waiting.
func New(opts Options) *Room {
	music := opts.Music
	if music == nil {
		music = opts.Prompts.MustGet(prompts.MusicOnHold)
	}
	return &Room{opts: opts, music: NewMusic(music)}
}

// Close takes the music off the clock.
func (r *Room) Close() { r.opts.Clock.Remove(r.music) }

// Waiting is one caller's wait, as the meeting sees it.
type Waiting struct {
	ConferenceID string // for the log
	// Admitted is closed when the meeting lets the caller in.
	Admitted <-chan struct{}
	// Ended is closed when the meeting ends the call (removed, meeting
	// ended): the meeting tells the caller why.
	Ended <-chan struct{}
	// Started reports whether the meeting is on, for the notice: waiting
	// for the organizer to start it, or to be let in.
	Started func() bool
}

// Outcome is how a wait ended.
type Outcome int

const (
	HungUp   Outcome = iota // the caller hung up (ctx ended)
	Admitted                // the meeting let the caller in
	Ended                   // the meeting ended the call
	TimedOut                // the lobby's timeout; the caller was told and the call ends
)

func (o Outcome) String() string {
	switch o {
	case Admitted:
		return "admitted"
	case Ended:
		return "ended"
	case TimedOut:
		return "timed out"
	}
	return "hung up"
}

// Wait holds the caller in the room: the shared music, a notice at once
// and every notice interval, until w says the caller is admitted or ended,
// the caller hangs up, or the timeout (then the caller hears why). The
// music has stopped for the caller when Wait returns.
func (r *Room) Wait(ctx context.Context, call Caller, w Waiting) Outcome {
	l := r.listen(call)
	defer r.unlisten(l)
	call.SetWaiting(true)
	defer call.SetWaiting(false)

	notice := func() {
		if w.Started() {
			call.Play(r.prompt(prompts.LobbyNoticeStarted))
		} else {
			call.Play(r.prompt(prompts.LobbyNotice))
		}
	}
	notice()
	every := time.NewTicker(r.opts.NoticeInterval)
	defer every.Stop()
	timeout := time.NewTimer(r.opts.Timeout)
	defer timeout.Stop()
	for {
		select {
		case <-ctx.Done():
			return HungUp
		case <-w.Admitted:
			call.StopPlay()
			return Admitted
		case <-w.Ended:
			return Ended
		case <-every.C:
			notice()
		case <-timeout.C:
			call.Log().Info().Str("conference_id", w.ConferenceID).Dur("waited", r.opts.Timeout).Msg("lobby timeout: call ends")
			select {
			case <-call.Play(r.prompt(prompts.LobbyTimeout), r.prompt(prompts.Goodbye)):
			case <-ctx.Done():
				call.StopPlay()
			}
			return TimedOut
		case <-call.Digits():
			// Keys do nothing in the lobby.
		}
	}
}

func (r *Room) prompt(name string) *media.Prompt { return r.opts.Prompts.MustGet(name) }

// listen puts a call on the music.
func (r *Room) listen(call Sink) *Listener {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.music.Add(call)
	if r.music.Len() == 1 {
		r.opts.Clock.Add(r.music)
	}
	return l
}

// unlisten takes a listener off the music; again is harmless.
func (r *Room) unlisten(l *Listener) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.music.Len() == 0 {
		return
	}
	r.music.Remove(l)
	if r.music.Len() == 0 {
		r.opts.Clock.Remove(r.music)
	}
}
