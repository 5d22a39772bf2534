// Package lobby is the waiting room: music-on-hold, notices, admission.
package lobby

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialin/dialin/internal/cowlist"
	"github.com/dialin/dialin/media"
)

// Sink is a listener's output: in production its media.Session. The music
// hands every listener of a codec the same payload, a slice of the prompt's
// shared pre-encoded data, so a sink must neither modify nor keep it after
// returning.
type Sink interface {
	WriteFrame(payload []byte) error
}

// Listener is one caller hearing the lobby's music. Its methods are safe
// to call from any goroutine.
type Listener struct {
	sink   Sink
	follow codecSink     // sink, if it knows its codec
	codec  atomic.Uint32 // media.Codec, when it does not
	held   atomic.Bool
}

// Hold stops (on) or restarts (off) the music for this listener, for
// while the call plays a prompt of its own, such as a lobby notice. The
// stream does not wait for a held listener: after Hold(false) it hears the
// music at the shared position, like everyone else, from the next tick.
func (l *Listener) Hold(on bool) { l.held.Store(on) }

// Held reports whether the listener is on hold.
func (l *Listener) Held() bool { return l.held.Load() }

// SetCodec changes the law the listener hears (unless its sink knows its
// own codec, which is then followed), for a re-INVITE that
// switches between PCMU and PCMA. It takes effect on the next tick.
func (l *Listener) SetCodec(c media.Codec) { l.codec.Store(uint32(c)) }

// Codec is the law the listener hears.
func (l *Listener) Codec() media.Codec {
	if l.follow != nil {
		return l.follow.Codec()
	}
	return media.Codec(l.codec.Load())
}

// codecSink is a Sink that knows its own codec, as a call does (a
// re-INVITE may switch it); the music follows it.
type codecSink interface {
	Sink
	Codec() media.Codec
}

// Music is the lobby's music-on-hold: one stream, looping a prompt
// forever, that every listener hears at the same position. The prompt is
// encoded in both laws once at start-up, so a tick encodes nothing: each
// listener gets a slice of the encoded prompt for its law. Tick makes
// Music a media.Ticker.
//
// Add and Remove may be called from any goroutine, also while Tick runs.
type Music struct {
	frames [2][]byte // the prompt in µ-law and A-law; read-only
	count  int64     // frames in the prompt

	listeners cowlist.List[*Listener] // Tick reads it without locking

	// ticking is held for the whole of Tick. Remove waits for it, so that
	// once Remove returns the music never writes to that listener's sink
	// again and the caller may close or reuse it.
	ticking sync.Mutex

	// next is the index of the frame the next tick sends: the shared
	// position. Written only by Tick (under ticking); atomic for Position.
	next atomic.Int64
}

var _ media.Ticker = (*Music)(nil)

// NewMusic returns a stream that loops p from its start. It panics if p
// has no frames: the prompt loader refuses empty recordings, so that is a
// programming error.
func NewMusic(p *media.Prompt) *Music {
	if p == nil || p.FrameCount() == 0 {
		panic("lobby: music needs a prompt with at least one frame")
	}
	m := &Music{
		frames: [2][]byte{p.Frames(media.PCMU), p.Frames(media.PCMA)},
		count:  int64(p.FrameCount()),
	}
	return m
}

// Add starts sending the music to sink, encoded in codec, from the next
// tick on. The listener joins at the shared position, not at the start of
// the prompt.
func (m *Music) Add(codec media.Codec, sink Sink) *Listener {
	l := &Listener{sink: sink}
	l.follow, _ = sink.(codecSink)
	l.codec.Store(uint32(codec))
	m.listeners.Add(l)
	return l
}

// Remove stops the music for l. When it returns, the music has stopped
// calling l's sink: it waits for a tick in progress. So it must not be
// called from a sink's WriteFrame, which runs inside Tick. Removing a
// listener that is not in m does nothing.
func (m *Music) Remove(l *Listener) {
	m.listeners.Remove(l)
	m.ticking.Lock()
	m.ticking.Unlock()
}

// Len is the number of listeners, held ones included.
func (m *Music) Len() int { return m.listeners.Len() }

// Position is how far into the prompt the next tick's frame starts.
func (m *Music) Position() time.Duration {
	return time.Duration(m.next.Load()) * media.FrameDuration
}

// Tick sends the frame at the shared position to every listener not on
// hold and advances one frame, wrapping to the start of the prompt after
// the last frame. The stream advances even with nobody listening, so that
// it plays like a radio and not from where the last caller left.
func (m *Music) Tick() {
	m.ticking.Lock()
	defer m.ticking.Unlock()
	i := m.next.Load()
	off := i * media.FrameBytes
	// The capacity is cut at the frame's end so that a sink appending to
	// its payload cannot overwrite the next frame of the shared prompt.
	ulaw := m.frames[0][off : off+media.FrameBytes : off+media.FrameBytes]
	alaw := m.frames[1][off : off+media.FrameBytes : off+media.FrameBytes]
	for _, l := range m.listeners.Load() {
		if l.held.Load() {
			continue
		}
		frame := ulaw
		if l.Codec() == media.PCMA {
			frame = alaw
		}
		// A failed send is the session's business (it counts its packets
		// and times out dead calls); the music goes on for everyone else.
		_ = l.sink.WriteFrame(frame)
	}
	m.next.Store((i + 1) % m.count)
}
