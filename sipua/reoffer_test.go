package sipua

import (
	"strings"
	"testing"
	"time"
)

// Over the wire: the answer echoes the offer's telephone-events; an
// offerless re-INVITE gets our new offer (both laws) with the o= version
// bumped; a re-INVITE with the same offer as before keeps the version.
func TestReofferBumpsVersionAndFmtpEchoes(t *testing.T) {
	ts := startServer(t, nil)
	p := newRawPeer(t, ts, "udp")
	offer := string(sdpLines("v=0", "o=raw 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
		"m=audio 40998 RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-11"))
	cseq := p.inviteWith(offer)
	ok := p.response(200, 5*time.Second)
	p.ack(cseq)
	if !strings.Contains(string(ok.Body()), "a=fmtp:101 0-11\r\n") {
		t.Fatalf("answer does not echo the offer's events 0-11:\n%s", ok.Body())
	}
	version := func(body []byte) string {
		return strings.Fields(sdpOrigin(t, body))[2]
	}
	if v := version(ok.Body()); v != "1" {
		t.Fatalf("first answer o= version %s, want 1", v)
	}

	time.Sleep(100 * time.Millisecond) // the ACK confirms the dialog first (else 491)
	p.cseq++
	p.send(p.request("INVITE", p.cseq, nil, "")) // no offer: the bridge offers
	reoffer := p.response(200, 5*time.Second)
	if v := version(reoffer.Body()); v != "2" {
		t.Fatalf("our new offer (other codecs) kept o= version %s, want 2:\n%s", v, reoffer.Body())
	}
	// The ACK's answer: PCMU only again.
	ack := p.request("ACK", p.cseq, nil, offer)
	p.send(ack)

	time.Sleep(100 * time.Millisecond)
	p.cseq++
	p.send(p.request("INVITE", p.cseq, nil, offer))
	same := p.response(200, 5*time.Second)
	p.ack(p.cseq)
	if v := version(same.Body()); v != "3" {
		t.Fatalf("answer after our offer was narrowed: o= version %s, want 3:\n%s", v, same.Body())
	}
	p.cseq++
	p.send(p.request("INVITE", p.cseq, nil, offer))
	again := p.response(200, 5*time.Second)
	p.ack(p.cseq)
	if v := version(again.Body()); v != "3" {
		t.Fatalf("same offer again (a refresh) changed o= version to %s, want 3", v)
	}
}
