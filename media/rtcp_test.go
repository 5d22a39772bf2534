package media

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// Our reports are read back by an independent implementation (pion/rtcp).
func TestBuildReportReadByPion(t *testing.T) {
	cname := [cnameLen]byte([]byte("0123456789abcdef"))
	block := ReportBlock{SSRC: 99, FractionLost: 25, CumulativeLost: 1234, HighestSeq: 70000, Jitter: 42, LSR: 0x12345678, DLSR: 0x10000}
	now := time.Date(2026, 12, 3, 12, 0, 0, 500_000_000, time.UTC)
	si := senderInfo{sendsAudio: true, NTP: ntpTime(now), RTPTime: 1600, Packets: 10, Octets: 1600}
	var buf [rtcpMaxReport]byte

	n := buildReport(buf[:], 7, &si, &block, &cname)
	if n != rtcpMaxReport {
		t.Errorf("SR with a block is %d bytes, want %d", n, rtcpMaxReport)
	}
	pkts, err := rtcp.Unmarshal(buf[:n])
	if err != nil {
		t.Fatalf("pion reads our SR: %v", err)
	}
	sr, ok := pkts[0].(*rtcp.SenderReport)
	if !ok || len(pkts) != 2 {
		t.Fatalf("got %T, %d packets; want an SR and SDES", pkts[0], len(pkts))
	}
	if sr.SSRC != 7 || sr.NTPTime != si.NTP || sr.RTPTime != 1600 || sr.PacketCount != 10 || sr.OctetCount != 1600 {
		t.Errorf("SR = %+v", sr)
	}
	if sr.NTPTime>>32 != uint64(now.Unix())+ntpEpochOffset || uint32(sr.NTPTime) != 1<<31 {
		t.Errorf("NTP time %x is not %v", sr.NTPTime, now)
	}
	if len(sr.Reports) != 1 {
		t.Fatalf("SR has %d reports", len(sr.Reports))
	}
	rr := sr.Reports[0]
	if rr.SSRC != 99 || rr.FractionLost != 25 || rr.TotalLost != 1234 || rr.LastSequenceNumber != 70000 ||
		rr.Jitter != 42 || rr.LastSenderReport != 0x12345678 || rr.Delay != 0x10000 {
		t.Errorf("report block = %+v", rr)
	}
	sdes, ok := pkts[1].(*rtcp.SourceDescription)
	if !ok || len(sdes.Chunks) != 1 || sdes.Chunks[0].Source != 7 || len(sdes.Chunks[0].Items) != 1 ||
		sdes.Chunks[0].Items[0].Type != rtcp.SDESCNAME || sdes.Chunks[0].Items[0].Text != "0123456789abcdef" {
		t.Errorf("SDES = %+v", pkts[1])
	}

	// Nothing sent, nothing heard: an RR without blocks.
	n = buildReport(buf[:], 7, &senderInfo{}, nil, &cname)
	pkts, err = rtcp.Unmarshal(buf[:n])
	if err != nil {
		t.Fatalf("pion reads our RR: %v", err)
	}
	if r, ok := pkts[0].(*rtcp.ReceiverReport); !ok || r.SSRC != 7 || len(r.Reports) != 0 {
		t.Errorf("got %+v, want an empty RR", pkts[0])
	}
}

// The peer's compound packets, built by pion/rtcp, are read by ours.
func TestParseRTCPFromPion(t *testing.T) {
	const ours = 0xCAFE
	raw, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.SenderReport{SSRC: 5, NTPTime: 0x0102030405060708, Reports: []rtcp.ReceptionReport{
			{SSRC: 1}, // about someone else
			{SSRC: ours, FractionLost: 26, TotalLost: 0xFFFFFF, LastSequenceNumber: 9, Jitter: 80, LastSenderReport: 3, Delay: 4},
		}},
		rtcp.NewCNAMESourceDescription(5, "phone@example"),
		&rtcp.Goodbye{Sources: []uint32{5}},
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := parseRTCP(raw, ours)
	if err != nil {
		t.Fatal(err)
	}
	want := rtcpInfo{Reports: 1, SenderSSRC: 5, HasSR: true, SRNTP: 0x0102030405060708, HasBlock: true,
		Block: ReportBlock{SSRC: ours, FractionLost: 26, CumulativeLost: -1, HighestSeq: 9, Jitter: 80, LSR: 3, DLSR: 4}, Bye: true}
	if info != want {
		t.Errorf("parse = %+v\nwant    %+v", info, want)
	}

	// An RR that says nothing about us, padded at the end.
	raw, err = rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 5, Reports: []rtcp.ReceptionReport{{SSRC: 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	padded := append(append([]byte(nil), raw...), 0, 0, 0, 4)
	padded[0] |= 0x20
	padded[3] += 1
	for _, b := range [][]byte{raw, padded} {
		info, err = parseRTCP(b, ours)
		if err != nil || info.Reports != 1 || info.HasBlock || info.HasSR || info.Bye {
			t.Errorf("RR: %+v, %v", info, err)
		}
	}
}

func TestParseRTCPRejectsMalformed(t *testing.T) {
	good, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 5, Reports: []rtcp.ReceptionReport{{SSRC: 1}}}})
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := map[string][]byte{
		"empty":         nil,
		"short":         good[:3],
		"truncated":     good[:len(good)-4],
		"version 1":     mutate(func(b []byte) []byte { b[0] = 1<<6 | b[0]&0x3F; return b }),
		"length beyond": mutate(func(b []byte) []byte { b[3] += 1; return b }),
		"count beyond":  mutate(func(b []byte) []byte { b[0] = 2<<6 | 3; return b }),
		"padding zero":  mutate(func(b []byte) []byte { b[0] |= 0x20; b[len(b)-1] = 0; return b }),
		"padding huge":  mutate(func(b []byte) []byte { b[0] |= 0x20; b[len(b)-1] = 200; return b }),
		"trailing junk": append(append([]byte(nil), good...), 0x80),
		// A.2: a compound packet starts with an SR or RR.
		"lone BYE":   {0x81, rtcpBYE, 0, 1, 0, 0, 0, 5},
		"SDES first": append([]byte{0x81, rtcpSDES, 0, 1, 0, 0, 0, 5}, good...),
	}
	for name, b := range cases {
		if _, err := parseRTCP(b, 1); !errors.Is(err, errRTCPMalformed) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestIsRTCP(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want bool
	}{
		{[]byte{0x80, 200, 0, 1}, true},       // SR
		{[]byte{0x81, 201, 0, 7}, true},       // RR
		{[]byte{0x80, 0, 0, 1}, false},        // PCMU
		{[]byte{0x80, 0x80 | 8, 0, 1}, false}, // PCMA with the marker
		{[]byte{0x80, 101, 0, 1}, false},      // telephone-event
		{[]byte{0x80, 0x80 | 101, 0, 1}, false},
		{[]byte{0x80, 200}, false},
	} {
		if got := isRTCP(tc.b); got != tc.want {
			t.Errorf("isRTCP(% x) = %v", tc.b, got)
		}
	}
}

// RFC 3550 A.3: the fraction lost in the interval and the cumulative loss;
// A.8: the jitter of a steady stream is zero, of a wobbly one its wobble.
func TestRxStatsLossAndJitter(t *testing.T) {
	var r rxStats
	seq, ts, arrival := uint16(65500), uint32(1000), uint32(5000)
	for i := range 200 { // wraps the sequence number
		if i%10 != 3 { // lose one in ten
			r.update(9, seq, ts, arrival, true)
		}
		seq++
		ts += FrameSamples
		arrival += FrameSamples
	}
	b := r.block()
	if b.SSRC != 9 || b.HighestSeq != 65699 {
		t.Errorf("block %+v", b)
	}
	if b.CumulativeLost != 20 || b.FractionLost != 25 { // 20 of 200: 25.6/256
		t.Errorf("lost %d, fraction %d; want 20, 25", b.CumulativeLost, b.FractionLost)
	}
	if b.Jitter != 0 {
		t.Errorf("jitter of a steady stream %d", b.Jitter)
	}
	// Next interval: nothing lost, arrivals ±40 units around the clock.
	for i := range 200 {
		d := uint32(0)
		if i%2 == 1 {
			d = 40
		}
		r.update(9, seq, ts, arrival+d, true)
		seq++
		ts += FrameSamples
		arrival += FrameSamples
	}
	b = r.block()
	if b.FractionLost != 0 || b.CumulativeLost != 20 {
		t.Errorf("second interval: fraction %d, cumulative %d", b.FractionLost, b.CumulativeLost)
	}
	if b.Jitter < 35 || b.Jitter > 41 { // converges to |D| = 40
		t.Errorf("jitter %d, want about 40", b.Jitter)
	}
	// A duplicate counts as received (loss can go negative, as A.3 says).
	r.update(9, seq-1, ts, arrival, false)
	if b = r.block(); b.CumulativeLost != 19 {
		t.Errorf("after a duplicate: cumulative %d, want 19", b.CumulativeLost)
	}
	// A new SSRC starts over.
	r.update(10, 5, 0, 0, true)
	if b = r.block(); b.SSRC != 10 || b.CumulativeLost != 0 || b.HighestSeq != 5 {
		t.Errorf("new source: %+v", b)
	}
	// A big jump is taken only when the next packet confirms it.
	r.update(10, 30000, 0, 0, true)
	if r.maxSeq != 5 {
		t.Errorf("one stray packet moved the sequence to %d", r.maxSeq)
	}
	r.update(10, 30001, 0, 0, true)
	if r.maxSeq != 30001 || r.baseSeq != 30001 {
		t.Errorf("confirmed jump: max %d base %d", r.maxSeq, r.baseSeq)
	}
}

func TestNTPShort(t *testing.T) {
	if d := ntpShortToDuration(0x18000); d != 1500*time.Millisecond {
		t.Errorf("0x18000 = %v", d)
	}
	if v := durationToNTPShort(250 * time.Millisecond); v != 0x4000 {
		t.Errorf("250ms = %#x", v)
	}
	// DLSR is modulo 2^32 units (18.2 h), never an overflow of d<<16 (39 h).
	sec := uint64(40 * 3600)
	if v, want := durationToNTPShort(40*time.Hour+250*time.Millisecond), uint32(sec<<16+0x4000); v != want {
		t.Errorf("40h 250ms = %#x, want %#x", v, want)
	}
	now := time.Now()
	if got := ntpMiddle(now.Add(time.Second)) - ntpMiddle(now); got < 0xFFFF || got > 0x10001 {
		t.Errorf("one second is %#x", got)
	}
}

// rtcpPeer is the far end's RTCP socket, named by the session's a=rtcp.
func rtcpPeer(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readReports reads compound packets from c for d and returns the SRs and
// RRs found, in order.
func readReports(t *testing.T, c *net.UDPConn, d time.Duration) []rtcp.Packet {
	t.Helper()
	var got []rtcp.Packet
	buf := make([]byte, 1500)
	deadline := time.Now().Add(d)
	for {
		c.SetReadDeadline(deadline)
		n, err := c.Read(buf)
		if err != nil {
			return got
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			t.Errorf("our report does not parse: %v", err)
			continue
		}
		got = append(got, pkts[0])
	}
}

func TestSessionSendsReportsAtTheInterval(t *testing.T) {
	peerRTCP := rtcpPeer(t)
	s, _, peer, _ := newTestSessionWith(t, 5*time.Second, func(c *SessionConfig) {
		c.RTCPInterval = 100 * time.Millisecond
		c.RTCPRemote = peerRTCP.LocalAddr().(*net.UDPAddr).AddrPort()
	})
	readOnClock(t, s)
	for i := range 10 {
		sendRTP(t, peer, s.LocalPort(), 0, uint16(i), uint32(i*FrameSamples), i == 0, make([]byte, FrameBytes))
	}
	got := readReports(t, peerRTCP, time.Second)
	// 100 ms on average, each 50-150 ms: about ten a second; far fewer or
	// more is a wrong interval (bounds wide enough for a busy machine).
	if len(got) < 4 || len(got) > 20 {
		t.Fatalf("%d reports in 1 s at a 100 ms interval", len(got))
	}
	rr, ok := got[len(got)-1].(*rtcp.ReceiverReport)
	if !ok {
		t.Fatalf("got %T; a session that sent nothing sends RRs", got[len(got)-1])
	}
	if rr.SSRC != s.ssrc || len(rr.Reports) != 1 || rr.Reports[0].SSRC != 7 || rr.Reports[0].LastSequenceNumber != 9 {
		t.Errorf("RR = %+v", rr)
	}
	if st := s.Stats(); st.RTCPSent < uint64(len(got)) {
		t.Errorf("RTCPSent %d, peer got %d", st.RTCPSent, len(got))
	}

	// Once the session sends RTP, its reports are SRs.
	for range 3 {
		if err := s.writeFrame(SilenceFrame(PCMU)); err != nil {
			t.Fatal(err)
		}
	}
	got = readReports(t, peerRTCP, 300*time.Millisecond)
	if len(got) == 0 {
		t.Fatal("no report after sending")
	}
	sr, ok := got[0].(*rtcp.SenderReport)
	if !ok || sr.PacketCount != 3 || sr.OctetCount != 3*FrameBytes {
		t.Errorf("first report after sending: %+v", got[0])
	}
}

// The peer's reports reach the statistics: loss, jitter, round-trip time,
// BYE; any RTCP restarts the inactivity timer.
func TestSessionReadsPeerReports(t *testing.T) {
	peerRTCP := rtcpPeer(t)
	var byes atomic.Int32
	s, _, _, failed := newTestSessionWith(t, time.Second, func(c *SessionConfig) {
		c.RTCPInterval = 100 * time.Millisecond
		c.RTCPRemote = peerRTCP.LocalAddr().(*net.UDPAddr).AddrPort()
		c.OnRTCPBye = func() { byes.Add(1) }
	})
	readOnClock(t, s)
	if err := s.writeFrame(SilenceFrame(PCMU)); err != nil {
		t.Fatal(err)
	}
	sr := firstSR(t, peerRTCP)
	// The reply holds the SR 100 ms but claims 50: the round trip is at
	// least 50 ms.
	time.Sleep(100 * time.Millisecond)
	rtcpTo := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.LocalPort() + 1}
	reply, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 7, Reports: []rtcp.ReceptionReport{{
		SSRC: s.ssrc, FractionLost: 26, TotalLost: 12, Jitter: 80,
		LastSenderReport: uint32(sr.NTPTime >> 16), Delay: durationToNTPShort(50 * time.Millisecond),
	}}}, rtcp.NewCNAMESourceDescription(7, "peer")})
	if _, err := peerRTCP.WriteToUDP(reply, rtcpTo); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the peer's report", func() bool { return s.Stats().RTCPReceived == 1 })
	st := s.Stats()
	if st.PeerFractionLost != 26 || st.PeerCumulativeLost != 12 || st.PeerJitter != 80 {
		t.Errorf("peer figures: %+v", st)
	}
	if st.RTT < 40*time.Millisecond || st.RTT > 500*time.Millisecond {
		t.Errorf("RTT %v, want about 50 ms (plus scheduling)", st.RTT)
	}
	t.Logf("RTT %v", st.RTT)

	// RTCP alone keeps the session alive past its inactivity timeout.
	bye, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 7}, &rtcp.Goodbye{Sources: []uint32{7}}})
	rr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 7}})
	// RTCP from an address the latch rule refuses is not the peer's: a
	// stranger's BYE comes with the last report.
	stranger, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Skip("no 127.0.0.2:", err)
	}
	defer stranger.Close()
	for i := range 7 {
		time.Sleep(300 * time.Millisecond)
		p := rr
		if i == 4 || i == 5 {
			p = bye // no sign of life: reports come before and after
		}
		if _, err := peerRTCP.WriteToUDP(p, rtcpTo); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stranger.WriteToUDP(bye, rtcpTo); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failed:
		t.Fatalf("session with RTCP but no RTP failed: %v", err)
	default:
	}
	waitFor(t, "the stranger's packet", func() bool { return s.Stats().DroppedForeign == 1 })
	if st := s.Stats(); st.RTCPBye != 2 || st.RTCPReceived != 8 {
		t.Errorf("two BYEs and eight packets of the peer's, none of the stranger's: %+v", st)
	}
	if n := byes.Load(); n != 1 {
		t.Errorf("OnRTCPBye called %d times for two BYEs, want once", n)
	}
}

// RTCP on the odd port passes RTP's latch rule (a caller behind NAT is
// heard from the signalling address before its RTP latched), then comes
// only from the source it latched; on the RTP port only from the latched
// RTP source. A BYE is no sign of life. None of it allocates.
func TestRTCPSourceRule(t *testing.T) {
	s, _, _, _ := newTestSessionWith(t, 5*time.Second, func(c *SessionConfig) {
		c.Latch = LatchSignalling
		c.Remote = netip.MustParseAddrPort("192.0.2.10:40000") // the SDP's private address
		c.SignallingIP = netip.MustParseAddr("127.0.0.1")
		c.RTCPRemote = netip.MustParseAddrPort("198.51.100.4:53020")
	})
	rr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 7, Reports: []rtcp.ReceptionReport{{SSRC: s.ssrc, FractionLost: 10}}}})
	bye, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 7}, &rtcp.Goodbye{Sources: []uint32{7}}})
	now := time.Now().Add(time.Hour) // after NewSession's LastHeard
	nat := netip.MustParseAddrPort("127.0.0.1:5001")
	handle := func(data []byte, src netip.AddrPort, muxed bool) {
		t.Helper()
		s.handleRTCP(now, now, data, src, muxed)
	}

	handle(rr, nat, false)
	if st := s.Stats(); st.RTCPReceived != 1 || st.PeerFractionLost != 10 || !s.LastHeard().Equal(now) {
		t.Fatalf("RTCP from the signalling address before RTP latched: %+v", st)
	}
	before := s.Stats()
	handle(rr, netip.MustParseAddrPort("127.0.0.1:5003"), false) // the same NAT, another phone
	handle(rr, netip.MustParseAddrPort("127.0.0.2:5001"), false) // an address the rule refuses
	if st := s.Stats(); st.RTCPReceived != before.RTCPReceived || st.RTCPDropped != before.RTCPDropped+1 ||
		st.DroppedForeign != before.DroppedForeign+1 {
		t.Errorf("after another port and a foreign address: %+v, before %+v", st, before)
	}

	// The offer's a=rtcp address is the peer's even outside the rule.
	s.SetRTCP(netip.MustParseAddrPort("198.51.100.4:53020"), false)
	handle(rr, netip.MustParseAddrPort("198.51.100.4:53020"), false)
	if st := s.Stats(); st.RTCPReceived != before.RTCPReceived+1 {
		t.Errorf("RTCP from the a=rtcp address refused: %+v", st)
	}

	// A BYE counts, but the peer is not heard from by it.
	later := now.Add(time.Minute)
	s.handleRTCP(later, later, bye, netip.MustParseAddrPort("198.51.100.4:53020"), false)
	if st := s.Stats(); st.RTCPBye != 1 || s.LastHeard().After(now) {
		t.Errorf("BYE: %+v, last heard %v (before %v)", st, s.LastHeard(), now)
	}

	// Muxed: once RTP latched, RTCP only from that source.
	s.relatch.Store(false)
	s.latched = nat
	before = s.Stats()
	handle(rr, netip.MustParseAddrPort("127.0.0.1:5003"), true)
	handle(rr, nat, true)
	if st := s.Stats(); st.RTCPReceived != before.RTCPReceived+1 || st.RTCPDropped != before.RTCPDropped+1 {
		t.Errorf("muxed from the RTP source and another port: %+v, before %+v", st, before)
	}

	if n := testing.AllocsPerRun(100, func() { s.handleRTCP(now, now, rr, nat, true) }); n != 0 {
		t.Errorf("handleRTCP allocates %v times", n)
	}
}

// firstSR reads c until an SR arrives.
func firstSR(t *testing.T, c *net.UDPConn) *rtcp.SenderReport {
	t.Helper()
	buf := make([]byte, 1500)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no SR: %v", err)
		}
		if pkts, err := rtcp.Unmarshal(buf[:n]); err == nil {
			if sr, ok := pkts[0].(*rtcp.SenderReport); ok {
				return sr
			}
		}
	}
}

// With rtcp-mux, RTCP goes both ways on the RTP port.
func TestSessionRTCPMux(t *testing.T) {
	s, _, peer, _ := newTestSessionWith(t, 5*time.Second, func(c *SessionConfig) {
		c.RTCPInterval = 100 * time.Millisecond
		c.RTCPMux = true
	})
	readOnClock(t, s)
	sendRTP(t, peer, s.LocalPort(), 0, 1, 0, true, make([]byte, FrameBytes))
	got := readReports(t, peer, 500*time.Millisecond) // the session sends no RTP here
	if len(got) == 0 {
		t.Fatal("no muxed report on the RTP port")
	}
	rr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 7, Reports: []rtcp.ReceptionReport{{SSRC: s.ssrc, FractionLost: 51}}}})
	if _, err := peer.WriteToUDP(rr, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.LocalPort()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the muxed report", func() bool { return s.Stats().RTCPReceived == 1 })
	if st := s.Stats(); st.PeerFractionLost != 51 || st.Dropped != 0 || st.Received != 1 {
		t.Errorf("stats %+v: the RR is RTCP, not a dropped RTP packet", st)
	}
}

// The odd port is bound, so the phones' RTCP draws no ICMP
// port-unreachable (a connected UDP socket would see ECONNREFUSED).
func TestRTCPPortBoundNoICMP(t *testing.T) {
	ports, err := NewPortRange(32000, 32100)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ports.ListenPair(loopback)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(SessionConfig{Conn: pair.RTP, RTCPConn: pair.RTCP, Remote: netip.MustParseAddrPort("127.0.0.1:9"), Codec: PCMU})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: pair.Port + 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	probe := func() error {
		if _, err := c.Write([]byte{0x80, 201, 0, 1, 0, 0, 0, 7}); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, err := c.Read(make([]byte, 64))
		return err
	}
	for range 2 {
		if err := probe(); !errors.Is(err, syscall.ECONNREFUSED) && !isTimeout(err) {
			t.Fatalf("probe of the bound RTCP port: %v", err)
		} else if errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatal("ICMP port-unreachable from the RTCP port")
		}
	}
	// The check is real: once closed, the same probe is refused.
	s.Close()
	ports.Release(pair.Port)
	var refused bool
	for range 3 {
		if err := probe(); errors.Is(err, syscall.ECONNREFUSED) {
			refused = true
			break
		}
	}
	if !refused {
		t.Fatal("a closed port was not refused: the probe proves nothing here")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func FuzzParseRTCP(f *testing.F) {
	seeds := [][]rtcp.Packet{
		{&rtcp.SenderReport{SSRC: 1, NTPTime: 5, Reports: []rtcp.ReceptionReport{{SSRC: 2, FractionLost: 3}}}, rtcp.NewCNAMESourceDescription(1, "x")},
		{&rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 2}, {SSRC: 3}}}},
		{&rtcp.ReceiverReport{SSRC: 1}, &rtcp.Goodbye{Sources: []uint32{1}, Reason: "bye"}},
	}
	for _, s := range seeds {
		b, err := rtcp.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var buf [rtcpMaxReport]byte
	cname := [cnameLen]byte([]byte("0123456789abcdef"))
	n := buildReport(buf[:], 2, &senderInfo{sendsAudio: true}, &ReportBlock{SSRC: 1}, &cname)
	f.Add(buf[:n])
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := parseRTCP(data, 2)
		if err != nil {
			return
		}
		// Whatever we accept, an independent reader finds as many reports
		// (it is stricter about some packet types, never laxer about reports).
		pkts, perr := rtcp.Unmarshal(data)
		if perr != nil {
			return
		}
		reports := 0
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.SenderReport, *rtcp.ReceiverReport:
				reports++
			}
		}
		if reports != info.Reports {
			t.Fatalf("we read %d reports, pion %d", info.Reports, reports)
		}
	})
}

func BenchmarkRTCPParse(b *testing.B) {
	raw, _ := rtcp.Marshal([]rtcp.Packet{
		&rtcp.SenderReport{SSRC: 5, NTPTime: 1, Reports: []rtcp.ReceptionReport{{SSRC: 9, FractionLost: 3}}},
		rtcp.NewCNAMESourceDescription(5, "phone@example"),
	})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseRTCP(raw, 9); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRTCPReport is one report: the reception block, the SR and SDES
// built into the session's buffer, and the send on the RTCP socket.
func BenchmarkRTCPReport(b *testing.B) {
	conn, sink := loopbackPair(b)
	s, err := NewSession(SessionConfig{Conn: conn, RTCPMux: true, Remote: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: PCMU})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.rtcp.rx.update(9, 1, 0, 0, true)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		s.sentPkts.Add(1)
		s.report(now, true)
	}
	if s.Stats().RTCPSent == 0 {
		b.Fatal("nothing sent")
	}
}

// On Linux each datagram comes with the kernel's arrival time, so jitter
// and round-trip time do not depend on the tick that reads it.
func TestReadStampsArrival(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("arrival stamps are Linux's")
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	sock, err := newRTPSocket(conn)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	peer, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: conn.LocalAddr().(*net.UDPAddr).Port})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	before := time.Now()
	for range 2 {
		if _, err := peer.Write([]byte{0x80, 0, 0, 1}); err != nil {
			t.Fatal(err)
		}
	}
	after := time.Now()
	time.Sleep(50 * time.Millisecond) // read well after arrival
	b := newRecvBuffers()
	n, err := sock.read(b)
	if err != nil || n != 2 {
		t.Fatalf("read %d, %v", n, err)
	}
	for i := range n {
		at := time.Unix(0, b.stamps[i])
		if at.Before(before.Add(-time.Millisecond)) || at.After(after.Add(time.Millisecond)) {
			t.Errorf("datagram %d stamped %v, sent between %v and %v", i, at, before, after)
		}
	}
}
