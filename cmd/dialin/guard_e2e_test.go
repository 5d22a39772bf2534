package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/internal/testphone"
)

// End-to-end tests of the guessing guard (docs/SECURITY.md). Every test
// phone calls from 127.0.0.1: one source address, as a carrier's SBC or a
// Kamailio in front is; the calling numbers are set with Options.From.

// guardCarrierConfig makes loopback a carrier: never refused by address.
const guardCarrierConfig = `
sip: {carrier_networks: ["127.0.0.0/8"]}
`

// guardTypo is id with one digit changed: the ordinary typo, which the
// check digit catches.
func guardTypo(id string, i int) string {
	b := []byte(id)
	b[i] = '0' + (b[i]-'0'+1)%10
	return string(b)
}

// guardCalls runs n callers at once, each on its own goroutine, and waits
// for them; a caller reports trouble by returning an error (testing's
// Fatal may not be called off the test goroutine).
func guardCalls(t *testing.T, n int, caller func(i int) error) {
	t.Helper()
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- caller(i) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// guardDial places a call from number; it hangs up at the test's end.
func guardDial(t *testing.T, b *bridgeProcess, from string) (*testphone.Call, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := testphone.Dial(ctx, testphone.Options{Target: fmt.Sprintf("sip:conference@127.0.0.1:%d", b.SIPPort), From: from})
	if err != nil {
		return nil, fmt.Errorf("dial from %s: %w", from, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = call.Hangup(ctx)
	})
	return call, nil
}

// guardWait waits for a log line pred accepts, without failing the test.
func guardWait(b *bridgeProcess, pred logPred, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if b.CountLogs(pred) > 0 {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// guardEnded waits for call's end, without failing the test.
func guardEnded(call *testphone.Call, timeout time.Duration) error {
	select {
	case <-call.Done():
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("call %s not ended within %v", call.CallID(), timeout)
	}
}

// guardCount counts the log lines with message msg.
func guardCount(b *bridgeProcess, msg string) int { return b.CountLogs(msgIs(msg)) }

// Twenty callers through one trunk, twenty numbers, three typos each: then
// a caller with the right ID gets in at once. The old guard refused the
// whole address after four such callers.
func TestGuardE2ECarrierTyposRefuseNobody(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrWith(t, guardCarrierConfig))
	id, _ := ivrOrganizer(t, b, "ada@example.com")
	ctx := ivrContext(t)

	guardCalls(t, 20, func(i int) error {
		call, err := guardDial(t, b, fmt.Sprintf("+1425555%04d", i))
		if err != nil {
			return err
		}
		for k, typo := range []string{guardTypo(id, 1), guardTypo(id, 4), guardTypo(id, 6)} {
			if err := call.SendDigits(ctx, typo, 80*time.Millisecond); err != nil {
				return err
			}
			if !guardWait(b, allOf(ofCall(call, "conference ID not found"), fieldIs("attempt", fmt.Sprint(k+1))), 15*time.Second) {
				return fmt.Errorf("caller %d: typo %d not answered", i, k+1)
			}
		}
		return guardEnded(call, 15*time.Second)
	})
	if t.Failed() {
		return
	}
	call := dial(t, b, testphone.Options{From: "+14255559999"})
	ivrKeys(t, ctx, call, id)
	b.WaitLog(t, allOf(ofCall(call, "conference ID found"), fieldIs("conference_id", id)), 5*time.Second)
	for _, msg := range []string{"carrier over its guessing rate: the entry waits its turn",
		"entry not checked: the carrier is over its guessing rate",
		"call refused: too many failed conference IDs or PINs from this caller",
		"entry refused: too many failed conference IDs or PINs from this caller"} {
		if n := guardCount(b, msg); n != 0 {
			t.Errorf("%d %q lines: ordinary typos held callers back", n, msg)
		}
	}
	// The default secret sits beside the database: said once, at start-up.
	if n := b.CountLogs(allOf(fieldIs("level", "warn"), fieldHasPrefix("message", "the PIN secret sits beside the database"))); n != 1 {
		t.Errorf("%d warnings about the secret beside the database, want 1", n)
	}
}

// A dialler that makes up a number for every call, many calls at once,
// with well-formed IDs: the carrier's budget holds. Checked entries by any
// time T are at most burst + (T - first check) / interval, plus one for
// the log's millisecond clock; entries past max_wait are not checked.
func TestGuardE2ECarrierRateHolds(t *testing.T) {
	t.Parallel()
	const burst, interval = 2, time.Second
	b := startBridge(t, ivrWith(t, guardCarrierConfig+
		"ivr: {carrier_guess_interval: 1s, carrier_guess_burst: 2, carrier_guess_max_wait: 2s}"))
	id, _ := ivrOrganizer(t, b, "ada@example.com")
	ctx := ivrContext(t)
	wrong := ivrWrongIDs(id, 3)

	guardCalls(t, 8, func(i int) error {
		call, err := guardDial(t, b, fmt.Sprintf("+1555%07d", i))
		if err != nil {
			return err
		}
		// All three at once: the keys wait in the call while it waits its turn.
		_ = call.SendDigits(ctx, strings.Join(wrong, ""), 80*time.Millisecond) // the call may end first
		return guardEnded(call, 30*time.Second)
	})
	checks := b.CountLogs(msgIs("conference ID not found"))
	var times []time.Time
	for _, l := range b.Logs() {
		if l["message"] != "conference ID not found" {
			continue
		}
		at, err := time.Parse("2006-01-02T15:04:05.000Z07:00", fmt.Sprint(l["time"]))
		if err != nil {
			t.Fatalf("log time %v: %v", l["time"], err)
		}
		times = append(times, at)
	}
	for k, at := range times {
		allowed := burst + float64(at.Sub(times[0]))/float64(interval) + 1
		if float64(k+1) > allowed {
			t.Errorf("check %d at +%v: more than the %.1f the budget allows", k+1, at.Sub(times[0]), allowed)
		}
	}
	waited := guardCount(b, "carrier over its guessing rate: the entry waits its turn")
	notChecked := guardCount(b, "entry not checked: the carrier is over its guessing rate")
	t.Logf("24 entries tried: %d checked, %d of them after a wait, %d not checked", checks, waited, notChecked)
	if notChecked == 0 || waited == 0 {
		t.Errorf("the dialler was not held back (waited %d, not checked %d)", waited, notChecked)
	}
	if n := b.CountLogs(fieldHasPrefix("message", "call refused")); n != 0 {
		t.Errorf("%d calls refused: a carrier is never refused by address", n)
	}
}

// Twenty calls at once from one number, three wrong IDs each: the guard
// counts each entry before it is checked, so no more than guess_limit
// wrong IDs are checked in all (the old guard let 60 through).
func TestGuardE2EConcurrentGuessersOneNumber(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrBridgeConfig) // guess_limit 10; loopback is no carrier
	id, _ := ivrOrganizer(t, b, "ada@example.com")
	ctx := ivrContext(t)
	wrong := strings.Join(ivrWrongIDs(id, 3), "")

	guardCalls(t, 20, func(i int) error {
		call, err := guardDial(t, b, "+15550001111")
		if err != nil {
			return err
		}
		_ = call.SendDigits(ctx, wrong, 80*time.Millisecond) // the call may end first
		return guardEnded(call, 30*time.Second)
	})
	checked := guardCount(b, "conference ID not found")
	refused := guardCount(b, "entry refused: too many failed conference IDs or PINs from this caller") +
		guardCount(b, "call refused: too many failed conference IDs or PINs from this caller")
	t.Logf("60 wrong IDs tried by 20 calls: %d checked, %d calls refused", checked, refused)
	if checked > 10 {
		t.Errorf("%d wrong IDs checked, want at most guess_limit 10", checked)
	}
	if refused == 0 {
		t.Error("no call was refused")
	}
}

// Nine calls at once that know a conference ID guess its organizer's PIN
// from one number through a carrier: at most guess_limit PINs are checked,
// so the organizer's PIN (25 failures lock it) stays unlocked, and the
// organizer, from their own number, gets in. The secret is kept outside the
// data folder here: no warning about it.
func TestGuardE2EPINGuessersDoNotLockOrganizer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secrets", "pin-secret")
	b := startBridgeIn(t, dir, ivrWith(t, guardCarrierConfig+
		"ivr: {carrier_guess_interval: 1s, carrier_guess_burst: 30}\npin_secret_file: "+secretFile))
	email := "ada@example.com"
	id, pin := ivrOrganizer(t, b, email)
	ctx := ivrContext(t)
	wrong := ivrWrongPINs(pin, 3)

	guardCalls(t, 9, func(i int) error {
		call, err := guardDial(t, b, "+15550002222")
		if err != nil {
			return err
		}
		_ = call.SendDigits(ctx, id, 80*time.Millisecond)
		if !guardWait(b, func(l map[string]any) bool {
			return l["call_id"] == call.CallID() && (l["message"] == "conference ID found" || strings.Contains(fmt.Sprint(l["message"]), "refused"))
		}, 10*time.Second) {
			return fmt.Errorf("caller %d: conference ID not answered", i)
		}
		_ = call.SendDigits(ctx, "*"+strings.Join(wrong, "#")+"#", 80*time.Millisecond) // the call may end first
		return guardEnded(call, 30*time.Second)
	})
	checked := guardCount(b, "organizer PIN wrong") + guardCount(b, "organizer PIN locked")
	t.Logf("27 wrong PINs tried by 9 calls: %d checked", checked)
	if checked > 10 {
		t.Errorf("%d PINs checked, want at most guess_limit 10", checked)
	}
	var u struct {
		Locked bool `json:"locked"`
		Lock   struct {
			TotalFailures int `json:"total_failures"`
		} `json:"lock"`
	}
	ivrAPI(t, b, 200, "GET", "/api/v1/users/"+url.PathEscape(email), "", &u)
	if u.Locked || u.Lock.TotalFailures > 10 {
		t.Errorf("organizer's PIN: locked %v after %d failures", u.Locked, u.Lock.TotalFailures)
	}

	org := dial(t, b, testphone.Options{From: "+14255550100"})
	ivrKeys(t, ctx, org, id)
	b.WaitLog(t, ofCall(org, "conference ID found"), 10*time.Second)
	ivrKeys(t, ctx, org, "*"+pin+"#")
	b.WaitLog(t, ofCall(org, "organizer PIN accepted"), 10*time.Second)

	if _, err := os.Stat(secretFile); err != nil {
		t.Errorf("pin_secret_file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "pin-secret")); !os.IsNotExist(err) {
		t.Errorf("a secret was written beside the database: %v", err)
	}
	if n := b.CountLogs(fieldHasPrefix("message", "the PIN secret sits beside the database")); n != 0 {
		t.Errorf("warned about the secret beside the database though it is not")
	}
}
