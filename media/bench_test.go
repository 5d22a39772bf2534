package media

import (
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// BenchmarkReceivePacket is the per-packet receive cost: RTP unmarshal into
// a reused packet, then G.711 decode into a reused frame.
func BenchmarkReceivePacket(b *testing.B) {
	for _, c := range []Codec{PCMU, PCMA} {
		b.Run(c.String(), func(b *testing.B) {
			payload := make([]byte, FrameBytes)
			for i := range payload {
				payload[i] = byte(i)
			}
			raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: c.PayloadType(), SequenceNumber: 1, Timestamp: 160, SSRC: 9}, Payload: payload}).Marshal()
			var (
				pkt rtp.Packet
				pcm [FrameSamples]int16
			)
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if err := pkt.Unmarshal(raw); err != nil {
					b.Fatal(err)
				}
				c.Decode(pcm[:], pkt.Payload)
			}
		})
	}
}

// BenchmarkSendPacket is the per-packet send cost: G.711 encode, then RTP
// marshal into a reused buffer.
func BenchmarkSendPacket(b *testing.B) {
	for _, c := range []Codec{PCMU, PCMA} {
		b.Run(c.String(), func(b *testing.B) {
			var (
				pcm     [FrameSamples]int16
				payload [FrameBytes]byte
				out     [maxPacket]byte
				pkt     rtp.Packet
			)
			for i := range pcm {
				pcm[i] = int16(i * 200)
			}
			b.ReportAllocs()
			seq := uint16(0)
			for b.Loop() {
				c.Encode(payload[:], pcm[:])
				pkt.Header = rtp.Header{Version: 2, PayloadType: c.PayloadType(), SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 9}
				pkt.Payload = payload[:]
				if _, err := pkt.MarshalTo(out[:]); err != nil {
					b.Fatal(err)
				}
				seq++
			}
		})
	}
}

// BenchmarkSessionWriteFrame is the session's writeFrame with its UDP send to a
// loopback socket: what the media clock pays per call per tick.
func BenchmarkSessionWriteFrame(b *testing.B) {
	conn, sink := loopbackPair(b)
	s, err := NewSession(SessionConfig{Conn: conn, Remote: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: PCMU})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	frame := SilenceFrame(PCMU)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.writeFrame(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlayerTick is one clock tick of a call playing a prompt.
func BenchmarkPlayerTick(b *testing.B) {
	conn, sink := loopbackPair(b)
	s, err := NewSession(SessionConfig{Conn: conn, Remote: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: PCMA})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p := NewPlayer(s)
	prompt := NewPrompt("bench", make([]int16, 1000*FrameSamples))
	p.Play(prompt)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%900 == 0 {
			b.StopTimer()
			p.Play(prompt)
			b.StartTimer()
		}
		p.Tick()
	}
}

// loopbackPair is a sending socket and a sink to send to, closed with b.
func loopbackPair(b *testing.B) (conn, sink *net.UDPConn) {
	b.Helper()
	for _, c := range []**net.UDPConn{&conn, &sink} {
		var err error
		if *c, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { (*c).Close() })
	}
	return conn, sink
}

// BenchmarkPlayerWriteFrame is one frame of a feed (the mix, the lobby's
// music) passed through the player to the session: the player's lock on
// top of the session's writeFrame.
func BenchmarkPlayerWriteFrame(b *testing.B) {
	conn, sink := loopbackPair(b)
	s, err := NewSession(SessionConfig{Conn: conn, Remote: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: PCMU})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p := NewPlayer(s)
	p.SetFeed(true)
	frame := SilenceFrame(PCMU)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.WriteFrame(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReframeToJitter is a received 20 ms frame on its way into a
// meeting: through the reframer into the participant's jitter buffer, and
// out on the mixer's tick.
func BenchmarkReframeToJitter(b *testing.B) {
	var r Reframer
	j := NewJitterBuffer(3)
	pcm := make([]int16, FrameSamples)
	out := make([]int16, FrameSamples)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Push(j, uint16(i), uint32(i*FrameSamples), pcm)
		j.Pop(out)
	}
}

// BenchmarkSessionReceive is one tick's read of a call's socket with one
// packet waiting: the recvmmsg, the checks, the decode and the routing
// (no audio input: a caller in the IVR).
func BenchmarkSessionReceive(b *testing.B) { benchSessionReceive(b, nil) }

// BenchmarkSessionReceiveInMeeting is the same with the audio routed on
// through the reframer into a participant's jitter buffer, popped as the
// mixer would.
func BenchmarkSessionReceiveInMeeting(b *testing.B) { benchSessionReceive(b, NewJitterBuffer(3)) }

func benchSessionReceive(b *testing.B, in *JitterBuffer) {
	ports, err := NewPortRange(31000, 31100)
	if err != nil {
		b.Fatal(err)
	}
	pair, err := ports.ListenPair(loopback)
	if err != nil {
		b.Fatal(err)
	}
	conn := pair.RTP
	defer ports.Release(pair.Port)
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer peer.Close()
	s, err := NewSession(SessionConfig{Conn: conn, RTCPConn: pair.RTCP, Remote: peer.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: PCMU})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.SetAudioInput(in)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 7}, Payload: make([]byte, FrameBytes)}
	buf := make([]byte, 12+FrameBytes)
	out := make([]int16, FrameSamples)
	to := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	rb := newRecvBuffers()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		pkt.SequenceNumber = uint16(i)
		pkt.Timestamp = uint32(i * FrameSamples)
		n, _ := pkt.MarshalTo(buf)
		if _, err := peer.WriteToUDPAddrPort(buf[:n], to); err != nil {
			b.Fatal(err)
		}
		s.receive(time.Now(), rb, true)
		if in != nil {
			in.Pop(out)
		}
	}
	b.StopTimer()
	if st := s.Stats(); st.Received < uint64(b.N)*9/10 {
		b.Fatalf("received %d of %d", st.Received, b.N)
	}
}
