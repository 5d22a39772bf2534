package sipua

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/dialin/dialin/config"
)

// checkStamped fails unless msg carries what tells a trunk what we are and
// do (RFC 3261 §20).
func checkStamped(t *testing.T, what string, msg sip.Message, agentHeader string) {
	t.Helper()
	if msg == nil {
		t.Fatalf("%s: nothing received", what)
	}
	for name, want := range map[string]string{
		agentHeader: "dialin-test",
		"Allow":     allowedMethods,
		"Supported": "timer",
	} {
		if got := header(msg, name); got != want {
			t.Errorf("%s: %s = %q, want %q", what, name, got, want)
		}
	}
}

func TestEveryResponseAndRequestIsStamped(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.SIP.UserAgent = "dialin-test"
		c.SIP.AnswerDelay = 100 * time.Millisecond
		c.Limits.MaxCalls = 1
	})

	// 4xx: an offer with no G.711 (after 100 Trying).
	p := newRawPeer(t, ts, "udp")
	p.inviteWith(string(sdpLines("v=0", "o=raw 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
		"m=audio 40998 RTP/AVP 18", "a=rtpmap:18 G729/8000")))
	checkStamped(t, "100 Trying", p.response(100, 5*time.Second), "Server")
	res := p.response(488, 5*time.Second)
	checkStamped(t, "488", res, "Server")
	p.ack(p.cseq)
	// Its handler counts against limits.max_calls until it has returned.
	deadline := time.Now().Add(5 * time.Second)
	for ts.ActiveCalls() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the refused INVITE is still being handled")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// 100, 180, 200 of a call that is answered.
	caller := newRawPeer(t, ts, "udp")
	cseq := caller.invite()
	checkStamped(t, "180 Ringing", caller.response(180, 5*time.Second), "Server")
	ok := caller.response(200, 5*time.Second)
	checkStamped(t, "200 to INVITE", ok, "Server")
	caller.ack(cseq)

	// 5xx: over limits.max_calls.
	busy := newRawPeer(t, ts, "udp")
	busy.invite()
	checkStamped(t, "503", busy.response(503, 5*time.Second), "Server")
	busy.ack(busy.cseq)

	// OPTIONS outside a dialog.
	probe := newRawPeer(t, ts, "udp")
	probe.send(probe.request("OPTIONS", 1, nil, ""))
	checkStamped(t, "200 to OPTIONS", probe.response(200, 5*time.Second), "Server")

	// Our own BYE.
	done := make(chan error, 1)
	go func() { done <- ts.Shutdown(context.Background()) }()
	bye := caller.awaitRequest(sip.BYE, 5*time.Second)
	checkStamped(t, "BYE", bye, "User-Agent")
	if bye != nil {
		caller.reply(bye, 200, "OK")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// The bridge's BYE to a TCP caller comes on the caller's own connection
// (RFC 3261 §18, RFC 5923), not on a new one to its Contact: a caller
// behind NAT or a firewall would never get that one.
func TestByeComesOnTheCallersTCPConnection(t *testing.T) {
	ts := startServer(t, nil)
	caller := newRawPeer(t, ts, "tcp")
	cseq := caller.invite()
	caller.response(200, 5*time.Second)
	caller.ack(cseq)
	done := make(chan error, 1)
	go func() { done <- ts.Shutdown(context.Background()) }()
	bye := caller.awaitRequest(sip.BYE, 5*time.Second)
	if bye == nil {
		select {
		case c := <-caller.accepted:
			_ = c.Close()
			t.Fatal("the BYE came on a new connection to our Contact, not on ours")
		default:
			t.Fatal("no BYE on our connection")
		}
	}
	caller.reply(bye, 200, "OK")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-caller.accepted:
		_ = c.Close()
		t.Fatal("the bridge opened a connection to our Contact")
	default:
	}
}
