package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/internal/testphone"
)

// End-to-end tests of the call records: the test phone takes every path
// of the IVR against the real bridge, and each call's record, read back
// through the API and the commands, says where it went and how it sounded.

// cdrConfig is ivrBridgeConfig with a short first-digit timeout (gave up
// sooner) and calling numbers shown whole.
func cdrConfig(t *testing.T, extra string) string {
	t.Helper()
	return ivrWith(t, "ivr: {first_digit_timeout: 1s}\ncall_records: {mask_calling_number: false}\n"+extra)
}

// cdrOf waits for the record of callID (the writer is behind the call).
func cdrOf(t *testing.T, b *bridgeProcess, callID string) wire.CallRecord {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var page wire.CallPage
		ivrAPI(t, b, 200, "GET", "/api/v1/calls?limit=1000", "", &page)
		for _, c := range page.Calls {
			if c.CallID == callID {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no record of call %s", callID)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cdrWhere waits for the records a query selects to number n.
func cdrWhere(t *testing.T, b *bridgeProcess, query string, n int) []wire.CallRecord {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var page wire.CallPage
		ivrAPI(t, b, 200, "GET", "/api/v1/calls?"+query, "", &page)
		if len(page.Calls) == n {
			return page.Calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d records, want %d: %+v", query, len(page.Calls), n, page.Calls)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cdrExpect checks a record's where and why.
type cdrExpect struct {
	outcome, role, endReason string
	conference               bool
	lobby                    bool // waited in the lobby
	from                     string
}

func (want cdrExpect) check(t *testing.T, name string, c wire.CallRecord, id string) {
	t.Helper()
	if c.Outcome != want.outcome || c.Role != want.role || c.EndReason != want.endReason {
		t.Errorf("%s: outcome %q, role %q, end reason %q; want %q, %q, %q", name, c.Outcome, c.Role, c.EndReason,
			want.outcome, want.role, want.endReason)
	}
	if want.conference != (c.ConferenceID == id) || want.conference != (c.Organizer == "ada@example.com") {
		t.Errorf("%s: conference %q of %q", name, c.ConferenceID, c.Organizer)
	}
	if want.conference != (c.MeetingStart != nil) && want.outcome != "abandoned" {
		t.Errorf("%s: meeting start %v", name, c.MeetingStart)
	}
	if want.lobby != (c.Lobby > 0) {
		t.Errorf("%s: %.3f s in the lobby", name, c.Lobby)
	}
	if want.from != "" && c.Calling != want.from {
		t.Errorf("%s: calling %q, want %q", name, c.Calling, want.from)
	}
	// Plausible figures for an answered call over loopback.
	if c.SIPStatus != 200 || c.AnsweredAt == nil || c.Duration <= 0 || c.Codec != "PCMU" || c.Transport != "udp" ||
		c.Source != "127.0.0.1" || c.EndedAt.Before(c.StartedAt) {
		t.Errorf("%s: status %d, answered %v, duration %.3f, codec %q, source %q %q", name, c.SIPStatus, c.AnsweredAt,
			c.Duration, c.Codec, c.Source, c.Transport)
	}
	q := c.ToUs
	if q == nil {
		t.Errorf("%s: no quality to us", name)
		return
	}
	if q.Packets < 10 || q.LossPercent > 2 || q.Jitter > 40 || q.MaxGap == nil || *q.MaxGap <= 0 || *q.MaxGap > 3000 ||
		q.MOS < 4 || q.MOS > 4.5 {
		t.Errorf("%s: implausible quality to us: %+v (max gap %v)", name, q, deref(q.MaxGap))
	}
	if exp := c.Duration * 50; float64(q.Packets) > exp*1.2+10 {
		t.Errorf("%s: %d packets in %.1f s: more than 50 a second", name, q.Packets, c.Duration)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestCallRecordsEveryIVRPath(t *testing.T) {
	t.Parallel()
	// Debug: the "dtmf key" lines tell when the bridge is inside the PIN.
	b := startBridge(t, cdrConfig(t, "log: {level: debug}"))
	id, pin := ivrOrganizer(t, b, "ada@example.com")
	ctx := ivrContext(t)
	wrong := ivrWrongIDs(id, 3)
	calls := map[string]*testphone.Call{}

	// Hung up during the welcome; hung up inside the PIN entry.
	calls["welcome"] = dial(t, b, testphone.Options{From: "+14255550101"})
	if err := calls["welcome"].WaitForAudio(ctx, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ivrHangup(t, b, calls["welcome"])
	idCall := dial(t, b, testphone.Options{From: "+14255550106"})
	calls["in ID"] = idCall
	ivrKeys(t, ctx, idCall, id[:3])
	b.WaitLogCount(t, ofCall(idCall, "dtmf key"), 3, 5*time.Second)
	ivrHangup(t, b, idCall)
	starCall := dial(t, b, testphone.Options{From: "+14255550107"})
	calls["at star"] = starCall // asked to press * for the organizer's PIN
	ivrKeys(t, ctx, starCall, id)
	b.WaitLog(t, ofCall(starCall, "conference ID found"), 5*time.Second)
	ivrHangup(t, b, starCall)
	pinCall := dial(t, b, testphone.Options{From: "+14255550102"})
	calls["in PIN"] = pinCall
	ivrKeys(t, ctx, pinCall, id)
	b.WaitLog(t, ofCall(pinCall, "conference ID found"), 5*time.Second)
	ivrKeys(t, ctx, pinCall, "*"+pin[:2])
	b.WaitLogCount(t, ofCall(pinCall, "dtmf key"), len(id)+3, 5*time.Second)
	ivrHangup(t, b, pinCall)

	// Not found (three wrong IDs) and gave up (no key at all): the bridge
	// hangs up; both run while the meeting goes on below.
	notFound := dial(t, b, testphone.Options{From: "+14255550103"})
	calls["not found"] = notFound
	gaveUp := dial(t, b, testphone.Options{From: "+14255550104"})
	calls["gave up"] = gaveUp
	for i, w := range wrong {
		ivrKeys(t, ctx, notFound, w)
		b.WaitLogCount(t, allOf(ofCall(notFound, "conference ID not found"), fieldIs("attempt", fmt.Sprint(i+1))), 1, 10*time.Second)
	}

	// The organizer starts the meeting (and sends RTCP reports, so the
	// record has our direction too); one attendee waits and hangs up in
	// the lobby, another is admitted and hangs up in the meeting.
	org := dial(t, b, testphone.Options{From: "+14255550105", RTCPInterval: 500 * time.Millisecond})
	calls["organizer"] = org
	ivrKeys(t, ctx, org, id)
	b.WaitLog(t, ofCall(org, "conference ID found"), 5*time.Second)
	ivrKeys(t, ctx, org, "*"+pin+"#")
	b.WaitLog(t, allOf(ofCall(org, "caller joined the meeting"), fieldIs("role", "organizer")), 10*time.Second)
	for _, name := range []string{"lobby", "admitted"} {
		c := dial(t, b, testphone.Options{From: "+1425555011" + fmt.Sprint(len(calls))})
		calls[name] = c
		ivrKeys(t, ctx, c, id)
		b.WaitLog(t, allOf(ofCall(c, "caller joined the meeting"), fieldIs("waiting", "true")), 10*time.Second)
	}
	time.Sleep(300 * time.Millisecond) // a measurable wait
	ivrHangup(t, b, calls["lobby"])
	ivrAPI(t, b, 200, "POST", "/api/v1/meetings/"+id+"/admit", "{}", nil)
	b.WaitLog(t, ofCall(calls["admitted"], "caller admitted from the lobby"), 5*time.Second)
	time.Sleep(time.Second) // a second in the meeting, with RTCP from the organizer
	ivrHangup(t, b, calls["admitted"])
	ivrHangup(t, b, org)
	waitEnded(t, notFound, 20*time.Second)
	waitEnded(t, gaveUp, 30*time.Second)

	for name, want := range map[string]cdrExpect{
		"welcome":   {outcome: "abandoned", endReason: "caller hung up", from: "+14255550101"},
		"in ID":     {outcome: "abandoned", endReason: "caller hung up"},
		"at star":   {outcome: "abandoned", endReason: "caller hung up"},
		"in PIN":    {outcome: "abandoned", endReason: "caller hung up"},
		"not found": {outcome: "not_found", endReason: "conference ID not found"},
		"gave up":   {outcome: "gave_up", endReason: "no conference ID entered"},
		"organizer": {outcome: "joined", role: "organizer", endReason: "caller hung up", conference: true},
		"lobby":     {outcome: "lobby", role: "attendee", endReason: "caller hung up", conference: true, lobby: true},
		"admitted":  {outcome: "joined", role: "attendee", endReason: "caller hung up", conference: true, lobby: true},
	} {
		c := cdrOf(t, b, calls[name].CallID())
		want.check(t, name, c, id)
		t.Logf("%-9s %-9s %-9s %5.1fs lobby %.1fs, to us %+v (max gap %v), dtmf %q", name, c.Outcome, c.Role, c.Duration, c.Lobby,
			c.ToUs, maxGap(c.ToUs), c.DTMF)
	}
	orgRec := cdrOf(t, b, org.CallID())
	if orgRec.FromUs == nil || orgRec.FromUs.Packets == 0 || orgRec.FromUs.MOS < 4 || orgRec.FromUs.MaxGap != nil {
		t.Errorf("organizer: from us %+v: want the reports' figures, no max gap", orgRec.FromUs)
	}
	if orgRec.DTMF != "rfc4733" {
		t.Errorf("organizer: DTMF %q", orgRec.DTMF)
	}
	if rec := cdrOf(t, b, calls["lobby"].CallID()); rec.FromUs != nil {
		t.Errorf("a phone without RTCP: from us %+v", rec.FromUs)
	}
	if att := cdrOf(t, b, calls["admitted"].CallID()); att.MeetingStart == nil || orgRec.MeetingStart == nil ||
		!att.MeetingStart.Equal(*orgRec.MeetingStart) {
		t.Errorf("two callers of one meeting: meeting starts %v and %v", att.MeetingStart, orgRec.MeetingStart)
	}
	var all wire.CallPage
	ivrAPI(t, b, 200, "GET", "/api/v1/calls", "", &all)
	if len(all.Calls) != len(calls) {
		t.Errorf("%d records for %d calls", len(all.Calls), len(calls))
	}
	cdrCommands(t, b, id, org.CallID(), len(calls))
}

// cdrCommands reads the records of TestCallRecordsEveryIVRPath with the
// commands: calls list (filters, --csv), calls show, report usage.
func cdrCommands(t *testing.T, b *bridgeProcess, id, orgCallID string, n int) {
	cli := apiCLI{t: t, url: apiURL(t, b), token: testAdminToken}
	var list []wire.CallRecord
	cli.okJSON(&list, "calls", "list")
	if len(list) != n {
		t.Errorf("calls list --json: %d records, want %d", len(list), n)
	}
	out := cli.ok("calls", "list", "--conference-id", id, "--outcome", "joined")
	if !strings.Contains(out, "2 call(s)") || !strings.Contains(out, "organizer") {
		t.Errorf("calls list --conference-id --outcome joined:\n%s", out)
	}
	out = cli.ok("calls", "list", "--from", "1h", "--csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != n+1 || rows[0][0] != "call_id" {
		t.Errorf("calls list --csv: %d rows, %v\n%s", len(rows), err, out)
	}
	out = cli.ok("calls", "show", orgCallID)
	for _, want := range []string{"outcome", "joined", "organizer", "MOS", "to us", "from us", "ada@example.com"} {
		if !strings.Contains(out, want) {
			t.Errorf("calls show: no %q in\n%s", want, out)
		}
	}
	if out := cli.ok("calls", "show", orgCallID, "--csv"); strings.Count(out, "\n") != 2 {
		t.Errorf("calls show --csv:\n%s", out)
	}
	cli.fails(1, "calls", "show", "no-such-call")
	cli.fails(1, "calls", "list", "--from", "someday")

	var rep wire.UsageReport
	cli.okJSON(&rep, "report", "usage", "--from", "1d")
	if len(rep.Organizers) != 1 || len(rep.Meetings) != 1 {
		t.Fatalf("report usage: %+v", rep)
	}
	// Three calls reached the meeting or its lobby (organizer, the one who
	// waited, the one admitted), in one meeting.
	o := rep.Organizers[0]
	if o.Organizer != "ada@example.com" || o.Meetings != 1 || o.Calls != 3 || o.ParticipantMinutes <= 0 ||
		o.AverageMOS == nil || *o.AverageMOS < 4 || o.MeasuredCalls != 3 {
		t.Errorf("usage: %+v", o)
	}
	out = cli.ok("report", "usage", "--from", "1d", "--to", time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "--csv")
	if rows, err := csv.NewReader(strings.NewReader(out)).ReadAll(); err != nil || len(rows) != 3 {
		t.Errorf("report usage --csv: %v\n%s", err, out)
	}
	if out := cli.ok("report", "usage"); !strings.Contains(out, "Per organizer:") || !strings.Contains(out, id) {
		t.Errorf("report usage:\n%s", out)
	}
}

// Calls the bridge never answers get records too: refused by a limit
// (503), cancelled while ringing; and the calling number is masked by
// default.
func TestCallRecordsRefusedAndCancelled(t *testing.T) {
	t.Parallel()
	b := startBridge(t, ivrWith(t, "sip: {answer_delay: 1s}\nlimits: {max_calls: 1}"))
	target := fmt.Sprintf("sip:conference@127.0.0.1:%d", b.SIPPort)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	if _, err := testphone.Dial(ctx, testphone.Options{Target: target, From: "+14255550199"}); err == nil {
		t.Fatal("a call cancelled while ringing was answered")
	}
	cancel()
	c := cdrWhere(t, b, "outcome=cancelled", 1)[0]
	if c.SIPStatus != 487 || c.AnsweredAt != nil || c.Duration != 0 || c.ToUs != nil || c.Calling != "+*******0199" {
		t.Errorf("cancelled: %+v", c)
	}

	first := dial(t, b, testphone.Options{})
	if code := dialStatus(t, b, testphone.Options{Target: target, From: "+14255550198"}); code != 503 {
		t.Fatalf("second call: %d, want 503", code)
	}
	ivrHangup(t, b, first)
	c = cdrWhere(t, b, "outcome=refused", 1)[0]
	if c.SIPStatus != 503 || c.EndReason != "too many calls" || c.Called != "conference" {
		t.Errorf("refused: %+v", c)
	}
	cdrWhere(t, b, "calling="+url.QueryEscape("+14255550198"), 1)
}

// Induced loss: a phone that drops every 10th packet it sends shows about
// 10 % lost on the way to us and a lower MOS than a clean phone's.
func TestCallRecordsInducedLoss(t *testing.T) {
	t.Parallel()
	b := startBridge(t, cdrConfig(t, ""))
	ctx := ivrContext(t)
	clean := dial(t, b, testphone.Options{})
	lossy := dial(t, b, testphone.Options{DropEvery: 10})
	for _, c := range []*testphone.Call{clean, lossy} {
		if err := c.WaitForAudio(ctx, 200*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(3 * time.Second) // 150 packets each, still in the welcome
	ivrHangup(t, b, clean)
	ivrHangup(t, b, lossy)

	good, bad := cdrOf(t, b, clean.CallID()).ToUs, cdrOf(t, b, lossy.CallID()).ToUs
	if good == nil || bad == nil {
		t.Fatalf("quality not measured: %+v %+v", good, bad)
	}
	t.Logf("clean: %+v; every 10th dropped: %+v (the phone dropped %d)", *good, *bad, lossy.DroppedOut())
	if bad.LossPercent < 8 || bad.LossPercent > 12 {
		t.Errorf("loss %.1f %%, want about 10 %%", bad.LossPercent)
	}
	if d := bad.Lost - lossy.DroppedOut(); d < -1 || d > 1 {
		t.Errorf("%d lost in the record, the phone dropped %d", bad.Lost, lossy.DroppedOut())
	}
	if good.LossPercent != 0 || bad.MOS >= good.MOS-0.5 {
		t.Errorf("MOS %.2f with 10 %% loss vs %.2f clean (%.1f %% lost): want clearly lower", bad.MOS, good.MOS, good.LossPercent)
	}
}

func maxGap(q *wire.Quality) any {
	if q == nil {
		return nil
	}
	return deref(q.MaxGap)
}
