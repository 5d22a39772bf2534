package sipua

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/dialin/dialin/config"
)

// While draining (Shutdown, within limits.shutdown_grace) the bridge
// answers an OPTIONS outside any call 503 with Retry-After, so that a
// Kamailio dispatcher pinging it stops sending it calls, and refuses a new
// INVITE 503; a call in progress still gets 200 to its in-dialog OPTIONS
// and goes on until its caller hangs up, which ends the drain before the
// grace is over.
func TestDrainRefusesPingsAndNewCallsButNotTheCallInProgress(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.Limits.ShutdownGrace = 30 * time.Second
		c.Limits.RetryAfter = 7 * time.Second
	})
	caller := newRawPeer(t, ts, "udp")
	cseq := caller.invite()
	caller.response(200, 5*time.Second)
	caller.ack(cseq)

	probe := newRawPeer(t, ts, "udp")
	probe.send(probe.request("OPTIONS", 1, nil, ""))
	probe.response(200, 5*time.Second)

	done := make(chan error, 1)
	started := time.Now()
	go func() { done <- ts.Shutdown(context.Background()) }()
	deadline := time.Now().Add(5 * time.Second)
	for ts.Ready() == nil {
		if time.Now().After(deadline) {
			t.Fatal("Shutdown did not start draining")
		}
		time.Sleep(5 * time.Millisecond)
	}

	probe.send(probe.request("OPTIONS", 2, nil, ""))
	res := answerTo(t, probe, sip.OPTIONS)
	if res.StatusCode != 503 {
		t.Errorf("a ping while draining got %d, want 503", res.StatusCode)
	}
	if got := header(res, "Retry-After"); got != "7" {
		t.Errorf("the ping's 503 has Retry-After %q, want 7 (limits.retry_after)", got)
	}

	late := newRawPeer(t, ts, "udp")
	late.invite()
	if res := answerTo(t, late, sip.INVITE); res.StatusCode != 503 {
		t.Errorf("a new INVITE while draining got %d, want 503", res.StatusCode)
	}
	late.ack(late.cseq)

	caller.cseq++
	caller.send(caller.request("OPTIONS", caller.cseq, nil, ""))
	if res := answerTo(t, caller, sip.OPTIONS); res.StatusCode != 200 {
		t.Errorf("the call in progress got %d to its in-dialog OPTIONS while draining, want 200", res.StatusCode)
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) with a call in progress, before the grace", err)
	case <-time.After(200 * time.Millisecond):
	}

	caller.cseq++
	caller.send(caller.request("BYE", caller.cseq, nil, ""))
	if res := answerTo(t, caller, sip.BYE); res.StatusCode != 200 {
		t.Errorf("the caller's BYE while draining got %d, want 200", res.StatusCode)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if d := time.Since(started); d > 10*time.Second {
			t.Errorf("Shutdown took %v: it waited for the grace, not for the last call", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown still waiting after the last call hung up")
	}
}

// answerTo waits for the final response to the peer's request of method
// (skipping provisional ones and answers to other requests).
func answerTo(t *testing.T, p *rawPeer, method sip.RequestMethod) *sip.Response {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		res, ok := p.read(time.Until(deadline)).(*sip.Response)
		if ok && res.StatusCode >= 200 && res.CSeq().MethodName == method {
			return res
		}
	}
	t.Fatalf("no final response to %s within 5 s", method)
	return nil
}
