package main

// End-to-end tests that call the real bridge with sipp, using the scenarios
// in testdata/sipp (see its README.md). They need sipp (Debian package
// sip-tester) and fail without it, never skip: `make test` installs it.
// TestSippDTMFPcap replays pcaps through sipp's raw socket, so it needs
// root or CAP_NET_RAW (CI runs as root).
//
// Every test runs its own bridge on 127.0.0.1 with kernel-picked ports, and
// its own sipp with ports picked here, so the tests run in parallel. sipp is
// bounded by its -timeout and a context; the bridge by startBridge's cleanup.

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// sippDir holds the scenarios, relative to this package.
const sippDir = "../../testdata/sipp"

// sippRun is one sipp invocation against a bridge.
type sippRun struct {
	Scenario string   // file name in testdata/sipp
	Args     []string // more sipp arguments (-m, -l, -r, -d, -t t1, ...); -m 1 unless given
	// CallID prefixes every Call-ID sipp makes (-cid_str PREFIX-%u-%p@%s),
	// so the test finds its own calls in the bridge's log. Default: the
	// scenario name.
	CallID   string
	Timeout  time.Duration // sipp's -timeout, after which the run fails; default 30 s
	TraceMsg bool          // write every SIP message to messages.log (small runs only)
}

// sippResult is what a finished sipp run reports.
type sippResult struct {
	ExitCode int               // 0: every call succeeded; 1: some failed; 255: fatal error
	Stats    map[string]string // last row of the -trace_stat file, by column name
	Dir      string            // sipp's working folder: stat.csv, errors.log, screen.log, ...
}

// stat is a cumulative counter from the statistics file, e.g.
// "SuccessfulCall(C)"; a missing or non-numeric column fails the test.
func (r sippResult) stat(t *testing.T, name string) int {
	t.Helper()
	v, ok := r.Stats[name]
	if !ok {
		t.Fatalf("sipp statistics have no column %q (stat file missing?)", name)
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		t.Fatalf("sipp statistic %s = %q: %v", name, v, err)
	}
	return n
}

// requireSipp returns sipp's path, or fails the test: a missing sipp must
// not turn into a green run.
func requireSipp(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatal("sipp not found in PATH: install sip-tester (make test does this)")
	}
	return path
}

// runSipp runs one scenario against b on 127.0.0.1 and waits for sipp to
// exit. On test failure it logs sipp's final screen, its error log and, with
// TraceMsg, the tail of the SIP message trace.
func runSipp(t *testing.T, b *bridgeProcess, run sippRun) sippResult {
	t.Helper()
	sipp := requireSipp(t)
	scenario, err := filepath.Abs(filepath.Join(sippDir, run.Scenario))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(scenario); err != nil {
		t.Fatalf("scenario: %v", err)
	}
	if run.Timeout == 0 {
		run.Timeout = 30 * time.Second
	}
	if run.CallID == "" {
		run.CallID = strings.TrimSuffix(run.Scenario, ".xml")
	}
	dir := t.TempDir()
	// sipp's defaults (SIP 5060, media 6000/6002, control 8888) would
	// collide between parallel tests.
	sipPort := freePort(t, false)
	mediaPort := freePort(t, true) // sipp also binds media+2 (video)
	ctrlPort := freePort(t, false)
	args := []string{
		fmt.Sprintf("127.0.0.1:%d", b.SIPPort),
		"-sf", scenario,
		"-s", "conference",
		"-i", "127.0.0.1", "-mi", "127.0.0.1",
		"-p", strconv.Itoa(sipPort), "-mp", strconv.Itoa(mediaPort), "-cp", strconv.Itoa(ctrlPort),
		"-cid_str", run.CallID + "-%u-%p@%s",
		"-nostdin",
		"-timeout", fmt.Sprintf("%ds", int(run.Timeout.Seconds())), "-timeout_error",
		"-trace_stat", "-stf", filepath.Join(dir, "stat.csv"),
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-trace_screen", "-screen_file", filepath.Join(dir, "screen.log"),
	}
	if run.TraceMsg {
		args = append(args, "-trace_msg", "-message_file", filepath.Join(dir, "messages.log"))
	}
	if !slices.Contains(run.Args, "-m") {
		args = append(args, "-m", "1")
	}
	args = append(args, run.Args...)

	out, err := os.Create(filepath.Join(dir, "sipp.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	ctx, cancel := testContext(t)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, args...)
	cmd.Dir = dir
	cmd.Stdout = out // sipp's screens, redrawn every second
	cmd.Stderr = out
	cmd.WaitDelay = 5 * time.Second
	// Kill sipp if it outlives its own -timeout (a hung sipp must not hang
	// the test).
	hard := time.AfterFunc(run.Timeout+15*time.Second, cancel)
	defer hard.Stop()

	t.Logf("sipp %s", strings.Join(args, " "))
	start := time.Now()
	err = cmd.Run()
	res := sippResult{Dir: dir}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitCode()
	default:
		t.Fatalf("run sipp: %v", err)
	}
	res.Stats = readSippStats(filepath.Join(dir, "stat.csv"))
	t.Logf("sipp %s: exit %d after %v, %s successful, %s failed", run.Scenario, res.ExitCode,
		time.Since(start).Round(time.Millisecond), res.Stats["SuccessfulCall(C)"], res.Stats["FailedCall(C)"])
	t.Cleanup(func() {
		if t.Failed() {
			logFile(t, "sipp final screen", filepath.Join(dir, "screen.log"), 40)
			logFile(t, "sipp errors", filepath.Join(dir, "errors.log"), 40)
			logFile(t, "sipp stdout/stderr", filepath.Join(dir, "sipp.out"), 20)
			if run.TraceMsg {
				logFile(t, "sipp SIP messages", filepath.Join(dir, "messages.log"), 120)
			}
		}
	})
	return res
}

// readSippStats returns the last row of sipp's -trace_stat file keyed by
// its header (semicolon separated); nil if there is none.
func readSippStats(path string) map[string]string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var header, last []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ";")
		if header == nil {
			header = fields
			continue
		}
		last = fields
	}
	if last == nil {
		return nil
	}
	stats := make(map[string]string, len(header))
	for i, name := range header {
		if i < len(last) && name != "" {
			stats[name] = last[i]
		}
	}
	return stats
}

// logFile logs the last n lines of a file (for failure reports).
func logFile(t *testing.T, what, path string, n int) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	t.Logf("%s (%s, last %d lines):\n%s", what, filepath.Base(path), len(lines), strings.Join(lines, "\n"))
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{} // never hand the same port to two tests
)

// freePort returns a port that is free now for UDP and TCP on every
// address (sipp listens on both in TCP mode) and was not returned before in
// this run. With even, the port is even and port+2 is free too, as sipp's
// media port needs. Another process may still take it before sipp binds;
// the kernel's ephemeral range makes that unlikely.
func freePort(t *testing.T, even bool) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 200 {
		u, err := net.ListenPacket("udp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		ok := !portsGiven[port] && (!even || port%2 == 0)
		var closers []func() error
		if ok {
			l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
			ok = err == nil
			if ok {
				closers = append(closers, l.Close)
			}
		}
		if ok && even {
			v, err := net.ListenPacket("udp", fmt.Sprintf(":%d", port+2))
			ok = err == nil && !portsGiven[port+2]
			if err == nil {
				closers = append(closers, v.Close)
			}
		}
		_ = u.Close()
		for _, c := range closers {
			_ = c()
		}
		if ok {
			portsGiven[port] = true
			if even {
				portsGiven[port+2] = true
			}
			return port
		}
	}
	t.Fatal("no free port found")
	return 0
}

// assertSippOK checks that sipp exited 0 and counted exactly calls
// successful calls and no failed one.
func assertSippOK(t *testing.T, res sippResult, calls int) {
	t.Helper()
	if res.ExitCode != 0 {
		t.Errorf("sipp exit code %d, want 0 (every call successful)", res.ExitCode)
	}
	if got := res.stat(t, "SuccessfulCall(C)"); got != calls {
		t.Errorf("sipp SuccessfulCall = %d, want %d", got, calls)
	}
	if got := res.stat(t, "FailedCall(C)"); got != 0 {
		t.Errorf("sipp FailedCall = %d, want 0", got)
	}
}

// assertNoErrorLogs fails the test if the bridge logged at error level or
// above: none of these scenarios is a server fault.
func assertNoErrorLogs(t *testing.T, b *bridgeProcess) {
	t.Helper()
	for _, l := range b.Logs() {
		if lvl := l["level"]; lvl == "error" || lvl == "fatal" || lvl == "panic" {
			t.Errorf("bridge logged an error: %v", l)
		}
	}
}

// callLog matches the bridge's log line msg for the calls whose Call-ID
// starts with prefix.
func callLog(prefix, msg string) logPred {
	return allOf(msgIs(msg), fieldHasPrefix("call_id", prefix+"-"))
}

// TestSippCall: a basic call over UDP and over TCP is offered, answered
// with PCMU and telephone-event 101, held for 3 s and hung up by the caller.
func TestSippCall(t *testing.T) {
	t.Parallel()
	requireSipp(t)
	b := startBridge(t, "")
	for _, tc := range []struct{ name, mode, transport string }{
		{"udp", "u1", "UDP"},
		{"tcp", "t1", "TCP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id := "call-" + tc.name
			res := runSipp(t, b, sippRun{Scenario: "call.xml", CallID: id, Args: []string{"-t", tc.mode}, TraceMsg: true})
			assertSippOK(t, res, 1)

			b.WaitLog(t, allOf(callLog(id, "call offered"), fieldIs("transport", tc.transport)), 5*time.Second)
			b.WaitLog(t, allOf(callLog(id, "call answered"), fieldIs("codec", "PCMU"), fieldIs("dtmf_pt", "101")), 5*time.Second)
			assertEndReason(t, b, id, "caller hung up")
			assertNoErrorLogs(t, b)
		})
	}
}

// TestSippDelayedOffer: an INVITE without SDP gets our offer in the 200;
// the ACK's answer (PCMA) sets up the media; an UPDATE without SDP (a
// session refresh) gets a 200 without SDP.
func TestSippDelayedOffer(t *testing.T) {
	t.Parallel()
	requireSipp(t)
	b := startBridge(t, "")
	id := "late-offer"
	res := runSipp(t, b, sippRun{Scenario: "late_offer.xml", CallID: id, TraceMsg: true})
	assertSippOK(t, res, 1)
	b.WaitLog(t, allOf(callLog(id, "call answered"), fieldIs("delayed_offer", "true"), fieldIs("codec", "PCMA"),
		fieldIs("dtmf_pt", "101")), 5*time.Second)
	assertEndReason(t, b, id, "caller hung up")
	assertNoErrorLogs(t, b)
}

// assertEndReason waits for the call's "call ended" line and checks why.
func assertEndReason(t *testing.T, b *bridgeProcess, id, reason string) {
	t.Helper()
	ended := b.WaitLog(t, callLog(id, "call ended"), 10*time.Second)
	if ended["reason"] != reason {
		t.Errorf("call ended with reason %v, want %q", ended["reason"], reason)
	}
}

// TestSippRefused: INVITEs the bridge must refuse get the right final
// response (and our ACK absorbs it); out-of-dialog requests get theirs.
func TestSippRefused(t *testing.T) {
	t.Parallel()
	requireSipp(t)
	b := startBridge(t, "")
	for _, tc := range []struct {
		scenario string
		log      string // the bridge's log line for the call; "" for none
	}{
		{"no_common_codec.xml", "refused: no common codec"}, // 488
		{"malformed_sdp.xml", "refused: bad SDP offer"},     // 400
		{"options.xml", ""},     // 200
		{"unknown_bye.xml", ""}, // 481
	} {
		name := strings.TrimSuffix(tc.scenario, ".xml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			id := "refused-" + name
			res := runSipp(t, b, sippRun{Scenario: tc.scenario, CallID: id, TraceMsg: true})
			assertSippOK(t, res, 1)
			if tc.log != "" {
				b.WaitLog(t, callLog(id, tc.log), 5*time.Second)
			}
			if n := b.CountLogs(callLog(id, "call answered")); n != 0 {
				t.Errorf("bridge answered a refused request (%d times)", n)
			}
			assertNoErrorLogs(t, b)
		})
	}
}

// TestSippUntrustedSource: a bridge that trusts only 192.0.2.0/24 (and
// rejects, not drops, the untrusted) answers sipp's INVITE from 127.0.0.1
// with 403, logs the source, and answers nothing else.
func TestSippUntrustedSource(t *testing.T) {
	t.Parallel()
	requireSipp(t)
	b := startBridge(t, ivrWith(t, `sip: {trusted_networks: ["192.0.2.0/24"], untrusted: reject}`))
	const id = "untrusted-call"
	res := runSipp(t, b, sippRun{Scenario: "untrusted.xml", CallID: id, TraceMsg: true})
	assertSippOK(t, res, 1)
	b.WaitLog(t, callLog(id, "refused: source not in sip.trusted_networks"), 5*time.Second)
	if n := b.CountLogs(callLog(id, "call offered")); n != 0 {
		t.Errorf("bridge took the call in (%d times)", n)
	}
	if st := ivrGetStatus(t, b); st.Refused != 1 || st.Calls != 0 || st.RTPPorts != 0 {
		t.Errorf("status after the refused call: %+v, want 1 refused, no call, no port", st)
	}
}

// TestSippDigestAuth: with sip.auth set, sipp's call is challenged (401)
// and gets through with the right credentials; with a wrong password the
// second INVITE gets 403 and the bridge logs why.
func TestSippDigestAuth(t *testing.T) {
	t.Parallel()
	requireSipp(t)
	b := startBridge(t, ivrWith(t, `sip: {auth: {username: carrier-a, password: "correct horse battery", realm: dialin}}`))

	t.Run("right", func(t *testing.T) {
		const id = "auth-right"
		res := runSipp(t, b, sippRun{Scenario: "auth_call.xml", CallID: id, TraceMsg: true,
			Args: []string{"-au", "carrier-a", "-ap", "correct horse battery"}})
		assertSippOK(t, res, 1)
		b.WaitLog(t, callLog(id, "challenged: digest authentication (401)"), 5*time.Second)
		b.WaitLog(t, callLog(id, "call answered"), 5*time.Second)
	})
	t.Run("wrong", func(t *testing.T) {
		const id = "auth-wrong"
		res := runSipp(t, b, sippRun{Scenario: "auth_call.xml", CallID: id, TraceMsg: true,
			Args: []string{"-au", "carrier-a", "-ap", "not the password at all"}})
		if res.ExitCode == 0 {
			t.Fatal("sipp's call with a wrong password succeeded")
		}
		b.WaitLog(t, callLog(id, "refused: wrong digest credentials (403)"), 5*time.Second)
		if n := b.CountLogs(callLog(id, "call answered")); n != 0 {
			t.Errorf("bridge answered a call with a wrong password (%d times)", n)
		}
		var st struct {
			RefusedAuth int `json:"sip_refused_auth"`
		}
		ivrAPI(t, b, 200, "GET", "/api/v1/status", "", &st)
		if st.RefusedAuth != 1 {
			t.Errorf("sip_refused_auth = %d, want 1", st.RefusedAuth)
		}
	})
}

// TestSippCancel: the caller hangs up while the bridge rings (answer_delay),
// with a CANCEL (200 for it, 487 for the INVITE) or with a BYE in the early
// dialog (RFC 3261 section 15.1.2: 200 for the BYE, 487 for the INVITE);
// either way the bridge never answers the call afterwards.
func TestSippCancel(t *testing.T) {
	t.Parallel()
	requireSipp(t)
	const delay = time.Second
	b := startBridge(t, "sip:\n  answer_delay: 1s\n")
	for _, tc := range []struct{ scenario, id, log string }{
		{"cancel.xml", "cancel", "call cancelled before answer"},
		{"early_bye.xml", "early-bye", "call hung up (BYE) before answer"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			t.Parallel()
			res := runSipp(t, b, sippRun{Scenario: tc.scenario, CallID: tc.id, TraceMsg: true})
			assertSippOK(t, res, 1)
			b.WaitLog(t, callLog(tc.id, tc.log), 5*time.Second)
			// Past the answer delay, the call must still be unanswered.
			time.Sleep(delay + 500*time.Millisecond)
			if n := b.CountLogs(callLog(tc.id, "call answered")); n != 0 {
				t.Errorf("bridge answered a call hung up while ringing")
			}
		})
	}
	t.Cleanup(func() { assertNoErrorLogs(t, b) })
}

// TestSippDTMFPcap: the organizer keys conference ID 1123345#, *, PIN
// 99377# with sipp's stock RFC 4733 pcaps (which repeat sequence numbers
// and timestamp for a repeated key); the bridge reads both exactly and the
// caller joins as organizer.
func TestSippDTMFPcap(t *testing.T) {
	t.Parallel()
	requireSipp(t)
	b := startBridge(t, ivrBridgeConfig)
	ivrOrganizer(t, b, "ada@example.com")
	ivrSetIDAndPIN(t, b, "ada@example.com", "1123345", "99377")
	res := runSipp(t, b, sippRun{Scenario: "dtmf_pcap.xml", CallID: "dtmf", Timeout: 60 * time.Second, TraceMsg: true})
	if res.ExitCode != 0 && os.Geteuid() != 0 {
		t.Log("note: sipp's play_pcap_audio needs root or CAP_NET_RAW")
	}
	assertSippOK(t, res, 1)

	got := b.WaitLog(t, callLog("dtmf", "conference ID found"), 5*time.Second)
	if got["conference_id"] != "1123345" {
		t.Errorf("conference ID %v, want 1123345", got["conference_id"])
	}
	b.WaitLog(t, callLog("dtmf", "organizer PIN accepted"), 5*time.Second)
	joined := b.WaitLog(t, callLog("dtmf", "caller joined the meeting"), 5*time.Second)
	if joined["role"] != "organizer" {
		t.Errorf("joined as %v, want organizer", joined["role"])
	}
	assertEndReason(t, b, "dtmf", "caller hung up")
	assertNoErrorLogs(t, b)
}

// TestSipp200Concurrent: 200 calls set up within half a second and held for
// 3 s, so all 200 are up at once; every one succeeds, and the bridge logs
// 200 answered and 200 ended calls, with 200 in progress at the peak.
func TestSipp200Concurrent(t *testing.T) {
	t.Parallel()
	requireSipp(t)
	const calls = 200
	b := startBridge(t, "")
	res := runSipp(t, b, sippRun{
		Scenario: "load.xml",
		CallID:   "load",
		Timeout:  60 * time.Second,
		Args:     []string{"-l", "200", "-m", "200", "-r", "400", "-d", "3000"},
	})
	assertSippOK(t, res, calls)

	ended := b.WaitLogCount(t, callLog("load", "call ended"), calls, 20*time.Second)
	for _, l := range ended {
		if l["reason"] != "caller hung up" {
			t.Errorf("call %v ended with reason %v, want \"caller hung up\"", l["call_id"], l["reason"])
			break
		}
	}
	// Walk the log in order: the number of calls answered and not yet ended
	// must reach 200.
	inProgress, peak, answered := 0, 0, 0
	for _, l := range b.Logs() {
		switch {
		case callLog("load", "call answered")(l):
			answered++
			inProgress++
			peak = max(peak, inProgress)
		case callLog("load", "call ended")(l):
			inProgress--
		}
	}
	if answered != calls {
		t.Errorf("bridge answered %d calls, want %d", answered, calls)
	}
	if peak != calls {
		t.Errorf("at most %d calls were up at once, want %d", peak, calls)
	}
	if n := b.CountLogs(fieldHasPrefix("message", "refused")); n != 0 {
		t.Errorf("bridge refused %d calls", n)
	}
	assertNoErrorLogs(t, b)
}
