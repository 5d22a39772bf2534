package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Validate names the field it refuses, as the API does, so that the API
// needs no checks of its own.
func TestSettingsValidateNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Settings)
		field  string
	}{
		{"pin length", func(s *Settings) { s.PINLength = 13 }, "pin_length"},
		{"mode", func(s *Settings) { s.ConferenceIDMode = "random" }, "conference_id_mode"},
		{"admission", func(s *Settings) { s.LobbyAdmission = "everyone" }, "lobby_admission"},
		{"window", func(s *Settings) { s.Lockout.Window = 30 * time.Second }, "lockout.window"},
		{"lock duration", func(s *Settings) { s.Lockout.LocalLockDuration = -time.Hour }, "lockout.local_lock_duration"},
		{"local limit", func(s *Settings) { s.Lockout.LocalLimit = -1 }, "lockout.local_limit"},
		{"global limit", func(s *Settings) { s.Lockout.GlobalLimit = -1 }, "lockout.global_limit"},
		{"local above global", func(s *Settings) { s.Lockout.LocalLimit, s.Lockout.GlobalLimit = 30, 10 }, "lockout.local_limit"},
		{"empty number", func(s *Settings) { s.DialInNumbers = []string{"+1 425 555 0100", " "} }, "dial_in_numbers"},
	} {
		s := DefaultSettings()
		tc.change(&s)
		var ie *InputError
		if err := s.Validate(); !errors.As(err, &ie) || ie.Field != tc.field || !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: %v, want an InputError for %s", tc.name, err, tc.field)
		}
	}
	if err := DefaultSettings().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}

// UpdateSettings trims the dial-in numbers before checking and storing them.
func TestUpdateSettingsTrimsNumbers(t *testing.T) {
	d := openTestDir(t, "")
	s, err := d.UpdateSettings(context.Background(), func(s *Settings) error {
		s.DialInNumbers = []string{" +1 425 555 0100 "}
		return nil
	})
	if err != nil || len(s.DialInNumbers) != 1 || s.DialInNumbers[0] != "+1 425 555 0100" {
		t.Fatalf("UpdateSettings: %+v, %v", s.DialInNumbers, err)
	}
}

// The addresses of a write are checked once, here, naming the field.
func TestAddressesNameTheField(t *testing.T) {
	d := openTestDir(t, "")
	ctx := context.Background()
	for _, tc := range []struct {
		req   EnableRequest
		field string
	}{
		{EnableRequest{Email: " "}, "email"},
		{EnableRequest{Email: "Ada <ada@example.com>"}, "email"},
		{EnableRequest{Email: "ada@example.com", EmailOverride: "Ada <ada@example.org>"}, "email_override"},
		{EnableRequest{Email: "ada@example.com", Mail: MailOptions{To: "not an address"}}, "email_to"},
		// Contradictory: no email, but to this address.
		{EnableRequest{Email: "ada@example.com", Mail: MailOptions{Skip: true, To: "help@example.com"}}, "email_to"},
	} {
		var ie *InputError
		if _, err := d.EnableUser(ctx, tc.req); !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("%+v: %v, want an InputError for %s", tc.req, err, tc.field)
		}
	}
	if d.Users() != 0 {
		t.Fatalf("%d users enabled by refused requests", d.Users())
	}
}
