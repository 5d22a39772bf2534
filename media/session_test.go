package media

import (
	"context"
	"errors"
	"math"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// recorder keeps what a session hears: the keys its OnDigit gets, and the
// audio its own routing delivers to the jitter buffer set as its input.
type recorder struct {
	mu    sync.Mutex
	keys  []byte
	audio *JitterBuffer
}

func (r *recorder) onDigit(key byte) {
	r.mu.Lock()
	r.keys = append(r.keys, key)
	r.mu.Unlock()
}

// snapshot is the keys so far and the 20 ms frames routed to the input.
func (r *recorder) snapshot() (keys string, frames int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.keys), int(r.audio.Stats().Received)
}

// newTestSession binds a session on a port from a fresh range and a peer
// socket that plays the far end. What the session reports through
// OnFailure arrives on failed.
func newTestSession(t *testing.T, timeout time.Duration) (s *Session, rec *recorder, peer *net.UDPConn, failed <-chan error) {
	t.Helper()
	return newTestSessionWith(t, timeout, nil)
}

// newTestSessionWith is newTestSession with the config changed by mutate.
func newTestSessionWith(t *testing.T, timeout time.Duration, mutate func(*SessionConfig)) (s *Session, rec *recorder, peer *net.UDPConn, failed <-chan error) {
	t.Helper()
	ports, err := NewPortRange(30000, 30100)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ports.ListenPair(loopback)
	if err != nil {
		t.Fatal(err)
	}
	conn, port := pair.RTP, pair.Port
	peer, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	rec = &recorder{audio: NewJitterBuffer(1)}
	failures := make(chan error, 1)
	cfg := SessionConfig{
		Conn:              conn,
		RTCPConn:          pair.RTCP,
		Remote:            peer.LocalAddr().(*net.UDPAddr).AddrPort(),
		Codec:             PCMU,
		DTMFPayloadType:   101,
		InactivityTimeout: timeout,
		OnDigit:           rec.onDigit,
		OnFailure:         func(err error) { failures <- err },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err = NewSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.SetAudioInput(rec.audio)
	t.Cleanup(func() {
		s.Close()
		peer.Close()
		ports.Release(port)
	})
	return s, rec, peer, failures
}

// readOnClock reads s on a clock of its own until the test ends.
func readOnClock(t *testing.T, s *Session) *Clock {
	t.Helper()
	clock := NewClock(1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { clock.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	clock.AddSession(s, nil)
	return clock
}

func sendRTP(t *testing.T, from *net.UDPConn, to int, pt uint8, seq uint16, ts uint32, marker bool, payload []byte) {
	t.Helper()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: 7, Marker: marker}, Payload: payload}
	b, err := pkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := from.WriteToUDP(b, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: to}); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSessionLatchesToFirstSource(t *testing.T) {
	s, rec, peer, failed := newTestSession(t, 5*time.Second)
	clock := readOnClock(t, s)

	// The far end sends from a different port than its SDP said (NAT).
	nat, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer nat.Close()
	frame := make([]byte, FrameBytes)
	sendRTP(t, nat, s.LocalPort(), 0, 1, 160, true, frame)
	waitFor(t, "first frame", func() bool { _, n := rec.snapshot(); return n == 1 })
	if got, want := s.Remote(), nat.LocalAddr().(*net.UDPAddr).AddrPort(); got != want {
		t.Fatalf("after latching, sending to %v, want %v", got, want)
	}
	// Packets from anyone else — even the SDP address — are dropped.
	sendRTP(t, peer, s.LocalPort(), 0, 2, 320, false, frame)
	sendRTP(t, nat, s.LocalPort(), 0, 3, 480, false, frame)
	waitFor(t, "second frame from the latched source", func() bool { _, n := rec.snapshot(); return n == 2 })
	if st := s.Stats(); st.Dropped != 1 || st.Received != 2 {
		t.Fatalf("stats %+v, want 1 dropped 2 received", st)
	}
	// Garbage, RTCP-like and unknown payload types are dropped, never fatal.
	nat.WriteToUDP([]byte{0x80}, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.LocalPort()})
	nat.WriteToUDP([]byte("hello, this is not RTP at all"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.LocalPort()})
	sendRTP(t, nat, s.LocalPort(), 18, 4, 640, false, frame)
	waitFor(t, "drops counted", func() bool { return s.Stats().Dropped == 4 })

	// A re-INVITE that moves the far end lets the session latch again.
	s.SetRemote(peer.LocalAddr().(*net.UDPAddr).AddrPort())
	sendRTP(t, peer, s.LocalPort(), 0, 5, 800, false, frame)
	waitFor(t, "frame after relatch", func() bool { _, n := rec.snapshot(); return n == 3 })

	// A hang-up closes the session while the clock may still read it: that
	// is no failure.
	s.Close()
	select {
	case err := <-failed:
		t.Fatalf("closed session reported %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	clock.RemoveSession(s, nil)
	if n := clock.Sessions(); n != 0 {
		t.Fatalf("clock reads %d sessions after RemoveSession, want 0", n)
	}
}

func TestSessionDeliversDigitsAndDecodes(t *testing.T) {
	s, rec, peer, _ := newTestSession(t, 5*time.Second)
	readOnClock(t, s)
	var ev [4]byte
	for i, key := range []byte("19#") {
		code, _ := EventForDigit(key)
		ts := uint32(1000 * (i + 1))
		for d := range 3 {
			DTMFEvent{Event: code, Duration: uint16(160 * (d + 1))}.MarshalTo(ev[:])
			sendRTP(t, peer, s.LocalPort(), 101, uint16(10*i+d), ts, d == 0, ev[:])
		}
		for range 3 {
			DTMFEvent{Event: code, End: true, Duration: 640}.MarshalTo(ev[:])
			sendRTP(t, peer, s.LocalPort(), 101, uint16(10*i+5), ts, false, ev[:])
		}
	}
	waitFor(t, "three keys", func() bool { k, _ := rec.snapshot(); return len(k) == 3 })
	if k, _ := rec.snapshot(); k != "19#" {
		t.Fatalf("keys %q, want 19#", k)
	}

	// A µ-law frame of a known level decodes to the same level.
	pcm := make([]int16, FrameSamples)
	for i := range pcm {
		pcm[i] = 8000
	}
	enc := make([]byte, FrameBytes)
	PCMU.Encode(enc, pcm)
	sendRTP(t, peer, s.LocalPort(), 0, 100, 99999, false, enc)
	waitFor(t, "audio frame", func() bool { _, n := rec.snapshot(); return n == 1 })
	// One whole frame reached the input: a shorter one would wait in the
	// reframer for the rest.
	last := make([]int16, FrameSamples)
	if kind := rec.audio.Pop(last); kind != FrameAudio || last[0] < 7800 || last[0] > 8200 || last[FrameSamples-1] < 7800 {
		t.Fatalf("decoded %v, first sample %d, last %d; want 160 near 8000", kind, last[0], last[FrameSamples-1])
	}
}

func TestSessionInactivityTimeout(t *testing.T) {
	s, _, _, failed := newTestSession(t, 300*time.Millisecond)
	readOnClock(t, s)
	select {
	case err := <-failed:
		if !errors.Is(err, ErrInactive) {
			t.Fatalf("failure %v, want ErrInactive", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no inactivity timeout")
	}
}

func TestSessionOnHoldDoesNotTimeOut(t *testing.T) {
	s, _, peer, failed := newTestSession(t, 200*time.Millisecond)
	s.SetDirection(false, false) // far end put us on hold with a=inactive
	readOnClock(t, s)
	select {
	case err := <-failed:
		t.Fatalf("session failed on hold: %v", err)
	case <-time.After(600 * time.Millisecond):
	}
	// Nothing is sent while held.
	if err := s.writeFrame(SilenceFrame(PCMU)); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Sent != 0 {
		t.Fatalf("sent %d packets on hold", st.Sent)
	}
	// Resume: timer armed again, sending again with the marker bit.
	s.SetDirection(true, true)
	if err := s.writeFrame(SilenceFrame(PCMU)); err != nil {
		t.Fatal(err)
	}
	var buf [1500]byte
	peer.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := peer.ReadFromUDP(buf[:])
	if err != nil {
		t.Fatal(err)
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(buf[:n]); err != nil || !pkt.Marker {
		t.Fatalf("first packet after hold: marker=%v err=%v", pkt.Marker, err)
	}
	select {
	case err := <-failed:
		if !errors.Is(err, ErrInactive) {
			t.Fatalf("failure %v, want ErrInactive after resume", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no inactivity timeout after resume")
	}
}

func TestPlayerAndClock(t *testing.T) {
	s, _, peer, _ := newTestSession(t, 5*time.Second)
	prompt := NewPrompt("test", make([]int16, 3*FrameSamples))
	for i := range prompt.ulaw {
		prompt.ulaw[i] = 0x42 // recognisable, not silence
	}
	player := NewPlayer(s)
	clock := NewClock(2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go clock.Run(ctx)
	done := player.Play(prompt)
	clock.Add(player)
	defer clock.Remove(player)

	var (
		buf  [1500]byte
		pkt  rtp.Packet
		seq  uint16
		ts   uint32
		kind []byte
	)
	peer.SetReadDeadline(time.Now().Add(3 * time.Second))
	for i := range 6 {
		n, _, err := peer.ReadFromUDP(buf[:])
		if err != nil {
			t.Fatal(err)
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			t.Fatal(err)
		}
		if len(pkt.Payload) != FrameBytes || pkt.PayloadType != 0 {
			t.Fatalf("packet %d: %d bytes PT %d", i, len(pkt.Payload), pkt.PayloadType)
		}
		if i > 0 && (pkt.SequenceNumber != seq+1 || pkt.Timestamp != ts+FrameSamples) {
			t.Fatalf("packet %d: seq %d ts %d after %d/%d", i, pkt.SequenceNumber, pkt.Timestamp, seq, ts)
		}
		if (i == 0) != pkt.Marker {
			t.Fatalf("packet %d: marker %v", i, pkt.Marker)
		}
		seq, ts = pkt.SequenceNumber, pkt.Timestamp
		kind = append(kind, pkt.Payload[0])
	}
	if string(kind) != "\x42\x42\x42\xff\xff\xff" {
		t.Fatalf("payload kinds %x: want 3 prompt frames then silence", kind)
	}
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Play's channel not closed after the prompt ended")
	}
	// Stop ends a playback at once.
	done = player.Play(prompt, prompt)
	player.Stop()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Stop did not close the channel")
	}
	if clock.Len() != 1 {
		t.Fatalf("clock has %d tickers", clock.Len())
	}
}

func TestSessionReadsABurstInOneTick(t *testing.T) {
	s, rec, peer, failed := newTestSession(t, 5*time.Second)
	frame := make([]byte, FrameBytes)
	const burst = 3*recvBatch + 1 // a stalled clock finds several batches waiting
	for i := range burst {
		sendRTP(t, peer, s.LocalPort(), 0, uint16(i), uint32(160*i), i == 0, frame)
	}
	// Oversized datagrams are not G.711 RTP: dropped, not truncated and played.
	peer.WriteToUDP(make([]byte, maxPacket+100), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.LocalPort()})
	time.Sleep(50 * time.Millisecond) // loopback delivery
	s.receive(time.Now(), newRecvBuffers(), true)
	if _, n := rec.snapshot(); n != burst {
		t.Fatalf("one read took %d frames, want %d", n, burst)
	}
	if st := s.Stats(); st.Received != burst || st.Dropped != 1 {
		t.Fatalf("stats %+v, want %d received, 1 dropped", st, burst)
	}
	select {
	case err := <-failed:
		t.Fatalf("failure %v", err)
	default:
	}
}

func TestSessionReadEveryFewTicks(t *testing.T) {
	s, rec, peer, _ := newTestSession(t, 5*time.Second)
	s.setReadEvery(3)
	frame := make([]byte, FrameBytes)
	b := newRecvBuffers()
	for tick := range 6 {
		sendRTP(t, peer, s.LocalPort(), 0, uint16(tick), uint32(160*tick), tick == 0, frame)
		time.Sleep(10 * time.Millisecond) // loopback delivery
		s.receive(time.Now(), b, true)
		_, n := rec.snapshot()
		want := map[int]int{0: 0, 1: 0, 2: 3, 3: 3, 4: 3, 5: 6}[tick]
		if n != want {
			t.Fatalf("after tick %d: %d frames read, want %d", tick, n, want)
		}
	}
	s.setReadEvery(1)
	sendRTP(t, peer, s.LocalPort(), 0, 6, 960, false, frame)
	time.Sleep(10 * time.Millisecond)
	s.receive(time.Now(), b, true)
	if _, n := rec.snapshot(); n != 7 {
		t.Fatalf("back to every tick: %d frames, want 7", n)
	}
}

// TestSessionRoutesAudio: the session itself feeds the in-band detector
// (with or without an audio input) and the input set by SetAudioInput.
func TestSessionRoutesAudio(t *testing.T) {
	var (
		mu     sync.Mutex
		inband []byte
	)
	s, rec, peer, _ := newTestSessionWith(t, 5*time.Second, func(c *SessionConfig) {
		c.OnInbandDigit = func(key byte) { mu.Lock(); inband = append(inband, key); mu.Unlock() }
	})
	s.SetAudioInput(nil) // the IVR: nobody hears the caller, keys are read
	// 160 ms of the tones of '5' (770 and 1336 Hz), then 160 ms of silence.
	pcm := make([]int16, FrameSamples)
	enc := make([]byte, FrameBytes)
	b := newRecvBuffers()
	for i := range 16 {
		for j := range pcm {
			pcm[j] = 0
			if i < 8 {
				n := float64(i*FrameSamples + j)
				pcm[j] = int16(6000*math.Sin(2*math.Pi*770*n/8000) + 6000*math.Sin(2*math.Pi*1336*n/8000))
			}
		}
		PCMU.Encode(enc, pcm)
		sendRTP(t, peer, s.LocalPort(), 0, uint16(i), uint32(i*FrameSamples), i == 0, enc)
	}
	time.Sleep(50 * time.Millisecond) // loopback delivery
	s.receive(time.Now(), b, true)
	mu.Lock()
	got := string(inband)
	mu.Unlock()
	if got != "5" {
		t.Fatalf("in-band keys %q, want 5", got)
	}
	if _, n := rec.snapshot(); n != 0 {
		t.Fatalf("%d frames reached the input after SetAudioInput(nil)", n)
	}
	// In a meeting: the audio goes on to the input.
	s.SetAudioInput(rec.audio)
	sendRTP(t, peer, s.LocalPort(), 0, 16, 16*FrameSamples, false, enc)
	time.Sleep(10 * time.Millisecond)
	s.receive(time.Now(), b, true)
	if _, n := rec.snapshot(); n != 1 {
		t.Fatalf("%d frames reached the input, want 1", n)
	}
}

// TestSessionWaitingReadsEveryFifthTick: a waiting caller's socket is read
// every waitingReadEvery ticks, and every tick again once it stops waiting.
func TestSessionWaitingReadsEveryFifthTick(t *testing.T) {
	s, rec, peer, _ := newTestSession(t, 5*time.Second)
	s.SetWaiting(true)
	frame := make([]byte, FrameBytes)
	b := newRecvBuffers()
	for tick := range waitingReadEvery {
		sendRTP(t, peer, s.LocalPort(), 0, uint16(tick), uint32(160*tick), tick == 0, frame)
		time.Sleep(10 * time.Millisecond) // loopback delivery
		s.receive(time.Now(), b, true)
		want := 0
		if tick == waitingReadEvery-1 {
			want = waitingReadEvery
		}
		if _, n := rec.snapshot(); n != want {
			t.Fatalf("waiting, after tick %d: %d frames read, want %d", tick, n, want)
		}
	}
	s.SetWaiting(false)
	sendRTP(t, peer, s.LocalPort(), 0, waitingReadEvery, 160*waitingReadEvery, false, frame)
	time.Sleep(10 * time.Millisecond)
	s.receive(time.Now(), b, true)
	if _, n := rec.snapshot(); n != waitingReadEvery+1 {
		t.Fatalf("no longer waiting: %d frames, want %d", n, waitingReadEvery+1)
	}
}
