package media

import "sync"

// FrameKind says what JitterBuffer.Pop put in its frame.
type FrameKind uint8

const (
	// FrameSilence is a frame of zeros: the participant is not speaking
	// (nothing buffered yet, the talk spurt is over, concealment has faded
	// out, or the sender sent comfort noise). The mixer can leave it out.
	FrameSilence FrameKind = iota
	// FrameAudio is a frame the sender sent.
	FrameAudio
	// FrameConcealed stands in for a missing frame: the last frame
	// repeated, fading out.
	FrameConcealed
)

func (k FrameKind) String() string {
	switch k {
	case FrameAudio:
		return "audio"
	case FrameConcealed:
		return "concealed"
	}
	return "silence"
}

const (
	// MaxJitterDepth is the largest target delay, in frames (1 s). Beyond
	// it a conversation stops working anyway.
	MaxJitterDepth = 50

	// concealFrames is how many frames a loss is concealed for before the
	// buffer falls silent. The gain halves (-6 dB) per frame and the last
	// one ends at zero: a longer repeat of one 20 ms frame turns into a buzz.
	concealFrames = 4

	// maxMisorder is how far behind the playout point a packet may be and
	// still be taken as a late packet of the same stream rather than a
	// sender that went back in time (RFC 3550 appendix A.1 uses 100 too).
	maxMisorder = 100

	// maxProbeGap is how close to a stray packet the next stray must be to
	// confirm that the sender restarted: a neighbour, allowing a packet or
	// two of the new stream to be lost or reordered.
	maxProbeGap = 3
)

// JitterStats counts what happened to a participant's packets and frames.
// Every packet pushed is, at any moment, exactly one of: played, dropped,
// a duplicate, late, or still buffered:
//
//	Received = Played + Dropped + Duplicates + Late + Buffered()
type JitterStats struct {
	Received   uint64 // packets pushed
	Played     uint64 // frames Pop took from the buffer (audio or comfort noise)
	Duplicates uint64 // dropped: a copy of a frame still buffered
	Late       uint64 // dropped: arrived after their turn to play had passed (copies of played frames included)
	Dropped    uint64 // discarded unplayed: to keep the delay bounded, on a resync or Reset, strays that started nothing
	Reordered  uint64 // arrived after a later packet, still in time to play
	Lost       uint64 // sequence numbers whose turn came and went without a packet
	Concealed  uint64 // FrameConcealed frames Pop returned
	Underruns  uint64 // times the buffer ran dry while playing (the end of every talk spurt counts)
	Resyncs    uint64 // times the buffer followed a sender that jumped to new sequence numbers
}

type jitterSlot struct {
	pcm    [FrameSamples]int16
	ts     uint32
	seq    uint16
	full   bool
	silent bool // pushed without samples (comfort noise): plays as FrameSilence
}

// JitterBuffer turns one participant's RTP audio, which arrives late, early,
// twice, out of order or not at all, into one frame per mixer tick.
//
// Frames are kept in a ring indexed by sequence number, so reordering costs
// nothing and wrap-around at 65535 is free (the ring length divides 65536).
// Playout is driven by sequence numbers alone: a missing number is a lost
// packet; timestamps serve only to tell a restarted sender from a late one.
//
// Policies:
//
//   - Fill: after the first packet, a resync or an underrun, Pop returns
//     silence (or the tail of a concealment) until depth frames are
//     buffered, then plays from the oldest. Packets older than the first
//     one are still taken until something has played, so the start of a
//     stream can be reordered too.
//   - Underrun: when Pop finds nothing buffered it conceals, then falls
//     silent, and refills to depth before playing again. This rebuilds the
//     cushion after a talk spurt, a network stall or a slow sender clock.
//     Sequence numbers between the last frame played and the oldest one
//     buffered when play resumes count as lost.
//   - Drift: while playing, if the newest frame is more than depth+slack
//     frames ahead of the next to play (slack is max(2, depth/2)), Pop
//     discards the oldest frame, one per tick, so a fast sender clock costs
//     one 20 ms skip now and then rather than ever more delay. When play
//     starts after a fill, the excess is discarded at once (there is a gap
//     there already). A slow sender clock is met by the underrun policy.
//   - Resync: packets are taken up to a ring's length (at least twice
//     depth+slack) ahead of the playout point, and counted late up to 100
//     behind it. A packet outside that (or whose timestamp moves against
//     its sequence number) is held as a probe. If a neighbour of it (within
//     3) arrives next, the sender has restarted, changed SSRC or been
//     replayed, or a stall ended in a flood longer than the ring: the old
//     frames are dropped and the buffer fills anew from the two. A lone
//     stray is dropped. A packet behind the playout point while nothing is
//     buffered is also a probe, so a sender that replays earlier sequence
//     numbers (sipp pcaps) is followed instead of being dropped as late.
//   - Concealment: a missing frame is the last frame played, with the gain
//     ramping from 1 to 1/2 across the first concealed frame, 1/2 to 1/4
//     across the second, and so on; the fourth ends at zero, then silence.
//
// Push runs on the call's RTP goroutine and Pop on the mixer's tick. One
// mutex guards everything; each side holds it for a 320-byte copy and a few
// comparisons, 50 times a second, so it is almost never contended. Neither
// allocates.
type JitterBuffer struct {
	mu sync.Mutex

	depth int          // frames buffered before play starts
	slack int          // frames above depth tolerated while playing
	slots []jitterSlot // the ring; a power of two long
	mask  uint16

	anchored bool   // a stream is being followed (false before the first Push and after Reset)
	floored  bool   // something has played since anchoring: packets before next are late
	playing  bool   // false while filling
	next     uint16 // next sequence number to play; while filling unfloored, the oldest buffered
	high     uint16 // newest sequence number buffered, valid while count > 0
	count    int    // frames buffered

	totals *Totals // nil: counted in stats only (CountInto)

	// The last frame played, to tell a late packet from a restarted sender:
	// sequence number and timestamp of one stream move the same way.
	refValid bool
	refSeq   uint16
	refTS    uint32

	probe     jitterSlot // a stray that may be the first packet of a new stream
	probeLate bool       // the probe was counted as Late, else as Dropped

	last      [FrameSamples]int16 // last audio frame played, for concealment
	lastAudio bool                // last holds audio worth repeating
	concealed int                 // frames concealed since the last one played

	stats JitterStats
}

// NewJitterBuffer returns a buffer that holds depth frames (of 20 ms) before
// playing, clamped to [1, MaxJitterDepth]. 3 (60 ms) suits most trunks.
func NewJitterBuffer(depth int) *JitterBuffer {
	depth = min(max(depth, 1), MaxJitterDepth)
	slack := max(2, depth/2)
	// Twice the most the buffer holds while playing, so reordered and
	// bursty packets ahead of the playout point still find a slot.
	size := 1
	for size < 2*(depth+slack) {
		size *= 2
	}
	return &JitterBuffer{
		depth: depth,
		slack: slack,
		slots: make([]jitterSlot, size),
		mask:  uint16(size - 1),
	}
}

// CountInto adds the buffer's late, lost and discarded packets to t as
// well (the bridge-wide Totals). Call it before the first Push.
func (j *JitterBuffer) CountInto(t *Totals) { j.totals = t }

// tally adds to the bridge-wide counters, if any (CountInto): late, lost
// and discarded packets.
func (j *JitterBuffer) tally(late, lost, discarded uint64) {
	if t := j.totals; t != nil {
		t.late.Add(late)
		t.lost.Add(lost)
		t.discarded.Add(discarded)
	}
}

// Buffered is the number of frames waiting to be played.
func (j *JitterBuffer) Buffered() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.count
}

// Stats returns the counters. They survive Reset: they describe the call.
func (j *JitterBuffer) Stats() JitterStats {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.stats
}

// Push stores one 20 ms frame with its RTP sequence number and timestamp.
// pcm is copied; a shorter frame is padded with silence, a longer one cut
// to FrameSamples (other packet times must be re-framed by the caller). A
// packet with no samples, such as RFC 3389 comfort noise, keeps its place in
// the sequence and plays as FrameSilence.
func (j *JitterBuffer) Push(seq uint16, ts uint32, pcm []int16) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.stats.Received++
	j.push(seq, ts, pcm)
}

func (j *JitterBuffer) push(seq uint16, ts uint32, pcm []int16) {
	if !j.anchored {
		j.anchor(seq)
		j.store(seq, ts, pcm)
		return
	}
	d := int(int16(seq - j.next))
	if j.consistent(seq, ts) {
		switch {
		case d >= 0 && d < len(j.slots):
			j.store(seq, ts, pcm)
			return
		case d < 0 && !j.floored && int(uint16(j.high-seq)) < len(j.slots):
			// Nothing played yet: an earlier packet overtaken at the start.
			j.next = seq
			j.store(seq, ts, pcm)
			return
		case d < 0 && j.floored && d >= -maxMisorder && j.count > 0:
			j.stats.Late++
			j.tally(1, 0, 0)
			return
		}
	}
	j.stray(seq, ts, pcm, d < 0)
}

// consistent reports whether a packet's timestamp moves the same way as its
// sequence number relative to the last frame played. A restarted sender
// picks both at random, so half the time this catches a restart whose
// sequence number happens to land near ours. Equal timestamps pass: some
// senders do not advance them properly, and that alone must not break play.
func (j *JitterBuffer) consistent(seq uint16, ts uint32) bool {
	if !j.refValid {
		return true
	}
	ds, dt := int16(seq-j.refSeq), int32(ts-j.refTS)
	return !(ds > 0 && dt < 0) && !(ds < 0 && dt > 0)
}

// stray handles a packet that does not belong to the stream being played:
// it either confirms the probe (the sender restarted) or becomes the probe.
func (j *JitterBuffer) stray(seq uint16, ts uint32, pcm []int16, behind bool) {
	p := &j.probe
	if p.full {
		d, dt := int16(seq-p.seq), int32(ts-p.ts)
		if d == 0 {
			j.stats.Duplicates++
			return
		}
		near := d >= -maxProbeGap && d <= maxProbeGap
		sameWay := dt == 0 || (d > 0) == (dt > 0)
		if near && sameWay {
			j.resync(seq, ts, pcm)
			return
		}
	}
	// The probe counts as late or dropped now; a confirmation takes it back.
	// The bridge-wide counters only grow: they count a probe once another
	// stray replaces it, a lone stray for sure.
	if p.full {
		if j.probeLate {
			j.tally(1, 0, 0)
		} else {
			j.tally(0, 0, 1)
		}
	}
	if behind {
		j.stats.Late++
	} else {
		j.stats.Dropped++
	}
	j.probeLate = behind
	p.full, p.seq, p.ts, p.silent = true, seq, ts, len(pcm) == 0
	n := copy(p.pcm[:], pcm)
	clear(p.pcm[n:])
}

// resync drops the old stream and starts filling from the probe and the
// packet that confirmed it.
func (j *JitterBuffer) resync(seq uint16, ts uint32, pcm []int16) {
	p := &j.probe
	if j.probeLate {
		j.stats.Late--
	} else {
		j.stats.Dropped--
	}
	j.stats.Resyncs++
	j.flush()
	p.full = false
	j.anchor(p.seq)
	if p.silent {
		j.store(p.seq, p.ts, nil)
	} else {
		j.store(p.seq, p.ts, p.pcm[:])
	}
	j.push(seq, ts, pcm) // fits: it is within maxProbeGap of the anchor
}

// anchor starts following a stream at seq; nothing of it has played.
func (j *JitterBuffer) anchor(seq uint16) {
	j.anchored, j.floored, j.playing, j.refValid = true, false, false, false
	j.next, j.high = seq, seq
}

// flush drops every buffered frame.
func (j *JitterBuffer) flush() {
	j.stats.Dropped += uint64(j.count)
	j.tally(0, 0, uint64(j.count))
	for i := range j.slots {
		j.slots[i].full = false
	}
	j.count = 0
}

// store puts a frame that fits the window in its slot.
func (j *JitterBuffer) store(seq uint16, ts uint32, pcm []int16) {
	s := &j.slots[seq&j.mask]
	if s.full { // the window is no longer than the ring: same sequence number
		j.stats.Duplicates++
		return
	}
	if j.count > 0 && int16(seq-j.high) < 0 {
		j.stats.Reordered++
	}
	if j.count == 0 || int16(seq-j.high) > 0 {
		j.high = seq
	}
	s.full, s.seq, s.ts, s.silent = true, seq, ts, len(pcm) == 0
	n := copy(s.pcm[:], pcm)
	clear(s.pcm[n:])
	j.count++
}

// Pop fills out, which must hold at least FrameSamples samples, with the
// next frame to play and says what it is. Call it once per 20 ms tick, even
// for a participant nobody hears: the buffer's notion of time is the ticks.
func (j *JitterBuffer) Pop(out []int16) FrameKind {
	out = out[:FrameSamples]
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.playing {
		if j.count < j.depth {
			return j.conceal(out)
		}
		j.start()
	}
	if j.count == 0 {
		j.playing = false
		j.stats.Underruns++
		return j.conceal(out)
	}
	if j.span() > j.depth+j.slack {
		j.skip() // leaves high, which is buffered: count stays > 0
	}
	s := &j.slots[j.next&j.mask]
	j.next++
	if !s.full {
		j.stats.Lost++
		j.tally(0, 1, 0)
		return j.conceal(out)
	}
	s.full = false
	j.count--
	j.stats.Played++
	j.refValid, j.refSeq, j.refTS = true, s.seq, s.ts
	j.concealed = 0
	if s.silent {
		j.lastAudio = false
		clear(out)
		return FrameSilence
	}
	copy(out, s.pcm[:])
	j.last = s.pcm
	j.lastAudio = true
	return FrameAudio
}

// span is how many frames ahead the newest buffered frame is, counting the
// next to play: the delay it will have waited. Only valid while count > 0.
func (j *JitterBuffer) span() int { return int(uint16(j.high-j.next)) + 1 }

// start begins playing after a fill: it cuts the delay to depth+slack (a
// stall may have delivered many frames at once) and skips to the oldest
// frame left, counting the sequence numbers skipped as lost.
func (j *JitterBuffer) start() {
	j.playing, j.floored = true, true
	for j.span() > j.depth+j.slack {
		j.skip()
	}
	for !j.slots[j.next&j.mask].full {
		j.next++
		j.stats.Lost++
		j.tally(0, 1, 0)
	}
}

// skip discards the next frame to play, or passes over its gap.
func (j *JitterBuffer) skip() {
	s := &j.slots[j.next&j.mask]
	if s.full {
		s.full = false
		j.count--
		j.stats.Dropped++
		j.tally(0, 0, 1)
	} else {
		j.stats.Lost++
		j.tally(0, 1, 0)
	}
	j.next++
}

// conceal writes the next frame of the fade-out of the last frame played,
// or silence once it has faded or if there is nothing to repeat.
func (j *JitterBuffer) conceal(out []int16) FrameKind {
	if !j.lastAudio || j.concealed >= concealFrames {
		clear(out)
		return FrameSilence
	}
	// Gain in Q15, ramped across the frame so that it never steps.
	from := int32(1<<15) >> j.concealed
	to := from / 2
	if j.concealed == concealFrames-1 {
		to = 0
	}
	for i, s := range j.last {
		g := from + (to-from)*int32(i)/(FrameSamples-1)
		out[i] = int16(int32(s) * g >> 15)
	}
	j.concealed++
	j.stats.Concealed++
	return FrameConcealed
}

// Reset forgets the stream, for instance when the call's media is
// renegotiated: buffered frames are dropped, the next Push starts a new
// fill, and Pop is silent until then. The counters are kept.
func (j *JitterBuffer) Reset() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.flush()
	j.probe.full = false
	j.anchored, j.floored, j.playing, j.refValid = false, false, false, false
	j.lastAudio, j.concealed = false, 0
}
