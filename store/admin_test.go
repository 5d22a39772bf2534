package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
)

// Validate names the field it refuses, as the API does, so that the API
// needs no checks of its own.
func TestSettingsValidateNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*store.Settings)
		field  string
	}{
		{"pin length", func(s *store.Settings) { s.PINLength = 13 }, "pin_length"},
		{"mode", func(s *store.Settings) { s.ConferenceIDMode = "random" }, "conference_id_mode"},
		{"admission", func(s *store.Settings) { s.LobbyAdmission = "everyone" }, "lobby_admission"},
		{"window", func(s *store.Settings) { s.Lockout.Window = 30 * time.Second }, "lockout.window"},
		{"lock duration", func(s *store.Settings) { s.Lockout.LocalLockDuration = -time.Hour }, "lockout.local_lock_duration"},
		{"local limit", func(s *store.Settings) { s.Lockout.LocalLimit = -1 }, "lockout.local_limit"},
		{"global limit", func(s *store.Settings) { s.Lockout.GlobalLimit = -1 }, "lockout.global_limit"},
		{"local above global", func(s *store.Settings) { s.Lockout.LocalLimit, s.Lockout.GlobalLimit = 30, 10 }, "lockout.local_limit"},
		{"empty number", func(s *store.Settings) { s.DialInNumbers = []string{"+1 425 555 0100", " "} }, "dial_in_numbers"},
		{"letters in a number", func(s *store.Settings) { s.DialInNumbers = []string{"+1 425 CALL NOW"} }, "dial_in_numbers"},
		{"plus inside a number", func(s *store.Settings) { s.DialInNumbers = []string{"1+425 555 0100"} }, "dial_in_numbers"},
		{"too few digits", func(s *store.Settings) { s.DialInNumbers = []string{"+1"} }, "dial_in_numbers"},
		{"too many digits", func(s *store.Settings) { s.DialInNumbers = []string{"+1 425 555 0100 0100 01"} }, "dial_in_numbers"},
		{"announcements", func(s *store.Settings) { s.EntryExitAnnouncements = "names" }, "entry_exit_announcements"},
		{"no announcements", func(s *store.Settings) { s.EntryExitAnnouncements = "" }, "entry_exit_announcements"},
	} {
		s := store.DefaultSettings()
		tc.change(&s)
		var ie *store.InputError
		if err := s.Validate(); !errors.As(err, &ie) || ie.Field != tc.field || !errors.Is(err, store.ErrInvalidInput) {
			t.Errorf("%s: %v, want an InputError for %s", tc.name, err, tc.field)
		}
	}
	if err := store.DefaultSettings().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	// Numbers as people write them pass.
	s := store.DefaultSettings()
	s.DialInNumbers = []string{"+1 (425) 555-0100", "+44 20 7946 0000", "020.7946.0000", "911"}
	s.EntryExitAnnouncements = store.AnnounceOff
	if err := s.Validate(); err != nil {
		t.Fatalf("good numbers: %v", err)
	}
}

// The entry and exit announcements reach the call path with the conference
// ID, as the lobby admission does.
func testLookupConferenceCarriesAnnouncements(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	ch, err := d.EnableUser(ctx, store.EnableRequest{Email: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	u := ch.User
	if c, ok := d.LookupConference(u.ConferenceID); !ok || c.EntryExitAnnouncements != store.AnnounceTones {
		t.Fatalf("default: %+v %v, want tones", c, ok)
	}
	if _, err := d.UpdateSettings(ctx, func(s *store.Settings) error {
		s.EntryExitAnnouncements = store.AnnounceOff
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if c, _ := d.LookupConference(u.ConferenceID); c.EntryExitAnnouncements != store.AnnounceOff {
		t.Fatalf("after the change: %q, want off", c.EntryExitAnnouncements)
	}
}

// UpdateSettings trims the dial-in numbers before checking and storing them.
func testUpdateSettingsTrimsNumbers(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	s, err := d.UpdateSettings(context.Background(), func(s *store.Settings) error {
		s.DialInNumbers = []string{" +1 425 555 0100 "}
		return nil
	})
	if err != nil || len(s.DialInNumbers) != 1 || s.DialInNumbers[0] != "+1 425 555 0100" {
		t.Fatalf("UpdateSettings: %+v, %v", s.DialInNumbers, err)
	}
}

// The addresses of a write are checked once, here, naming the field.
func testAddressesNameTheField(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	ctx := context.Background()
	for _, tc := range []struct {
		req   store.EnableRequest
		field string
	}{
		{store.EnableRequest{Email: " "}, "email"},
		{store.EnableRequest{Email: "Ada <ada@example.com>"}, "email"},
		{store.EnableRequest{Email: "ada@example.com", EmailOverride: "Ada <ada@example.org>"}, "email_override"},
		{store.EnableRequest{Email: "ada@example.com", Mail: store.MailOptions{To: "not an address"}}, "email_to"},
		// Contradictory: no email, but to this address.
		{store.EnableRequest{Email: "ada@example.com", Mail: store.MailOptions{Skip: true, To: "help@example.com"}}, "email_to"},
	} {
		var ie *store.InputError
		if _, err := d.EnableUser(ctx, tc.req); !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("%+v: %v, want an InputError for %s", tc.req, err, tc.field)
		}
	}
	if d.Users() != 0 {
		t.Fatalf("%d users enabled by refused requests", d.Users())
	}
}
