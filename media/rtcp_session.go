package media

import (
	"encoding/hex"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// DefaultRTCPInterval is RFC 3550's minimum report interval (§6.2), which
// a two-party session at 64 kbit/s uses: every 5 s on average.
const DefaultRTCPInterval = 5 * time.Second

// rtcpReadEvery is how often, in ticks, the RTCP socket of a session
// without rtcp-mux is read: every half second (reports come every few
// seconds; the kernel stamps each one's arrival, so the round-trip time
// does not depend on when we read).
const rtcpReadEvery = 25

// rtcpSession is a session's RTCP (RFC 3550 §6): a compound report (SR or
// RR, SDES CNAME) every interval, randomised over 0.5-1.5 of it (§6.3.1),
// and the peer's reports read for the call's statistics. The fields are
// owned by the clock shard that reads the session unless they are atomic.
type rtcpSession struct {
	sock     *rtpSocket // the odd port above RTP; nil if none
	interval time.Duration
	onBye    func()
	cname    [cnameLen]byte

	// Set by signalling.
	mux     atomic.Bool                    // a=rtcp-mux agreed: RTCP goes on the RTP port
	remote  atomic.Pointer[netip.AddrPort] // the offer's a=rtcp; invalid: RTP port+1
	relatch atomic.Bool

	// Shard-owned.
	next     int64 // unix ns of the next report; 0: not scheduled yet
	ticks    int
	latched  netip.AddrPort // where the peer's RTCP comes from (without mux)
	lastSent uint64         // sentPkts at the last report: SR or RR
	lsr      uint32         // middle of the peer's last SR's NTP time
	lsrAt    int64          // unix ns when it arrived
	rx       rxStats
	// The longest silence between two of the peer's packets whose arrival
	// is known (gap), in timestamp units; it survives an SSRC restart.
	lastArrival uint32
	haveArrival bool
	maxGap      uint32
	published   uint32 // rx.received when the figures below were last stored
	buf         [rtcpMaxReport]byte
	sa          sockaddr // the send's address buffer (the RTP socket's is the player's)

	// Statistics, read by anyone.
	sent, received, byes, bad atomic.Uint64
	peerFraction              atomic.Uint32 // the peer's last report on our stream
	peerLost                  atomic.Int32
	peerJitter                atomic.Uint32
	rtt                       atomic.Int64  // ns; 0 until measured
	ourFraction               atomic.Uint32 // our last report on theirs
	ourLost                   atomic.Int32
	ourJitter                 atomic.Uint32
	peerBlocks                atomic.Uint64 // report blocks about our stream
	// Our running figures of the peer's stream, stored by the shard at
	// the tick after they change (publish): the call's record reads them.
	rxExpected, rxReceived atomic.Uint32
	rxJitter, rxMaxGap     atomic.Uint32
}

func (r *rtcpSession) init(sock *rtpSocket, interval time.Duration, remote netip.AddrPort, mux bool) {
	r.sock = sock
	r.interval = interval
	if r.interval == 0 {
		r.interval = DefaultRTCPInterval
	}
	var id [cnameLen / 2]byte
	for i := range id {
		id[i] = byte(rand.Uint32())
	}
	hex.Encode(r.cname[:], id[:])
	r.remote.Store(&remote)
	r.mux.Store(mux)
}

// SetRTCP applies the RTCP address and rtcp-mux of a new offer or answer:
// remote is the a=rtcp address (invalid: RTP port+1), mux whether both
// sides agreed on a=rtcp-mux. The RTCP source is latched again.
func (s *Session) SetRTCP(remote netip.AddrPort, mux bool) {
	s.rtcp.remote.Store(&remote)
	s.rtcp.mux.Store(mux)
	s.rtcp.relatch.Store(true)
}

// rtcpTick runs once per tick for the session, after its RTP read: it
// reads the RTCP socket every rtcpReadEvery ticks and sends a report when
// one is due.
func (s *Session) rtcpTick(now time.Time, b *recvBuffers) {
	r := &s.rtcp
	r.publish()
	if r.sock != nil {
		if r.ticks++; r.ticks >= rtcpReadEvery {
			r.ticks = 0
			s.readRTCP(now, b)
		}
	}
	ns := now.UnixNano()
	if r.next == 0 {
		r.next = ns + r.jittered()/2 // the first report comes sooner (§6.2)
		return
	}
	if ns >= r.next {
		r.next = ns + r.jittered()
		s.report(now, r.interval > 0)
	}
}

// jittered is the interval times a random factor in [0.5, 1.5). Without
// reports, the statistics of the peer's stream are still taken on the
// default interval.
func (r *rtcpSession) jittered() int64 {
	iv := r.interval
	if iv <= 0 {
		iv = DefaultRTCPInterval
	}
	return int64(float64(iv) * (0.5 + rand.Float64()))
}

// readRTCP empties the RTCP socket.
func (s *Session) readRTCP(now time.Time, b *recvBuffers) {
	for {
		n, err := s.rtcp.sock.read(b)
		for i := range n {
			if b.truncated[i] {
				s.rtcp.bad.Add(1)
				continue
			}
			// Without the kernel's stamp, the arrival is unknown: read every
			// half second, the tick's time would make the RTT up to 0.5 s long.
			var at time.Time
			if b.stamps[i] != 0 {
				at = time.Unix(0, b.stamps[i])
			}
			s.handleRTCP(now, at, b.data[i][:b.lens[i]], b.from[i], false)
		}
		if err != nil || n < recvBatch {
			return // a closed or broken socket: the RTP side finds out
		}
	}
}

// handleRTCP reads one compound packet from src (muxed: on the RTP port)
// that arrived at `at` (zero: unknown; now is the tick). It must pass RTP's
// rule (rtcpAllowed); the peer's reports update the statistics, and any
// RTCP but a BYE counts as a sign of life.
func (s *Session) handleRTCP(now, at time.Time, data []byte, src netip.AddrPort, muxed bool) {
	r := &s.rtcp
	if r.relatch.Swap(false) {
		r.latched = netip.AddrPort{}
	}
	if !s.rtcpAllowed(src, muxed) {
		return
	}
	info, err := parseRTCP(data, s.ssrc)
	if err != nil {
		r.bad.Add(1)
		return
	}
	if !muxed && !r.latched.IsValid() {
		r.latched = src // send our reports where theirs come from, as RTP latches
	}
	r.received.Add(1)
	if !info.Bye {
		// A BYE says the stream ended: no reason to think the peer is there.
		s.heard.Store(now.UnixNano())
	}
	if info.HasSR && !at.IsZero() {
		r.lsr = uint32(info.SRNTP >> 16)
		r.lsrAt = at.UnixNano()
	}
	if info.HasBlock {
		bl := &info.Block
		r.peerBlocks.Add(1)
		r.peerFraction.Store(uint32(bl.FractionLost))
		r.peerLost.Store(bl.CumulativeLost)
		r.peerJitter.Store(bl.Jitter)
		if bl.LSR != 0 && !at.IsZero() {
			// RFC 3550 §6.4.1: A - LSR - DLSR, in 1/65536 s.
			if rtt := int32(ntpMiddle(at) - bl.LSR - bl.DLSR); rtt >= 0 {
				r.rtt.Store(int64(ntpShortToDuration(uint32(rtt))))
			}
		}
	}
	if info.Bye && r.byes.Add(1) == 1 && r.onBye != nil {
		r.onBye()
	}
}

// rtcpAllowed applies RTP's latch rule to RTCP from src, counting what it
// refuses: the latch rule's addresses (foreign; on the RTP port handle has
// checked already) or the offer's a=rtcp address, and once latched only the
// latched source: the peer's RTCP source on the odd port, its RTP source on
// the RTP port. Ports count there, as for RTP, so another phone behind the
// same NAT address cannot report or say BYE for this one.
func (s *Session) rtcpAllowed(src netip.AddrPort, muxed bool) bool {
	r := &s.rtcp
	if muxed {
		if s.latched.IsValid() && !s.relatch.Load() && src != s.latched {
			r.bad.Add(1)
			return false
		}
		return true
	}
	if s.foreign(src) {
		if cfg := *r.remote.Load(); !cfg.IsValid() || src.Addr().Unmap() != cfg.Addr().Unmap() {
			s.foreignPkts.Add(1)
			return false
		}
	}
	if r.latched.IsValid() && src != r.latched {
		r.bad.Add(1)
		return false
	}
	return true
}

// report takes the statistics of the peer's stream for the interval and,
// if send, sends our compound report: an SR if we sent RTP since the last
// one, else an RR; a report block once the peer's RTP has arrived.
func (s *Session) report(now time.Time, send bool) {
	r := &s.rtcp
	sent := s.sentPkts.Load()
	si := senderInfo{sendsAudio: sent != r.lastSent}
	r.lastSent = sent
	if si.sendsAudio {
		si.NTP = ntpTime(now)
		si.RTPTime = s.sendTS.Load()
		si.Packets = uint32(sent)
		si.Octets = uint32(s.sentOctets.Load())
	}
	var block *ReportBlock
	var rb ReportBlock
	if r.rx.started {
		rb = r.rx.block()
		if r.lsrAt != 0 {
			rb.LSR = r.lsr
			rb.DLSR = durationToNTPShort(time.Duration(now.UnixNano() - r.lsrAt))
		}
		block = &rb
		r.ourFraction.Store(uint32(rb.FractionLost))
		r.ourLost.Store(rb.CumulativeLost)
		r.ourJitter.Store(rb.Jitter)
	}
	if !send {
		return
	}
	n := buildReport(r.buf[:], s.ssrc, &si, block, &r.cname)

	sock, to := s.sock, s.Remote()
	if !r.mux.Load() {
		if r.sock == nil {
			return
		}
		sock = r.sock
		switch {
		case r.latched.IsValid():
			to = r.latched
		case r.remote.Load().IsValid():
			to = *r.remote.Load()
		default:
			to = netip.AddrPortFrom(to.Addr(), to.Port()+1)
		}
	}
	if !to.IsValid() || to.Port() == 0 || to.Addr().IsUnspecified() {
		return // on hold the old way (c=0.0.0.0): nowhere to send
	}
	if sock.writeWith(r.buf[:n], to, &r.sa) == nil {
		r.sent.Add(1)
	}
}

// newRTCPSocket takes over the RTCP connection (nil: none).
func newRTCPSocket(conn *net.UDPConn) (*rtpSocket, error) {
	if conn == nil {
		return nil, nil
	}
	return newRTPSocket(conn)
}

// arrival is when the datagram being handled arrived: the kernel's stamp,
// else the tick (read each tick, 20 ms at worst).
func (b *recvBuffers) arrivalTime(now time.Time) time.Time {
	if b.arrival != 0 {
		return time.Unix(0, b.arrival)
	}
	return now
}

// countRTP feeds one accepted RTP packet to the receive statistics of the
// peer's stream (RFC 3550 A.1, A.8). Events carry their first packet's
// timestamp, so they count but do not move the jitter; without arrival
// stamps, neither does a session read every few ticks (a batch would look
// like jitter).
func (s *Session) countRTP(pkt *rtp.Packet, isDTMF bool, now time.Time, b *recvBuffers) {
	timed := b.arrival != 0 || s.readEvery.Load() <= 1
	arrival := arrivalUnits(b.arrivalTime(now))
	s.rtcp.rx.update(pkt.SSRC, pkt.SequenceNumber, pkt.Timestamp, arrival, !isDTMF && timed)
	s.rtcp.gap(arrival, timed)
}

// gap keeps the longest time between two packets whose arrival is known
// (events count: they are packets on the wire); a batch read late breaks
// the chain rather than counting as a gap.
func (r *rtcpSession) gap(arrival uint32, timed bool) {
	if !timed {
		r.haveArrival = false
		return
	}
	if r.haveArrival {
		if d := arrival - r.lastArrival; d > r.maxGap && d < 1<<31 {
			r.maxGap = d
		}
	}
	r.lastArrival, r.haveArrival = arrival, true
}

// publish stores the running figures of the peer's stream for readers
// (Stats), once per tick and only when a packet came: a few atomic stores.
func (r *rtcpSession) publish() {
	if !r.rx.started || r.rx.received == r.published {
		return
	}
	r.published = r.rx.received
	r.rxExpected.Store(r.rx.cycles + uint32(r.rx.maxSeq) - r.rx.baseSeq + 1)
	r.rxReceived.Store(r.rx.received)
	r.rxJitter.Store(r.rx.jitter >> 4)
	r.rxMaxGap.Store(r.maxGap)
}

// closeRTCP closes the RTCP socket, if any.
func (s *Session) closeRTCP() {
	if s.rtcp.sock != nil {
		s.rtcp.sock.Close()
	}
}
