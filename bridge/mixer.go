// Package bridge runs meetings and the mixer: participants, in-meeting *
// commands, join/leave.
package bridge

import (
	"sync"
	"sync/atomic"

	"github.com/dialin/dialin/internal/cowlist"
	"github.com/dialin/dialin/media"
)

// FrameKind says what a FrameSource put in its frame; it is the jitter
// buffer's (media.JitterBuffer), the production source.
type FrameKind = media.FrameKind

// The kinds of frame, as the mixer reads them.
const (
	FrameSilence   = media.FrameSilence   // nothing to play; the frame is not read
	FrameAudio     = media.FrameAudio     // a received frame
	FrameConcealed = media.FrameConcealed // a made-up frame covering a lost packet
)

// FrameSource is a participant's input: in production its jitter buffer.
// Pop fills all of out (FrameSamples samples of linear PCM) unless it
// returns FrameSilence. It is called once per tick from the mixer's clock
// goroutine, so it must not block.
type FrameSource interface {
	Pop(out []int16) FrameKind
}

// FrameSink is a participant's output: in production its call's media.Player.
// WriteFrame gets one encoded frame in the participant's codec. The mixer
// hands the same payload to many sinks and reuses it on the next tick, so
// a sink must neither modify nor keep it after returning.
type FrameSink interface {
	WriteFrame(payload []byte) error
}

// ParticipantID names a participant for logs and status, typically the
// call's SIP Call-ID. The mixer does not look at it.
type ParticipantID string

// Voice activity detection. A participant is a speaker while its frames are
// louder than vadThreshold, and for vadHangover frames after that so the
// quiet end of a word is not cut off. Speech starts counting at once (no
// attack delay) so the start of a word is not cut either. The threshold,
// an RMS of 64 (about -51 dBFS), sits well above the G.711 noise floor
// (A-law's quietest code decodes to ±8) and well below quiet speech
// (-35 to -25 dBFS), so it gates out line hiss and idle handsets, not soft
// voices. Anything below it is left out of the mix entirely, which is what
// makes silent participants cheap.
const (
	vadThreshold = 64 * 64 * media.FrameSamples // sum of squares over a frame
	vadHangover  = 10                           // frames: 200 ms
)

// Participant is one caller in a mixer. Its methods are safe to call from
// any goroutine.
type Participant struct {
	id     ParticipantID
	src    FrameSource
	sink   FrameSink
	follow CodecSink     // sink, if it knows its codec
	codec  atomic.Uint32 // media.Codec, when it does not
	muted  atomic.Bool
	talked atomic.Bool // speaker on the last tick, for Talking
	held   atomic.Bool // holds the meeting: what it sends is hold music

	// Owned by Tick (under Mixer.ticking).
	pcm      [media.FrameSamples]int16 // this tick's input
	hang     int                       // hangover frames left
	speaking bool                      // in this tick's sum
}

// ID is the id the participant was added with.
func (p *Participant) ID() ParticipantID { return p.id }

// Codec is the law the participant's output is encoded in.
func (p *Participant) Codec() media.Codec {
	if p.follow != nil {
		return p.follow.Codec()
	}
	return media.Codec(p.codec.Load())
}

// CodecSink is a FrameSink that knows its own codec, as a call does: a
// re-INVITE may switch it between PCMU and PCMA at any time, and the mixer
// follows it on the next tick.
type CodecSink interface {
	FrameSink
	Codec() media.Codec
}

// SetCodec changes the law of the participant's output (unless its sink is
// a CodecSink, which is followed instead), for a re-INVITE
// that switches between PCMU and PCMA. It takes effect on the next tick.
func (p *Participant) SetCodec(c media.Codec) { p.codec.Store(uint32(c)) }

// SetMuted mutes or unmutes the participant. A muted participant
// contributes nothing to the mix but still hears everyone else.
func (p *Participant) SetMuted(muted bool) { p.muted.Store(muted) }

// Muted reports whether the participant is muted.
func (p *Participant) Muted() bool { return p.muted.Load() }

// SetHeld leaves the participant out of the mix while it holds the meeting
// (its PBX's hold music must not reach the others), as muting does, but
// apart from the mute the participant and the organizer control.
func (p *Participant) SetHeld(held bool) { p.held.Store(held) }

// Held reports whether the participant holds the meeting (SetHeld).
func (p *Participant) Held() bool { return p.held.Load() }

// Talking reports whether the participant was heard on the last tick
// (voice activity with hangover; never while muted).
func (p *Participant) Talking() bool { return p.talked.Load() }

// Mixer mixes one meeting. Every participant hears everyone but
// themselves. Tick does one 20 ms step; it makes the Mixer a media.Ticker.
//
// Add and Remove may be called from any goroutine, also while Tick runs.
type Mixer struct {
	parts cowlist.List[*Participant] // Tick reads it without locking

	// ticking is held for the whole of Tick. Remove waits for it, so that
	// once Remove returns the mixer never touches that participant's
	// source or sink again and the caller may close or reuse them.
	ticking sync.Mutex

	// announce is a sound for everyone (a join or leave tone) waiting to
	// start on the next tick; ann and annFrame are the one playing (Tick's).
	announce atomic.Pointer[media.Prompt]
	ann      *media.Prompt
	annFrame int

	// Scratch for Tick, reused so that a tick allocates nothing.
	sum     [media.FrameSamples]int32 // all speakers, unclamped
	mixed   [media.FrameSamples]int16 // saturate(sum)
	shared  [2][media.FrameBytes]byte // mixed in each law, for listeners
	encoded [2]bool                   // shared[law] holds this tick's frame
	pcm     [media.FrameSamples]int16 // one speaker's saturate(sum - own)
	own     [media.FrameBytes]byte    // pcm, encoded
	encodes uint64                    // Encode calls, for tests
}

var _ media.Ticker = (*Mixer)(nil)

// NewMixer returns an empty mixer.
func NewMixer() *Mixer {
	return &Mixer{}
}

// Add puts a participant in the mix from the next tick on. Its output is
// encoded in codec (PCMU or PCMA).
func (m *Mixer) Add(id ParticipantID, codec media.Codec, src FrameSource, sink FrameSink) *Participant {
	p := &Participant{id: id, src: src, sink: sink}
	p.follow, _ = sink.(CodecSink)
	p.codec.Store(uint32(codec))
	m.parts.Add(p)
	return p
}

// Remove takes p out of the mix. When it returns, the mixer has stopped
// calling p's source and sink: it waits for a tick in progress. So it must
// not be called from a source's Pop or a sink's WriteFrame, which run
// inside Tick. Removing a participant that is not in the mixer does
// nothing.
func (m *Mixer) Remove(p *Participant) {
	m.parts.Remove(p)
	// A tick in progress may still hold p: wait for it to end.
	m.ticking.Lock()
	p.talked.Store(false)
	m.ticking.Unlock()
}

// Len is the number of participants.
func (m *Mixer) Len() int { return m.parts.Len() }

// Announce plays p to everyone in the meeting, mixed over the voices, from
// the next tick; it replaces an announcement still playing.
func (m *Mixer) Announce(p *media.Prompt) { m.announce.Store(p) }

// Tick does one 20 ms step: it pulls a frame from every participant's
// source, mixes the speakers and writes one frame to every sink.
//
// Encoding is the expensive part, so it is done as little as possible:
// nobody speaking costs no encoding at all (everyone gets the constant
// silence frame of their law); everyone who did not speak hears the same
// saturate(sum), encoded once per law and shared; only speakers get a frame
// of their own, saturate(sum - own), and a lone speaker hears silence.
func (m *Mixer) Tick() {
	m.ticking.Lock()
	defer m.ticking.Unlock()
	parts := m.parts.Load()

	// Pull and sum. An announcement counts as a voice that is nobody's own.
	speakers := 0
	if a := m.announce.Swap(nil); a != nil {
		m.ann, m.annFrame = a, 0
	}
	announcing := false
	if m.ann != nil {
		if off := m.annFrame * media.FrameSamples; off < len(m.ann.PCM) {
			for i, s := range m.ann.PCM[off : off+media.FrameSamples] {
				m.sum[i] = int32(s)
			}
			m.annFrame++
			announcing = true
		} else {
			m.ann = nil
		}
	}
	for _, p := range parts {
		p.speaking = p.detect(p.src.Pop(p.pcm[:]))
		if p.talked.Load() != p.speaking {
			p.talked.Store(p.speaking)
		}
		if !p.speaking {
			continue
		}
		if speakers == 0 && !announcing {
			for i, s := range p.pcm[:] {
				m.sum[i] = int32(s)
			}
		} else {
			for i, s := range p.pcm[:] {
				m.sum[i] += int32(s)
			}
		}
		speakers++
	}

	// Write.
	m.encoded = [2]bool{}
	for _, p := range parts {
		codec := p.Codec()
		var frame []byte
		switch {
		case !announcing && (speakers == 0 || (speakers == 1 && p.speaking)):
			// Silence, exactly: sum - own is all zeros for a lone speaker.
			frame = media.SilenceFrame(codec)
		case p.speaking:
			// Subtract before clamping: clamping first would distort
			// what this speaker hears whenever the full sum clips.
			for i, s := range m.sum[:] {
				m.pcm[i] = saturate(s - int32(p.pcm[i]))
			}
			codec.Encode(m.own[:], m.pcm[:])
			m.encodes++
			frame = m.own[:]
		default:
			frame = m.sharedFrame(codec)
		}
		// A failed send is the session's business (it counts its packets
		// and times out dead calls); the mix goes on for everyone else.
		_ = p.sink.WriteFrame(frame)
	}
}

// sharedFrame is saturate(sum) in codec, encoded on first use in a tick.
func (m *Mixer) sharedFrame(codec media.Codec) []byte {
	law := 0
	if codec == media.PCMA {
		law = 1
	}
	if !m.encoded[law] {
		if !m.encoded[1-law] { // the other law has not clamped it yet
			for i, s := range m.sum[:] {
				m.mixed[i] = saturate(s)
			}
		}
		codec.Encode(m.shared[law][:], m.mixed[:])
		m.encodes++
		m.encoded[law] = true
	}
	return m.shared[law][:]
}

// detect runs the participant's voice activity detection on this tick's
// frame of the given kind and reports whether it goes into the mix.
func (p *Participant) detect(kind FrameKind) bool {
	if p.muted.Load() || p.held.Load() {
		p.hang = 0
		return false
	}
	if kind != FrameAudio && kind != FrameConcealed {
		// No frame: hangover runs on wall-clock time, but there is
		// nothing to mix.
		if p.hang > 0 {
			p.hang--
		}
		return false
	}
	if energy(&p.pcm) > vadThreshold {
		p.hang = vadHangover
		return true
	}
	if p.hang > 0 {
		p.hang--
		return true
	}
	return false
}

// energy is the frame's sum of squares. Four running sums let the CPU
// overlap the multiply-adds; this loop is most of what a participant who
// is not speaking costs per tick.
func energy(pcm *[media.FrameSamples]int16) int64 {
	var e0, e1, e2, e3 int64
	for i := 0; i < len(pcm); i += 4 {
		s0, s1, s2, s3 := int64(pcm[i]), int64(pcm[i+1]), int64(pcm[i+2]), int64(pcm[i+3])
		e0 += s0 * s0
		e1 += s1 * s1
		e2 += s2 * s2
		e3 += s3 * s3
	}
	return e0 + e1 + e2 + e3
}

// saturate clamps a sum of samples to the int16 range.
func saturate(s int32) int16 {
	if s > 32767 {
		return 32767
	}
	if s < -32768 {
		return -32768
	}
	return int16(s)
}
