package testphone

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"time"

	"github.com/pion/rtp"

	"github.com/dialin/dialin/media"
)

// digitTicks is how long each key is held: 5 × 20 ms = 100 ms of events.
const digitTicks = 5

// endRepeats is how many extra times the end-of-event packet is sent after
// the first one (RFC 4733 §2.5.1.4 asks for three in all).
const endRepeats = 2

// toneAmplitude is the peak of each tone in SendTone (about -12 dBFS), so
// that up to four summed tones cannot clip.
const toneAmplitude = 8000

// mediaState is where and how to send, replaced whole on a re-INVITE.
type mediaState struct {
	remote  *net.UDPAddr // nil: nothing may be sent (hold, port 0, 0.0.0.0)
	codec   media.Codec
	eventPT uint8 // 0: telephone-event not negotiated
}

type frameKind int

const (
	frameIdle  frameKind = iota // silence, or nothing with NoSilence
	frameAudio                  // frame.pcm
	frameEvent                  // frame.event
)

// frame is what the sender puts in the next 20 ms slot.
type frame struct {
	kind       frameKind
	pcm        [media.FrameSamples]int16
	event      media.DTMFEvent
	startEvent bool // first packet of an event: marker bit, new event timestamp
	mark       bool // first packet of a key: its send time goes to job.marks
}

// source yields frames for a SendDigits or SendTone call, one per tick.
type source interface {
	next(f *frame) bool // false when finished
}

// job is one SendDigits/SendTone run handed to the sender goroutine.
type job struct {
	ctx  context.Context
	src  source
	done chan error // buffered; receives exactly once

	// marks, if not nil, has one slot per key: the sender stores there the
	// time it wrote the key's first packet (frame.mark), or leaves it zero
	// when that packet was not sent. Only the sender touches it until done.
	marks []time.Time
	nmark int // marked frames seen so far, sent or not
}

// digitSource plays RFC 4733 events: per key, digitTicks packets of rising
// duration (the last one flagged End), the End packet twice more, then
// gapTicks idle slots.
type digitSource struct {
	events   []uint8
	gapTicks int
	key      int // index in events
	tick     int // slot within the current key
}

func (s *digitSource) next(f *frame) bool {
	if s.key >= len(s.events) {
		return false
	}
	ev := s.events[s.key]
	switch {
	case s.tick < digitTicks:
		f.kind = frameEvent
		f.startEvent = s.tick == 0
		f.mark = s.tick == 0
		f.event = media.DTMFEvent{
			Event:    ev,
			End:      s.tick == digitTicks-1,
			Volume:   10,
			Duration: uint16((s.tick + 1) * media.FrameSamples),
		}
	case s.tick < digitTicks+endRepeats:
		f.kind = frameEvent
		f.startEvent = false
		f.event = media.DTMFEvent{Event: ev, End: true, Volume: 10, Duration: digitTicks * media.FrameSamples}
	default:
		f.kind = frameIdle
	}
	s.tick++
	if s.tick == digitTicks+endRepeats+s.gapTicks {
		s.tick = 0
		s.key++
	}
	return true
}

// toneSource plays summed sines, phase-continuous across frames.
type toneSource struct {
	freqs []float64
	n     int // samples produced so far
	total int
}

func (s *toneSource) next(f *frame) bool {
	if s.n >= s.total {
		return false
	}
	f.kind = frameAudio
	for i := range f.pcm {
		var v float64
		if s.n+i < s.total {
			t := float64(s.n+i) / media.SampleRate
			for _, fr := range s.freqs {
				v += toneAmplitude * math.Sin(2*math.Pi*fr*t)
			}
		}
		f.pcm[i] = int16(v)
	}
	s.n += media.FrameSamples
	return true
}

// DigitFrequencies returns the DTMF row and column frequencies of key, for
// sending digits in-band with SendTone.
func DigitFrequencies(key byte) ([]float64, bool) {
	ev, ok := media.EventForDigit(key)
	if !ok {
		return nil, false
	}
	rows := [4]float64{697, 770, 852, 941}
	cols := [4]float64{1209, 1336, 1477, 1633}
	// Keypad position of each event code 0-9, *, #, A-D.
	pos := [16][2]int{
		{3, 1}, {0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}, {2, 0}, {2, 1}, {2, 2},
		{3, 0}, {3, 2}, {0, 3}, {1, 3}, {2, 3}, {3, 3},
	}
	p := pos[ev]
	return []float64{rows[p[0]], cols[p[1]]}, true
}

// maxCatchUp is the most frames the sender sends in a burst after the
// goroutine was not scheduled in time; a longer stall is skipped instead.
const maxCatchUp = 25

// sender is the phone's 20 ms media clock. It owns the SSRC, sequence number
// and timestamp, so digits, tones and silence share one stream the way a
// real phone's would. The RTP timestamp advances 160 every tick, sent or
// not; event packets carry the timestamp of their event's first tick.
type sender struct {
	c        *Call
	pkt      rtp.Packet
	buf      []byte
	payload  []byte
	f        frame
	cur      *job
	seq      uint16
	clock    uint32
	eventTS  uint32
	sentLast bool // the previous tick sent a packet (else the next audio gets the marker)
	packets  int  // packets made, dropped ones included (Options.DropEvery)
}

// sendLoop runs the sender. Ticks are counted against the wall clock, not
// the ticker, so a goroutine delayed by a busy machine (tests run under
// -race on small CI hosts) catches up and the stream stays at 50 packets/s.
func (c *Call) sendLoop() {
	s := &sender{
		c:       c,
		pkt:     rtp.Packet{Header: rtp.Header{Version: 2, SSRC: c.ssrc}},
		buf:     make([]byte, 1500),
		payload: make([]byte, media.FrameBytes),
		seq:     uint16(rand.Uint32()),
		clock:   rand.Uint32(),
	}
	ticker := time.NewTicker(media.FrameDuration)
	defer ticker.Stop()
	start := time.Now()
	var ticks int64

	for {
		jobs := c.jobs
		if s.cur != nil {
			jobs = nil // one job at a time; others wait in Call.run
		}
		select {
		case <-c.stop:
			if s.cur != nil {
				s.finish(ErrEnded)
			}
			return
		case j := <-jobs:
			s.cur = j
			continue
		case <-ticker.C:
		}

		due := int64(time.Since(start) / media.FrameDuration)
		if skip := due - ticks - maxCatchUp; skip > 0 {
			// Too far behind: treat the gap like a pause in sending.
			ticks += skip
			s.clock += uint32(skip) * media.FrameSamples
			s.sentLast = false
		}
		for ticks < due {
			ticks++
			s.tick()
		}
	}
}

func (s *sender) finish(err error) {
	s.cur.done <- err
	s.cur = nil
}

// tick fills and sends the packet for one 20 ms slot, if any.
func (s *sender) tick() {
	f := &s.f
	f.kind = frameIdle
	f.mark = false
	if s.cur != nil {
		if err := s.cur.ctx.Err(); err != nil {
			s.finish(err)
		} else if !s.cur.src.next(f) {
			s.finish(nil)
		}
	}
	// Count a key's first frame even if it is not sent, so later keys keep
	// their slots in marks.
	var mark *time.Time
	if f.mark && s.cur != nil {
		if j := s.cur; j.nmark < len(j.marks) {
			mark = &j.marks[j.nmark]
		}
		s.cur.nmark++
	}

	ms := s.c.media.Load()
	now := s.clock
	s.clock += media.FrameSamples
	if f.kind == frameEvent && f.startEvent {
		s.eventTS = now
	}
	if ms.remote == nil || (f.kind == frameIdle && s.c.opts.NoSilence) ||
		(f.kind == frameEvent && ms.eventPT == 0) {
		s.sentLast = false
		return
	}

	pkt, payload := &s.pkt, s.payload
	switch f.kind {
	case frameEvent:
		pkt.PayloadType = ms.eventPT
		pkt.Marker = f.startEvent
		pkt.Timestamp = s.eventTS
		n, _ := f.event.MarshalTo(payload)
		pkt.Payload = payload[:n]
	case frameAudio:
		pkt.PayloadType = ms.codec.PayloadType()
		pkt.Marker = !s.sentLast
		pkt.Timestamp = now
		ms.codec.Encode(payload, f.pcm[:])
		pkt.Payload = payload[:media.FrameBytes]
	default:
		pkt.PayloadType = ms.codec.PayloadType()
		pkt.Marker = !s.sentLast
		pkt.Timestamp = now
		for i := range payload {
			payload[i] = ms.codec.SilenceByte()
		}
		pkt.Payload = payload[:media.FrameBytes]
	}
	pkt.SequenceNumber = s.seq
	s.seq++
	n, err := pkt.MarshalTo(s.buf)
	if err != nil {
		return // cannot happen with a 1500-byte buffer
	}
	if mark != nil {
		// Taken before the write: the earliest the far end can have it,
		// so a latency measured from here is never too small.
		*mark = time.Now()
	}
	s.packets++
	if every := s.c.opts.DropEvery; every > 0 && s.packets%every == 0 {
		s.c.droppedOut.Add(1)
		s.sentLast = true // lost on the way: the next packet is no new talk spurt
		return
	}
	if _, err := s.c.rtpConn.WriteToUDP(s.buf[:n], ms.remote); err != nil {
		s.c.log.Debug().Err(err).Msg("rtp write")
	}
	s.sentLast = true
}

// recvLoop records every RTP packet that reaches the phone's socket. It
// reuses one buffer and one rtp.Packet; the payload is decoded under the lock
// before the next read overwrites it.
func (c *Call) recvLoop() {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := c.rtpConn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-c.stop:
				return
			default:
				continue // transient (e.g. ICMP-induced) error: keep listening
			}
		}
		now := time.Now()
		if isRTCP(buf[:n]) {
			c.onRTCP(buf[:n], true, now) // rtcp-mux
			continue
		}
		err = pkt.Unmarshal(buf[:n])
		if err == nil {
			c.heardRTP(pkt.SSRC)
		}
		c.recMu.Lock()
		if err != nil || pkt.Version != 2 {
			c.rec.rec.Malformed++
		} else {
			c.rec.add(&pkt, now)
		}
		c.recMu.Unlock()
	}
}

// run hands src to the sender and waits until it has been played.
func (c *Call) run(ctx context.Context, src source) error {
	return c.runJob(&job{ctx: ctx, src: src, done: make(chan error, 1)})
}

// runMarked is run that also returns, for each of keys keys, the send time
// of its first packet (see job.marks).
func (c *Call) runMarked(ctx context.Context, src source, keys int) ([]time.Time, error) {
	j := &job{ctx: ctx, src: src, done: make(chan error, 1), marks: make([]time.Time, keys)}
	err := c.runJob(j)
	return j.marks, err
}

func (c *Call) runJob(j *job) error {
	ctx := j.ctx
	select {
	case c.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.stop:
		return ErrEnded
	}
	// The sender always answers a job it took, even when stopping.
	return <-j.done
}
