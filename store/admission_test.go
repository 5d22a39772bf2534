package store_test

import (
	"context"
	"testing"

	"github.com/dialin/dialin/store"
)

// testListedMeetingsSayWhatACallDoes: GetMeeting and ListMeetings show
// each meeting's admission as LookupConference (the call path) finds it:
// a static ID follows the settings, a dynamic meeting its own flags.
func testListedMeetingsSayWhatACallDoes(t *testing.T, be testBackend) {
	ctx := context.Background()
	d := openTestDir(t, be, "")
	ada := enable(t, d, "ada@example.com")
	dyn, err := d.CreateMeeting(ctx, ada.User.ID, false, true)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		list, err := d.ListMeetings(ctx, store.MeetingFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 {
			t.Fatalf("%s: %d meetings", when, len(list))
		}
		for _, m := range list {
			c, ok := d.LookupConference(m.ConferenceID)
			got, err := d.GetMeeting(ctx, m.ConferenceID)
			if !ok || err != nil {
				t.Fatalf("%s: %s: lookup %v, get %v", when, m.ConferenceID, ok, err)
			}
			if m.RequireOrganizer != c.RequireOrganizer || m.BypassLobby != c.BypassLobby ||
				got.RequireOrganizer != c.RequireOrganizer || got.BypassLobby != c.BypassLobby {
				t.Errorf("%s: %s (static %v) listed require %v bypass %v, shown %v %v; a call finds %v %v",
					when, m.ConferenceID, m.Static, m.RequireOrganizer, m.BypassLobby,
					got.RequireOrganizer, got.BypassLobby, c.RequireOrganizer, c.BypassLobby)
			}
		}
	}
	check("defaults")
	if m, _ := d.GetMeeting(ctx, ada.User.ConferenceID); !m.RequireOrganizer || m.BypassLobby {
		t.Errorf("static meeting with the default settings: require %v bypass %v, want true false", m.RequireOrganizer, m.BypassLobby)
	}
	if m, _ := d.GetMeeting(ctx, dyn.ConferenceID); m.RequireOrganizer || !m.BypassLobby {
		t.Errorf("dynamic meeting: %+v", m)
	}
	if _, err := d.UpdateSettings(ctx, func(s *store.Settings) error {
		s.AnonymousCanStart, s.DialInBypassLobby = true, true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check("anonymous_can_start and dial_in_bypass_lobby on")
	if m, _ := d.GetMeeting(ctx, ada.User.ConferenceID); m.RequireOrganizer || !m.BypassLobby {
		t.Errorf("static meeting after the settings changed: %+v", m)
	}
}
