package main

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/dialin/dialin/internal/testphone"
)

// answeredRTPPort reads the RTP port from the bridge's SDP answer.
func answeredRTPPort(t *testing.T, call *testphone.Call) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^m=audio (\d+) `).FindSubmatch(call.AnswerSDP())
	if m == nil {
		t.Fatalf("no m=audio line in the answer:\n%s", call.AnswerSDP())
	}
	port, _ := strconv.Atoi(string(m[1]))
	return port
}

// sprayer plays a host outside the call (127.0.0.2) that sends RTP audio
// and RFC 4733 keys to a bridge port and counts whatever comes back.
type sprayer struct {
	conn     *net.UDPConn
	mu       sync.Mutex
	received int
	done     chan struct{}
}

func newSprayer(t *testing.T) *sprayer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	s := &sprayer{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := conn.ReadFromUDP(buf); err != nil {
				return
			}
			s.mu.Lock()
			s.received++
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close(); <-s.done })
	return s
}

// spray sends n packets 5 ms apart, alternating silence and the key 9.
func (s *sprayer) spray(port, n int) error {
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	audio := make([]byte, 160)
	for i := range audio {
		audio[i] = 0xFF // PCMU silence
	}
	for i := range n {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 0xBAD}, Payload: audio}
		if i%2 == 1 {
			pkt.PayloadType = 101
			pkt.Marker = true
			pkt.Timestamp = uint32(i * 8000) // a new press each time
			pkt.Payload = []byte{9, 10, 0, 160}
		}
		b, err := pkt.Marshal()
		if err != nil {
			return err
		}
		if _, err := s.conn.WriteToUDP(b, to); err != nil {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

func (s *sprayer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received
}

// TestE2ERTPSprayIsNotLatched: a host outside the call sprays the port the
// bridge answered with, right after the 200 OK and before the phone's first
// packet (the phone sends nothing until it keys). The bridge does not latch
// onto it: the phone hears the welcome and its keys and the meeting, the
// sprayer hears nothing and presses no key, and the call's end counts the
// sprayed packets.
func TestE2ERTPSprayIsNotLatched(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig)
	id, _ := ivrOrganizer(t, b, "ada@example.com")
	call := dial(t, b, testphone.Options{NoSilence: true})
	port := answeredRTPPort(t, call)

	spray := newSprayer(t)
	if err := spray.spray(port, 100); err != nil { // half a second, before the phone sends
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := call.WaitForAudio(ctx, time.Second); err != nil {
		t.Fatalf("welcome prompt not heard: %v", err)
	}
	if err := call.SendDigits(ctx, id, 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	sprayed := make(chan error, 1)
	go func() { sprayed <- spray.spray(port, 100) }() // and again once the phone is latched
	b.WaitLog(t, allOf(msgIs("conference ID found"), fieldIs("call_id", call.CallID()), fieldIs("conference_id", id)), 5*time.Second)
	b.WaitLog(t, allOf(msgIs("caller joined the meeting"), fieldIs("call_id", call.CallID())), 15*time.Second)
	if err := <-sprayed; err != nil {
		t.Fatal(err)
	}
	call.ResetReceived()
	if err := call.WaitForAudio(ctx, 500*time.Millisecond); err != nil {
		t.Fatalf("nothing heard in the meeting: %v", err)
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	ended := b.WaitLog(t, allOf(msgIs("call ended"), fieldIs("call_id", call.CallID())), 5*time.Second)
	if n := spray.count(); n != 0 {
		t.Errorf("the sprayer received %d packets of the call", n)
	}
	if foreign, _ := ended["rtp_foreign"].(float64); foreign < 150 {
		t.Errorf("call ended with rtp_foreign %v, want the ~200 sprayed packets", ended["rtp_foreign"])
	}
}

// logBytes is how much the bridge has written so far, stdout and stderr.
func (b *bridgeProcess) logBytes() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, l := range b.raw {
		n += len(l) + 1
	}
	return n
}

// TestE2EMalformedFloodWritesBoundedLog: 500 malformed UDP datagrams of
// 30 KB and 500 TCP connections each sending a bad message, all from a
// trusted address (sipgo parses them before any ACL), write a few lines
// that say how many were left out, not megabytes.
func TestE2EMalformedFloodWritesBoundedLog(t *testing.T) {
	t.Parallel()
	// 500 connections one after another from one address: the bridge may
	// not have closed the last ones yet, so lift the per-source cap
	// (sip.tcp.max_per_source, tested in hostile_e2e_test.go).
	b := startBridge(t, "sip:\n  tcp: {max_per_source: 1000}\n")
	before := b.logBytes()
	target := fmt.Sprintf("127.0.0.1:%d", b.SIPPort)
	garbage := "INVITE\x00 not-sip \r\n" + strings.Repeat("X-Junk: "+strings.Repeat("A", 1000)+"\r\n", 30) + "\r\n"

	udp, err := net.Dial("udp", target)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	for range 500 {
		if _, err := udp.Write([]byte(garbage)); err != nil {
			t.Fatal(err)
		}
	}
	for range 500 {
		c, err := net.DialTimeout("tcp", target, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		_, _ = c.Write([]byte(garbage))
		c.Close()
	}
	// One more of each after a second: its line reports what was left out.
	time.Sleep(1100 * time.Millisecond)
	if _, err := udp.Write([]byte(garbage)); err != nil {
		t.Fatal(err)
	}
	b.WaitLog(t, func(l map[string]any) bool { _, ok := l["suppressed"]; return ok && l["component"] == "sipgo" }, 5*time.Second)

	// The bridge still answers.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := testphone.Dial(ctx, testphone.Options{Target: "sip:conference@" + target})
	if err != nil {
		t.Fatalf("call after the flood: %v", err)
	}
	_ = call.Hangup(ctx)

	written := b.logBytes() - before
	t.Logf("%d bytes of log for 1,000 malformed messages of %d bytes", written, len(garbage))
	if written > 64<<10 {
		t.Errorf("the flood wrote %d bytes of log, want under 64 KB; last lines:\n%s", written, b.tail(10))
	}
	for _, l := range b.Logs() {
		if d, ok := l["data"].(string); ok && len(d) > 200 {
			t.Errorf("a line carries %d bytes of the packet", len(d))
		}
	}
}
