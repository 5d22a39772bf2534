package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/bridge"
	"github.com/dialin/dialin/store"
)

type meetingResp struct {
	ConferenceID     string    `json:"conference_id"`
	Organizer        string    `json:"organizer"`
	OrganizerID      int64     `json:"organizer_id"`
	Static           bool      `json:"static"`
	RequireOrganizer bool      `json:"require_organizer"`
	BypassLobby      bool      `json:"bypass_lobby"`
	Live             wire.Live `json:"live"`
}

func TestMeetings(t *testing.T) {
	e := newEnv(t)
	ada := e.enable("ada@example.com")
	e.enable("bob@example.com")

	// A user's static meeting.
	var m meetingResp
	r := e.must(200, "GET", "/api/v1/meetings/"+ada.User.ConferenceID, "")
	r.decode(t, &m)
	if m.ConferenceID != ada.User.ConferenceID || m.Organizer != "ada@example.com" || m.OrganizerID != ada.User.ID || !m.Static {
		t.Fatalf("static meeting: %+v", m)
	}
	if !strings.Contains(string(r.body), `"live":{"started":false,"locked":false,"organizer_present":false,"participants":[],"lobby":[]}`) {
		t.Fatalf("never-started live: %s", r.body)
	}

	// Dynamic meetings.
	e.must(201, "POST", "/api/v1/meetings", `{"organizer":"ADA@example.com"}`).decode(t, &m)
	if m.Organizer != "ada@example.com" || m.Static || !m.RequireOrganizer || m.BypassLobby {
		t.Fatalf("created with defaults: %+v", m)
	}
	first := m.ConferenceID
	e.must(201, "POST", "/api/v1/meetings", `{"organizer":"ada@example.com","require_organizer":false,"bypass_lobby":true}`).decode(t, &m)
	if m.RequireOrganizer || !m.BypassLobby {
		t.Fatalf("created: %+v", m)
	}
	if _, ok := e.dir.LookupConference(m.ConferenceID); !ok {
		t.Fatal("the new meeting's ID does not work")
	}

	// The live state comes from the bridge, with numbers masked.
	joined := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	e.live.set(first, wire.Live{Started: true, OrganizerPresent: true,
		Participants: []wire.Participant{{Caller: "+14255550123", Role: "organizer", Talking: true, JoinedAt: joined}}})
	var live meetingResp
	r = e.must(200, "GET", "/api/v1/meetings/"+first, "")
	r.decode(t, &live)
	if !live.Live.Started || len(live.Live.Participants) != 1 || live.Live.Participants[0].Caller != "+*******0123" ||
		live.Live.Participants[0].Role != "organizer" || live.Live.Lobby == nil || strings.Contains(string(r.body), "4255550123") {
		t.Fatalf("live: %+v\n%s", live.Live, r.body)
	}

	// Listing: all, by organizer, in pages.
	type list struct {
		Meetings  []meetingResp `json:"meetings"`
		NextAfter string        `json:"next_after"`
	}
	var l list
	e.must(200, "GET", "/api/v1/meetings", "").decode(t, &l)
	if len(l.Meetings) != 4 || l.NextAfter != "" {
		t.Fatalf("all meetings: %+v", l)
	}
	e.must(200, "GET", "/api/v1/meetings?organizer=ada@example.com", "").decode(t, &l)
	if len(l.Meetings) != 3 {
		t.Fatalf("ada's meetings: %+v", l)
	}
	for _, m := range l.Meetings {
		if m.Organizer != "ada@example.com" {
			t.Fatalf("not ada's: %+v", m)
		}
	}
	var ids []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		e.must(200, "GET", "/api/v1/meetings?limit=3&after="+after, "").decode(t, &l)
		for _, m := range l.Meetings {
			ids = append(ids, m.ConferenceID)
		}
		if l.NextAfter == "" {
			break
		}
		after = l.NextAfter
	}
	if len(ids) != 4 || !sortedStrings(ids) {
		t.Fatalf("paged meetings: %v", ids)
	}
	e.fail(404, "not_found", "GET", "/api/v1/meetings?organizer=nobody@example.com", "")
	e.fail(400, "bad_request", "GET", "/api/v1/meetings?limit=0", "")
	e.fail(400, "bad_request", "GET", "/api/v1/meetings?after=12", "")
	e.fail(400, "invalid_input", "GET", "/api/v1/meetings?organizer=ada", "")

	// Deleting: a dynamic meeting goes; a static ID cannot.
	before := e.state()
	e.fail(400, "invalid_input", "DELETE", "/api/v1/meetings/"+ada.User.ConferenceID, "")
	e.fail(404, "not_found", "POST", "/api/v1/meetings", `{"organizer":"nobody@example.com"}`)
	if err := e.fail(400, "invalid_input", "POST", "/api/v1/meetings", `{"organizer":"not an address"}`); err.Field != "organizer" {
		t.Fatalf("bad organizer: %+v", err)
	}
	e.fail(400, "bad_request", "POST", "/api/v1/meetings", `{"organizer":"ada@example.com","require_organizer":"yes"}`)
	if after := e.state(); after != before {
		t.Fatal("refused meeting requests changed data")
	}
	e.must(204, "DELETE", "/api/v1/meetings/"+first, "")
	if _, ok := e.dir.LookupConference(first); ok {
		t.Fatal("the deleted meeting's ID still works")
	}
	err := e.fail(404, "not_found", "GET", "/api/v1/meetings/"+first, "")
	if err.Message != "meeting "+first+" not found" {
		t.Fatalf("message %q", err.Message)
	}
	e.fail(404, "not_found", "DELETE", "/api/v1/meetings/"+first, "")
	e.fail(404, "not_found", "GET", "/api/v1/meetings/123", "")
	wrong, _ := wrongCheckDigit(t, first[:6])
	e.fail(404, "not_found", "GET", "/api/v1/meetings/"+wrong, "")
}

func sortedStrings(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			return false
		}
	}
	return true
}

func TestMaskCaller(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"+14255550123", "+*******0123"},
		{"+1 425 555 0100", "+* *** *** 0100"},
		{"1001", "**01"},
		{"anonymous", "anonymous"},
		{"", ""},
	} {
		got := maskCaller(tc.in)
		if got != tc.want {
			t.Errorf("maskCaller(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if again := maskCaller(got); again != got {
			t.Errorf("masking %q again gave %q", got, again)
		}
	}
}

// liveRoute is one request of the live meeting control.
type liveRoute struct{ method, path, body string }

// liveRoutes are a valid request to each live-control route of meeting id.
func liveRoutes(id string) []liveRoute {
	m := "/api/v1/meetings/" + id
	return []liveRoute{
		{"POST", m + "/start", ""},
		{"POST", m + "/end", ""},
		{"POST", m + "/admit", `{"caller_id":"l1"}`},
		{"PUT", m + "/participants/p1/mute", `{"muted":true}`},
		{"DELETE", m + "/participants/p1", ""},
		{"PUT", m + "/lock", `{"locked":true}`},
	}
}

// liveMeeting is a started meeting with an organizer, an attendee and two
// callers in the lobby.
func liveMeeting() wire.Live {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	return wire.Live{Started: true, OrganizerPresent: true,
		Participants: []wire.Participant{
			{ID: "p1", Caller: "+14255550123", Role: "organizer", JoinedAt: at},
			{ID: "p2", Caller: "+442079460000", Role: "attendee", HandRaised: true, JoinedAt: at.Add(time.Minute)},
		},
		Lobby: []wire.LobbyCaller{
			{ID: "l1", Caller: "+33142685300", WaitingSince: at.Add(2 * time.Minute)},
			{ID: "l2", Caller: "1001", WaitingSince: at.Add(3 * time.Minute)},
		}}
}

func (e *env) meeting(id string) meetingResp {
	e.t.Helper()
	var m meetingResp
	e.must(200, "GET", "/api/v1/meetings/"+id, "").decode(e.t, &m)
	return m
}

// checkCalls fails the test unless the bridge saw exactly want since the
// last check.
func (e *env) checkCalls(want ...string) {
	e.t.Helper()
	if got := e.live.takeCalls(); strings.Join(got, "|") != strings.Join(want, "|") {
		e.t.Fatalf("bridge calls %q, want %q", got, want)
	}
}

func TestMeetingLiveControl(t *testing.T) {
	e := newEnv(t)
	ada := e.enable("ada@example.com")
	static := ada.User.ConferenceID
	var created meetingResp
	e.must(201, "POST", "/api/v1/meetings", `{"organizer":"ada@example.com"}`).decode(t, &created)
	dyn := created.ConferenceID

	// start: the meeting as GET shows it, now started; a static ID works too.
	var m meetingResp
	e.must(200, "POST", "/api/v1/meetings/"+dyn+"/start", "").decode(t, &m)
	if m.ConferenceID != dyn || m.Organizer != "ada@example.com" || m.Static || !m.Live.Started ||
		m.Live.Participants == nil || m.Live.Lobby == nil {
		t.Fatalf("start: %+v", m)
	}
	e.must(200, "POST", "/api/v1/meetings/"+static+"/start", `{}`).decode(t, &m)
	if m.ConferenceID != static || !m.Static || !m.Live.Started {
		t.Fatalf("start a static ID: %+v", m)
	}
	e.must(200, "POST", "/api/v1/meetings/"+static+"/start", "") // started already: nothing changes
	e.checkCalls("start "+dyn, "start "+static, "start "+static)
	// Each start hands the bridge what a call would find for the ID.
	e.live.mu.Lock()
	started := slices.Clone(e.live.started)
	e.live.mu.Unlock()
	for i, id := range []string{dyn, static, static} {
		want, _ := e.dir.LookupConference(id)
		if i >= len(started) || started[i] != want {
			t.Fatalf("start %d of %s: the bridge got %+v, want %+v", i, id, started, want)
		}
	}
	if !e.meeting(static).Live.Started {
		t.Fatal("GET does not show the started meeting")
	}

	// The view: the bridge's ids, and masked callers.
	e.live.set(static, liveMeeting())
	r := e.must(200, "GET", "/api/v1/meetings/"+static, "")
	r.decode(t, &m)
	l := m.Live
	if len(l.Participants) != 2 || len(l.Lobby) != 2 ||
		l.Participants[0].ID != "p1" || l.Participants[0].Caller != "+*******0123" ||
		l.Participants[1].ID != "p2" || l.Participants[1].Caller != "+********0000" || !l.Participants[1].HandRaised ||
		l.Lobby[0].ID != "l1" || l.Lobby[0].Caller != "+*******5300" ||
		l.Lobby[1].ID != "l2" || l.Lobby[1].Caller != "**01" {
		t.Fatalf("live view: %+v\n%s", l, r.body)
	}
	for _, number := range []string{"4255550123", "442079460000", "33142685300", "1001"} {
		if strings.Contains(string(r.body), number) {
			t.Fatalf("the view shows %s unmasked:\n%s", number, r.body)
		}
	}
	if !strings.Contains(string(r.body), `"participants":[{"id":"p1","caller":"+*******0123",`) ||
		!strings.Contains(string(r.body), `"lobby":[{"id":"l1","caller":"+*******5300",`) {
		t.Fatalf("id is not the first field:\n%s", r.body)
	}

	// admit one, then everyone left.
	var admitted struct {
		Admitted *int `json:"admitted"`
	}
	e.must(200, "POST", "/api/v1/meetings/"+static+"/admit", `{"caller_id":"l1"}`).decode(t, &admitted)
	if admitted.Admitted == nil || *admitted.Admitted != 1 {
		t.Fatalf("admit l1: %+v", admitted)
	}
	e.fail(404, "caller_not_found", "POST", "/api/v1/meetings/"+static+"/admit", `{"caller_id":"l1"}`)
	e.must(200, "POST", "/api/v1/meetings/"+static+"/admit", "").decode(t, &admitted)
	if *admitted.Admitted != 1 {
		t.Fatalf("admit everyone: %d", *admitted.Admitted)
	}
	r = e.must(200, "POST", "/api/v1/meetings/"+static+"/admit", `{"caller_id":""}`)
	if strings.TrimSpace(string(r.body)) != `{"admitted":0}` {
		t.Fatalf("admit an empty lobby: %s", r.body)
	}
	e.checkCalls("admit "+static+" l1", "admit "+static+" l1", "admit "+static+" ", "admit "+static+" ")
	if l := e.meeting(static).Live; len(l.Lobby) != 0 || len(l.Participants) != 4 {
		t.Fatalf("after admitting everyone: %+v", l)
	}

	// mute and unmute.
	e.must(204, "PUT", "/api/v1/meetings/"+static+"/participants/p2/mute", `{"muted":true}`)
	if p := e.meeting(static).Live.Participants[1]; p.ID != "p2" || !p.Muted {
		t.Fatalf("after mute: %+v", p)
	}
	e.must(204, "PUT", "/api/v1/meetings/"+static+"/participants/p2/mute", `{"muted":false}`)
	if p := e.meeting(static).Live.Participants[1]; p.Muted {
		t.Fatalf("after unmute: %+v", p)
	}
	err := e.fail(404, "caller_not_found", "PUT", "/api/v1/meetings/"+static+"/participants/nobody/mute", `{"muted":true}`)
	if err.Message != "no participant or lobby caller nobody in meeting "+static {
		t.Fatalf("caller_not_found message %q", err.Message)
	}
	e.checkCalls("mute "+static+" p2 true", "mute "+static+" p2 false", "mute "+static+" nobody true")

	// remove a participant and a lobby caller.
	e.live.set(static, liveMeeting())
	e.must(204, "DELETE", "/api/v1/meetings/"+static+"/participants/p2", "")
	e.must(204, "DELETE", "/api/v1/meetings/"+static+"/participants/l2", "")
	e.fail(404, "caller_not_found", "DELETE", "/api/v1/meetings/"+static+"/participants/l2", "")
	if l := e.meeting(static).Live; len(l.Participants) != 1 || l.Participants[0].ID != "p1" || len(l.Lobby) != 1 || l.Lobby[0].ID != "l1" {
		t.Fatalf("after removing p2 and l2: %+v", l)
	}
	e.checkCalls("remove "+static+" p2", "remove "+static+" l2", "remove "+static+" l2")

	// lock and unlock: the live view shows it.
	e.must(204, "PUT", "/api/v1/meetings/"+static+"/lock", `{"locked":true}`)
	if !e.meeting(static).Live.Locked {
		t.Fatal("after lock: not locked")
	}
	e.must(204, "PUT", "/api/v1/meetings/"+static+"/lock", `{"locked":false}`)
	if e.meeting(static).Live.Locked {
		t.Fatal("after unlock: locked")
	}
	e.checkCalls("lock "+static+" true", "lock "+static+" false")

	// The live list: what the bridge holds, started or with a lobby, in
	// conference ID order, each as GET shows it; a meeting only turning
	// a caller away is not listed.
	e.live.set(dyn, wire.Live{Lobby: []wire.LobbyCaller{{ID: "l9", Caller: "+15550001111"}}})
	idle := newConferenceIDNotIn(t, e)
	e.live.set(idle, wire.Live{})
	var list struct {
		Meetings []meetingResp `json:"meetings"`
	}
	e.must(200, "GET", "/api/v1/live", "").decode(t, &list)
	want := []string{dyn, static}
	slices.Sort(want)
	if len(list.Meetings) != 2 || list.Meetings[0].ConferenceID != want[0] || list.Meetings[1].ConferenceID != want[1] {
		t.Fatalf("live list: %+v, want %v", list.Meetings, want)
	}
	for _, lm := range list.Meetings {
		if lm.Organizer != "ada@example.com" || lm.ConferenceID == dyn && (lm.Live.Started || len(lm.Live.Lobby) != 1 || lm.Live.Lobby[0].Caller != "+*******1111") {
			t.Fatalf("live list entry: %+v", lm)
		}
	}
	e.live.mu.Lock()
	delete(e.live.meetings, dyn)
	delete(e.live.meetings, idle)
	e.live.mu.Unlock()

	// end; then the meeting is not on.
	e.must(204, "POST", "/api/v1/meetings/"+static+"/end", "")
	if e.meeting(static).Live.Started {
		t.Fatal("the ended meeting still shows as started")
	}
	e.checkCalls("end " + static)
	for _, rt := range liveRoutes(static)[1:] {
		err := e.fail(409, "meeting_not_started", rt.method, rt.path, rt.body)
		if err.Message != "meeting "+static+" has not started" {
			t.Fatalf("%s %s: message %q", rt.method, rt.path, err.Message)
		}
	}
	e.checkCalls("end "+static, "admit "+static+" l1", "mute "+static+" p1 true", "remove "+static+" p1", "lock "+static+" true")

	// Conference IDs not in the directory: 404 not_found, the bridge is not asked.
	wrong, _ := wrongCheckDigit(t, static[:6])
	for _, id := range []string{newConferenceIDNotIn(t, e), wrong, "123", "12345678"} {
		for _, rt := range liveRoutes(id) {
			err := e.fail(404, "not_found", rt.method, rt.path, rt.body)
			if !strings.Contains(err.Message, "meeting "+id+" not found") {
				t.Fatalf("%s %s: message %q", rt.method, rt.path, err.Message)
			}
		}
	}
	e.checkCalls()

	// Without the token: 401, whatever the meeting.
	for _, rt := range liveRoutes(static) {
		h := http.Header{"Content-Type": {"application/json"}}
		e.checkErr(e.raw(rt.method, rt.path, rt.body, h), 401, "unauthorized", rt.method+" "+rt.path+" without a token")
		h.Set("Authorization", "Bearer wrong-token-0123456789abcdef")
		e.checkErr(e.raw(rt.method, rt.path, rt.body, h), 401, "unauthorized", rt.method+" "+rt.path+" with a wrong token")
	}
	e.checkCalls()

	// Other methods: 405 with Allow.
	for path, allow := range map[string]string{"/start": "POST", "/end": "POST", "/admit": "POST", "/participants/p1/mute": "PUT", "/participants/p1": "DELETE", "/lock": "PUT"} {
		r := e.send("GET", "/api/v1/meetings/"+static+path, "")
		e.checkErr(r, 405, "method_not_allowed", "GET "+path)
		if got := r.header.Get("Allow"); !strings.Contains(got, allow) {
			t.Fatalf("GET %s: Allow %q", path, got)
		}
	}

	// The bridge failing otherwise: 500, the cause logged, never shown.
	// (Starting cannot fail on the bridge's side: bridge.Start has no error.)
	e.live.failWith(errors.New("mixer on fire"))
	for _, rt := range liveRoutes(static) {
		if strings.HasSuffix(rt.path, "/start") {
			continue
		}
		err := e.fail(500, "internal", rt.method, rt.path, rt.body)
		if strings.Contains(err.Message, "fire") {
			t.Fatalf("%s %s: message %q tells the cause", rt.method, rt.path, err.Message)
		}
	}
	e.live.failWith(nil)
	if l := e.logs.String(); !strings.Contains(l, "mixer on fire") {
		t.Fatalf("the bridge's error is not logged:\n%s", l)
	}
	e.checkCalls("end "+static, "admit "+static+" l1", "mute "+static+" p1 true", "remove "+static+" p1", "lock "+static+" true")
}

// newConferenceIDNotIn returns a valid conference ID that no meeting has.
func newConferenceIDNotIn(t *testing.T, e *env) string {
	t.Helper()
	for body := 100000; body < 1000000; body += 7919 {
		id := validID(t, strconv.Itoa(body))
		if _, err := e.dir.GetMeeting(context.Background(), id); errors.Is(err, store.ErrNotFound) {
			return id
		}
	}
	t.Fatal("every conference ID is taken")
	return ""
}

// Bad requests to the live control are refused before the bridge is asked,
// and change nothing.
func TestMeetingLiveControlBadRequests(t *testing.T) {
	e := newEnv(t)
	id := e.enable("ada@example.com").User.ConferenceID
	e.live.set(id, liveMeeting())
	before := e.state()
	m := "/api/v1/meetings/" + id
	mute := m + "/participants/p1/mute"
	long := strings.Repeat("x", 65)
	for _, tc := range []struct {
		name, method, path, body, code, field string
	}{
		{"start unknown field", "POST", m + "/start", `{"now":true}`, "bad_request", "now"},
		{"start not an object", "POST", m + "/start", `[]`, "bad_request", ""},
		{"end malformed", "POST", m + "/end", `{`, "bad_request", ""},
		{"admit malformed", "POST", m + "/admit", `{"caller_id":`, "bad_request", ""},
		{"admit malformed mid-way", "POST", m + "/admit", `{"caller_id" "l1"}`, "bad_request", ""},
		{"admit unknown field", "POST", m + "/admit", `{"caller":"l1"}`, "bad_request", "caller"},
		{"admit wrong type", "POST", m + "/admit", `{"caller_id":1}`, "bad_request", "caller_id"},
		{"admit trailing data", "POST", m + "/admit", `{"caller_id":"l1"}{}`, "bad_request", ""},
		{"admit too long", "POST", m + "/admit", `{"caller_id":"` + long + `"}`, "invalid_input", "caller_id"},
		{"admit space", "POST", m + "/admit", `{"caller_id":"l 1"}`, "invalid_input", "caller_id"},
		{"admit control character", "POST", m + "/admit", `{"caller_id":"l1\n"}`, "invalid_input", "caller_id"},
		{"admit not ASCII", "POST", m + "/admit", `{"caller_id":"lé"}`, "invalid_input", "caller_id"},
		{"mute missing muted", "PUT", mute, `{}`, "invalid_input", "muted"},
		{"mute null muted", "PUT", mute, `{"muted":null}`, "invalid_input", "muted"},
		{"mute wrong type", "PUT", mute, `{"muted":"yes"}`, "bad_request", "muted"},
		{"mute wrong type number", "PUT", mute, `{"muted":1}`, "bad_request", "muted"},
		{"mute malformed", "PUT", mute, `{"muted":tru}`, "bad_request", ""},
		{"mute unknown field", "PUT", mute, `{"muted":true,"deaf":true}`, "bad_request", "deaf"},
		{"mute no body", "PUT", mute, ``, "bad_request", ""},
		{"mute id too long", "PUT", m + "/participants/" + long + "/mute", `{"muted":true}`, "invalid_input", "participant_id"},
		{"mute id with a space", "PUT", m + "/participants/p%201/mute", `{"muted":true}`, "invalid_input", "participant_id"},
		{"lock missing locked", "PUT", m + "/lock", `{}`, "invalid_input", "locked"},
		{"lock wrong type", "PUT", m + "/lock", `{"locked":"yes"}`, "bad_request", "locked"},
		{"lock no body", "PUT", m + "/lock", ``, "bad_request", ""},
		{"remove id not ASCII", "DELETE", m + "/participants/p%C3%A9", ``, "invalid_input", "participant_id"},
		{"remove id with a NUL", "DELETE", m + "/participants/p%00", ``, "invalid_input", "participant_id"},
		{"remove id too long", "DELETE", m + "/participants/" + long, ``, "invalid_input", "participant_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status := map[string]int{"bad_request": 400, "invalid_input": 400}[tc.code]
			err := e.fail(status, tc.code, tc.method, tc.path, tc.body)
			if err.Field != tc.field {
				t.Errorf("field %q, want %q (%s)", err.Field, tc.field, err.Message)
			}
			if strings.Contains(err.Message, long) {
				t.Error("the message echoes the id")
			}
		})
	}
	// 64 characters is fine (the fake bridge does not know it).
	e.fail(404, "caller_not_found", "DELETE", m+"/participants/"+long[1:], "")
	e.checkCalls("remove " + id + " " + long[1:])

	// JSON only.
	auth := "Bearer " + testToken
	for _, rt := range []liveRoute{{"POST", m + "/start", `{}`}, {"POST", m + "/admit", `{"caller_id":"l1"}`}, {"PUT", mute, `{"muted":true}`}} {
		r := e.raw(rt.method, rt.path, rt.body, http.Header{"Authorization": {auth}, "Content-Type": {"text/plain"}})
		e.checkErr(r, 415, "unsupported_media_type", rt.method+" "+rt.path+" as text/plain")
	}
	e.checkCalls()
	if after := e.state(); after != before {
		t.Fatalf("refused requests changed something:\n%s\n%s", before, after)
	}
}

// Without the bridge the live control answers 503; reading meetings works.
func TestMeetingLiveControlWithoutBridge(t *testing.T) {
	e := newEnv(t)
	id := e.enable("ada@example.com").User.ConferenceID
	h, err := NewHandler(Options{Directory: e.dir, Token: testToken, Logger: zerolog.New(e.logs)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	e.srv = srv
	for _, rt := range liveRoutes(id) {
		err := e.fail(503, "bridge_unavailable", rt.method, rt.path, rt.body)
		if !strings.Contains(err.Message, "bridge") {
			t.Fatalf("%s %s: message %q", rt.method, rt.path, err.Message)
		}
	}
	// Still 404 for an unknown meeting, 400 for a bad request, 401 without the token.
	for _, rt := range liveRoutes(newConferenceIDNotIn(t, e)) {
		e.fail(404, "not_found", rt.method, rt.path, rt.body)
	}
	e.fail(400, "invalid_input", "PUT", "/api/v1/meetings/"+id+"/participants/p1/mute", `{}`)
	e.fail(503, "bridge_unavailable", "GET", "/api/v1/live", "")
	e.checkErr(e.raw("POST", "/api/v1/meetings/"+id+"/start", "", http.Header{}), 401, "unauthorized", "start without a token")
	if m := e.meeting(id); m.Live.Started || m.Live.Participants == nil {
		t.Fatalf("GET without the bridge: %+v", m)
	}
}

// The bridge's errors map to the API's, wrapped or not.
func TestLiveErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{bridge.ErrNotStarted, 409, "meeting_not_started"},
		{fmt.Errorf("bridge: %w", bridge.ErrNotStarted), 409, "meeting_not_started"},
		{bridge.ErrNoSuchCaller, 404, "caller_not_found"},
		{fmt.Errorf("bridge: caller x: %w", bridge.ErrNoSuchCaller), 404, "caller_not_found"},
		{errors.New("ErrNotStarted"), 500, "internal"},
	} {
		e, _ := toAPIError(liveError(tc.err, "1234567", "x"))
		if e.Status != tc.status || e.Code != tc.code {
			t.Errorf("%v: %+v", tc.err, e)
		}
	}
	if liveError(nil, "1234567", "") != nil {
		t.Error("nil is an error")
	}
}
