package main

// SIP session timers (RFC 4028) end to end, with sipp as the caller: the
// scenarios testdata/sipp/timer_*.xml against a bridge whose sip.min_se is
// lowered to 2 s, so that a refresh interval is seconds, not minutes.

import (
	"testing"
	"time"
)

const timerBridgeConfig = `
sip:
  min_se: 2s
  session_expires: 4s
`

// TestSippSessionTimerRefreshes: a caller with Session-Expires: 3 and
// refresher=uac refreshes by re-INVITE, or by UPDATE, every 1.5 s; each
// 2xx carries the timer; the call lasts past several intervals and ends by
// the caller's BYE, over UDP and TCP.
func TestSippSessionTimerRefreshes(t *testing.T) {
	t.Parallel()
	requireSipp(t)
	b := startBridge(t, timerBridgeConfig)
	for _, tc := range []struct{ name, scenario, mode string }{
		{"reinvite-udp", "timer_reinvite.xml", "u1"},
		{"update-udp", "timer_update.xml", "u1"},
		{"reinvite-tcp", "timer_reinvite.xml", "t1"},
		{"update-tcp", "timer_update.xml", "t1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id := "timer-" + tc.name
			res := runSipp(t, b, sippRun{Scenario: tc.scenario, CallID: id, Args: []string{"-t", tc.mode}, TraceMsg: true})
			assertSippOK(t, res, 1)
			assertEndReason(t, b, id, "caller hung up")
			assertNoErrorLogs(t, b)
		})
	}
}

// TestSippSessionTimerMissedRefresh: a caller that negotiates
// Session-Expires: 3 and never refreshes is hung up by the bridge's BYE at
// the expiry minus a third (2 s after the answer), not before and not
// much later.
func TestSippSessionTimerMissedRefresh(t *testing.T) {
	t.Parallel()
	requireSipp(t)
	b := startBridge(t, timerBridgeConfig)
	id := "timer-norefresh"
	res := runSipp(t, b, sippRun{Scenario: "timer_norefresh.xml", CallID: id, TraceMsg: true})
	assertSippOK(t, res, 1)
	answered := b.WaitLog(t, callLog(id, "call answered"), 5*time.Second)
	expired := b.WaitLog(t, callLog(id, "session timer expired: hanging up"), 5*time.Second)
	assertEndReason(t, b, id, "session timer expired: no refresh from the caller")
	d := logTime(t, expired).Sub(logTime(t, answered))
	if d < 1900*time.Millisecond || d > 4*time.Second {
		t.Errorf("hung up %v after the answer, want about 2 s (3 s minus a third)", d)
	}
}

// TestSippSessionTimerNegotiation: Require: timer is accepted (200 with
// Session-Expires and Require: timer); a Session-Expires below sip.min_se
// gets 422 with Min-SE.
func TestSippSessionTimerNegotiation(t *testing.T) {
	t.Parallel()
	requireSipp(t)
	b := startBridge(t, timerBridgeConfig)
	t.Run("require", func(t *testing.T) {
		t.Parallel()
		id := "timer-require"
		res := runSipp(t, b, sippRun{Scenario: "timer_require.xml", CallID: id, TraceMsg: true})
		assertSippOK(t, res, 1)
		assertEndReason(t, b, id, "caller hung up")
	})
	t.Run("too-small", func(t *testing.T) {
		t.Parallel()
		id := "timer-too-small"
		res := runSipp(t, b, sippRun{Scenario: "timer_too_small.xml", CallID: id, TraceMsg: true})
		assertSippOK(t, res, 1)
		b.WaitLog(t, callLog(id, "refused: session timer"), 5*time.Second)
		if n := b.CountLogs(callLog(id, "call answered")); n != 0 {
			t.Errorf("bridge answered an INVITE below its Min-SE")
		}
	})
	assertNoErrorLogs(t, b)
}

// logTime is a bridge log line's timestamp.
func logTime(t *testing.T, line map[string]any) time.Time {
	t.Helper()
	s, _ := line["time"].(string)
	at, err := time.Parse("2006-01-02T15:04:05.000Z07:00", s)
	if err != nil {
		t.Fatalf("log line without a time: %v", line)
	}
	return at
}
