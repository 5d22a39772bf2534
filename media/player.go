package media

import "sync"

// silence holds one frame of encoded silence for each law.
var silence = func() (s [2][FrameBytes]byte) {
	for i := range FrameBytes {
		s[0][i] = PCMU.SilenceByte()
		s[1][i] = PCMA.SilenceByte()
	}
	return s
}()

// SilenceFrame is one 20 ms frame of silence in codec c. Callers must not
// modify it.
func SilenceFrame(c Codec) []byte {
	if c == PCMA {
		return silence[1][:]
	}
	return silence[0][:]
}

// Player feeds a session from the media clock: the frames of the prompts
// it was asked to play, then silence. Sending silence rather than nothing
// keeps NAT bindings open and the far end's jitter buffer steady.
//
// In the lobby and in a meeting the audio between prompts comes from a
// feed instead (the music or the mixer, on their own clock ticks): with
// SetFeed(true) the player sends nothing of its own between prompts and
// passes on what the feed gives WriteFrame. A prompt played meanwhile
// (a notice, the answer to a key) takes the place of the feed until it
// ends. The player stays the session's only writer: both paths send under
// its mutex, so the session's sequence numbers never interleave.
type Player struct {
	session *Session

	mu    sync.Mutex
	fed   bool // the feed, not silence, fills the time between prompts
	queue []*Prompt
	frame int           // next frame of queue[0]
	done  chan struct{} // closed when the queue runs out or is stopped
}

// NewPlayer returns a player for s; add it to a Clock to start sending.
func NewPlayer(s *Session) *Player { return &Player{session: s} }

// Play replaces whatever is playing with prompts, in order. The returned
// channel is closed when the last one has been sent or Stop is called.
func (p *Player) Play(prompts ...*Prompt) <-chan struct{} {
	done := make(chan struct{})
	p.mu.Lock()
	p.finishLocked()
	p.queue = append(p.queue[:0], prompts...)
	p.frame = 0
	p.done = done
	if len(p.queue) == 0 {
		p.finishLocked()
	}
	p.mu.Unlock()
	return done
}

// Stop ends the current playback (barge-in) and goes back to silence.
func (p *Player) Stop() {
	p.mu.Lock()
	p.finishLocked()
	p.mu.Unlock()
}

func (p *Player) finishLocked() {
	clear(p.queue)
	p.queue = p.queue[:0]
	if p.done != nil {
		close(p.done)
		p.done = nil
	}
}

// SetFeed switches the time between prompts to the feed (on) or back to
// silence (off).
func (p *Player) SetFeed(on bool) {
	p.mu.Lock()
	p.fed = on
	p.mu.Unlock()
}

// WriteFrame sends one frame from the feed, already encoded in the
// session's codec, unless a prompt is playing or the feed is off (then the
// frame is dropped). It runs on the feed's clock goroutine.
func (p *Player) WriteFrame(payload []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.fed || len(p.queue) > 0 {
		return nil
	}
	return p.session.writeFrame(payload)
}

// Tick sends the next frame of the playing prompt, or silence when there is
// none and no feed. It runs on the media clock goroutine.
func (p *Player) Tick() {
	codec := p.session.Codec()
	frame := SilenceFrame(codec)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 && p.fed {
		return
	}
	for len(p.queue) > 0 {
		data := p.queue[0].Frames(codec)
		if off := p.frame * FrameBytes; off < len(data) {
			frame = data[off : off+FrameBytes]
			p.frame++
			break
		}
		// This prompt is over: move on to the next one.
		copy(p.queue, p.queue[1:])
		p.queue[len(p.queue)-1] = nil
		p.queue = p.queue[:len(p.queue)-1]
		p.frame = 0
		if len(p.queue) == 0 {
			p.finishLocked()
		}
	}
	_ = p.session.writeFrame(frame) // a send error is a dead peer: the inactivity timer handles it
}
