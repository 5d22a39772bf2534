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
type Player struct {
	session *Session

	mu    sync.Mutex
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

// Tick sends the next frame. It runs on the media clock goroutine.
func (p *Player) Tick() {
	codec := p.session.Codec()
	frame := SilenceFrame(codec)
	p.mu.Lock()
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
	p.mu.Unlock()
	_ = p.session.WriteFrame(frame) // a send error is a dead peer: the inactivity timer handles it
}
