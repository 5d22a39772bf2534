package main

// Hostile traffic against the real binary, from loopback addresses outside
// sip.trusted_networks (127.0.0.0/8 gives the test many source addresses):
// a flood of idle TCP connections, a UDP INVITE that must not be reflected,
// and the same under a low descriptor limit.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dialin/dialin/internal/testphone"
)

// hostileConfig trusts 127.0.0.1 (the test phones) and 127.0.0.3 (a
// trusted host that opens too many connections); 127.0.0.2 is the attacker.
const hostileConfig = `
sip:
  trusted_networks: ["127.0.0.1/32", "127.0.0.3/32"]
limits: {max_calls: 20}
`

// hostileWith is hostileConfig (over the IVR tests' config) with extra
// merged over it.
func hostileWith(t *testing.T, extra string) string {
	t.Helper()
	cfg, err := mergeConfig(ivrWith(t, hostileConfig), extra)
	if err != nil {
		t.Fatal(err)
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// holdTCP opens n connections from ip to the bridge's SIP port, keeps them
// until the test ends, and returns those the bridge has not closed: once
// no more than want are left, or after a few seconds.
func holdTCP(t *testing.T, b *bridgeProcess, ip string, n, want int) []net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	addr := fmt.Sprintf("127.0.0.1:%d", b.SIPPort)
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			if errors.Is(err, syscall.ECONNRESET) {
				continue // closed by the bridge before connect returned
			}
			t.Fatalf("connect from %s: %v", ip, err)
		}
		conns = append(conns, c)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	// A closed connection reads EOF or a reset at once; an open one would
	// wait (so each read gets a deadline of its own, a short one).
	open := conns
	for until := time.Now().Add(3 * time.Second); ; {
		still := open[:0:0]
		for _, c := range open {
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
			if _, err := c.Read(make([]byte, 1)); errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				continue
			}
			still = append(still, c)
		}
		open = still
		if len(open) <= want || time.Now().After(until) {
			return open
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// trustedCalls checks that the bridge still answers: a UDP call and, when
// tcp, a TCP call from 127.0.0.1 are answered and hear the welcome.
func trustedCalls(t *testing.T, b *bridgeProcess, tcp bool) {
	t.Helper()
	transports := []string{"udp"}
	if tcp {
		transports = append(transports, "tcp")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, tr := range transports {
		call := dial(t, b, testphone.Options{Transport: tr})
		if err := call.WaitForAudio(ctx, 300*time.Millisecond); err != nil {
			t.Errorf("trusted %s call: no audio: %v", tr, err)
		}
		if err := call.Hangup(ctx); err != nil {
			t.Errorf("trusted %s call: hang up: %v", tr, err)
		}
	}
}

func assertUp(t *testing.T, b *bridgeProcess) {
	t.Helper()
	select {
	case <-b.exited:
		t.Fatalf("the bridge exited: %v\n%s", b.waitErr, b.tail(40))
	default:
	}
}

func untrustedTCPLog(l map[string]any) bool {
	return msgIs("refused: source not in sip.trusted_networks")(l) && l["transport"] == "TCP"
}

// TestHostileTCPFlood: 2,000 idle TCP connections from an untrusted
// address are closed at accept; a trusted host's connections beyond
// sip.tcp.max_per_source are refused; trusted calls over UDP and TCP still
// succeed; the log stays short; idle connections are closed and free their
// places.
func TestHostileTCPFlood(t *testing.T) {
	t.Parallel()
	b := startBridge(t, hostileWith(t, `sip: {tcp: {max_per_source: 10, idle_timeout: 2s}}`))
	if open := holdTCP(t, b, "127.0.0.2", 2000, 0); len(open) != 0 {
		t.Errorf("%d untrusted connections left open", len(open))
	}
	trusted := holdTCP(t, b, "127.0.0.3", 30, 10)
	if len(trusted) != 10 {
		t.Errorf("127.0.0.3: %d connections open, want 10 (max_per_source)", len(trusted))
	}
	assertUp(t, b)
	trustedCalls(t, b, true)

	if st := ivrGetStatus(t, b); st.Refused < 2000 {
		t.Errorf("sip_refused_untrusted = %d, want at least 2000", st.Refused)
	}
	b.WaitLog(t, untrustedTCPLog, 5*time.Second)
	b.WaitLog(t, allOf(msgIs("refused TCP connection: too many open"), fieldIs("limit", "sip.tcp.max_per_source")), 5*time.Second)
	// One line a second, with the count of those left out.
	if n := b.CountLogs(untrustedTCPLog); n > 30 {
		t.Errorf("%d log lines for the refused connections", n)
	}

	// Idle past 2 s, the trusted host's connections are closed ...
	for _, c := range trusted {
		_ = c.SetReadDeadline(time.Now().Add(6 * time.Second))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("idle trusted connection: %v, want closed", err)
		}
	}
	// ... and their places are free again.
	if open := holdTCP(t, b, "127.0.0.3", 5, 5); len(open) != 5 {
		t.Errorf("after the idle close: %d of 5 connections open", len(open))
	}
	assertNoErrorLogs(t, b)
}

// untrustedINVITE is one INVITE as a spoofing attacker sends it.
func untrustedINVITE(conn *net.UDPConn, sipPort int) string {
	local := conn.LocalAddr().String()
	return fmt.Sprintf("INVITE sip:conference@127.0.0.1:%d SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %s;branch=z9hG4bK-reflect-%d\r\n"+
		"From: <sip:victim@%s>;tag=v1\r\n"+
		"To: <sip:conference@127.0.0.1:%d>\r\n"+
		"Call-ID: reflect-%d\r\n"+
		"CSeq: 1 INVITE\r\n"+
		"Contact: <sip:victim@%s>\r\n"+
		"Max-Forwards: 70\r\n"+
		"Content-Length: 0\r\n\r\n", sipPort, local, time.Now().UnixNano(), local, sipPort, time.Now().UnixNano(), local)
}

// TestHostileUDPInviteOneAnswer: one UDP INVITE from an untrusted source
// draws at most one answer in 3 s (sipgo's transaction alone retransmitted
// its 403 eleven times over 36 s): one 403 with sip.untrusted: reject,
// nothing with the default drop.
func TestHostileUDPInviteOneAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode string
		want []string
	}{
		{"reject", []string{"SIP/2.0 403 Forbidden"}},
		{"drop", nil},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			b := startBridge(t, hostileWith(t, "sip: {untrusted: "+tc.mode+"}"))
			conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: b.SIPPort}
			if _, err := conn.WriteTo([]byte(untrustedINVITE(conn, b.SIPPort)), to); err != nil {
				t.Fatal(err)
			}
			var got []string
			buf := make([]byte, 4096)
			_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
			for {
				n, err := conn.Read(buf)
				if err != nil {
					break
				}
				line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
				got = append(got, line)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("answers to one untrusted INVITE: %q, want %q", got, tc.want)
			}
			if st := ivrGetStatus(t, b); st.Refused != 1 || st.Calls != 0 || st.RTPPorts != 0 {
				t.Errorf("status: %+v, want 1 refused, no call", st)
			}
			b.WaitLog(t, allOf(msgIs("refused: source not in sip.trusted_networks"), fieldIs("transport", "UDP")), 5*time.Second)
			trustedCalls(t, b, false)
		})
	}
}

// TestHostileLowDescriptorLimit: under `ulimit -n 256` the bridge says how
// many calls its descriptors hold and caps TCP below that; 2,000 untrusted
// connections and a trusted host opening 300 leave it up, calls keep their
// RTP sockets, and once the trusted host lets go a TCP call gets in too.
func TestHostileLowDescriptorLimit(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit (util-linux) is not installed")
	}
	b := startBridgeWith(t, t.TempDir(), hostileWith(t, `sip: {tcp: {max_per_source: 1000}}`), "prlimit", "--nofile=256:256", "--")
	fd := b.WaitLog(t, func(l map[string]any) bool {
		m, _ := l["message"].(string)
		return strings.HasPrefix(m, "file descriptors: soft 256 hard 256; enough for ")
	}, 5*time.Second)
	if fd["level"] != "info" {
		t.Errorf("20 calls fit in 256 descriptors, yet: %v", fd)
	}
	listening := b.WaitLog(t, msgIs("sip listening"), 5*time.Second)
	maxTCP, _ := listening["tcp_max_connections"].(float64)
	if maxTCP < 8 || maxTCP > 256-64-2*20 {
		t.Fatalf("tcp_max_connections = %v under 256 descriptors", listening["tcp_max_connections"])
	}

	if open := holdTCP(t, b, "127.0.0.2", 2000, 0); len(open) != 0 {
		t.Errorf("%d untrusted connections left open", len(open))
	}
	trusted := holdTCP(t, b, "127.0.0.3", 300, int(maxTCP))
	if len(trusted) != int(maxTCP) {
		t.Errorf("127.0.0.3: %d connections open, want tcp_max_connections %v", len(trusted), maxTCP)
	}
	b.WaitLog(t, allOf(msgIs("refused TCP connection: too many open"), fieldIs("limit", "sip.tcp.max_connections")), 5*time.Second)
	assertUp(t, b)

	// With every TCP place taken, calls over UDP still get their sockets.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var calls []*testphone.Call
	for range 5 {
		calls = append(calls, dial(t, b, testphone.Options{}))
	}
	for _, c := range calls {
		if err := c.WaitForAudio(ctx, 300*time.Millisecond); err != nil {
			t.Errorf("call under the TCP flood: no audio: %v", err)
		}
		_ = c.Hangup(ctx)
	}
	for _, c := range trusted {
		_ = c.Close()
	}
	// The bridge sees the closes; then a TCP call has a place.
	time.Sleep(500 * time.Millisecond)
	trustedCalls(t, b, true)
	assertUp(t, b)
	assertNoErrorLogs(t, b)
}
