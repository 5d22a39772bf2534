package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialin/dialin/internal/audiotest"
	"github.com/dialin/dialin/internal/testphone"
	"github.com/dialin/dialin/media"
)

// End-to-end tests: the test phone dials the real bridge binary over
// loopback and checks what it hears, what the bridge logs and how it hangs up.

func dial(t *testing.T, b *bridgeProcess, opts testphone.Options) *testphone.Call {
	t.Helper()
	if opts.Target == "" {
		opts.Target = fmt.Sprintf("sip:conference@127.0.0.1:%d", b.SIPPort)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := testphone.Dial(ctx, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", opts.Target, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = call.Hangup(ctx)
	})
	return call
}

func dialStatus(t *testing.T, b *bridgeProcess, opts testphone.Options) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := testphone.Dial(ctx, opts)
	if err == nil {
		_ = call.Hangup(ctx)
		return 200
	}
	var se *testphone.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("dial %s: %v", opts.Target, err)
	}
	return se.Code
}

func waitEnded(t *testing.T, call *testphone.Call, within time.Duration) {
	t.Helper()
	select {
	case <-call.Done():
	case <-time.After(within):
		t.Fatalf("call not ended within %v", within)
	}
}

func TestE2EWelcomeHeardThenAttendeeJoins(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig)
	id, _ := ivrOrganizer(t, b, "ada@example.com")
	call := dial(t, b, testphone.Options{})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := call.WaitForAudio(ctx, 1500*time.Millisecond); err != nil {
		t.Fatalf("welcome prompt not heard: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	rec := call.Received()
	t.Logf("heard %d packets, %.1f pps, %.1f dBFS, %v non-silent, seq errors %d, ts errors %d",
		rec.Packets, rec.PacketsPerSecond(), audiotest.DBFS(rec.RMS()), rec.NonSilentDuration(testphone.SilenceRMS),
		rec.SeqErrors, rec.TimestampErrors)
	if db := audiotest.DBFS(rec.RMS()); db < -35 {
		t.Errorf("welcome level %.1f dBFS: too quiet to be speech", db)
	}
	if pps := rec.PacketsPerSecond(); pps < 45 || pps > 55 {
		t.Errorf("%.1f packets/s, want about 50", pps)
	}
	if rec.SeqErrors != 0 || rec.TimestampErrors != 0 || rec.SSRCs != 1 {
		t.Errorf("stream: %d sequence errors, %d timestamp errors, %d SSRCs; want 0, 0, 1", rec.SeqErrors, rec.TimestampErrors, rec.SSRCs)
	}
	if rec.PayloadTypes[0] == 0 {
		t.Errorf("no PCMU packets: %v", rec.PayloadTypes)
	}

	// Seven keys end the entry; no star at the organizer prompt: attendee.
	if err := call.SendDigits(ctx, id, 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	b.WaitLog(t, allOf(msgIs("conference ID found"), fieldIs("call_id", call.CallID()), fieldIs("conference_id", id)), 5*time.Second)
	b.WaitLog(t, allOf(msgIs("caller joined the meeting"), fieldIs("call_id", call.CallID()), fieldIs("role", "attendee")), 15*time.Second)
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	b.WaitLog(t, allOf(msgIs("call ended"), fieldIs("call_id", call.CallID()), fieldIs("reason", "caller hung up")), 5*time.Second)
}

func TestE2EOfferOrderAndTelephoneEventPayloadType(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig)
	id, _ := ivrOrganizer(t, b, "ada@example.com")
	call := dial(t, b, testphone.Options{Codecs: []media.Codec{media.PCMA, media.PCMU}, DTMFPayloadType: 96})
	sdp := string(call.AnswerSDP())
	for _, want := range []string{" RTP/AVP 8 96\r\n", "a=rtpmap:8 PCMA/8000", "a=rtpmap:96 telephone-event/8000", "a=ptime:20", "a=sendrecv"} {
		if !strings.Contains(sdp, want) {
			t.Errorf("answer lacks %q:\n%s", want, sdp)
		}
	}
	if call.Codec() != media.PCMA {
		t.Errorf("codec %v, want PCMA", call.Codec())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Keys on PT 96 are read: the conference ID is found.
	if err := call.SendDigits(ctx, id[:4]+"#", 60*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	b.WaitLog(t, allOf(msgIs("conference ID not found"), fieldIs("call_id", call.CallID())), 5*time.Second)
	if err := call.SendDigits(ctx, id, 60*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	b.WaitLog(t, allOf(msgIs("conference ID found"), fieldIs("call_id", call.CallID()), fieldIs("conference_id", id)), 10*time.Second)
}

func TestE2ETCPCallerHangsUp(t *testing.T) {
	t.Parallel()
	b := startBridge(t, "")
	call := dial(t, b, testphone.Options{Transport: "tcp"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := call.WaitForAudio(ctx, 500*time.Millisecond); err != nil {
		t.Fatalf("no audio over a TCP-signalled call: %v", err)
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	b.WaitLog(t, allOf(msgIs("call ended"), fieldIs("call_id", call.CallID()), fieldIs("reason", "caller hung up")), 5*time.Second)
}

func TestE2EHoldAndResume(t *testing.T) {
	t.Parallel()
	b := startBridge(t, "")
	call := dial(t, b, testphone.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := call.WaitForAudio(ctx, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := call.Reinvite(ctx, "sendonly"); err != nil {
		t.Fatalf("hold re-INVITE: %v", err)
	}
	if sdp := string(call.AnswerSDP()); !strings.Contains(sdp, "a=recvonly") {
		t.Errorf("hold answered without recvonly:\n%s", sdp)
	}
	time.Sleep(100 * time.Millisecond) // packets already in flight
	call.ResetReceived()
	time.Sleep(600 * time.Millisecond)
	if n := call.Received().Packets; n > 0 {
		t.Errorf("bridge sent %d packets while on hold", n)
	}
	if err := call.Reinvite(ctx, "sendrecv"); err != nil {
		t.Fatalf("resume re-INVITE: %v", err)
	}
	if err := call.WaitForAudio(ctx, 200*time.Millisecond); err != nil {
		t.Fatalf("no audio after resume: %v", err)
	}
	b.WaitLog(t, allOf(msgIs("session modified"), fieldIs("call_id", call.CallID()), fieldIs("direction", "recvonly")), 5*time.Second)
	b.WaitLog(t, allOf(msgIs("session modified"), fieldIs("call_id", call.CallID()), fieldIs("direction", "sendrecv")), 5*time.Second)
}

// TestE2ERTPInactivityHangsUp: with the OPTIONS probes off, silence on the
// RTP alone hangs up (liveness_e2e_test.go tests the probes).
func TestE2ERTPInactivityHangsUp(t *testing.T) {
	t.Parallel()
	b := startBridge(t, "rtp: {inactivity_timeout: 1s}\nsip: {options_interval: 0s}")
	call := dial(t, b, testphone.Options{NoSilence: true})
	waitEnded(t, call, 10*time.Second)
	if !call.HungUpByRemote() {
		t.Error("the bridge did not send BYE")
	}
	b.WaitLog(t, allOf(msgIs("call ended"), fieldIs("call_id", call.CallID()), fieldHasPrefix("reason", "rtp: no media")), 5*time.Second)
}

func TestE2ECallLimitAndDialInNumbers(t *testing.T) {
	t.Parallel()
	b := startBridge(t, `
limits: {max_calls: 1, retry_after: 7s}
sip: {called_numbers: ["+14255550100"]}`)
	target := func(user string) string { return fmt.Sprintf("sip:%s@127.0.0.1:%d", user, b.SIPPort) }
	if code := dialStatus(t, b, testphone.Options{Target: target("12345")}); code != 404 {
		t.Errorf("unlisted number: %d, want 404", code)
	}
	first := dial(t, b, testphone.Options{Target: target("+14255550100")})
	if code := dialStatus(t, b, testphone.Options{Target: target("+14255550100")}); code != 503 {
		t.Errorf("call over the limit: %d, want 503", code)
	}
	b.WaitLog(t, msgIs("refused: too many calls"), 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := first.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	b.WaitLog(t, allOf(msgIs("call ended"), fieldIs("call_id", first.CallID())), 5*time.Second)
	if code := dialStatus(t, b, testphone.Options{Target: target("+14255550100")}); code != 200 {
		t.Errorf("after the first call ended: %d, want 200", code)
	}
}

func TestE2EGracefulShutdown(t *testing.T) {
	t.Parallel()
	b := startBridge(t, "limits: {shutdown_grace: 1500ms}")
	call := dial(t, b, testphone.Options{})
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	b.WaitLog(t, msgIs("shutting down: refusing new calls"), 5*time.Second)
	if code := dialStatus(t, b, testphone.Options{Target: fmt.Sprintf("sip:conference@127.0.0.1:%d", b.SIPPort)}); code != 503 {
		t.Errorf("call during shutdown: %d, want 503", code)
	}
	// The call in progress goes on for the grace period, then gets a BYE.
	select {
	case <-call.Done():
		t.Fatal("call ended before the grace period")
	case <-time.After(700 * time.Millisecond):
	}
	waitEnded(t, call, 10*time.Second)
	if !call.HungUpByRemote() {
		t.Error("no BYE at shutdown")
	}
	if err := b.Stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	b.WaitLog(t, allOf(msgIs("call ended"), fieldIs("reason", "bridge shutting down")), time.Second)
}

func TestE2EBadSDPAndNoCodec(t *testing.T) {
	t.Parallel()
	b := startBridge(t, "")
	target := fmt.Sprintf("sip:conference@127.0.0.1:%d", b.SIPPort)
	g729 := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"
	if code := dialStatus(t, b, testphone.Options{Target: target, RawSDP: []byte(g729)}); code != 488 {
		t.Errorf("G.729-only offer: %d, want 488", code)
	}
	if code := dialStatus(t, b, testphone.Options{Target: target, RawSDP: []byte("this is not sdp")}); code != 400 {
		t.Errorf("garbage offer: %d, want 400", code)
	}
	// The bridge is still fine afterwards.
	dial(t, b, testphone.Options{})
}
