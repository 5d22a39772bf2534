package admin

import (
	"strings"
	"testing"
	"time"
)

type meetingResp struct {
	ConferenceID     string `json:"conference_id"`
	Organizer        string `json:"organizer"`
	OrganizerID      int64  `json:"organizer_id"`
	Static           bool   `json:"static"`
	RequireOrganizer bool   `json:"require_organizer"`
	BypassLobby      bool   `json:"bypass_lobby"`
	Live             Live   `json:"live"`
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
	if !strings.Contains(string(r.body), `"live":{"started":false,"organizer_present":false,"participants":[],"lobby":[]}`) {
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
	e.live.set(first, Live{Started: true, OrganizerPresent: true,
		Participants: []Participant{{Caller: "+14255550123", Role: "organizer", Talking: true, JoinedAt: joined}}})
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
