package sipua

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/rs/zerolog"

	"github.com/dialin/dialin/config"
)

func untrustedInvite(from string, branch string) string {
	return "INVITE sip:conference@127.0.0.1:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + from + ";branch=z9hG4bK-" + branch + ";rport\r\n" +
		"v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-proxy\r\n" +
		"f: \"Mallory\" <sip:mallory@" + from + ">;tag=m1\r\n" +
		"To: <sip:conference@127.0.0.1>\r\n" +
		"i: reflect-" + branch + "\r\n" +
		"CSeq: 7 INVITE\r\n" +
		"Contact: <sip:mallory@" + from + ">\r\n" +
		"Max-Forwards: 70\r\n" +
		"Content-Type: application/sdp\r\n" +
		"Content-Length: 4\r\n\r\nv=0\n"
}

// TestScanSIPForbidden: the stateless 403 copies the Vias in order, From,
// To (with a tag of its own), Call-ID and CSeq, parses as SIP, and is no
// bigger than the request.
func TestScanSIPForbidden(t *testing.T) {
	req := untrustedInvite("127.0.0.2:5062", "b1")
	m := scanSIP([]byte(req))
	if !m.request || m.method != "INVITE" || !m.complete() || m.callID != "reflect-b1" || string(m.branch) != "z9hG4bK-b1" {
		t.Fatalf("scan: %+v", m)
	}
	out := m.forbidden(nil, "dialin")
	if len(out) > len(req) {
		t.Errorf("403 is %d bytes, the request %d", len(out), len(req))
	}
	msg, err := sip.NewParser().ParseSIP(out)
	if err != nil {
		t.Fatalf("403 does not parse: %v\n%s", err, out)
	}
	res := msg.(*sip.Response)
	vias := res.GetHeaders("Via")
	if res.StatusCode != 403 || len(vias) != 2 || !strings.Contains(vias[0].Value(), "z9hG4bK-b1") || !strings.Contains(vias[1].Value(), "proxy") {
		t.Errorf("403: %d, vias %v\n%s", res.StatusCode, vias, out)
	}
	if to := res.To(); to == nil || to.Params == nil || !to.Params.Has("tag") {
		t.Errorf("403 To has no tag: %v", res.To())
	}
	if res.CallID().Value() != "reflect-b1" || res.CSeq().Value() != "7 INVITE" || res.From().Params.GetOr("tag", "") != "m1" {
		t.Errorf("403 headers: %s", out)
	}
	if again := m.forbidden(nil, "dialin"); string(again) != string(out) {
		t.Error("two answers to the same request differ")
	}

	for name, raw := range map[string]string{
		"response":   "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4\r\n\r\n",
		"no call-id": strings.Replace(req, "i: reflect-b1\r\n", "", 1),
		"folded":     strings.Replace(req, "CSeq: 7 INVITE\r\n", "CSeq: 7\r\n INVITE\r\n", 1),
		"garbage":    "\x16\x03\x01 hello",
		"no version": "INVITE sip:x@y\r\nVia: a\r\n\r\n",
	} {
		if m := scanSIP([]byte(raw)); m.request && m.complete() {
			t.Errorf("%s: scanned as a complete request: %+v", name, m)
		}
	}
}

type udpGuardTest struct {
	guard *udpGuard
	addr  netip.AddrPort
	got   chan string // what ReadFrom returned: "source|first line"
}

func startUDPGuard(t *testing.T, reject bool) *udpGuardTest {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := parseTrustedNetworks([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	var refused atomic.Uint64
	g := newUDPGuard(conn, trusted, reject, "dialin", &refused, zerolog.New(zerolog.NewTestWriter(t)))
	ut := &udpGuardTest{guard: g, addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(), got: make(chan string, 100)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			n, from, err := g.ReadFrom(buf)
			if err != nil {
				return
			}
			line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
			ut.got <- from.String() + "|" + line
		}
	}()
	t.Cleanup(func() { _ = conn.Close(); <-done })
	return ut
}

// answers sends each datagram from conn to the guard and counts what comes
// back within wait.
func answers(t *testing.T, conn *net.UDPConn, to netip.AddrPort, wait time.Duration, pkts ...string) []string {
	t.Helper()
	for _, p := range pkts {
		if _, err := conn.WriteToUDPAddrPort([]byte(p), to); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	buf := make([]byte, 4096)
	deadline := time.Now().Add(wait)
	for {
		_ = conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf)
		if err != nil {
			return got
		}
		line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
		got = append(got, line)
	}
}

func attacker(t *testing.T, ip string) *net.UDPConn {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// TestUDPGuardRejectOnce: an untrusted INVITE and its retransmissions get
// one 403, its ACK, a response and a keepalive nothing, and none of it
// reaches the reader; distinct requests from one source are answered up to
// the per-source burst; a trusted datagram gets through with its source.
func TestUDPGuardRejectOnce(t *testing.T) {
	ut := startUDPGuard(t, true)
	mallory := attacker(t, "127.0.0.2")
	from := mallory.LocalAddr().String()
	inv := untrustedInvite(from, "once")
	ack := strings.Replace(strings.Replace(inv, "INVITE sip:", "ACK sip:", 1), "7 INVITE", "7 ACK", 1)
	got := answers(t, mallory, ut.addr, 700*time.Millisecond, inv, inv, inv, ack,
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1\r\n\r\n", "\r\n\r\n", inv)
	if len(got) != 1 || got[0] != "SIP/2.0 403 Forbidden" {
		t.Errorf("answers to one INVITE sent 4 times: %q, want one 403", got)
	}
	if n := ut.guard.refused.Load(); n != 5 { // 4 INVITEs and the response
		t.Errorf("refused = %d, want 5", n)
	}
	if n := ut.guard.rejected.Load(); n != 1 {
		t.Errorf("rejected = %d, want 1", n)
	}

	var many []string
	for i := range 12 {
		many = append(many, untrustedInvite(from, fmt.Sprint("many-", i)))
	}
	got = answers(t, mallory, ut.addr, 700*time.Millisecond, many...)
	if len(got) > rejectSourceBurst-1 { // the first INVITE took one already
		t.Errorf("12 distinct INVITEs from one source drew %d answers, want at most %d", len(got), rejectSourceBurst-1)
	}

	trusted := attacker(t, "127.0.0.1")
	if _, err := trusted.WriteToUDPAddrPort([]byte("OPTIONS sip:x@y SIP/2.0\r\n\r\n"), ut.addr); err != nil {
		t.Fatal(err)
	}
	select {
	case g := <-ut.got:
		if want := trusted.LocalAddr().String() + "|OPTIONS sip:x@y SIP/2.0"; g != want {
			t.Errorf("reader got %q, want %q", g, want)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the trusted datagram did not reach the reader")
	}
	select {
	case g := <-ut.got:
		t.Errorf("reader got more: %q", g)
	default:
	}
}

// TestUDPGuardDrop: with drop, nothing goes back to an untrusted source.
func TestUDPGuardDrop(t *testing.T) {
	ut := startUDPGuard(t, false)
	mallory := attacker(t, "127.0.0.2")
	if got := answers(t, mallory, ut.addr, 500*time.Millisecond, untrustedInvite(mallory.LocalAddr().String(), "drop")); len(got) != 0 {
		t.Errorf("dropped INVITE drew %q", got)
	}
	if n := ut.guard.refused.Load(); n != 1 {
		t.Errorf("refused = %d, want 1", n)
	}
}

// TestUDPGuardTotalLimit: many sources together get at most the total
// burst of answers.
func TestUDPGuardTotalLimit(t *testing.T) {
	ut := startUDPGuard(t, true)
	total := 0
	for i := range 3 * rejectTotalBurst / rejectSourceBurst {
		c := attacker(t, fmt.Sprintf("127.0.1.%d", i+1))
		var pkts []string
		for j := range rejectSourceBurst {
			pkts = append(pkts, untrustedInvite(c.LocalAddr().String(), fmt.Sprint(i, "-", j)))
		}
		total += len(answers(t, c, ut.addr, 30*time.Millisecond, pkts...))
	}
	// The test's own time lets a few tokens refill.
	if total > rejectTotalBurst+rejectTotalRate {
		t.Errorf("%d answers in all, want about %d", total, rejectTotalBurst)
	}
	if total < rejectSourceBurst {
		t.Errorf("only %d answers", total)
	}
}

// TestUDPGuardTrustedNoAlloc: a trusted trunk's datagrams cost the guard
// no allocation (its source's net.Addr is kept).
func TestUDPGuardTrustedNoAlloc(t *testing.T) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	trusted, _ := parseTrustedNetworks([]string{"127.0.0.0/8"})
	var refused atomic.Uint64
	g := newUDPGuard(conn, trusted, true, "", &refused, zerolog.Nop())
	trunk := attacker(t, "127.0.0.1")
	to := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	pkt := []byte("OPTIONS sip:x@y SIP/2.0\r\n\r\n")
	buf := make([]byte, 2048)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := trunk.WriteToUDPAddrPort(pkt, to); err != nil {
			t.Fatal(err)
		}
		if _, _, err := g.ReadFrom(buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per trusted datagram", allocs)
	}
}

// TestServerUntrustedInviteOneAnswer: through the whole server, one UDP
// INVITE from an untrusted source draws at most one answer in 3 s (sipgo's
// transaction would retransmit its 403 for 32 s), and none with drop.
func TestServerUntrustedInviteOneAnswer(t *testing.T) {
	for _, mode := range []string{config.UntrustedReject, config.UntrustedDrop} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, func(c *config.Config) {
				c.SIP.TrustedNetworks = []string{"127.0.0.1/32"}
				c.SIP.Untrusted = mode
			})
			var port uint16
			for _, a := range ts.Addrs() {
				if a.Transport == "udp" {
					port = uint16(a.Port)
				}
			}
			mallory := attacker(t, "127.0.0.2")
			got := answers(t, mallory, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), 3*time.Second,
				untrustedInvite(mallory.LocalAddr().String(), "server"))
			want := 1
			if mode == config.UntrustedDrop {
				want = 0
			}
			if len(got) != want || (want == 1 && got[0] != "SIP/2.0 403 Forbidden") {
				t.Errorf("answers: %q, want %d 403", got, want)
			}
		})
	}
}
