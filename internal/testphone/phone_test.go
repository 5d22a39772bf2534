package testphone

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/dialin/dialin/media"
)

func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, ctx context.Context, opts Options) *Call {
	t.Helper()
	c, err := Dial(ctx, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() {
		hctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = c.Hangup(hctx)
	})
	return c
}

// eventGroup is the telephone-event packets of one key press.
type eventGroup struct {
	ts      uint32
	packets []rtp.Packet
}

func groupEvents(pkts []rtp.Packet, pt uint8) []eventGroup {
	var groups []eventGroup
	for _, p := range pkts {
		if p.PayloadType != pt {
			continue
		}
		if len(groups) == 0 || groups[len(groups)-1].ts != p.Timestamp {
			groups = append(groups, eventGroup{ts: p.Timestamp})
		}
		g := &groups[len(groups)-1]
		g.packets = append(g.packets, p)
	}
	return groups
}

func TestDigitsAreRFC4733(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 10*time.Second)
	uas := startUAS(t, uasConfig{})
	call := dial(t, ctx, Options{Target: uas.target, DTMFPayloadType: 96})

	if call.Codec() != media.PCMU {
		t.Errorf("codec = %v, want PCMU", call.Codec())
	}
	if !bytes.Contains(call.AnswerSDP(), []byte("telephone-event")) {
		t.Errorf("answer has no telephone-event:\n%s", call.AnswerSDP())
	}
	const keys = "5#55" // a repeated key must still be three separate events
	if err := call.SendDigits(ctx, keys, 60*time.Millisecond); err != nil {
		t.Fatalf("SendDigits: %v", err)
	}
	time.Sleep(100 * time.Millisecond) // let the echo of the last frames come back

	pkts := uas.receivedPackets()
	groups := groupEvents(pkts, 96)
	if len(groups) != len(keys) {
		t.Fatalf("got %d events, want %d", len(groups), len(keys))
	}
	for i, g := range groups {
		want, _ := media.EventForDigit(keys[i])
		var ends int
		var lastDur uint16
		for j, p := range g.packets {
			var ev media.DTMFEvent
			if err := ev.Unmarshal(p.Payload); err != nil {
				t.Fatalf("key %d packet %d: %v", i, j, err)
			}
			if ev.Event != want {
				t.Errorf("key %d packet %d: event %d, want %d", i, j, ev.Event, want)
			}
			if p.Marker != (j == 0) {
				t.Errorf("key %d packet %d: marker %v", i, j, p.Marker)
			}
			if ev.Duration < lastDur {
				t.Errorf("key %d packet %d: duration fell from %d to %d", i, j, lastDur, ev.Duration)
			}
			lastDur = ev.Duration
			if ev.End {
				ends++
			} else if ends > 0 {
				t.Errorf("key %d packet %d: event continues after its end", i, j)
			}
		}
		if ends != 3 {
			t.Errorf("key %d: %d end packets, want 3", i, ends)
		}
		if lastDur != 800 {
			t.Errorf("key %d: final duration %d, want 800 (100 ms)", i, lastDur)
		}
	}

	// One stream: one SSRC, no sequence gaps, and silence between keys.
	ssrc := pkts[0].SSRC
	audioBetween := 0
	for i, p := range pkts {
		if p.SSRC != ssrc {
			t.Fatalf("packet %d: SSRC %x, want %x", i, p.SSRC, ssrc)
		}
		if i > 0 && p.SequenceNumber != pkts[i-1].SequenceNumber+1 {
			t.Errorf("packet %d: seq %d after %d", i, p.SequenceNumber, pkts[i-1].SequenceNumber)
		}
		if i > 0 && p.PayloadType == 0 && pkts[i-1].PayloadType == 96 {
			audioBetween++
		}
	}
	if audioBetween < len(keys) {
		t.Errorf("silence resumed after %d of %d keys", audioBetween, len(keys))
	}

	// The echo of that stream is clean by the phone's own accounting too:
	// event packets hold their timestamp, audio resumes on the media clock.
	rec := call.Received()
	if rec.SeqErrors != 0 || rec.TimestampErrors != 0 || rec.SSRCs != 1 {
		t.Errorf("echo: seq errors %d, timestamp errors %d, SSRCs %d", rec.SeqErrors, rec.TimestampErrors, rec.SSRCs)
	}
	if rec.PayloadTypes[96] == 0 {
		t.Errorf("echo: no telephone-event packets in %v", rec.PayloadTypes)
	}
}

func TestToneEchoIsDetected(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 10*time.Second)
	uas := startUAS(t, uasConfig{})
	call := dial(t, ctx, Options{Target: uas.target, Codecs: []media.Codec{media.PCMA, media.PCMU}})
	if call.Codec() != media.PCMA {
		t.Fatalf("codec = %v, want PCMA", call.Codec())
	}

	if err := call.SendTone(ctx, []float64{1000}, 400*time.Millisecond); err != nil {
		t.Fatalf("SendTone: %v", err)
	}
	if err := call.WaitForAudio(ctx, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	rec := call.Received()
	if p := rec.ToneRelativePower(1000); p < 0.9 {
		t.Errorf("1000 Hz relative power %.3f, want ≥ 0.9", p)
	}
	if p := rec.ToneRelativePower(1400); p > 0.1 {
		t.Errorf("1400 Hz relative power %.3f, want ≤ 0.1", p)
	}
	if d := rec.NonSilentDuration(SilenceRMS); d < 360*time.Millisecond || d > 440*time.Millisecond {
		t.Errorf("non-silent duration %v, want about 400ms", d)
	}
	if rec.PayloadTypes[8] != rec.Packets {
		t.Errorf("payload types %v, want only PCMA", rec.PayloadTypes)
	}
}

func TestSilenceStreamStats(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 10*time.Second)
	uas := startUAS(t, uasConfig{})
	call := dial(t, ctx, Options{Target: uas.target})

	time.Sleep(time.Second)
	rec := call.Received()
	if pps := rec.PacketsPerSecond(); pps < 45 || pps > 55 {
		t.Errorf("%.1f packets/s, want about 50", pps)
	}
	if rec.Packets < 40 || rec.SeqErrors != 0 || rec.TimestampErrors != 0 || rec.SSRCs != 1 {
		t.Errorf("packets %d, seq errors %d, timestamp errors %d, SSRCs %d",
			rec.Packets, rec.SeqErrors, rec.TimestampErrors, rec.SSRCs)
	}
	if rec.RMS() != 0 || rec.NonSilentDuration(SilenceRMS) != 0 {
		t.Errorf("silence echoed back with RMS %.1f", rec.RMS())
	}
	call.ResetReceived()
	if r := call.Received(); r.Packets != 0 || len(r.PCM) != 0 {
		t.Errorf("after reset: %d packets", r.Packets)
	}
}

func TestNoSilenceSendsNothingWhenIdle(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 10*time.Second)
	uas := startUAS(t, uasConfig{})
	call := dial(t, ctx, Options{Target: uas.target, NoSilence: true})

	time.Sleep(200 * time.Millisecond)
	if n := len(uas.receivedPackets()); n != 0 {
		t.Fatalf("idle phone sent %d packets", n)
	}
	if err := call.SendTone(ctx, []float64{440}, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	pkts := uas.receivedPackets()
	if len(pkts) != 5 || !pkts[0].Marker {
		t.Errorf("tone: %d packets, first marker %v; want 5 with the marker", len(pkts), len(pkts) > 0 && pkts[0].Marker)
	}
}

func TestRemoteByeEndsCall(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 10*time.Second)
	uas := startUAS(t, uasConfig{byeAfter: 300 * time.Millisecond})
	call := dial(t, ctx, Options{Target: uas.target})

	select {
	case <-call.Done():
	case <-ctx.Done():
		t.Fatal("call did not end after the far end's BYE")
	}
	if !call.HungUpByRemote() {
		t.Error("HungUpByRemote = false")
	}
	select {
	case err := <-uas.byeResult:
		if err != nil {
			t.Errorf("far end's BYE: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("far end's BYE got no response")
	}
	if err := call.Hangup(ctx); err != nil {
		t.Errorf("Hangup after remote BYE: %v", err)
	}
	if err := call.SendDigits(ctx, "1", 0); !errors.Is(err, ErrEnded) {
		t.Errorf("SendDigits after end: %v, want ErrEnded", err)
	}
}

func TestBusyIsStatusError(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 10*time.Second)
	uas := startUAS(t, uasConfig{reject: 486})

	_, err := Dial(ctx, Options{Target: uas.target})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 486 {
		t.Fatalf("Dial: %v, want *StatusError 486", err)
	}
}

func TestRawSDPIsSentVerbatim(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 10*time.Second)
	uas := startUAS(t, uasConfig{})
	raw := []byte("v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n")

	_, err := Dial(ctx, Options{Target: uas.target, RawSDP: raw})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 488 {
		t.Fatalf("Dial: %v, want *StatusError 488", err)
	}
	if offers := uas.receivedOffers(); len(offers) != 1 || !bytes.Equal(offers[0], raw) {
		t.Errorf("offer sent:\n%q\nwant\n%q", offers, raw)
	}
}

func TestTCPToneEcho(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 10*time.Second)
	uas := startUAS(t, uasConfig{transport: "tcp"})
	call := dial(t, ctx, Options{Target: uas.target, Transport: "tcp"})

	low, _ := DigitFrequencies('5')
	if err := call.SendTone(ctx, low, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := call.WaitForAudio(ctx, 160*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	rec := call.Received()
	if rec.ToneRelativePower(770) < 0.3 || rec.ToneRelativePower(1336) < 0.3 {
		t.Errorf("DTMF 5 tones: 770 Hz %.2f, 1336 Hz %.2f", rec.ToneRelativePower(770), rec.ToneRelativePower(1336))
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	select {
	case <-uas.gotBye:
	case <-ctx.Done():
		t.Fatal("UAS saw no BYE")
	}
}

func TestReinviteHoldAndResume(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 10*time.Second)
	uas := startUAS(t, uasConfig{})
	call := dial(t, ctx, Options{Target: uas.target})
	uas.session(ctx) // the UAS is done with the INVITE
	for len(uas.receivedPackets()) < 5 {
		if ctx.Err() != nil {
			t.Fatal("no RTP before hold")
		}
		time.Sleep(10 * time.Millisecond)
	}

	if err := call.Reinvite(ctx, "inactive"); err != nil {
		t.Fatalf("hold: %v", err)
	}
	offers := uas.receivedOffers()
	if len(offers) != 2 || !bytes.Contains(offers[1], []byte("a=inactive")) {
		t.Fatalf("re-INVITE offers: %q", offers)
	}
	if !bytes.Contains(call.AnswerSDP(), []byte("a=inactive")) {
		t.Errorf("answer after hold:\n%s", call.AnswerSDP())
	}
	time.Sleep(60 * time.Millisecond) // a frame may be in flight
	held := len(uas.receivedPackets())
	time.Sleep(200 * time.Millisecond)
	if n := len(uas.receivedPackets()); n != held {
		t.Errorf("phone on hold sent %d packets", n-held)
	}

	if err := call.Reinvite(ctx, "sendrecv"); err != nil {
		t.Fatalf("resume: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	pkts := uas.receivedPackets()
	if len(pkts) < held+5 {
		t.Fatalf("after resume only %d new packets", len(pkts)-held)
	}
	if !pkts[held].Marker || pkts[held].SequenceNumber != pkts[held-1].SequenceNumber+1 {
		t.Errorf("first packet after resume: marker %v, seq %d after %d",
			pkts[held].Marker, pkts[held].SequenceNumber, pkts[held-1].SequenceNumber)
	}
	if rec := call.Received(); rec.TimestampErrors != 0 || rec.SeqErrors != 0 {
		t.Errorf("echo after resume: %d timestamp errors, %d seq errors", rec.TimestampErrors, rec.SeqErrors)
	}
}

// phoneGoroutines counts goroutines running or started by a Call.
func phoneGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "testphone.(*Call)") {
			n++
		}
	}
	return n
}

// Not parallel: it counts every Call goroutine in the process.
func TestHangupCleansUp(t *testing.T) {
	ctx := testContext(t, 10*time.Second)
	uas := startUAS(t, uasConfig{})
	call, err := Dial(ctx, Options{Target: uas.target})
	if err != nil {
		t.Fatal(err)
	}
	if phoneGoroutines() == 0 {
		t.Fatal("no phone goroutines while the call is up")
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	select {
	case <-call.Done():
	default:
		t.Error("Done not closed after Hangup")
	}
	select {
	case <-uas.gotBye:
	case <-ctx.Done():
		t.Fatal("UAS saw no BYE")
	}
	if call.HungUpByRemote() {
		t.Error("HungUpByRemote after our own hangup")
	}
	// Goroutines of this and earlier calls may still be returning: give
	// them a moment, then report the stacks of any that stay.
	deadline := time.Now().Add(2 * time.Second)
	for phoneGoroutines() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := phoneGoroutines(); n != 0 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d phone goroutines left after Hangup:\n%s", n, buf[:runtime.Stack(buf, true)])
	}
	if err := call.SendTone(ctx, []float64{440}, time.Second); !errors.Is(err, ErrEnded) {
		t.Errorf("SendTone after Hangup: %v, want ErrEnded", err)
	}
	if err := call.Reinvite(ctx, "sendonly"); !errors.Is(err, ErrEnded) {
		t.Errorf("Reinvite after Hangup: %v, want ErrEnded", err)
	}
}

func TestDialCancelled(t *testing.T) {
	// A UDP port nobody answers on: the INVITE goes unanswered until ctx ends.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Dial(ctx, Options{Target: "sip:conference@127.0.0.1:9"})
	if err == nil {
		t.Fatal("Dial to a dead port succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial: %v, want deadline exceeded", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Dial took %v; its context ended after 300ms", took)
	}
	// A goroutine of an earlier test's call may still be winding down on
	// a loaded machine: wait for them to go, as TestHangupCleansUp does.
	deadline := time.Now().Add(5 * time.Second)
	for phoneGoroutines() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := phoneGoroutines(); n != 0 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d phone goroutines left after a failed Dial:\n%s", n, buf[:runtime.Stack(buf, true)])
	}
}

func TestDialCancelledWhileRinging(t *testing.T) {
	t.Parallel()
	uas := startUAS(t, uasConfig{ringOnly: true})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()

	_, err := Dial(ctx, Options{Target: uas.target})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial: %v, want deadline exceeded", err)
	}
	select {
	case cause := <-uas.cancelCause:
		if !errors.Is(cause, sip.ErrTransactionCanceled) {
			t.Errorf("ringing dialog ended by %v, want a CANCEL", cause)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("UAS saw no CANCEL")
	}
}

func TestAnswersInDialogInfoAndOptions(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 10*time.Second)
	uas := startUAS(t, uasConfig{})
	dial(t, ctx, Options{Target: uas.target})

	sess := uas.session(ctx)
	for _, method := range []sip.RequestMethod{sip.INFO, sip.OPTIONS} {
		req := sip.NewRequest(method, sess.InviteRequest.Contact().Address)
		if method == sip.INFO {
			req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
			req.SetBody([]byte("Signal=5\r\nDuration=160\r\n"))
		}
		res, err := sess.Do(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if res.StatusCode != 200 {
			t.Errorf("%s: %d %s", method, res.StatusCode, res.Reason)
		}
	}
}
