package media

import (
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestPortRangePairs(t *testing.T) {
	r, err := NewPortRange(31001, 31007) // pairs 31002-3, 31004-5, 31006-7
	if err != nil {
		t.Fatal(err)
	}
	if r.Size() != 3 {
		t.Fatalf("size %d, want 3", r.Size())
	}
	var pairs []PortPair
	seen := map[int]bool{}
	for range 3 {
		p, err := r.ListenPair(loopback)
		if err != nil {
			t.Fatal(err)
		}
		if p.Port%2 != 0 || p.Port < 31002 || p.Port > 31006 || seen[p.Port] {
			t.Fatalf("bad port %d", p.Port)
		}
		if got := p.RTP.LocalAddr().(*net.UDPAddr).Port; got != p.Port {
			t.Fatalf("RTP socket on %d, pair says %d", got, p.Port)
		}
		if got := p.RTCP.LocalAddr().(*net.UDPAddr).Port; got != p.Port+1 {
			t.Fatalf("RTCP socket on %d, want %d", got, p.Port+1)
		}
		seen[p.Port] = true
		pairs = append(pairs, p)
	}
	if r.InUse() != 3 {
		t.Fatalf("InUse %d", r.InUse())
	}
	if _, err := r.ListenPair(loopback); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("fourth ListenPair = %v, want ErrNoPorts", err)
	}
	closePair(pairs[0])
	r.Release(pairs[0].Port)
	p, err := r.ListenPair(loopback)
	if err != nil || p.Port != pairs[0].Port {
		t.Fatalf("after release got %d, %v; want %d", p.Port, err, pairs[0].Port)
	}
	closePair(p)
	for _, p := range pairs[1:] {
		closePair(p)
	}
	if _, err := NewPortRange(31001, 31001); err == nil {
		t.Fatal("range without an even port accepted")
	}
}

// A pair whose odd port another program holds is skipped whole.
func TestPortRangeSkipsTakenRTCPPort(t *testing.T) {
	r, err := NewPortRange(31010, 31013) // pairs 31010-1, 31012-3
	if err != nil {
		t.Fatal(err)
	}
	other, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 31011)))
	if err != nil {
		t.Skip("port 31011 busy:", err)
	}
	defer other.Close()
	for range 5 {
		p, err := r.ListenPair(loopback)
		if err != nil || p.Port != 31012 {
			t.Fatalf("got %d, %v; want the free pair 31012", p.Port, err)
		}
		closePair(p)
		r.Release(p.Port)
	}
	p, _ := r.ListenPair(loopback)
	defer closePair(p)
	if _, err := r.ListenPair(loopback); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("second pair = %v, want ErrNoPorts", err)
	}
}

// Ports are picked at random: one's own call does not tell the next one's.
func TestPortRangeIsRandom(t *testing.T) {
	r, err := NewPortRange(33000, 33998) // 500 pairs
	if err != nil {
		t.Fatal(err)
	}
	var ports []int
	for range 20 {
		p, err := r.ListenPair(loopback)
		if err != nil {
			t.Fatal(err)
		}
		closePair(p)
		ports = append(ports, p.Port)
		// Held, as calls hold them: the next call never gets the same.
	}
	defer func() {
		for _, p := range ports {
			r.Release(p)
		}
	}()
	next := 0
	for i := 1; i < len(ports); i++ {
		if ports[i] == ports[i-1]+2 {
			next++
		}
	}
	// Sequential allocation makes all 19 the next pair; at random, each is
	// 1 in 500.
	if next > 3 {
		t.Fatalf("%d of 19 calls got the pair after the previous one: %v", next, ports)
	}
}

func closePair(p PortPair) {
	p.RTP.Close()
	p.RTCP.Close()
}
