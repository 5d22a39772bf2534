package lobby

import (
	"sync"

	"github.com/dialin/dialin/internal/cowlist"
	"github.com/dialin/dialin/media"
)

// Sink is a listener's output: in production its call's media session.
// The music hands every listener of a codec the same payload, a slice of
// the prompt's shared pre-encoded data, so a sink must neither modify nor
// keep it after returning. Codec is read on every tick, so a re-INVITE
// that switches the call between PCMU and PCMA is followed at once.
type Sink interface {
	WriteFrame(payload []byte) error
	Codec() media.Codec
}

// Listener is one caller hearing the lobby's music.
type Listener struct {
	sink Sink
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
	// position. Read and written only by Tick, under ticking.
	next int64
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

// Add starts sending the music to sink, in the sink's codec, from the
// next tick on. The listener joins at the shared position, not at the
// start of the prompt.
func (m *Music) Add(sink Sink) *Listener {
	l := &Listener{sink: sink}
	m.listeners.Add(l)
	return l
}

// Remove stops the music for l. When it returns, the music has stopped
// calling l's sink: it waits for a tick in progress. So it must not be
// called from a sink's WriteFrame, which runs inside Tick. Removing a
// listener that is not in m does nothing.
func (m *Music) Remove(l *Listener) {
	m.listeners.Remove(l)
	waitForTick(&m.ticking)
}

// waitForTick returns once a tick holding ticking has ended: a barrier,
// not a critical section.
func waitForTick(ticking *sync.Mutex) {
	ticking.Lock()
	defer ticking.Unlock()
}

// Len is the number of listeners.
func (m *Music) Len() int { return m.listeners.Len() }

// Tick sends the frame at the shared position to every listener and
// advances one frame, wrapping to the start of the prompt after
// the last frame. The stream advances even with nobody listening, so that
// it plays like a radio and not from where the last caller left.
func (m *Music) Tick() {
	m.ticking.Lock()
	defer m.ticking.Unlock()
	i := m.next
	off := i * media.FrameBytes
	// The capacity is cut at the frame's end so that a sink appending to
	// its payload cannot overwrite the next frame of the shared prompt.
	ulaw := m.frames[0][off : off+media.FrameBytes : off+media.FrameBytes]
	alaw := m.frames[1][off : off+media.FrameBytes : off+media.FrameBytes]
	for _, l := range m.listeners.Load() {
		frame := ulaw
		if l.sink.Codec() == media.PCMA {
			frame = alaw
		}
		// A failed send is the session's business (it counts its packets
		// and times out dead calls); the music goes on for everyone else.
		_ = l.sink.WriteFrame(frame)
	}
	m.next = (i + 1) % m.count
}
