package media

import "time"

// How the receiver tells a new key press from a straggler of the last one.
//
// RFC 4733 identifies an event by its RTP timestamp: every packet of one key
// press carries the timestamp of the moment the key went down, and a new
// press gets a new timestamp. Real senders bend that rule. sipp's stock
// dtmf_2833_*.pcap files replay the same sequence numbers and the same
// timestamp every time the same digit is played, so "1123345#" arrives as two
// identical bursts for 1 and two for 3. Sequence numbers alone therefore
// cannot tell presses apart, and time of arrival has to help.
//
// Time alone is not enough either: a mid-event packet held back by the
// network 80 ms past the event's end looks exactly like the first packet of
// a replay 80 ms later. What differs is what follows: a replay is a run of
// packets, a straggler comes alone. So a packet that looks like a press
// starting again with an ended event's timestamp, within dtmfSilenceGap of
// that event, is only a suspect; it becomes a press when the next packet
// carries on from it (the following sequence number or the one after,
// within dtmfConfirmWindow), and is forgotten otherwise. A packet with a
// newer sequence number than any of the ended event (a sender that reuses
// the timestamp but numbers on) is a new press at once, since nothing of an
// ended event is sent after its end packets.
//
// Ended events are remembered (the current one and dtmfRemembered before
// it) for dtmfSilenceGap after their last packet, far longer than any
// jitter buffer holds a packet (RFC 4733 2.5.1.4 has senders retransmit the
// end, so receivers must expect copies of an ended event).
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

	// dtmfConfirmWindow and dtmfConfirmSeq: how soon and how few sequence
	// numbers after a suspect packet the next packet of a replay arrives.
	// Senders send every 20-50 ms; the slack covers a lost packet or two.
	dtmfConfirmWindow = 100 * time.Millisecond
	dtmfConfirmSeq    = 3

	// dtmfRemembered is how many events before the current one are kept:
	// at the fastest dialling (40 ms tone, 40 ms pause) they span 320 ms.
	dtmfRemembered = 4
)

// DTMFReceiver turns a stream of RTP telephone-event packets into key presses.
// The zero value is ready to use. It is not safe for concurrent use: a call's
// RTP reader owns it. It never allocates.
type DTMFReceiver struct {
	cur     dtmfTrack                 // the key press most recently reported
	past    [dtmfRemembered]dtmfTrack // the events before it, a ring
	next    int                       // where the ring writes next
	suspect dtmfSuspect               // a possible replay, awaiting its next packet
}

// dtmfTrack is one event as seen so far.
type dtmfTrack struct {
	valid  bool
	ts     uint32    // RTP timestamp identifying the event
	event  uint8     // event code, 0-15
	ended  bool      // an end packet (E bit) has been seen
	maxDur uint16    // largest duration seen, to notice a replay restarting
	maxSeq uint16    // newest sequence number seen
	last   time.Time // arrival of the latest packet of the event
}

// dtmfSuspect is a packet that may start a replay of an ended event.
type dtmfSuspect struct {
	valid bool
	ts    uint32
	event uint8
	seq   uint16
	at    time.Time
}

// What a packet with the current event's timestamp and code is.
type dtmfVerdict uint8

const (
	dtmfSame         dtmfVerdict = iota // a further packet of the event
	dtmfNew                             // a new press, certainly
	dtmfSuspectPress                    // a new press if the next packet confirms it
)

// Receive feeds one telephone-event RTP packet (already demuxed by payload type).
// It returns the key ('0'-'9','*','#','A'-'D') when this packet begins a new key press
// (or confirms one, see dtmfConfirmWindow), and ok=false for continuations,
// retransmissions, duplicates, late packets, unknown events and malformed payloads.
//
// Sequence numbers do not key events (sipp replays the same ones for every
// press of a digit); they only order packets around an event's end. The
// marker bit is not trusted, because the first packets of an event are
// often lost.
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

	if c := &r.cur; c.valid && timestamp == c.ts && ev.Event == c.event {
		switch r.judge(ev, seq, now) {
		case dtmfSame:
			c.extend(ev, seq, now)
			return 0, false
		case dtmfSuspectPress:
			return r.suspected(timestamp, ev, seq, now, digit)
		}
		r.begin(timestamp, ev, seq, now)
		return digit, true
	}

	if r.cur.valid && r.nextSegment(timestamp, ev, now) {
		r.cur.ts = timestamp
		r.cur.maxDur = 0
		r.cur.extend(ev, seq, now)
		return 0, false
	}

	for i := range r.past {
		p := &r.past[i]
		if !p.valid || timestamp != p.ts || ev.Event != p.event {
			continue
		}
		gap := dtmfGap(p.last, now)
		switch {
		case gap > dtmfSilenceGap:
			continue // forgotten: a new press
		case gap <= dtmfReorderWindow:
			// A straggler of an earlier event. Moving the window along
			// lets a run of retransmitted end packets all be ignored.
			p.last = now
			return 0, false
		case seqNewer(seq, p.maxSeq):
			r.begin(timestamp, ev, seq, now)
			return digit, true
		}
		return r.suspected(timestamp, ev, seq, now, digit)
	}

	r.begin(timestamp, ev, seq, now)
	return digit, true
}

// Reset forgets every event (e.g. after the remote changes SSRC).
func (r *DTMFReceiver) Reset() {
	*r = DTMFReceiver{}
}

// judge tells what a packet with the current event's timestamp and code is:
// the replay case described above, or the same press going on.
func (r *DTMFReceiver) judge(ev DTMFEvent, seq uint16, now time.Time) dtmfVerdict {
	c := &r.cur
	gap := dtmfGap(c.last, now)
	if gap > dtmfSilenceGap {
		return dtmfNew
	}
	if gap <= dtmfReorderWindow {
		return dtmfSame
	}
	// A live event only moves forward: after its end only end
	// retransmissions follow, and its duration never shrinks. Past the
	// reorder window, either of those going back may mean it started again.
	if !(c.ended && !ev.End) && ev.Duration >= c.maxDur {
		return dtmfSame
	}
	if seqNewer(seq, c.maxSeq) {
		return dtmfNew
	}
	return dtmfSuspectPress
}

// suspected handles a packet that may start a replay of an ended event: it
// confirms the suspect before it (and reports the key), or becomes the
// suspect itself. End packets never confirm: a replay's end is identical to
// the first press's, which is retransmitted.
func (r *DTMFReceiver) suspected(timestamp uint32, ev DTMFEvent, seq uint16, now time.Time, digit byte) (byte, bool) {
	s := &r.suspect
	if s.valid && s.ts == timestamp && s.event == ev.Event && !ev.End {
		if step := seq - s.seq; step >= 1 && step <= dtmfConfirmSeq && dtmfGap(s.at, now) <= dtmfConfirmWindow {
			*s = dtmfSuspect{}
			r.begin(timestamp, ev, seq, now)
			return digit, true
		}
	}
	*s = dtmfSuspect{valid: true, ts: timestamp, event: ev.Event, seq: seq, at: now}
	return 0, false
}

// nextSegment reports whether a packet with a new timestamp continues a
// current event longer than the duration field can hold (RFC 4733 2.5.1.3).
func (r *DTMFReceiver) nextSegment(timestamp uint32, ev DTMFEvent, now time.Time) bool {
	c := &r.cur
	if ev.Event != c.event || c.ended || c.maxDur < dtmfMaxDuration-dtmfSegmentSlack {
		return false
	}
	if dtmfGap(c.last, now) > dtmfSilenceGap {
		return false
	}
	step := timestamp - c.ts // modulo 2^32: timestamps wrap
	return uint32(c.maxDur) <= step && step <= dtmfMaxDuration+dtmfSegmentSlack
}

// begin makes the packet's event the current one, keeping the old one
// among the past events.
func (r *DTMFReceiver) begin(timestamp uint32, ev DTMFEvent, seq uint16, now time.Time) {
	if r.cur.valid {
		r.past[r.next] = r.cur
		r.next = (r.next + 1) % len(r.past)
	}
	r.cur = dtmfTrack{valid: true, ts: timestamp, event: ev.Event, ended: ev.End, maxDur: ev.Duration, maxSeq: seq, last: now}
}

// extend records a further packet of the event.
func (t *dtmfTrack) extend(ev DTMFEvent, seq uint16, now time.Time) {
	if ev.End {
		t.ended = true
	}
	if ev.Duration > t.maxDur {
		t.maxDur = ev.Duration
	}
	if seqNewer(seq, t.maxSeq) {
		t.maxSeq = seq
	}
	t.last = now
}

// seqNewer reports whether RTP sequence number a comes after b (modulo
// 2^16, RFC 3550 A.1).
func seqNewer(a, b uint16) bool { return int16(a-b) > 0 }

// dtmfGap is now - t, or zero when the clock went backwards, so that a
// misbehaving clock reads as "no time passed" rather than a huge gap.
func dtmfGap(t, now time.Time) time.Duration {
	d := now.Sub(t)
	if d < 0 {
		return 0
	}
	return d
}
