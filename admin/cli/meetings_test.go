package cli

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/bridge"
)

// TestCLIMeetingControl: the live-control commands against the real API
// handler with a fake bridge, in process.
func TestCLIMeetingControl(t *testing.T) {
	t.Parallel()
	live := &cliLive{meetings: map[string]bridge.Status{}}
	url, _ := inProcessAPI(t, live)
	run := func(args ...string) cliResult { return inProcessCLI(url, args...) }
	ok := func(args ...string) string {
		t.Helper()
		r := run(args...)
		if r.Code != 0 || r.Stderr != "" {
			t.Fatalf("dialin %q: exit %d\n%s%s", args, r.Code, r.Stdout, r.Stderr)
		}
		return r.Stdout
	}
	fails := func(args ...string) string {
		t.Helper()
		r := run(args...)
		checkFailure(t, r, 1, args)
		return r.Stderr
	}
	var ada client.Change
	if err := jsonInto(ok("user", "enable", "ada@example.com", "--no-email", "--json"), &ada); err != nil {
		t.Fatal(err)
	}
	id := ada.User.ConferenceID

	// Not started: the show says so, with no tables; end, admit, mute and remove are refused.
	out := ok("meeting", "show", id)
	if !outLine(out, "started", "no") || !outLine(out, "organizer present", "no") || !outLine(out, "lobby", "0 waiting") ||
		!outLine(out, "participants", "0") || strings.Contains(out, "Lobby:") || strings.Contains(out, "Participants:") {
		t.Errorf("show before start:\n%s", out)
	}
	for _, args := range [][]string{{"meeting", "end", id}, {"meeting", "admit", id}, {"meeting", "mute", id, "p1"}, {"meeting", "remove", id, "p1"}} {
		if stderr := fails(args...); stderr != "dialin: meeting "+id+" has not started\n" {
			t.Errorf("dialin %q before start: %q", args, stderr)
		}
	}
	if stderr := fails("meeting", "start", newConferenceID(t)); !strings.Contains(stderr, "not found") {
		t.Errorf("start an unknown meeting: %q", stderr)
	}

	// start.
	out = ok("meeting", "start", id)
	if !strings.HasPrefix(out, "meeting "+id+" started\n") || !outLine(out, "started", "yes") {
		t.Errorf("start:\n%s", out)
	}
	var m client.Meeting
	if err := jsonInto(ok("meeting", "start", id, "--json"), &m); err != nil || m.Live == nil || !m.Live.Started || m.ConferenceID != id {
		t.Errorf("start --json: %+v %v", m, err)
	}

	// show: the lobby and the participants as aligned tables, callers masked.
	now := time.Now()
	live.set(id, wire.Live{Started: true, OrganizerPresent: true,
		Participants: []wire.Participant{
			{ID: "p1", Caller: "+14255550123", Role: "organizer", Talking: true, JoinedAt: now.Add(-10 * time.Minute)},
			{ID: "participant-2", Caller: "+442079460000", Role: "attendee", Muted: true, HandRaised: true, JoinedAt: now.Add(-5 * time.Minute)},
		},
		Lobby: []wire.LobbyCaller{
			{ID: "l1", Caller: "+33142685300", WaitingSince: now.Add(-3 * time.Minute)},
			{ID: "lobby-caller-2", Caller: "1001", WaitingSince: now.Add(-90 * time.Second)},
		}})
	out = ok("meeting", "show", id)
	if !outLine(out, "started", "yes") || !outLine(out, "organizer present", "yes") || !outLine(out, "lobby", "2 waiting") || !outLine(out, "participants", "2") {
		t.Errorf("show a started meeting:\n%s", out)
	}
	for _, number := range []string{"4255550123", "442079460000", "33142685300", "1001"} {
		if strings.Contains(out, number) {
			t.Errorf("show: %s unmasked:\n%s", number, out)
		}
	}
	lobbyHead, lobbyHeadLine := tableRow(t, out, "ID")
	if strings.Join(lobbyHead, " ") != "ID CALLER WAITING SINCE WAITING FOR" {
		t.Errorf("lobby header %q", lobbyHead)
	}
	l1, l1Line := tableRow(t, out, "l1")
	if len(l1) != 6 || l1[1] != "+*******5300" || l1[4] != "UTC" || !regexp.MustCompile(`^3m[0-9]+s$`).MatchString(l1[5]) {
		t.Errorf("lobby row l1 %q:\n%s", l1, out)
	}
	if c := tableRow2(t, out, "lobby-caller-2"); c[1] != "**01" || !regexp.MustCompile(`^1m3[0-9]s$`).MatchString(c[5]) {
		t.Errorf("lobby row lobby-caller-2 %q", c)
	}
	if strings.Index(l1Line, "+*******5300") != strings.Index(lobbyHeadLine, "CALLER") {
		t.Errorf("lobby table not aligned:\n%s", out)
	}
	partsAt := strings.Index(out, "\nParticipants:\n")
	if partsAt < 0 || partsAt < strings.Index(out, "\nLobby:\n") {
		t.Fatalf("no participants table after the lobby:\n%s", out)
	}
	partHead, partHeadLine := tableRow(t, out[partsAt:], "ID")
	if strings.Join(partHead, " ") != "ID CALLER ROLE MUTED HAND RAISED TALKING JOINED" {
		t.Errorf("participants header %q", partHead)
	}
	p1, p1Line := tableRow(t, out, "p1")
	if strings.Join(p1[:6], " ") != "p1 +*******0123 organizer no no yes" || p1[len(p1)-1] != "UTC" {
		t.Errorf("participant p1 %q", p1)
	}
	if p2 := tableRow2(t, out, "participant-2"); strings.Join(p2[:6], " ") != "participant-2 +********0000 attendee yes yes no" {
		t.Errorf("participant-2 %q", p2)
	}
	for _, col := range []string{"CALLER", "ROLE", "MUTED", "TALKING", "JOINED"} {
		if strings.Index(partHeadLine, col) != strings.Index(p1Line, map[string]string{"CALLER": "+*", "ROLE": "organizer", "MUTED": "no", "TALKING": "yes", "JOINED": now.UTC().Format("2006")}[col]) {
			t.Errorf("participants column %s not aligned:\n%s", col, out)
		}
	}
	if err := jsonInto(ok("meeting", "show", id, "--json"), &m); err != nil || len(m.Live.Lobby) != 2 || m.Live.Lobby[1].ID != "lobby-caller-2" ||
		m.Live.Participants[1].ID != "participant-2" || m.Live.Participants[0].Caller != "+*******0123" {
		t.Errorf("show --json: %+v %v", m.Live, err)
	}
	live.takeCalls()

	// admit one, then everyone.
	if out := ok("meeting", "admit", id, "l1"); out != "admitted 1 caller(s)\n" {
		t.Errorf("admit l1: %q", out)
	}
	if stderr := fails("meeting", "admit", id, "l1"); stderr != "dialin: no participant or lobby caller l1 in meeting "+id+"\n" {
		t.Errorf("admit l1 again: %q", stderr)
	}
	if out := ok("meeting", "admit", id); out != "admitted 1 caller(s)\n" {
		t.Errorf("admit everyone: %q", out)
	}
	var admitted map[string]int
	if err := jsonInto(ok("meeting", "admit", id, "--json"), &admitted); err != nil || len(admitted) != 1 || admitted["admitted"] != 0 {
		t.Errorf("admit --json: %v %v", admitted, err)
	}

	// mute, unmute.
	if out := ok("meeting", "mute", id, "p1"); out != "participant p1 muted in meeting "+id+"\n" {
		t.Errorf("mute: %q", out)
	}
	if l, _ := live.Status(id); !l.Participants[0].Muted {
		t.Errorf("p1 not muted: %+v", l.Participants[0])
	}
	if out := ok("meeting", "mute", id, "p1", "--off"); out != "participant p1 unmuted in meeting "+id+"\n" {
		t.Errorf("mute --off: %q", out)
	}
	if out := ok("meeting", "mute", "--off=false", id, "participant-2", "--json"); out != "" {
		t.Errorf("mute --json printed %q", out)
	}
	if stderr := fails("meeting", "mute", id, "nobody"); !strings.Contains(stderr, "no participant or lobby caller nobody") {
		t.Errorf("mute nobody: %q", stderr)
	}
	if stderr := fails("meeting", "mute", id, strings.Repeat("x", 65)); !strings.Contains(stderr, "longer than 64") {
		t.Errorf("mute a long id: %q", stderr)
	}

	// lock, the live list, unlock.
	if out := ok("meeting", "lock", id); out != "meeting "+id+" locked: new callers but the organizer are refused\n" {
		t.Errorf("lock: %q", out)
	}
	out = ok("meeting", "live")
	if row := tableRow2(t, out, id); strings.Join(row, " ") != id+" ada@example.com started 4 0 yes" || !strings.HasSuffix(out, "1 live meeting(s)\n") {
		t.Errorf("live:\n%s", out)
	}
	var lives []client.Meeting
	if err := jsonInto(ok("meeting", "live", "--json"), &lives); err != nil || len(lives) != 1 || !lives[0].Live.Locked {
		t.Errorf("live --json: %+v %v", lives, err)
	}
	if out := ok("meeting", "unlock", id); out != "meeting "+id+" unlocked\n" {
		t.Errorf("unlock: %q", out)
	}

	// remove, end.
	if out := ok("meeting", "remove", id, "participant-2"); out != "participant-2 removed from meeting "+id+" and hung up\n" {
		t.Errorf("remove: %q", out)
	}
	if out := ok("meeting", "end", id); out != "meeting "+id+" ended; everyone in it and in its lobby was hung up\n" {
		t.Errorf("end: %q", out)
	}
	if !outLine(ok("meeting", "show", id), "started", "no") {
		t.Error("show after end: still started")
	}
	want := []string{"admit " + id + " l1", "admit " + id + " l1", "admit " + id + " ", "admit " + id + " ",
		"mute " + id + " p1 true", "mute " + id + " p1 false", "mute " + id + " participant-2 true", "mute " + id + " nobody true",
		"lock " + id + " true", "lock " + id + " false", "remove " + id + " participant-2", "end " + id}
	if got := live.takeCalls(); !slices.Equal(got, want) {
		t.Errorf("bridge calls:\n got %q\nwant %q", got, want)
	}

	// An API server without the bridge: one line that says so, with the code.
	noBridge, _ := inProcessAPI(t, nil)
	r := inProcessCLI(noBridge, "user", "enable", "ada@example.com", "--no-email", "--json")
	if err := jsonInto(r.Stdout, &ada); err != nil {
		t.Fatal(err, r.Stderr)
	}
	for _, args := range [][]string{{"meeting", "start", ada.User.ConferenceID}, {"meeting", "admit", ada.User.ConferenceID}} {
		r := inProcessCLI(noBridge, args...)
		checkFailure(t, r, 1, args)
		if r.Stderr != "dialin: live meeting control is unavailable: this API server is not connected to the bridge (503 bridge_unavailable)\n" {
			t.Errorf("dialin %q without the bridge: %q", args, r.Stderr)
		}
	}
}
