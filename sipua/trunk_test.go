package sipua

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/internal/testphone"
)

func TestTrustedNetworksAllows(t *testing.T) {
	nets, err := parseTrustedNetworks([]string{"192.0.2.0/24", "2001:db8::/32", "198.51.100.7"})
	if err != nil {
		t.Fatal(err)
	}
	for source, want := range map[string]bool{
		"192.0.2.10:5060":          true,
		"[::ffff:192.0.2.10]:5060": true, // IPv4 peer on a dual-stack socket
		"[2001:db8::5]:5060":       true,
		"[2001:db8::5%eth0]:5060":  true, // the zone does not matter
		"198.51.100.7:5060":        true,
		"198.51.100.8:5060":        false,
		"127.0.0.1:5060":           false,
		"[::1]:5060":               false,
		"":                         false,
		"garbage":                  false,
		"192.0.2.10":               false, // no port: not what a transport reports
	} {
		if got := nets.allows(source); got != want {
			t.Errorf("allows(%q) = %v, want %v", source, got, want)
		}
	}
	if _, err := parseTrustedNetworks(nil); err == nil {
		t.Error("an empty list was taken")
	}
	if _, err := parseTrustedNetworks([]string{"10.1.2.3/8"}); err == nil || !strings.Contains(err.Error(), "sip.trusted_networks[0]") {
		t.Errorf("bad entry: %v", err)
	}
}

// TestServerRefusesUntrustedSources: with only 127.0.0.1 trusted and
// sip.untrusted: reject, a phone calling from 127.0.0.2 (another loopback
// address: a real second host as far as the sockets go) gets 403 and starts
// nothing, its OPTIONS and REGISTER get 403 too, while the same requests
// from 127.0.0.1 are served.
func TestServerRefusesUntrustedSources(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.SIP.TrustedNetworks = []string{"127.0.0.1"}
		c.SIP.Untrusted = config.UntrustedReject
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	_, err := testphone.Dial(ctx, testphone.Options{Target: ts.target("udp"), LocalIP: "127.0.0.2"})
	var status *testphone.StatusError
	if !errors.As(err, &status) || status.Code != 403 {
		t.Fatalf("call from 127.0.0.2: %v, want 403", err)
	}
	if ts.ports.InUse() != 0 {
		t.Errorf("%d RTP ports taken by a refused call", ts.ports.InUse())
	}

	sipPort := 0
	for _, a := range ts.Addrs() {
		if a.Transport == "udp" {
			sipPort = a.Port
		}
	}
	for _, tc := range []struct {
		from, method string
		want         string
	}{
		{"127.0.0.2", "OPTIONS", "SIP/2.0 403 Forbidden"},
		{"127.0.0.2", "REGISTER", "SIP/2.0 403 Forbidden"},
		{"127.0.0.1", "OPTIONS", "SIP/2.0 200 OK"},
		{"127.0.0.1", "REGISTER", "SIP/2.0 405 Method Not Allowed"},
	} {
		if got := rawRequest(t, tc.from, sipPort, tc.method); got != tc.want {
			t.Errorf("%s from %s: %q, want %q", tc.method, tc.from, got, tc.want)
		}
	}
	// The INVITE, OPTIONS and REGISTER (the ACK of the 403 is not counted).
	if n := ts.RefusedUntrusted(); n != 3 {
		t.Errorf("RefusedUntrusted = %d, want 3", n)
	}

	// The trusted source still gets its call.
	call, err := testphone.Dial(ctx, testphone.Options{Target: ts.target("udp")})
	if err != nil {
		t.Fatalf("call from 127.0.0.1: %v", err)
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
}

// rawRequest sends one out-of-dialog request over UDP from the address
// `from` and returns the status line of the final answer.
func rawRequest(t *testing.T, from string, port int, method string) string {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(from)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	msg := fmt.Sprintf("%s sip:conference@127.0.0.1:%d SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%d\r\n"+
		"From: <sip:probe@%s>;tag=probe\r\n"+
		"To: <sip:conference@127.0.0.1:%d>\r\n"+
		"Call-ID: trunk-test-%s-%s\r\n"+
		"CSeq: 1 %s\r\n"+
		"Contact: <sip:probe@%s>\r\n"+
		"Max-Forwards: 70\r\n"+
		"Content-Length: 0\r\n\r\n",
		method, port, local, method, time.Now().UnixNano(), local, port, method, from, method, local)
	if _, err := conn.WriteTo([]byte(msg), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("%s from %s: no answer: %v", method, from, err)
		}
		line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
		if !strings.HasPrefix(line, "SIP/2.0 1") { // skip provisional answers
			return line
		}
	}
}

// TestServerRefusesUntrustedTCP: over TCP the source is the connection's
// peer. The test phone's TCP connection comes from 127.0.0.1, which this
// server does not trust: the connection is closed at accept, before a
// request is read, and no call starts.
func TestServerRefusesUntrustedTCP(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.SIP.TrustedNetworks = []string{"127.0.0.2/32", "::1/128"} })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	call, err := testphone.Dial(ctx, testphone.Options{Target: ts.target("tcp"), Transport: "tcp"})
	if err == nil {
		_ = call.Hangup(ctx)
		t.Fatal("TCP call from 127.0.0.1 was answered")
	}
	// A raw connection's request gets no answer: the connection is gone.
	// (On loopback the reset can even beat the end of connect.)
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.target("tcp"), "sip:conference@"))
	if err == nil {
		defer conn.Close()
		_, _ = conn.Write([]byte("OPTIONS sip:conference@127.0.0.1 SIP/2.0\r\n\r\n"))
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if n, err := conn.Read(make([]byte, 512)); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("untrusted TCP connection: read %d bytes, %v; want it closed", n, err)
		}
	} else if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatal(err)
	}
	if n := ts.RefusedUntrusted(); n == 0 {
		t.Error("RefusedUntrusted = 0")
	}
	if ts.ActiveCalls() != 0 || ts.ports.InUse() != 0 {
		t.Errorf("refused connection left %d calls, %d ports", ts.ActiveCalls(), ts.ports.InUse())
	}
}

// fakeTx is the server transaction fromTrunk answers on.
type fakeTx struct {
	sip.ServerTransaction
	got []*sip.Response
}

func (tx *fakeTx) Respond(res *sip.Response) error {
	tx.got = append(tx.got, res)
	return nil
}

// TestFromTrunkDefenceInDepth: the per-request ACL behind the listeners
// still answers a request from an untrusted source 403 (and an ACK
// nothing) without calling the handler, should one ever get past them.
func TestFromTrunkDefenceInDepth(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.SIP.TrustedNetworks = []string{"127.0.0.1"} })
	for _, method := range []string{"INVITE", "OPTIONS", "ACK"} {
		raw := "" + method + " sip:conference@127.0.0.1 SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-dd\r\n" +
			"From: <sip:x@127.0.0.2>;tag=a\r\nTo: <sip:conference@127.0.0.1>\r\n" +
			"Call-ID: defence-" + method + "\r\nCSeq: 1 " + method + "\r\nContent-Length: 0\r\n\r\n"
		msg, err := sip.NewParser().ParseSIP([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		req := msg.(*sip.Request)
		req.SetSource("127.0.0.2:5060")
		req.SetTransport("UDP")
		called := false
		tx := &fakeTx{}
		ts.fromTrunk(func(*sip.Request, sip.ServerTransaction) { called = true })(req, tx)
		if called {
			t.Errorf("%s from 127.0.0.2 reached the handler", method)
		}
		want := 1
		if method == "ACK" {
			want = 0
		}
		if len(tx.got) != want || (want == 1 && tx.got[0].StatusCode != 403) {
			t.Errorf("%s from 127.0.0.2: answers %v, want %d 403", method, tx.got, want)
		}
	}
}
