package media

// FrameInput takes a call's received audio one 20 ms frame at a time, with
// its RTP sequence number and timestamp: a meeting's JitterBuffer.
type FrameInput interface {
	Push(seq uint16, ts uint32, pcm []int16)
}

// Reframer cuts a call's received audio into the 20 ms frames a jitter
// buffer holds. Most trunks send 20 ms packets, which pass straight
// through with their own sequence numbers. Once a stream shows another
// packet time (10, 30, 40, 60 ms...), its audio is cut into 20 ms frames
// numbered from the RTP timestamp instead, since a packet's sequence
// number no longer names one frame; the jitter buffer then orders and
// conceals those frames just the same. It is used by one goroutine (the
// call's RTP receiver) and allocates nothing.
type Reframer struct {
	byTimestamp bool   // the stream is not 20 ms: number frames by timestamp
	base        uint32 // timestamp of frame number 0 in that mode
	start       uint32 // timestamp of pending[0]
	n           int    // samples pending
	pending     [FrameSamples]int16
}

// Push hands pcm (one packet's audio; empty for comfort noise) to in as
// whole 20 ms frames.
func (r *Reframer) Push(in FrameInput, seq uint16, ts uint32, pcm []int16) {
	if !r.byTimestamp {
		if len(pcm) == FrameSamples || len(pcm) == 0 {
			in.Push(seq, ts, pcm)
			return
		}
		r.byTimestamp, r.base, r.n = true, ts, 0
	}
	if len(pcm) == 0 {
		// Comfort noise: the far end went quiet. What is pending is a
		// part frame that would only click; the buffer conceals the gap.
		r.n = 0
		return
	}
	if r.n > 0 && ts != r.start+uint32(r.n) {
		r.n = 0 // a gap or a reordered packet: drop the part frame
	}
	if r.n == 0 {
		r.start = ts
	}
	for len(pcm) > 0 {
		c := copy(r.pending[r.n:], pcm)
		r.n += c
		pcm = pcm[c:]
		if r.n == FrameSamples {
			// Round to the nearest frame number, so that a stream whose
			// packets do not start on a frame boundary still counts 0, 1, 2.
			frame := uint16((r.start - r.base + FrameSamples/2) / FrameSamples)
			in.Push(frame, r.start, r.pending[:])
			r.start += FrameSamples
			r.n = 0
		}
	}
}
