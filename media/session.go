package media

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// ErrInactive is what a session reports through OnFailure when no RTP
// arrived for the inactivity timeout: the far end is gone without a BYE.
var ErrInactive = errors.New("rtp: no media received within the inactivity timeout")

// maxPacket bounds what we read; larger datagrams are not G.711 RTP.
const maxPacket = 1500

// maxSend bounds what we send: the RTP header and a frame of up to 80 ms
// (we send 20 ms frames). Every call holds one such buffer, so it is sized
// for what is sent, not for what might arrive.
const maxSend = 12 + 4*FrameBytes

// SessionConfig describes one call's RTP session.
type SessionConfig struct {
	Conn   *net.UDPConn   // bound by PortRange.Listen
	Remote netip.AddrPort // address from the SDP offer
	Codec  Codec
	// DTMFPayloadType is the telephone-event payload type from the offer;
	// 0 means the offer had none (0 is PCMU, never telephone-event).
	DTMFPayloadType   uint8
	InactivityTimeout time.Duration
	// OnDigit gets each RFC 4733 key press. OnInbandDigit, when set, runs
	// the in-band DTMF detector over the caller's audio and gets each key
	// it hears. Both run on the media clock goroutine that reads the
	// session's socket and must not block.
	OnDigit, OnInbandDigit func(key byte)
	// OnFailure is called once, from the media clock, when the session can
	// receive no more: ErrInactive after the inactivity timeout, or a socket
	// error. The call should hang up.
	OnFailure func(error)

	// Latch says whose RTP the session takes (see LatchRule); SignallingIP
	// is the address the INVITE came from, for LatchSignalling.
	Latch        LatchRule
	SignallingIP netip.Addr
	// RTCP (rtcp_session.go). RTCPConn is the odd port above Conn
	// (PortRange.ListenPair), taken over like Conn; nil: RTCP only muxed.
	// RTCPRemote is the offer's a=rtcp address (zero: Remote's port + 1),
	// RTCPMux whether both sides agreed on a=rtcp-mux (RFC 5761).
	// RTCPInterval is the mean report interval: 0 is DefaultRTCPInterval,
	// negative sends no reports (the peer's are still read). OnRTCPBye, if
	// set, is called once, from the media clock, on the peer's first RTCP
	// BYE (its stream ended; the call's SIP side decides what that means).
	RTCPConn     *net.UDPConn
	RTCPRemote   netip.AddrPort
	RTCPMux      bool
	RTCPInterval time.Duration
	OnRTCPBye    func()
	// Totals, when set, counts the session's packets into the bridge-wide
	// media counters too (Clock.Totals), for metrics.
	Totals *Totals
}

// Session is one call's RTP stream, both ways. There is no goroutine per
// session: a media clock shard reads every session's socket once per tick
// (Clock.AddSession) and routes what it hears itself: keys to the
// callbacks, audio to the in-band detector and, in a meeting, through a
// Reframer into the participant's jitter buffer (SetAudioInput). The
// session's Player sends (writeFrame), on the clock goroutine that feeds
// the call. The signalling goroutine may change the remote address, codec
// and direction at any time.
type Session struct {
	sock      *rtpSocket
	port      int
	timeout   time.Duration
	onFailure func(error)
	totals    *Totals // nil: counted in the session only

	// Shared between goroutines.
	remote      atomic.Pointer[netip.AddrPort] // where we send
	relatch     atomic.Bool                    // forget the latched source (re-INVITE moved the far end)
	codecs      atomic.Uint32                  // codec | dtmfPT<<8
	sendEnabled atomic.Bool                    // false while the far end holds us (recvonly/inactive offer)
	peerSends   atomic.Bool                    // false while the far end said it won't send (timer off)
	heard       atomic.Int64                   // unix ns of the last packet (or of the timer's last restart)
	readEvery   atomic.Int32                   // read the socket every n ticks (0, 1: every tick)
	audioIn     atomic.Pointer[JitterBuffer]   // where the caller's audio goes; nil: nobody listens

	// Receive side, used only by the clock shard that reads the session.
	latched netip.AddrPort
	dtmf    DTMFReceiver
	failed  bool
	skipped int32 // ticks not read since the last read
	quiet   bool  // the last read found nothing: poll before reading again

	// Audio routing, on the clock shard that reads the session.
	reframer Reframer
	inband   *InbandDetector // nil unless OnInbandDigit is set
	onDigit  func(key byte)
	onInband func(key byte)

	// Send side, used only by the media clock goroutine.
	out      rtp.Packet
	outBuf   [maxSend]byte
	seq      uint16
	ts       uint32
	ssrc     uint32
	marker   bool
	sentPkts atomic.Uint64

	// Receive side statistics (read by anyone).
	recvPkts    atomic.Uint64
	droppedPkts atomic.Uint64

	// The latch rule (latch.go): set at creation; allowed is replaced by
	// the signalling goroutine (SetRemote) and read per packet.
	latchRule    LatchRule
	signallingIP netip.Addr
	allowed      atomic.Pointer[latchAllow]
	foreignPkts  atomic.Uint64
	// RTCP: the reports and what they say (rtcp_session.go); the writer
	// keeps the octet count and timestamp an SR needs.
	rtcp       rtcpSession
	sentOctets atomic.Uint64
	sendTS     atomic.Uint32 // timestamp of the next frame
}

// NewSession prepares a session; add it to a Clock (AddSession) to start
// receiving. It takes over cfg.Conn (see rtpSocket): close the session,
// not the connection.
func NewSession(cfg SessionConfig) (*Session, error) {
	port := cfg.Conn.LocalAddr().(*net.UDPAddr).Port
	sock, err := newRTPSocket(cfg.Conn)
	if err != nil {
		if cfg.RTCPConn != nil {
			cfg.RTCPConn.Close()
		}
		return nil, err
	}
	rtcpSock, err := newRTCPSocket(cfg.RTCPConn)
	if err != nil {
		sock.Close()
		return nil, err
	}
	s := &Session{
		sock:      sock,
		port:      port,
		timeout:   cfg.InactivityTimeout,
		onFailure: cfg.OnFailure,
		totals:    cfg.Totals,
		onDigit:   cfg.OnDigit,
		onInband:  cfg.OnInbandDigit,
		seq:       uint16(rand.Uint32()),
		ts:        rand.Uint32(),
		ssrc:      rand.Uint32(),
		marker:    true,

		latchRule:    cfg.Latch,
		signallingIP: cfg.SignallingIP.Unmap(),
	}
	if s.onInband != nil {
		s.inband = new(InbandDetector)
	}
	s.rtcp.init(rtcpSock, cfg.RTCPInterval, cfg.RTCPRemote, cfg.RTCPMux)
	s.rtcp.onBye = cfg.OnRTCPBye
	s.sendTS.Store(s.ts)
	s.SetRemote(cfg.Remote)
	s.SetCodec(cfg.Codec, cfg.DTMFPayloadType)
	s.sendEnabled.Store(true)
	s.peerSends.Store(true)
	s.heard.Store(time.Now().UnixNano())
	return s, nil
}

// LocalPort is the RTP port we listen on.
func (s *Session) LocalPort() int { return s.port }

// SetRemote points the stream at a new address (from a re-INVITE) and lets
// the receiver latch again, since the far end's source moves with it; the
// latch rule then allows the new address.
func (s *Session) SetRemote(addr netip.AddrPort) {
	s.applyLatch(addr)
	s.remote.Store(&addr)
	s.relatch.Store(true)
	s.rtcp.relatch.Store(true)
}

// Remote is where packets are being sent: the latched source once media
// arrived, the SDP address before.
func (s *Session) Remote() netip.AddrPort { return *s.remote.Load() }

// SetCodec changes the audio codec and telephone-event payload type.
func (s *Session) SetCodec(c Codec, dtmfPT uint8) {
	s.codecs.Store(uint32(c) | uint32(dtmfPT)<<8)
}

// Codec is the audio codec in use.
func (s *Session) Codec() Codec { return Codec(s.codecs.Load() & 0xFF) }

// SetDirection applies the negotiated direction: send is false while the far
// end holds us, peerSends is false while it will send nothing (so silence
// is no reason to hang up). The inactivity timer starts again either way.
func (s *Session) SetDirection(send, peerSends bool) {
	s.sendEnabled.Store(send)
	s.heard.Store(time.Now().UnixNano())
	s.peerSends.Store(peerSends)
}

// LastHeard is when the far end was last heard from on the media path: its
// last valid RTP packet (comfort noise and keys included) or RTCP packet,
// or the last direction change, which restarts the count. The SIP side
// reads it to decide whether to probe a silent peer.
func (s *Session) LastHeard() time.Time { return time.Unix(0, s.heard.Load()) }

// PeerSends reports whether the far end said it sends media (SetDirection):
// false while its SDP was recvonly or inactive.
func (s *Session) PeerSends() bool { return s.peerSends.Load() }

// SetAudioInput sends the caller's audio to in (a meeting's jitter buffer
// for this participant) from the next packet on; nil stops it.
func (s *Session) SetAudioInput(in *JitterBuffer) { s.audioIn.Store(in) }

// waitingReadEvery is how often a waiting caller's RTP is read: every
// fifth tick, five packets a read (see SetWaiting).
const waitingReadEvery = 5

// SetWaiting tells the session that the caller is only waiting (the
// lobby): nobody hears their audio and no key is read, so their RTP is read
// every fifth tick, which saves four reads in five. Off again, every tick.
func (s *Session) SetWaiting(on bool) {
	if on {
		s.setReadEvery(waitingReadEvery)
	} else {
		s.setReadEvery(1)
	}
}

// setReadEvery reads the socket every n ticks instead of every tick (n ≤ 1:
// every tick): one read then takes n packets, and keys and the inactivity
// timer are served at most n-1 ticks late.
func (s *Session) setReadEvery(n int) { s.readEvery.Store(int32(min(max(n, 1), 50))) }

// Close releases the socket (not the port number: the owner of the
// PortRange does that). Remove the session from its clock first; a read or
// send under way finishes first, one after Close finds the socket closed
// and does nothing.
func (s *Session) Close() error { s.closeRTCP(); return s.sock.Close() }

// receive reads everything that arrived since the last tick and routes
// it, then checks the inactivity timer. The clock shard that
// owns the session calls it once per tick with its own buffers; readable
// says whether the shard's poll saw a datagram waiting.
func (s *Session) receive(now time.Time, b *recvBuffers, readable bool) {
	if s.failed {
		return
	}
	if readable && s.readDue() {
		s.read(now, b)
	}
	s.rtcpTick(now, b)
	if !s.failed && s.timeout > 0 && s.peerSends.Load() && now.UnixNano()-s.heard.Load() > int64(s.timeout) {
		s.fail(ErrInactive)
	}
}

// readDue counts the ticks of a session read every few ticks (SetWaiting).
func (s *Session) readDue() bool {
	every := s.readEvery.Load()
	if every <= 1 {
		return true
	}
	if s.skipped++; s.skipped < every {
		return false // the packets wait in the socket's buffer
	}
	s.skipped = 0
	return true
}

// read empties the socket, batch by batch.
func (s *Session) read(now time.Time, b *recvBuffers) {
	s.quiet = true
	for {
		n, err := s.sock.read(b)
		if n > 0 {
			s.quiet = false
		}
		for i := range n {
			if b.truncated[i] {
				s.drop() // bigger than any G.711 packet
				continue
			}
			b.arrival = b.stamps[i]
			s.handle(now, b.data[i][:b.lens[i]], b.from[i], b)
		}
		if errors.Is(err, net.ErrClosed) {
			return // hung up: the clock drops the session soon
		}
		if err != nil {
			s.fail(fmt.Errorf("rtp: read: %w", err))
			return
		}
		if n < recvBatch {
			return // the socket is empty
		}
	}
}

func (s *Session) fail(err error) {
	s.failed = true
	if s.onFailure != nil {
		s.onFailure(err)
	}
}

// handle checks one datagram and routes its key or audio. Packets from
// addresses the latch rule refuses are dropped unread; of the others, the
// first valid one latches and packets from any other source are dropped
// (symmetric RTP latching).
func (s *Session) handle(now time.Time, data []byte, src netip.AddrPort, b *recvBuffers) {
	if s.foreign(src) {
		s.foreignPkts.Add(1)
		if s.totals != nil {
			s.totals.foreign.Add(1)
		}
		return
	}
	if isRTCP(data) {
		s.handleRTCP(now, b.arrivalTime(now), data, src, true) // rtcp-mux (RFC 5761)
		return
	}
	pkt := &b.pkt
	if err := pkt.Unmarshal(data); err != nil || pkt.Version != 2 {
		s.drop()
		return
	}
	codecs := s.codecs.Load()
	audioPT, dtmfPT := uint8(codecs), uint8(codecs>>8)
	isAudio := pkt.PayloadType == audioPT
	isDTMF := dtmfPT != 0 && pkt.PayloadType == dtmfPT
	if !isAudio && !isDTMF && pkt.PayloadType != payloadTypeCN {
		s.drop() // other codecs, garbage
		return
	}
	if s.relatch.Swap(false) {
		s.latched = netip.AddrPort{}
	}
	if !s.latched.IsValid() {
		s.latched = src
		to := src // a copy: the sending goroutine reads it while latched changes
		s.remote.Store(&to)
	} else if src != s.latched {
		s.drop()
		return
	}
	s.recvPkts.Add(1)
	if s.totals != nil {
		s.totals.received.Add(1)
	}
	s.heard.Store(now.UnixNano())
	s.countRTP(pkt, isDTMF, now, b)
	switch {
	case isDTMF:
		if key, ok := s.dtmf.Receive(pkt.Marker, pkt.SequenceNumber, pkt.Timestamp, pkt.Payload, now); ok && s.onDigit != nil {
			s.onDigit(key)
		}
	case isAudio:
		pcm := b.pcm[:len(pkt.Payload)]
		Codec(audioPT).Decode(pcm, pkt.Payload)
		s.route(pkt.SequenceNumber, pkt.Timestamp, pcm)
	default: // comfort noise: it holds its place in the sequence, nothing to play
		s.route(pkt.SequenceNumber, pkt.Timestamp, b.pcm[:0])
	}
}

// route hands one packet's decoded audio (pcm is reused after it returns)
// to the in-band detector when it runs, and in a meeting through the
// reframer to the participant's jitter buffer.
func (s *Session) route(seq uint16, ts uint32, pcm []int16) {
	if s.inband != nil && len(pcm) > 0 {
		s.inband.Feed(pcm, s.onInband)
	}
	if in := s.audioIn.Load(); in != nil {
		s.reframer.Push(in, seq, ts, pcm)
	}
}

// payloadTypeCN is RFC 3389 comfort noise: valid media, nothing to decode.
const payloadTypeCN = 13

// writeFrame sends one 20 ms audio frame, already encoded in Codec(). Only
// the session's Player calls it, under its lock, so prompts and the feed
// never interleave their sequence numbers; it runs on a media clock
// goroutine. While the far end holds us,
// the frame is not sent but time still advances, so the timestamp is right
// when sending resumes (with the marker bit, as after any silence).
func (s *Session) writeFrame(payload []byte) error {
	if !s.sendEnabled.Load() {
		s.ts += uint32(len(payload))
		s.marker = true
		return nil
	}
	s.out.Header = rtp.Header{
		Version:        2,
		Marker:         s.marker,
		PayloadType:    uint8(s.codecs.Load()),
		SequenceNumber: s.seq,
		Timestamp:      s.ts,
		SSRC:           s.ssrc,
	}
	s.out.Payload = payload
	n, err := s.out.MarshalTo(s.outBuf[:])
	if err != nil {
		return fmt.Errorf("rtp: marshal: %w", err)
	}
	s.seq++
	s.ts += uint32(len(payload))
	s.marker = false
	s.sendTS.Store(s.ts)
	if err := s.sock.writeTo(s.outBuf[:n], *s.remote.Load()); err != nil {
		return fmt.Errorf("rtp: send: %w", err)
	}
	s.sentPkts.Add(1)
	if s.totals != nil {
		s.totals.sent.Add(1)
	}
	s.sentOctets.Add(uint64(len(payload)))
	return nil
}

// drop counts a packet from an allowed address that was of no use.
func (s *Session) drop() {
	s.droppedPkts.Add(1)
	if s.totals != nil {
		s.totals.dropped.Add(1)
	}
}
