package media

import "time"

// Stats is a snapshot of a session's packet counters and of its RTCP
// figures: the peer's reports on our stream and ours on theirs.
type Stats struct {
	Sent, Received, Dropped uint64
	// DroppedForeign counts what the latch rule refused (latch.go), RTP
	// and RTCP; Dropped what came from an allowed address but was no use.
	DroppedForeign uint64

	RTCPSent, RTCPReceived uint64
	RTCPDropped            uint64 // malformed, or from another source than the latched one
	RTCPBye                uint64 // BYE packets: the peer says it ended its stream

	// The peer's last report on our stream: fraction lost (0-255 = 0-100 %),
	// packets lost in all, jitter in timestamp units (1/8000 s), and the
	// round-trip time from its LSR/DLSR (0 until measured).
	PeerFractionLost   uint8
	PeerCumulativeLost int32
	PeerJitter         uint32
	RTT                time.Duration

	// Our last report on the peer's stream, the same figures.
	FractionLost   uint8
	CumulativeLost int32
	Jitter         uint32

	// PeerReports counts the peer's report blocks about our stream: 0
	// means the Peer figures above were never measured.
	PeerReports uint64

	// Our running figures of the peer's stream (RFC 3550 A.3, A.8), as of
	// the last tick a packet came, for the call's record: packets expected
	// (highest sequence number less the first, plus one) and received of
	// the current source, the interarrival jitter in timestamp units, and
	// the longest time between two packets (MaxGap; silence on hold too).
	RecvExpected, RecvReceived uint32
	RecvJitter                 uint32
	MaxGap                     time.Duration
}

// RecvLost is how many of the peer's packets never came (negative with
// duplicates), from the running figures.
func (st Stats) RecvLost() int64 { return int64(st.RecvExpected) - int64(st.RecvReceived) }

// Stats returns the packet counters and RTCP figures.
func (s *Session) Stats() Stats {
	r := &s.rtcp
	return Stats{
		Sent: s.sentPkts.Load(), Received: s.recvPkts.Load(), Dropped: s.droppedPkts.Load(),
		DroppedForeign: s.foreignPkts.Load(),

		RTCPSent: r.sent.Load(), RTCPReceived: r.received.Load(), RTCPDropped: r.bad.Load(), RTCPBye: r.byes.Load(),

		PeerFractionLost:   uint8(r.peerFraction.Load()),
		PeerCumulativeLost: r.peerLost.Load(),
		PeerJitter:         r.peerJitter.Load(),
		RTT:                time.Duration(r.rtt.Load()),

		FractionLost:   uint8(r.ourFraction.Load()),
		CumulativeLost: r.ourLost.Load(),
		Jitter:         r.ourJitter.Load(),

		PeerReports: r.peerBlocks.Load(),

		RecvExpected: r.rxExpected.Load(), RecvReceived: r.rxReceived.Load(),
		RecvJitter: r.rxJitter.Load(),
		MaxGap:     time.Duration(r.rxMaxGap.Load()) * time.Second / SampleRate,
	}
}

// FractionPercent turns an RTCP fraction lost (of 256) into a percentage.
func FractionPercent(f uint8) float64 { return float64(f) * 100 / 256 }
