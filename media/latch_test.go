package media

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// listenOn binds a UDP socket on ip (another loopback address plays another
// host).
func listenOn(t *testing.T, ip string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func addrOf(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// TestSessionRefusesForeignSources sprays a session's port from another
// host (127.0.0.2) before and after the real peer (127.0.0.1, the SDP's
// address) sends: the spray is never latched, never heard, counted.
func TestSessionRefusesForeignSources(t *testing.T) {
	s, rec, peer, _ := newTestSession(t, 5*time.Second)
	readOnClock(t, s)
	spray := listenOn(t, "127.0.0.2")
	frame := make([]byte, FrameBytes)

	for i := range 5 {
		sendRTP(t, spray, s.LocalPort(), 0, uint16(100+i), uint32(i*160), i == 0, frame)
	}
	sendRTP(t, spray, s.LocalPort(), 101, 200, 8000, true, []byte{1, 10, 0, 0}) // a key
	waitFor(t, "spray counted", func() bool { return s.Stats().DroppedForeign == 6 })
	if got, want := s.Remote(), addrOf(peer); got != want {
		t.Fatalf("after the spray, sending to %v, want the SDP address %v", got, want)
	}

	sendRTP(t, peer, s.LocalPort(), 0, 1, 160, true, frame)
	waitFor(t, "the peer's frame", func() bool { _, n := rec.snapshot(); return n == 1 })
	for i := range 3 {
		sendRTP(t, spray, s.LocalPort(), 0, uint16(2+i), uint32(320+i*160), false, frame)
	}
	sendRTP(t, peer, s.LocalPort(), 0, 2, 320, false, frame)
	waitFor(t, "the peer's second frame", func() bool { _, n := rec.snapshot(); return n == 2 })
	waitFor(t, "spray after latching counted", func() bool { return s.Stats().DroppedForeign == 9 })
	st := s.Stats()
	if st.Received != 2 || st.Dropped != 0 {
		t.Errorf("stats %+v, want 2 received, 0 dropped besides the foreign ones", st)
	}
	if keys, _ := rec.snapshot(); keys != "" {
		t.Errorf("the sprayer pressed %q", keys)
	}
	if got, want := s.Remote(), addrOf(peer); got != want {
		t.Errorf("sending to %v, want %v", got, want)
	}
}

// TestSessionLatchRules: what each rule lets in, and a re-INVITE that moves
// the far end moving the rule with it.
func TestSessionLatchRules(t *testing.T) {
	frame := make([]byte, FrameBytes)
	first := netip.MustParseAddr("127.0.0.1")
	other := "127.0.0.2"

	t.Run("signalling: behind NAT, SDP names a private address", func(t *testing.T) {
		s, rec, peer, _ := newTestSessionWith(t, 5*time.Second, func(c *SessionConfig) {
			c.Remote = netip.MustParseAddrPort("192.168.1.10:4000")
			c.Latch = LatchSignalling
			c.SignallingIP = first
		})
		readOnClock(t, s)
		spray := listenOn(t, other)
		sendRTP(t, spray, s.LocalPort(), 0, 1, 160, true, frame)
		waitFor(t, "spray counted", func() bool { return s.Stats().DroppedForeign == 1 })
		sendRTP(t, peer, s.LocalPort(), 0, 2, 320, false, frame)
		waitFor(t, "the NATed peer heard", func() bool { _, n := rec.snapshot(); return n == 1 })
		if got, want := s.Remote(), addrOf(peer); got != want {
			t.Errorf("sending to %v, want the latched %v", got, want)
		}
	})

	t.Run("sdp: the signalling address is not enough", func(t *testing.T) {
		s, rec, peer, _ := newTestSessionWith(t, 5*time.Second, func(c *SessionConfig) {
			c.Remote = netip.MustParseAddrPort("192.168.1.10:4000")
			c.Latch = LatchSDP
			c.SignallingIP = first
		})
		readOnClock(t, s)
		sendRTP(t, peer, s.LocalPort(), 0, 1, 160, true, frame)
		waitFor(t, "refused", func() bool { return s.Stats().DroppedForeign == 1 })
		if _, n := rec.snapshot(); n != 0 {
			t.Errorf("%d frames heard from outside the SDP address", n)
		}
	})

	t.Run("any: the first source wins", func(t *testing.T) {
		s, rec, _, _ := newTestSessionWith(t, 5*time.Second, func(c *SessionConfig) { c.Latch = LatchAny })
		readOnClock(t, s)
		spray := listenOn(t, other)
		sendRTP(t, spray, s.LocalPort(), 0, 1, 160, true, frame)
		waitFor(t, "latched", func() bool { _, n := rec.snapshot(); return n == 1 })
		if got, want := s.Remote(), addrOf(spray); got != want {
			t.Errorf("sending to %v, want %v", got, want)
		}
	})

	t.Run("re-INVITE moves the far end; hold with 0.0.0.0 keeps it", func(t *testing.T) {
		s, rec, peer, _ := newTestSession(t, 5*time.Second)
		readOnClock(t, s)
		moved := listenOn(t, other)
		sendRTP(t, peer, s.LocalPort(), 0, 1, 160, true, frame)
		waitFor(t, "first frame", func() bool { _, n := rec.snapshot(); return n == 1 })

		s.SetRemote(addrOf(moved))
		sendRTP(t, peer, s.LocalPort(), 0, 2, 320, false, frame)
		waitFor(t, "the old address refused", func() bool { return s.Stats().DroppedForeign == 1 })
		sendRTP(t, moved, s.LocalPort(), 0, 3, 480, false, frame)
		waitFor(t, "the new address heard", func() bool { _, n := rec.snapshot(); return n == 2 })

		s.SetRemote(netip.MustParseAddrPort("0.0.0.0:4000")) // RFC 2543 hold
		sendRTP(t, moved, s.LocalPort(), 0, 4, 640, false, frame)
		waitFor(t, "still heard on hold", func() bool { _, n := rec.snapshot(); return n == 3 })
		sendRTP(t, peer, s.LocalPort(), 0, 5, 800, false, frame)
		waitFor(t, "the old address still refused", func() bool { return s.Stats().DroppedForeign == 2 })
	})
}

func TestLatchForeignAllocs(t *testing.T) {
	s, _, peer, _ := newTestSessionWith(t, 0, func(c *SessionConfig) {
		c.Latch = LatchSignalling
		c.SignallingIP = netip.MustParseAddr("::ffff:127.0.0.3")
	})
	src := addrOf(peer)
	mapped := netip.AddrPortFrom(netip.AddrFrom16(netip.MustParseAddr("127.0.0.3").As16()), 9)
	foreign := netip.MustParseAddrPort("127.0.0.2:9")
	if n := testing.AllocsPerRun(100, func() {
		if s.foreign(src) || s.foreign(mapped) || !s.foreign(foreign) || !s.foreign(netip.AddrPort{}) {
			t.Fatal("wrong verdict")
		}
	}); n != 0 {
		t.Errorf("%v allocations per check", n)
	}
}
