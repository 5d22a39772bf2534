package media

import "time"

// How the receiver tells a new key press from a straggler of the last one.
//
// RFC 4733 identifies an event by its RTP timestamp: every packet of one key
// press carries the timestamp of the moment the key went down, and a new
// press gets a new timestamp. Real senders bend that rule. sipp's stock
// dtmf_2833_*.pcap files replay the same sequence numbers and the same
// timestamp every time the same digit is played, so "1123345#" arrives as two
// identical bursts for 1 and two for 3. Sequence numbers are therefore no use
// for telling presses apart, and time of arrival has to decide instead.
const (
	// dtmfReorderWindow is how long after the last packet of an event a
	// packet of the same event is still taken as a late, duplicated or
	// reordered copy rather than a new press. Jitter on a trunk is a few tens
	// of milliseconds; two 20 ms packet intervals cover it. It must stay
	// below the shortest pause between two replayed presses of one digit
	// (50 ms from the last packet of one pcap to the first of the next).
	dtmfReorderWindow = 40 * time.Millisecond

	// dtmfSilenceGap is a silence within one event after which a packet of
	// "the same" event is a new press even though it looks like a
	// continuation (for instance when only the end packets of a replayed
	// press got through). Senders refresh a held key every 20-50 ms, so a
	// live event never goes quiet this long. Within it, a replay seen only
	// through its end packets is indistinguishable from a late end
	// retransmission and is dropped; callers rarely press a key that fast.
	dtmfSilenceGap = time.Second

	// dtmfMaxDuration is the largest duration field. RFC 4733 section
	// 2.5.1.3 splits a longer event into segments: the sender reports
	// 0xFFFF without the E bit, then carries on with a new timestamp equal
	// to the old one plus 0xFFFF. Such a segment is the same key press.
	dtmfMaxDuration = 0xFFFF

	// dtmfSegmentSlack is how far short of 0xFFFF the last duration seen may
	// be (lost packets) and how far past old timestamp + 0xFFFF the next
	// segment may start, in 8 kHz timestamp units: one second, in line with
	// dtmfSilenceGap.
	dtmfSegmentSlack = 8000
)

// DTMFReceiver turns a stream of RTP telephone-event packets into key presses.
// The zero value is ready to use. It is not safe for concurrent use: a call's
// RTP reader owns it.
type DTMFReceiver struct {
	// The current event: the key press most recently reported.
	active bool
	ts     uint32    // RTP timestamp identifying the event
	event  uint8     // event code, 0-15
	ended  bool      // an end packet (E bit) has been seen
	maxDur uint16    // largest duration seen, to notice a replay restarting
	last   time.Time // arrival of the latest packet of the event

	// The event before the current one. When the next press follows
	// quickly, late copies of the previous event's end packets may still
	// arrive; remembering it keeps them from being read as a new press.
	prevActive bool
	prevTS     uint32
	prevEvent  uint8
	prevLast   time.Time
}

// Receive feeds one telephone-event RTP packet (already demuxed by payload type).
// It returns the key ('0'-'9','*','#','A'-'D') when this packet begins a new key press,
// and ok=false for continuations, retransmissions, duplicates, unknown events and malformed payloads.
//
// seq is accepted for the caller's convenience but not used: sipp replays the
// same sequence numbers for every press of a digit, so they cannot tell
// presses apart, and reordering within an event does not matter because an
// event is keyed by its timestamp and code. The marker bit is not trusted
// either, because the first packets of an event are often lost.
func (r *DTMFReceiver) Receive(marker bool, seq uint16, timestamp uint32, payload []byte, now time.Time) (digit byte, ok bool) {
	var ev DTMFEvent
	if ev.Unmarshal(payload) != nil {
		return 0, false
	}
	digit, ok = DigitForEvent(ev.Event)
	if !ok {
		// Events 16 and up (tones, line events) are not keys; they must
		// not disturb the key being tracked either.
		return 0, false
	}

	if r.active && timestamp == r.ts && ev.Event == r.event {
		if r.restarted(ev, now) {
			r.begin(timestamp, ev, now)
			return digit, true
		}
		r.extend(ev, now)
		return 0, false
	}

	if r.active && r.nextSegment(timestamp, ev, now) {
		r.ts = timestamp
		r.maxDur = 0
		r.extend(ev, now)
		return 0, false
	}

	if r.prevActive && timestamp == r.prevTS && ev.Event == r.prevEvent &&
		dtmfGap(r.prevLast, now) <= dtmfReorderWindow {
		// A straggler of the event before this one. Moving the window
		// along lets a run of retransmitted end packets all be ignored.
		r.prevLast = now
		return 0, false
	}

	r.begin(timestamp, ev, now)
	return digit, true
}

// Reset forgets the current event (e.g. after the remote changes SSRC).
func (r *DTMFReceiver) Reset() {
	*r = DTMFReceiver{}
}

// restarted reports whether a packet with the current event's timestamp and
// code is in fact a new press: the replay case described above.
func (r *DTMFReceiver) restarted(ev DTMFEvent, now time.Time) bool {
	gap := dtmfGap(r.last, now)
	if gap > dtmfSilenceGap {
		return true
	}
	if gap <= dtmfReorderWindow {
		return false
	}
	// A live event only moves forward: after its end only end
	// retransmissions follow, and its duration never shrinks. Past the
	// reorder window, either of those going back means it started again.
	return (r.ended && !ev.End) || ev.Duration < r.maxDur
}

// nextSegment reports whether a packet with a new timestamp continues a
// current event longer than the duration field can hold (RFC 4733 2.5.1.3).
func (r *DTMFReceiver) nextSegment(timestamp uint32, ev DTMFEvent, now time.Time) bool {
	if ev.Event != r.event || r.ended || r.maxDur < dtmfMaxDuration-dtmfSegmentSlack {
		return false
	}
	if dtmfGap(r.last, now) > dtmfSilenceGap {
		return false
	}
	step := timestamp - r.ts // modulo 2^32: timestamps wrap
	return uint32(r.maxDur) <= step && step <= dtmfMaxDuration+dtmfSegmentSlack
}

// begin makes the packet's event the current one, keeping the old one as
// the previous event.
func (r *DTMFReceiver) begin(timestamp uint32, ev DTMFEvent, now time.Time) {
	r.prevActive, r.prevTS, r.prevEvent, r.prevLast = r.active, r.ts, r.event, r.last
	r.active = true
	r.ts = timestamp
	r.event = ev.Event
	r.ended = ev.End
	r.maxDur = ev.Duration
	r.last = now
}

// extend records a further packet of the current event.
func (r *DTMFReceiver) extend(ev DTMFEvent, now time.Time) {
	if ev.End {
		r.ended = true
	}
	if ev.Duration > r.maxDur {
		r.maxDur = ev.Duration
	}
	r.last = now
}

// dtmfGap is now - t, or zero when the clock went backwards, so that a
// misbehaving clock reads as "no time passed" rather than a huge gap.
func dtmfGap(t, now time.Time) time.Duration {
	d := now.Sub(t)
	if d < 0 {
		return 0
	}
	return d
}
