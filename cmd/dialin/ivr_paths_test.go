package main

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dialin/dialin/internal/testphone"
	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/media/prompts"
	"github.com/dialin/dialin/store"
)

// End-to-end tests of the dial-in IVR's paths: the test phone dials the real
// bridge binary and keys in conference IDs and PINs by RFC 4733, SIP INFO
// and in-band tones; the bridge's JSON log says what the menu decided.

func TestIVROrganizerPINStartsMeetingThenAttendeeNotAsked(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig)
	id, pin := ivrOrganizer(t, b, "ada@example.com")
	ctx := ivrContext(t)

	org := dial(t, b, testphone.Options{})
	ivrKeys(t, ctx, org, id)
	b.WaitLog(t, allOf(ofCall(org, "conference ID found"), fieldIs("conference_id", id), fieldIs("require_organizer", "true")), 5*time.Second)
	ivrKeys(t, ctx, org, "*"+pin+"#")
	b.WaitLog(t, ofCall(org, "organizer PIN accepted"), 5*time.Second)
	b.WaitLog(t, allOf(ofCall(org, "caller joined the meeting"), fieldIs("role", "organizer"),
		fieldIs("started_meeting", "true"), fieldIs("waiting", "false")), 5*time.Second)

	// The meeting is on (the organizer stays): the next caller is not asked
	// for a PIN and goes on at once, to the lobby, where the organizer
	// admits callers (the default admission). Had it been offered the
	// organizer prompt, joining would take that whole prompt (5.3 s) plus
	// organizer_wait.
	att := dial(t, b, testphone.Options{})
	ivrKeys(t, ctx, att, id)
	b.WaitLog(t, allOf(ofCall(att, "conference ID found"), fieldIs("conference_id", id)), 5*time.Second)
	b.WaitLog(t, allOf(ofCall(att, "caller joined the meeting"), fieldIs("role", "attendee"),
		fieldIs("started_meeting", "false"), fieldIs("waiting", "true")), ivrPrompt(t, prompts.OrganizerPressStar).Duration())
	if n := b.CountLogs(allOf(fieldIs("call_id", att.CallID()), fieldHasPrefix("message", "organizer PIN"))); n != 0 {
		t.Errorf("the attendee of a started meeting has %d organizer PIN lines, want 0", n)
	}
}

func TestIVRWrongIDThreeTimesHangsUp(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig)
	id, _ := ivrOrganizer(t, b, "ada@example.com")
	ctx := ivrContext(t)
	wrong := ivrWrongIDs(id, 3)

	call := dial(t, b, testphone.Options{})
	for i, w := range wrong {
		// Each entry cuts the "invalid ID, enter it again" prompt.
		ivrKeys(t, ctx, call, w)
		b.WaitLogCount(t, allOf(ofCall(call, "conference ID not found"), fieldIs("attempt", fmt.Sprint(i+1))), 1, 10*time.Second)
	}
	waitEnded(t, call, 15*time.Second)
	if !call.HungUpByRemote() {
		t.Error("the bridge did not send BYE after three wrong conference IDs")
	}
	b.WaitLog(t, allOf(ofCall(call, "call ended"), fieldIs("reason", "call flow finished")), 5*time.Second)
	if n := b.CountLogs(ofCall(call, "conference ID not found")); n != 3 {
		t.Errorf("%d \"conference ID not found\" lines, want 3", n)
	}
	if n := b.CountLogs(ofCall(call, "conference ID found")); n != 0 {
		t.Errorf("%d \"conference ID found\" lines, want 0", n)
	}
	for _, w := range wrong {
		if line, ok := ivrOutputContains(b, w); ok {
			t.Errorf("the bridge logged the wrong ID %s: %s", w, line)
		}
	}
}

func TestIVRWrongPINThreeTimesJoinsAsAttendee(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig)
	id, pin := ivrOrganizer(t, b, "ada@example.com")
	ctx := ivrContext(t)
	wrong := ivrWrongPINs(pin, 3)

	call := dial(t, b, testphone.Options{})
	ivrKeys(t, ctx, call, id)
	b.WaitLog(t, ofCall(call, "conference ID found"), 5*time.Second)
	ivrKeys(t, ctx, call, "*")
	for i, w := range wrong {
		ivrKeys(t, ctx, call, w+"#")
		b.WaitLog(t, allOf(ofCall(call, "organizer PIN wrong"), fieldIs("attempt", fmt.Sprint(i+1))), 10*time.Second)
	}
	b.WaitLog(t, allOf(ofCall(call, "caller joined the meeting"), fieldIs("role", "attendee"),
		fieldIs("started_meeting", "false"), fieldIs("waiting", "true")), 10*time.Second)
	if n := b.CountLogs(ofCall(call, "organizer PIN wrong")); n != 3 {
		t.Errorf("%d \"organizer PIN wrong\" lines, want 3", n)
	}
	if n := b.CountLogs(ofCall(call, "organizer PIN accepted")); n != 0 {
		t.Errorf("%d \"organizer PIN accepted\" lines, want 0", n)
	}
	for _, w := range wrong {
		if line, ok := ivrOutputContains(b, w); ok {
			t.Errorf("the bridge logged the wrong PIN %s: %s", w, line)
		}
	}
}

func TestIVRLockedPINJoinsAsAttendeeUntilUnlocked(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig)
	email := "ada@example.com"
	id, pin := ivrOrganizer(t, b, email)
	ivrAPI(t, b, 200, "PATCH", "/api/v1/settings", `{"lockout": {"local_limit": 2}}`, nil)
	ctx := ivrContext(t)
	wrong := ivrWrongPINs(pin, 2)

	// Two wrong PINs lock it; the second attempt already finds it locked.
	first := dial(t, b, testphone.Options{})
	ivrKeys(t, ctx, first, id+"*"+wrong[0]+"#")
	b.WaitLog(t, ofCall(first, "organizer PIN wrong"), 10*time.Second)
	ivrKeys(t, ctx, first, wrong[1]+"#")
	b.WaitLog(t, ofCall(first, "organizer PIN locked"), 10*time.Second)
	ivrHangup(t, b, first)

	// Locked, the right PIN does not make the caller the organizer.
	second := dial(t, b, testphone.Options{})
	ivrKeys(t, ctx, second, id+"*"+pin+"#")
	b.WaitLog(t, ofCall(second, "organizer PIN locked"), 10*time.Second)
	b.WaitLog(t, allOf(ofCall(second, "caller joined the meeting"), fieldIs("role", "attendee"), fieldIs("started_meeting", "false")), 10*time.Second)
	if n := b.CountLogs(ofCall(second, "organizer PIN accepted")); n != 0 {
		t.Errorf("a locked PIN was accepted (%d lines)", n)
	}
	ivrHangup(t, b, second)

	ivrAPI(t, b, 200, "POST", "/api/v1/users/"+url.PathEscape(email)+"/pin/unlock", "", nil)
	third := dial(t, b, testphone.Options{})
	ivrKeys(t, ctx, third, id+"*"+pin+"#")
	b.WaitLog(t, ofCall(third, "organizer PIN accepted"), 10*time.Second)
	b.WaitLog(t, allOf(ofCall(third, "caller joined the meeting"), fieldIs("role", "organizer"), fieldIs("started_meeting", "true")), 5*time.Second)
}

func TestIVRConferenceIDResetRetiresOldID(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig)
	email := "ada@example.com"
	oldID, _ := ivrOrganizer(t, b, email)
	var change struct {
		User struct {
			ConferenceID string `json:"conference_id"`
		} `json:"user"`
	}
	ivrAPI(t, b, 200, "POST", "/api/v1/users/"+url.PathEscape(email)+"/conference-id/reset", `{"send_email": false}`, &change)
	newID := change.User.ConferenceID
	if len(newID) != 7 || newID == oldID {
		t.Fatalf("reset gave conference ID %q (old %s)", newID, oldID)
	}
	ctx := ivrContext(t)

	call := dial(t, b, testphone.Options{})
	ivrKeys(t, ctx, call, oldID)
	b.WaitLog(t, allOf(ofCall(call, "conference ID not found"), fieldIs("attempt", "1")), 5*time.Second)
	ivrKeys(t, ctx, call, newID)
	b.WaitLog(t, allOf(ofCall(call, "conference ID found"), fieldIs("conference_id", newID)), 5*time.Second)
}

func TestIVRNoDigitsRepromptsThenGoodbye(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrWith(t, "ivr: {first_digit_timeout: 1s}"))
	call := dial(t, b, testphone.Options{})
	start := time.Now()

	b.WaitLog(t, ofCall(call, "no conference ID entered: goodbye"), 25*time.Second)
	// Goodbye only after the prompts, the re-prompt and two timeouts: had
	// the bridge given up at the first silence it would be much sooner.
	least := 2 * time.Second
	for _, name := range []string{prompts.Welcome, prompts.EnterConferenceID, prompts.NoDigits, prompts.EnterConferenceID} {
		least += ivrPrompt(t, name).Duration()
	}
	if took := time.Since(start); took < least-500*time.Millisecond {
		t.Errorf("goodbye after %v, want at least %v: no re-prompt?", took, least)
	}
	waitEnded(t, call, 10*time.Second)
	if !call.HungUpByRemote() {
		t.Error("the bridge did not send BYE after goodbye")
	}
	b.WaitLog(t, allOf(ofCall(call, "call ended"), fieldIs("reason", "call flow finished")), 5*time.Second)
}

func TestIVRHangupsLeaveNothingBehind(t *testing.T) {
	t.Parallel()
	// Debug level logs each key the bridge takes ("dtmf key", without the
	// key), which tells when the bridge is inside the PIN entry.
	b := startBridge(t, ivrWith(t, "log: {level: debug}"))
	id, pin := ivrOrganizer(t, b, "ada@example.com")
	ctx := ivrContext(t)
	before := ivrGetStatus(t, b)

	const calls = 4 // of each kind: enough for a per-call leak to stand out
	for range calls {
		call := dial(t, b, testphone.Options{})
		// Hang up while the welcome is playing.
		if err := call.WaitForAudio(ctx, 200*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		ivrHangup(t, b, call)
	}
	for range calls {
		call := dial(t, b, testphone.Options{})
		ivrKeys(t, ctx, call, id)
		b.WaitLog(t, ofCall(call, "conference ID found"), 5*time.Second)
		ivrKeys(t, ctx, call, "*"+pin[:2])
		b.WaitLogCount(t, ofCall(call, "dtmf key"), len(id)+3, 5*time.Second)
		ivrHangup(t, b, call)
		if n := b.CountLogs(allOf(fieldIs("call_id", call.CallID()), fieldHasPrefix("message", "organizer PIN"))); n != 0 {
			t.Errorf("a PIN entry cut by the hang-up was judged (%d lines)", n)
		}
	}

	// Goroutines may take a moment to unwind after "call ended".
	const slack = 3
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := ivrGetStatus(t, b)
		if st.Calls == 0 && st.RTPPorts == 0 && st.Goroutines <= before.Goroutines+slack {
			t.Logf("goroutines %d before the calls, %d after", before.Goroutines, st.Goroutines)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d hung-up calls: %+v, want 0 calls, 0 RTP ports and at most %d goroutines (%d before)",
				2*calls, st, before.Goroutines+slack, before.Goroutines)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestIVRDigitsBySIPINFO(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig)
	id, pin := ivrOrganizer(t, b, "ada@example.com")
	ctx := ivrContext(t)

	// application/dtmf-relay: the ID, then star and the PIN.
	relay := dial(t, b, testphone.Options{})
	ivrAnswered(t, b, relay)
	ivrINFO(t, ctx, relay, id, testphone.INFODTMFRelay)
	b.WaitLog(t, allOf(ofCall(relay, "conference ID found"), fieldIs("conference_id", id)), 5*time.Second)
	ivrINFO(t, ctx, relay, "*"+pin+"#", testphone.INFODTMFRelay)
	b.WaitLog(t, ofCall(relay, "organizer PIN accepted"), 5*time.Second)
	b.WaitLog(t, allOf(ofCall(relay, "caller joined the meeting"), fieldIs("role", "organizer")), 5*time.Second)

	// application/dtmf: the ID.
	plain := dial(t, b, testphone.Options{})
	ivrAnswered(t, b, plain)
	ivrINFO(t, ctx, plain, id, testphone.INFODTMF)
	b.WaitLog(t, allOf(ofCall(plain, "conference ID found"), fieldIs("conference_id", id)), 5*time.Second)
}

// A trunk may send an INFO right behind its ACK, and sipgo may handle the
// INFO first; the bridge must still take the ACK (sipua readInDialog).
func TestIVRINFORightAfterAnswer(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig)
	ctx := ivrContext(t)
	for range 5 {
		call := dial(t, b, testphone.Options{})
		if err := call.SendDigitsINFO(ctx, "1", testphone.INFODTMF, 0); err != nil {
			t.Fatal(err)
		}
		// The ACK left before the INFO; without the bug it is taken at once.
		b.WaitLog(t, ofCall(call, "call answered"), 2*time.Second)
		ivrHangup(t, b, call)
	}
}

func TestIVRInbandDigits(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig)
	id, pin := ivrOrganizer(t, b, "ada@example.com")
	ctx := ivrContext(t)

	// No telephone-event in the offer: the bridge listens for tones.
	call := dial(t, b, testphone.Options{NoTelephoneEvent: true})
	b.WaitLog(t, allOf(ofCall(call, "call answered"), fieldIs("dtmf_pt", "0")), 5*time.Second)
	ivrInband(t, ctx, call, id)
	b.WaitLog(t, allOf(ofCall(call, "conference ID found"), fieldIs("conference_id", id)), 5*time.Second)
	ivrInband(t, ctx, call, "*"+pin+"#")
	b.WaitLog(t, ofCall(call, "organizer PIN accepted"), 5*time.Second)
	b.WaitLog(t, allOf(ofCall(call, "caller joined the meeting"), fieldIs("role", "organizer")), 5*time.Second)
}

func TestIVRInbandIgnoredWhenRFC4733Only(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrWith(t, "sip: {dtmf: rfc4733}\nivr: {first_digit_timeout: 1s}"))
	id, _ := ivrOrganizer(t, b, "ada@example.com")
	ctx := ivrContext(t)

	// The tones go while the bridge waits for the ID; with sip.dtmf rfc4733
	// it does not listen for them, so the entry times out twice: goodbye.
	call := dial(t, b, testphone.Options{NoTelephoneEvent: true})
	ivrInband(t, ctx, call, id)
	b.WaitLog(t, ofCall(call, "no conference ID entered: goodbye"), 25*time.Second)
	if n := b.CountLogs(allOf(fieldIs("call_id", call.CallID()), fieldHasPrefix("message", "conference ID"))); n != 0 {
		t.Errorf("in-band keys were read with sip.dtmf rfc4733 (%d conference ID lines)", n)
	}
}

func TestIVRSameKeyByTwoTransportsCountsOnce(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrWith(t, "log: {level: debug}"))
	email := "ada@example.com"
	ivrOrganizer(t, b, email)
	// Repeated digits: a second press of a key must not pass for the echo
	// of the first on the other transport.
	id := ivrValidID("112200")
	ivrAPI(t, b, 200, "PUT", "/api/v1/users/"+url.PathEscape(email)+"/conference-id", `{"conference_id":"`+id+`","send_email":false}`, nil)
	ctx := ivrContext(t)

	call := dial(t, b, testphone.Options{})
	ivrAnswered(t, b, call)
	for i := range len(id) {
		key := id[i : i+1]
		var wg sync.WaitGroup
		var rtpErr, infoErr error
		wg.Go(func() { rtpErr = call.SendDigits(ctx, key, 150*time.Millisecond) })
		wg.Go(func() {
			// The INFO goes out at once and the event on the next 20 ms
			// tick: hold the INFO back on odd keys so that each transport
			// comes first for some keys.
			time.Sleep(time.Duration(i%2) * 60 * time.Millisecond)
			infoErr = call.SendDigitsINFO(ctx, key, testphone.INFODTMFRelay, 0)
		})
		wg.Wait()
		if rtpErr != nil || infoErr != nil {
			t.Fatalf("key %d: RFC 4733: %v, INFO: %v", i, rtpErr, infoErr)
		}
	}
	b.WaitLog(t, allOf(ofCall(call, "conference ID found"), fieldIs("conference_id", id)), 5*time.Second)
	if n := b.CountLogs(ofCall(call, "conference ID not found")); n != 0 {
		t.Errorf("%d \"conference ID not found\" lines, want 0", n)
	}
	if n := b.CountLogs(ofCall(call, "dtmf key")); n != len(id) {
		t.Errorf("the bridge took %d keys for %d presses sent twice", n, len(id))
	}
	rfc := b.CountLogs(allOf(ofCall(call, "dtmf key"), fieldIs("source", "rfc4733")))
	if rfc == 0 || rfc == len(id) {
		t.Errorf("%d of %d keys taken by RFC 4733: one transport won every race, so the other was never deduplicated", rfc, len(id))
	}
	t.Logf("keys taken: %d by RFC 4733, %d by INFO",
		b.CountLogs(allOf(ofCall(call, "dtmf key"), fieldIs("source", "rfc4733"))),
		b.CountLogs(allOf(ofCall(call, "dtmf key"), fieldIs("source", "sip-info"))))
}

func TestIVRGuessersRefusedThenServedAfterCooloff(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrWith(t, "ivr: {guess_limit: 3, guess_window: 1m, guess_cooloff: 3s}"))
	id, _ := ivrOrganizer(t, b, "ada@example.com")
	ctx := ivrContext(t)

	guesser := dial(t, b, testphone.Options{})
	for i, w := range ivrWrongIDs(id, 3) {
		ivrKeys(t, ctx, guesser, w)
		b.WaitLog(t, allOf(ofCall(guesser, "conference ID not found"), fieldIs("attempt", fmt.Sprint(i+1))), 10*time.Second)
	}
	b.WaitLog(t, allOf(ofCall(guesser, "conference ID not found"), fieldIs("caller_blocked", "true")), time.Second)
	blockedAt := time.Now()

	// The next call from the same phone is refused before the menu.
	refused := dial(t, b, testphone.Options{})
	b.WaitLog(t, ofCall(refused, "call refused: too many failed conference IDs or PINs from this caller"), 5*time.Second)
	waitEnded(t, refused, 10*time.Second)
	if !refused.HungUpByRemote() {
		t.Error("the bridge did not hang up on a refused caller")
	}
	if n := b.CountLogs(allOf(fieldIs("call_id", refused.CallID()), fieldHasPrefix("message", "conference ID"))); n != 0 {
		t.Errorf("a refused caller reached the menu (%d conference ID lines)", n)
	}

	// After the cool-off the phone is served again.
	time.Sleep(time.Until(blockedAt.Add(3 * time.Second)))
	served := false
	for attempt := 0; attempt < 5 && !served; attempt++ {
		call := dial(t, b, testphone.Options{})
		ivrKeys(t, ctx, call, id)
		l := b.WaitLog(t, allOf(fieldIs("call_id", call.CallID()), func(l map[string]any) bool {
			return l["message"] == "conference ID found" || strings.HasPrefix(fmt.Sprint(l["message"]), "call refused")
		}), 10*time.Second)
		served = l["message"] == "conference ID found"
		ivrHangup(t, b, call)
		if !served {
			time.Sleep(500 * time.Millisecond)
		}
	}
	if !served {
		t.Errorf("still refused %v after the 3 s cool-off", time.Since(blockedAt))
	}
}

// TestE2EBargeInLatency measures how soon a key stops the welcome prompt, as
// the caller hears it. It is a measurement, not a limit: it fails only if
// no key stopped the prompt at all.
func TestE2EBargeInLatency(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig)
	var lat []time.Duration
	for i := range 10 {
		d, ok := bargeInLatency(t, b)
		if !ok {
			t.Logf("call %d: no prompt stop measured", i)
			continue
		}
		t.Logf("key-to-prompt-stop latency: %v", d)
		lat = append(lat, d)
	}
	if len(lat) == 0 {
		t.Fatal("no key stopped the welcome prompt")
	}
	slices.Sort(lat)
	t.Logf("key-to-prompt-stop latency over %d calls: min %v, median %v, max %v", len(lat), lat[0], lat[len(lat)/2], lat[len(lat)-1])
}

// BenchmarkE2EBargeInLatency is TestE2EBargeInLatency as a benchmark, one
// call per iteration (-benchtime=20x for 20 calls).
func BenchmarkE2EBargeInLatency(b *testing.B) {
	br := startBridge(b, ivrBridgeConfig)
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		if d, ok := bargeInLatency(b, br); ok {
			lat = append(lat, d)
		}
	}
	b.StopTimer()
	if len(lat) == 0 {
		b.Fatal("no key stopped the welcome prompt")
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2])/float64(time.Millisecond), "ms/key-to-stop")
}

// bargeInLatency dials, waits until the welcome prompt is sounding, presses
// one key and returns the time from the key's first packet to the prompt's
// first silent packet, both on the phone's clock. ok is false when no stop
// was found, or the key fell in a pause of the prompt (no measure then).
func bargeInLatency(tb testing.TB, b *bridgeProcess) (latency time.Duration, ok bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	call, err := testphone.Dial(ctx, testphone.Options{Target: fmt.Sprintf("sip:conference@127.0.0.1:%d", b.SIPPort)})
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	defer func() { _ = call.Hangup(ctx) }()
	if err := call.WaitForAudio(ctx, 200*time.Millisecond); err != nil {
		tb.Fatalf("welcome prompt not heard: %v", err)
	}
	for !call.Received().LoudAt(time.Now(), testphone.SilenceRMS) {
		if ctx.Err() != nil {
			tb.Fatal("the welcome prompt never sounded")
		}
		time.Sleep(5 * time.Millisecond)
	}
	marks, err := call.SendDigitsMarked(ctx, "1", 0)
	if err != nil || marks[0].IsZero() {
		tb.Fatalf("send key: %v", err)
	}
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		rec := call.Received()
		if stop, found := rec.AudioStopAfter(marks[0], testphone.SilenceRMS); found {
			if !rec.LoudAt(marks[0], testphone.SilenceRMS) {
				return 0, false
			}
			return stop.Sub(marks[0]), true
		}
	}
	return 0, false
}

// ivrContext bounds the phone's sending in one test.
func ivrContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// ivrWith is ivrBridgeConfig with extra merged over it: a second "ivr:" in
// one YAML document would be an error, not an override.
func ivrWith(t testing.TB, extra string) string {
	t.Helper()
	cfg, err := mergeConfig(ivrBridgeConfig, extra)
	if err != nil {
		t.Fatal(err)
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// ofCall matches the log line msg of call.
func ofCall(call *testphone.Call, msg string) logPred {
	return allOf(msgIs(msg), fieldIs("call_id", call.CallID()))
}

// ivrKeys presses keys as RFC 4733 events, at a brisk human pace.
func ivrKeys(t testing.TB, ctx context.Context, call *testphone.Call, keys string) {
	t.Helper()
	if err := call.SendDigits(ctx, keys, 80*time.Millisecond); err != nil {
		t.Fatalf("send keys: %v", err)
	}
}

// ivrINFO presses keys as SIP INFO requests in format.
func ivrINFO(t testing.TB, ctx context.Context, call *testphone.Call, keys string, format testphone.INFOFormat) {
	t.Helper()
	if err := call.SendDigitsINFO(ctx, keys, format, 50*time.Millisecond); err != nil {
		t.Fatalf("send keys by INFO: %v", err)
	}
}

// ivrInband presses keys as tones at -12 dBFS each, on a line with noise
// at -40 dBFS.
func ivrInband(t testing.TB, ctx context.Context, call *testphone.Call, keys string) {
	t.Helper()
	opts := testphone.InbandOptions{LevelDBFS: -12, NoiseDBFS: -40, Seed: 1}
	if err := call.SendDigitsInband(ctx, keys, opts); err != nil {
		t.Fatalf("send keys in-band: %v", err)
	}
}

// ivrHangup hangs call up and waits for the bridge to log it.
func ivrHangup(t testing.TB, b *bridgeProcess, call *testphone.Call) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := call.Hangup(ctx); err != nil {
		t.Fatalf("hang up: %v", err)
	}
	b.WaitLog(t, allOf(ofCall(call, "call ended"), fieldIs("reason", "caller hung up")), 5*time.Second)
}

// ivrAnswered waits until the bridge has taken the call's ACK. An INFO
// that the bridge handles before the ACK makes it refuse the ACK (see
// TestIVRINFORightAfterAnswer), so the INFO tests wait for it.
func ivrAnswered(t testing.TB, b *bridgeProcess, call *testphone.Call) {
	t.Helper()
	b.WaitLog(t, ofCall(call, "call answered"), 5*time.Second)
}

// ivrValidID is prefix (6 digits) with its check digit: an ID the bridge
// looks up rather than refusing on its form.
func ivrValidID(prefix string) string {
	for d := '0'; d <= '9'; d++ {
		if id := prefix + string(d); store.ValidConferenceID(id) {
			return id
		}
	}
	panic("no check digit for " + prefix)
}

// ivrWrongIDs returns n well-formed conference IDs other than id.
func ivrWrongIDs(id string, n int) []string {
	var ids []string
	for i := 0; len(ids) < n; i++ {
		if w := ivrValidID(fmt.Sprintf("5550%02d", i)); w != id {
			ids = append(ids, w)
		}
	}
	return ids
}

// ivrWrongPINs returns n PINs other than pin. They are above 65535 so that
// no port number in the log can look like one of them.
func ivrWrongPINs(pin string, n int) []string {
	var pins []string
	for _, p := range []string{"97531", "86420", "75319", "96418"} {
		if p != pin && len(pins) < n {
			pins = append(pins, p)
		}
	}
	return pins
}

// ivrOutputContains finds s in the bridge's output (stdout and stderr).
func ivrOutputContains(b *bridgeProcess, s string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.raw {
		if strings.Contains(l, s) {
			return l, true
		}
	}
	return "", false
}

// ivrStatus is GET /api/v1/status.
type ivrStatus struct {
	Calls      int `json:"calls"`
	RTPPorts   int `json:"rtp_ports"`
	Goroutines int `json:"goroutines"`
	Meetings   int `json:"meetings"`
	Refused    int `json:"sip_refused_untrusted"`
}

func ivrGetStatus(t *testing.T, b *bridgeProcess) ivrStatus {
	t.Helper()
	var st ivrStatus
	ivrAPI(t, b, 200, "GET", "/api/v1/status", "", &st)
	return st
}

// ivrPrompt is the embedded prompt name, as the bridge plays it.
func ivrPrompt(t testing.TB, name string) *media.Prompt {
	t.Helper()
	ps, err := prompts.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return ps.MustGet(name)
}
