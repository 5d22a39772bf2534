package main

// End-to-end tests of issue 14's liveness rules: a caller who sends no
// media (silence suppression, hold in any direction) is never hung up while
// its SIP side answers the bridge's in-dialog OPTIONS; one whose process is
// gone (SIGKILL: no BYE, no RTP, no answer) is hung up within
// rtp.inactivity_timeout + sip.options_interval, and the log says why; a
// participant's hold music never reaches the meeting. The timeouts are
// shortened to 1 s so that "several periods" take seconds.

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/internal/testphone"
	"github.com/dialin/dialin/media/prompts"
)

// liveConfig: the IVR's short waits, 1 s inactivity and probe interval, no
// join and leave tones (they would sound in the tone measurements).
func liveConfig(t *testing.T) string {
	t.Helper()
	return ivrWith(t, "rtp: {inactivity_timeout: 1s}\nsip: {options_interval: 1s}\nmeeting: {join_leave_tones: false}\n")
}

// liveGone matches the "call ended" line of a call the bridge ended because
// its peer stopped answering.
func liveGone(prefix string) logPred {
	return allOf(callLog(prefix, "call ended"), fieldHasPrefix("reason", "caller's side is gone"))
}

// sippProc is a sipp run in the background, to be killed by the test.
type sippProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // Wait's result, after done
	dir  string
}

// startSipp starts sipp with scenario against b, its injection file made of
// rows (";"-separated fields), and returns at once. The run is bounded by
// timeout and by the test (its cleanup kills it).
func startSipp(t *testing.T, b *bridgeProcess, scenario, callID string, rows []string, timeout time.Duration) *sippProc {
	t.Helper()
	sipp := requireSipp(t)
	path, err := filepath.Abs(filepath.Join(sippDir, scenario))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	inf := filepath.Join(dir, "calls.csv")
	if err := os.WriteFile(inf, []byte("SEQUENTIAL\n"+strings.Join(rows, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{
		fmt.Sprintf("127.0.0.1:%d", b.SIPPort),
		"-sf", path, "-inf", inf,
		"-s", "conference",
		"-i", "127.0.0.1", "-mi", "127.0.0.1",
		"-p", strconv.Itoa(freePort(t, false)), "-mp", strconv.Itoa(freePort(t, true)), "-cp", strconv.Itoa(freePort(t, false)),
		"-cid_str", callID + "-%u-%p@%s",
		"-nostdin", "-m", "1",
		"-timeout", fmt.Sprintf("%ds", int(timeout.Seconds())), "-timeout_error",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "messages.log"),
	}
	out, err := os.Create(filepath.Join(dir, "sipp.out"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := testContext(t)
	p := &sippProc{cmd: exec.CommandContext(ctx, sipp, args...), done: make(chan struct{}), dir: dir}
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start sipp: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		cancel()
		_ = out.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			logFile(t, "sipp errors", filepath.Join(dir, "errors.log"), 30)
			logFile(t, "sipp SIP messages", filepath.Join(dir, "messages.log"), 80)
		}
	})
	return p
}

// wait waits up to within for sipp to exit and returns its exit code.
func (p *sippProc) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("sipp still running after %v", within)
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatalf("sipp: %v", p.err)
	return -1
}

// kill makes the caller vanish: SIGKILL, no BYE, nothing answers any more.
func (p *sippProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill sipp: %v", err)
	}
	<-p.done
}

// silentRow is silent_lobby.xml's injection row: the conference ID's
// digits, then how many probes to answer before hanging up.
func silentRow(id string, probes int) string {
	return strings.Join(strings.Split(id, ""), ";") + ";" + strconv.Itoa(probes)
}

// TestLiveSilentSippCallerStaysInLobby: sipp keys the conference ID by SIP
// INFO and then sends nothing at all; it waits in the lobby (the organizer
// is not there) through many inactivity periods, answering the bridge's
// OPTIONS, and hangs up itself: the bridge never did.
func TestLiveSilentSippCallerStaysInLobby(t *testing.T) {
	t.Parallel()
	b := startBridge(t, liveConfig(t))
	id, _ := ivrOrganizer(t, b, "ada@example.com")
	const cid = "live-silent"
	const probes = 12
	p := startSipp(t, b, "silent_lobby.xml", cid, []string{silentRow(id, probes)}, 60*time.Second)

	joined := b.WaitLog(t, callLog(cid, "caller joined the meeting"), 20*time.Second)
	if joined["waiting"] != true {
		t.Fatalf("the silent caller joined with waiting %v, want the lobby", joined["waiting"])
	}
	joinedAt := time.Now()
	if code := p.wait(t, 40*time.Second); code != 0 {
		t.Fatalf("sipp exit code %d: the call failed (a BYE from the bridge?)", code)
	}
	if in := time.Since(joinedAt); in < 3*time.Second {
		t.Errorf("the caller was in the lobby only %v; want several inactivity periods", in)
	}
	assertEndReason(t, b, cid, "caller hung up")
	if n := b.CountLogs(callLog(cid, "no media: probing the caller with OPTIONS")); n != 1 {
		t.Errorf("%d 'no media: probing' lines, want 1 (one spell without media)", n)
	}
	assertNoErrorLogs(t, b)
}

// TestLiveVanishedSippCallerHungUp: the same caller, killed while it waits
// in the lobby, is hung up within the inactivity timeout and one probe
// interval, with a reason that says its side is gone.
func TestLiveVanishedSippCallerHungUp(t *testing.T) {
	t.Parallel()
	b := startBridge(t, liveConfig(t))
	id, _ := ivrOrganizer(t, b, "ada@example.com")
	const cid = "live-vanish"
	p := startSipp(t, b, "silent_lobby.xml", cid, []string{silentRow(id, 1000)}, 60*time.Second)
	b.WaitLog(t, callLog(cid, "caller joined the meeting"), 20*time.Second)
	b.WaitLog(t, callLog(cid, "no media: probing the caller with OPTIONS"), 10*time.Second)
	p.kill(t)
	killedAt := time.Now()

	// 1 s without media (already past), a probe every 1 s, each waiting 1
	// s for its answer: the bridge ends the call about 2 s after the kill;
	// 15 s leaves room for a loaded machine.
	ended := b.WaitLog(t, liveGone(cid), 15*time.Second)
	t.Logf("hung up %v after the kill: %v", time.Since(killedAt).Round(time.Millisecond), ended["reason"])
	if r, _ := ended["reason"].(string); !strings.Contains(r, "no answer to OPTIONS") {
		t.Errorf("reason %q does not say the OPTIONS went unanswered", r)
	}
	// The call's count drops just after its "call ended" line.
	var st struct {
		PeersGone int `json:"sip_peers_gone"`
		Calls     int `json:"calls"`
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ivrAPI(t, b, 200, "GET", "/api/v1/status", "", &st)
		if st.Calls == 0 || time.Now().After(deadline) {
			break
		}
	}
	if st.PeersGone != 1 || st.Calls != 0 {
		t.Errorf("status: sip_peers_gone %d, calls %d; want 1, 0", st.PeersGone, st.Calls)
	}
}

// TestLiveHoldEachDirection: a participant holds the meeting with sendonly,
// recvonly and inactive in turn, sending nothing for several inactivity
// periods each time; the call stays up, and after each resume the others
// hear them again. Their "hold music" (a tone sent while sendonly) is not
// heard by the others, who are told once that a participant is on hold.
func TestLiveHoldEachDirection(t *testing.T) {
	t.Parallel()
	b, id, pin, ctx := meetSetup(t, liveConfig(t))
	meetSettings(t, b, `{"lobby_admission": "auto"}`)
	org, _ := meetOrganizer(t, ctx, b, id, pin, "organizer")
	orgAt := time.Now()
	holder := dial(t, b, testphone.Options{From: "holder", NoSilence: true})
	ivrKeys(t, ctx, holder, id)
	meetJoined(t, b, holder, false)
	joinedAt := time.Now()
	meetQuiet(t, org, orgAt, prompts.Joining, prompts.OnlyParticipant)
	meetQuiet(t, holder, joinedAt, prompts.Joining)

	for i, dir := range []string{"sendonly", "recvonly", "inactive"} {
		org.ResetReceived()
		if err := holder.Reinvite(ctx, dir); err != nil {
			t.Fatalf("hold %s: %v", dir, err)
		}
		heldAt := time.Now()
		if dir == "sendonly" {
			l := b.WaitLog(t, ofCall(holder, "participant holds the meeting: left out of the mix"), 5*time.Second)
			if l["notice"] != true {
				t.Errorf("first hold: notice %v, want true", l["notice"])
			}
			// The others hear the notice, quietly; past it, the PBX's music.
			meetQuiet(t, org, heldAt, prompts.ParticipantOnHold)
			liveQuietNotice(t, org.Received(), meetDuration(t, prompts.ParticipantOnHold))
			recs := meetRound(t, ctx, []meetTone{{holder, 1000}}, org)
			meetNotHears(t, "the organizer (hold music)", recs[org], 1000)
		}
		// The live status says who holds the meeting (recvonly is no hold).
		want := dir != "recvonly"
		held := onHold(meetGet(t, b, id))
		for deadline := time.Now().Add(2 * time.Second); held != want && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
			held = onHold(meetGet(t, b, id))
		}
		if held != want {
			t.Errorf("%s: a participant on hold in the live status: %v, want %v", dir, held, want)
		}
		// Several inactivity periods without a packet from the holder.
		time.Sleep(time.Until(heldAt.Add(3500 * time.Millisecond)))
		select {
		case <-holder.Done():
			t.Fatalf("%s: the bridge hung up the holding caller", dir)
		default:
		}
		if n := b.CountLogs(allOf(ofCall(holder, "call ended"))); n != 0 {
			t.Fatalf("%s: the holding call ended", dir)
		}
		if err := holder.Reinvite(ctx, "sendrecv"); err != nil {
			t.Fatalf("resume after %s: %v", dir, err)
		}
		if dir != "recvonly" { // recvonly is no hold of the meeting
			b.WaitLogCount(t, ofCall(holder, "participant resumed: back in the mix"), min(i+1, 2), 5*time.Second)
		}
		recs := meetRound(t, ctx, []meetTone{{holder, 1000}}, org)
		meetHears(t, "the organizer after "+dir, recs[org], 1000, meetHeardAlone)
	}
	// The second hold (inactive) came within a minute of the first: no
	// second notice.
	holds := b.WaitLogCount(t, ofCall(holder, "participant holds the meeting: left out of the mix"), 2, time.Second)
	if holds[1]["notice"] != false {
		t.Errorf("second hold within a minute: notice %v, want false", holds[1]["notice"])
	}
	ivrHangup(t, b, holder)
}

// liveQuietNotice checks that rec holds a notice of about this length,
// below the -3 dBFS peak of the other prompts (its own is -9 dBFS).
func liveQuietNotice(t *testing.T, rec testphone.Recording, length time.Duration) {
	t.Helper()
	if heard := rec.NonSilentDuration(testphone.SilenceRMS); heard < length/2 {
		t.Errorf("the others heard %v of the %v on-hold notice", heard, length)
	}
	peak := 0
	for _, s := range rec.PCM {
		peak = max(peak, int(s), -int(s))
	}
	if limit := 16422; peak > limit { // -6 dBFS
		t.Errorf("the on-hold notice peaks at %d, want at most %d (-6 dBFS): not quiet", peak, limit)
	}
}

// baresipProc is a baresip user agent run headless: its console module
// (cons) takes the keys a user would type, over UDP.
type baresipProc struct {
	cmd     *exec.Cmd
	done    chan struct{}
	console *net.UDPConn
	out     string // its stdout and stderr
}

// startBaresip runs baresip with testdata/baresip/config, its ports picked
// here, and returns once its console listens.
func startBaresip(t *testing.T) *baresipProc {
	t.Helper()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Fatal("baresip not found in PATH: install baresip (make test does this)")
	}
	tmpl, err := os.ReadFile(filepath.Join(baresipDir, "config"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sipPort, consPort, rtpPort := freePort(t, false), freePort(t, false), freePort(t, true)
	cfg := strings.NewReplacer("@SIP_PORT@", strconv.Itoa(sipPort), "@CONS_PORT@", strconv.Itoa(consPort),
		"@RTP_MIN@", strconv.Itoa(rtpPort), "@RTP_MAX@", strconv.Itoa(rtpPort+3)).Replace(string(tmpl))
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	accounts, err := os.ReadFile(filepath.Join(baresipDir, "accounts"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), accounts, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "baresip.out")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := testContext(t)
	p := &baresipProc{cmd: exec.CommandContext(ctx, bin, "-f", dir), done: make(chan struct{}), out: out}
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start baresip: %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		cancel()
		_ = f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			logFile(t, "baresip output", out, 60)
		}
	})
	p.console, err = net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: consPort})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.console.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(out)
		if strings.Contains(string(data), "baresip is ready") {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("baresip not ready after 10 s:\n%s", data)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// typeKeys types on baresip's console: a "/command args" line, or keys
// that a call in progress sends as DTMF, one every 150 ms.
func (p *baresipProc) typeKeys(t *testing.T, keys string) {
	t.Helper()
	if strings.HasPrefix(keys, "/") {
		if _, err := p.console.Write([]byte(keys + "\n")); err != nil {
			t.Fatal(err)
		}
		return
	}
	for i := range len(keys) {
		if _, err := p.console.Write([]byte{keys[i]}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// baresipDir holds the baresip configuration, relative to this package.
const baresipDir = "../../testdata/baresip"

// TestLiveBaresipHoldInLobby: baresip calls, keys the conference ID (RFC
// 4733), waits in the lobby, holds the bridge (its hold is a re-INVITE
// with a=sendonly, after which it sends nothing) for several inactivity
// periods and is not hung up; resumes, and is hung up within the
// configured time once killed.
func TestLiveBaresipHoldInLobby(t *testing.T) {
	t.Parallel()
	b := startBridge(t, liveConfig(t))
	id, _ := ivrOrganizer(t, b, "ada@example.com")
	p := startBaresip(t)
	p.typeKeys(t, fmt.Sprintf("/dial sip:conference@127.0.0.1:%d", b.SIPPort))
	answered := b.WaitLog(t, allOf(msgIs("call answered")), 10*time.Second)
	cid, _ := answered["call_id"].(string)
	time.Sleep(500 * time.Millisecond)
	p.typeKeys(t, id)
	joined := b.WaitLog(t, allOf(msgIs("caller joined the meeting"), fieldIs("call_id", cid)), 20*time.Second)
	if joined["waiting"] != true {
		t.Fatalf("baresip joined with waiting %v, want the lobby", joined["waiting"])
	}
	ofCID := func(msg string) logPred { return allOf(msgIs(msg), fieldIs("call_id", cid)) }

	p.typeKeys(t, "/hold")
	b.WaitLog(t, allOf(ofCID("session modified"), fieldIs("direction", "recvonly")), 5*time.Second)
	heldAt := time.Now()
	b.WaitLog(t, ofCID("no media: probing the caller with OPTIONS"), 10*time.Second)
	time.Sleep(time.Until(heldAt.Add(4 * time.Second))) // four inactivity periods
	if n := b.CountLogs(ofCID("call ended")); n != 0 {
		t.Fatal("the bridge hung up baresip while it held the call")
	}
	p.typeKeys(t, "/resume")
	b.WaitLogCount(t, allOf(ofCID("session modified"), fieldIs("direction", "sendrecv")), 1, 5*time.Second)

	// Killed, it answers nothing any more: hung up, and the log says why.
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	ended := b.WaitLog(t, allOf(ofCID("call ended"), fieldHasPrefix("reason", "caller's side is gone")), 15*time.Second)
	t.Logf("after the kill: %v", ended["reason"])
}

// onHold reports whether a participant of the live state holds the meeting.
func onHold(l wire.Live) bool {
	for _, p := range l.Participants {
		if p.OnHold {
			return true
		}
	}
	return false
}
