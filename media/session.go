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

// ErrInactive is returned by Session.Run when no RTP arrived for the
// inactivity timeout: the far end is gone without a BYE.
var ErrInactive = errors.New("rtp: no media received within the inactivity timeout")

// maxPacket bounds what we read; larger datagrams are not G.711 RTP.
const maxPacket = 1500

// deadlineRefresh is how often the receive loop pushes the read deadline
// forward. Refreshing on every packet would cost a runtime call 50 times a
// second for nothing; a second of slack on a 30 s timeout is harmless.
const deadlineRefresh = time.Second

// Receiver gets what a session hears. Both methods run on the session's
// receive goroutine and must not block.
type Receiver interface {
	// OnDigit is called once per RFC 4733 key press.
	OnDigit(key byte)
	// OnAudio gets one packet's decoded audio with its RTP sequence number
	// and timestamp; pcm is reused after the call returns. A comfort-noise
	// packet (RFC 3389) comes as an empty pcm: it holds its place in the
	// sequence but has nothing to play.
	OnAudio(seq uint16, ts uint32, pcm []int16)
}

// SessionConfig describes one call's RTP session.
type SessionConfig struct {
	Conn   *net.UDPConn   // bound by PortRange.Listen
	Remote netip.AddrPort // address from the SDP offer
	Codec  Codec
	// DTMFPayloadType is the telephone-event payload type from the offer;
	// 0 means the offer had none (0 is PCMU, never telephone-event).
	DTMFPayloadType   uint8
	InactivityTimeout time.Duration
	Receiver          Receiver
}

// Session is one call's RTP stream, both ways. Run owns the receive side;
// the media clock goroutine owns the send side (WriteFrame); the signalling
// goroutine may change the remote address, codec and direction at any time.
type Session struct {
	conn     *net.UDPConn
	timeout  time.Duration
	receiver Receiver

	// Shared between goroutines.
	remote      atomic.Pointer[netip.AddrPort] // where we send
	relatch     atomic.Bool                    // forget the latched source (re-INVITE moved the far end)
	codecs      atomic.Uint32                  // codec | dtmfPT<<8
	sendEnabled atomic.Bool                    // false while the far end holds us (recvonly/inactive offer)
	peerSends   atomic.Bool                    // false while the far end said it won't send (timer off)

	// Send side, used only by the media clock goroutine.
	out      rtp.Packet
	outBuf   [maxPacket]byte
	seq      uint16
	ts       uint32
	ssrc     uint32
	marker   bool
	sentPkts atomic.Uint64

	// Receive side statistics (read by anyone).
	recvPkts    atomic.Uint64
	droppedPkts atomic.Uint64
}

// NewSession prepares a session; call Run to start receiving.
func NewSession(cfg SessionConfig) *Session {
	s := &Session{
		conn:     cfg.Conn,
		timeout:  cfg.InactivityTimeout,
		receiver: cfg.Receiver,
		seq:      uint16(rand.Uint32()),
		ts:       rand.Uint32(),
		ssrc:     rand.Uint32(),
		marker:   true,
	}
	s.SetRemote(cfg.Remote)
	s.SetCodec(cfg.Codec, cfg.DTMFPayloadType)
	s.sendEnabled.Store(true)
	s.peerSends.Store(true)
	return s
}

// LocalPort is the RTP port we listen on.
func (s *Session) LocalPort() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

// SetRemote points the stream at a new address (from a re-INVITE) and lets
// the receiver latch again, since the far end's source moves with it.
func (s *Session) SetRemote(addr netip.AddrPort) {
	s.remote.Store(&addr)
	s.relatch.Store(true)
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
// is no reason to hang up).
func (s *Session) SetDirection(send, peerSends bool) {
	s.sendEnabled.Store(send)
	s.peerSends.Store(peerSends)
	if peerSends {
		_ = s.conn.SetReadDeadline(time.Now().Add(s.timeout))
	} else {
		_ = s.conn.SetReadDeadline(time.Time{})
	}
}

// Stats is a snapshot of packet counters.
type Stats struct {
	Sent, Received, Dropped uint64
}

// Stats returns the packet counters.
func (s *Session) Stats() Stats {
	return Stats{Sent: s.sentPkts.Load(), Received: s.recvPkts.Load(), Dropped: s.droppedPkts.Load()}
}

// Close stops Run and releases the socket (not the port number: the owner
// of the PortRange does that).
func (s *Session) Close() error { return s.conn.Close() }

// Run receives until the session is closed (returns nil) or the far end is
// silent for the inactivity timeout (returns ErrInactive). Packets from any
// source other than the first valid one are dropped (symmetric RTP latching).
func (s *Session) Run() error {
	var (
		buf      [maxPacket]byte
		pkt      rtp.Packet
		pcm      [maxPacket]int16
		dtmf     DTMFReceiver
		latched  netip.AddrPort
		deadline time.Time
	)
	if s.timeout > 0 && s.peerSends.Load() {
		deadline = time.Now()
		_ = s.conn.SetReadDeadline(deadline.Add(s.timeout))
	}
	for {
		n, src, err := s.conn.ReadFromUDPAddrPort(buf[:])
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if !s.peerSends.Load() {
					// On hold: silence is expected. Clear the deadline, which a
					// refresh racing SetDirection may have set, or every read
					// would time out at once.
					_ = s.conn.SetReadDeadline(time.Time{})
					continue
				}
				return ErrInactive
			}
			return fmt.Errorf("rtp: read: %w", err)
		}
		now := time.Now()
		if err := pkt.Unmarshal(buf[:n]); err != nil || pkt.Version != 2 {
			s.droppedPkts.Add(1)
			continue
		}
		codecs := s.codecs.Load()
		audioPT, dtmfPT := uint8(codecs), uint8(codecs>>8)
		isAudio := pkt.PayloadType == audioPT
		isDTMF := dtmfPT != 0 && pkt.PayloadType == dtmfPT
		if !isAudio && !isDTMF && pkt.PayloadType != payloadTypeCN {
			s.droppedPkts.Add(1) // RTCP on a muxed port, other codecs, garbage
			continue
		}
		if s.relatch.Swap(false) {
			latched = netip.AddrPort{}
		}
		if !latched.IsValid() {
			latched = src
			to := src // a copy: the clock goroutine reads it while latched changes
			s.remote.Store(&to)
		} else if src != latched {
			s.droppedPkts.Add(1)
			continue
		}
		s.recvPkts.Add(1)
		if s.timeout > 0 && s.peerSends.Load() && now.Sub(deadline) > deadlineRefresh {
			deadline = now
			_ = s.conn.SetReadDeadline(now.Add(s.timeout))
		}
		switch {
		case isDTMF:
			if key, ok := dtmf.Receive(pkt.Marker, pkt.SequenceNumber, pkt.Timestamp, pkt.Payload, now); ok {
				s.receiver.OnDigit(key)
			}
		case isAudio:
			Codec(audioPT).Decode(pcm[:len(pkt.Payload)], pkt.Payload)
			s.receiver.OnAudio(pkt.SequenceNumber, pkt.Timestamp, pcm[:len(pkt.Payload)])
		default: // comfort noise
			s.receiver.OnAudio(pkt.SequenceNumber, pkt.Timestamp, pcm[:0])
		}
	}
}

// payloadTypeCN is RFC 3389 comfort noise: valid media, nothing to decode.
const payloadTypeCN = 13

// WriteFrame sends one 20 ms audio frame, already encoded in Codec(). It is
// called only from the media clock goroutine. While the far end holds us,
// the frame is not sent but time still advances, so the timestamp is right
// when sending resumes (with the marker bit, as after any silence).
func (s *Session) WriteFrame(payload []byte) error {
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
	if _, err := s.conn.WriteToUDPAddrPort(s.outBuf[:n], *s.remote.Load()); err != nil {
		return fmt.Errorf("rtp: send: %w", err)
	}
	s.sentPkts.Add(1)
	return nil
}
