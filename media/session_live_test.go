package media

import (
	"testing"
	"time"
)

// TestSessionComfortNoiseIsMediaNotAudio: an RFC 3389 comfort-noise packet
// (PT 13, a noise level byte) moves LastHeard like any packet, and the
// jitter buffer plays it as silence, never as G.711 audio.
func TestSessionComfortNoiseIsMediaNotAudio(t *testing.T) {
	s, rec, peer, _ := newTestSession(t, 0)
	b := newRecvBuffers()
	before := s.LastHeard()
	time.Sleep(5 * time.Millisecond)
	sendRTP(t, peer, s.LocalPort(), payloadTypeCN, 1, 0, true, []byte{0x40})
	time.Sleep(20 * time.Millisecond) // loopback delivery
	s.receive(time.Now(), b, true)
	if !s.LastHeard().After(before) {
		t.Fatalf("LastHeard %v did not move past %v on comfort noise", s.LastHeard(), before)
	}
	if st := s.Stats(); st.Received != 1 || st.Dropped != 0 {
		t.Fatalf("stats %+v, want the CN packet received", st)
	}
	out := make([]int16, FrameSamples)
	for range 4 { // the buffer may wait a frame or two before it plays
		if kind := rec.audio.Pop(out); kind != FrameSilence {
			t.Fatalf("comfort noise played as %v, want FrameSilence", kind)
		}
	}
}

// TestSessionPeerSends: PeerSends follows SetDirection, which also restarts
// LastHeard (a re-INVITE is a sign of life).
func TestSessionPeerSends(t *testing.T) {
	s, _, _, _ := newTestSession(t, 0)
	if !s.PeerSends() {
		t.Fatal("a new session expects media")
	}
	before := s.LastHeard()
	time.Sleep(5 * time.Millisecond)
	s.SetDirection(true, false)
	if s.PeerSends() {
		t.Fatal("PeerSends after SetDirection(_, false)")
	}
	if !s.LastHeard().After(before) {
		t.Fatal("SetDirection did not restart LastHeard")
	}
}
