package admin

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dialin/dialin/admin/wire"
)

func TestSettingsGetAndPatch(t *testing.T) {
	e := newEnv(t)
	var s wire.Settings
	e.must(200, "GET", "/api/v1/settings", "").decode(t, &s)
	if s.PINLength != 5 || !s.SendEmails || s.ConferenceIDMode != "static" || s.LobbyAdmission != "organizer" ||
		s.Lockout.Window != "30m0s" || s.Lockout.LocalLockDuration != "1h0m0s" || s.DialInNumbers == nil {
		t.Fatalf("defaults: %+v", s)
	}
	if body := string(e.must(200, "GET", "/api/v1/settings", "").body); !strings.Contains(body, `"dial_in_numbers":[]`) {
		t.Fatalf("dial_in_numbers not []: %s", body)
	}

	// Only the fields given change, nested ones too.
	e.must(200, "PATCH", "/api/v1/settings",
		`{"pin_length":6,"lockout":{"window":"45m"},"dial_in_numbers":["+1 425 555 0100"],"lobby_admission":"auto"}`).decode(t, &s)
	if s.PINLength != 6 || s.Lockout.Window != "45m0s" || s.Lockout.LocalLockDuration != "1h0m0s" ||
		s.LobbyAdmission != "auto" || s.ConferenceIDMode != "static" || !s.SendEmails ||
		len(s.DialInNumbers) != 1 || s.DialInNumbers[0] != "+1 425 555 0100" {
		t.Fatalf("after patch: %+v", s)
	}
	var again wire.Settings
	e.must(200, "GET", "/api/v1/settings", "").decode(t, &again)
	if fmt.Sprint(again) != fmt.Sprint(s) {
		t.Fatalf("GET after PATCH: %+v, want %+v", again, s)
	}
	if got := e.dir.Settings(); got.Lockout.Window.Minutes() != 45 || got.PINLength != 6 {
		t.Fatalf("stored: %+v", got)
	}
	e.must(200, "PATCH", "/api/v1/settings", `{"conference_id_mode":"dynamic","lockout":{"local_limit":3,"global_limit":10}}`).decode(t, &s)
	if s.ConferenceIDMode != "dynamic" || s.Lockout.LocalLimit != 3 || s.Lockout.GlobalLimit != 10 || s.Lockout.Window != "45m0s" {
		t.Fatalf("after second patch: %+v", s)
	}
	if s.EntryExitAnnouncements != "tones" {
		t.Fatalf("entry_exit_announcements %q, want the default tones", s.EntryExitAnnouncements)
	}
	e.must(200, "PATCH", "/api/v1/settings", `{"entry_exit_announcements":"off"}`).decode(t, &s)
	if s.EntryExitAnnouncements != "off" || e.dir.Settings().EntryExitAnnouncements != "off" || s.ConferenceIDMode != "dynamic" {
		t.Fatalf("after entry_exit_announcements off: %+v", s)
	}
	e.must(200, "PATCH", "/api/v1/settings", `{}`)
}

func TestSettingsPatchRefused(t *testing.T) {
	e := newEnv(t)
	e.enable("ada@example.com")
	before := e.state()
	for _, tc := range []struct{ body, code, field string }{
		{`{"pin_length":13}`, "invalid_input", "pin_length"},
		{`{"pin_length":3}`, "invalid_input", "pin_length"},
		{`{"lockout":{"window":"soon"}}`, "invalid_input", "lockout.window"},
		{`{"lockout":{"window":"30s"}}`, "invalid_input", "lockout.window"},
		{`{"lockout":{"local_lock_duration":"-1h"}}`, "invalid_input", "lockout.local_lock_duration"},
		{`{"lockout":{"local_limit":-1}}`, "invalid_input", "lockout.local_limit"},
		{`{"lockout":{"global_limit":-5}}`, "invalid_input", "lockout.global_limit"},
		{`{"lockout":{"local_limit":30,"global_limit":10}}`, "invalid_input", "lockout.local_limit"},
		{`{"lobby_admission":"everyone"}`, "invalid_input", "lobby_admission"},
		{`{"conference_id_mode":"random"}`, "invalid_input", "conference_id_mode"},
		{`{"dial_in_numbers":["+1 425 555 0100",""]}`, "invalid_input", "dial_in_numbers"},
		{`{"dial_in_numbers":["+1 425 CALL"]}`, "invalid_input", "dial_in_numbers"},
		{`{"entry_exit_announcements":"names"}`, "invalid_input", "entry_exit_announcements"},
		{`{"entry_exit_announcements":false}`, "bad_request", "entry_exit_announcements"},
		{`{"pin_len":5}`, "bad_request", "pin_len"},
		{`{"lockout":{"bogus":1}}`, "bad_request", "bogus"},
		{`{"pin_length":"6"}`, "bad_request", "pin_length"},
		{`{"lockout":{"window":30}}`, "bad_request", "lockout.window"},
		{`{"send_emails":"yes"}`, "bad_request", "send_emails"},
		{`{"pin_length":6,"lockout":{"window":"1s"}}`, "invalid_input", "lockout.window"}, // nothing of it is stored
	} {
		err := e.fail(400, tc.code, "PATCH", "/api/v1/settings", tc.body)
		if err.Field != tc.field {
			t.Errorf("%s: field %q, want %q (%s)", tc.body, err.Field, tc.field, err.Message)
		}
	}
	e.fail(400, "bad_request", "PATCH", "/api/v1/settings", "")
	e.fail(400, "bad_request", "PATCH", "/api/v1/settings", `[{"pin_length":6}]`)
	if after := e.state(); after != before {
		t.Fatalf("refused patches changed data:\n%s\n%s", before, after)
	}
}

// Concurrent patches of different fields must not undo each other: each
// is applied to the settings as they are when it is stored.
func TestSettingsConcurrentPatches(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := `{"send_emails":false}`
			if i%2 == 1 {
				body = `{"anonymous_can_start":true}`
			}
			if r := e.send("PATCH", "/api/v1/settings", body); r.status != 200 {
				t.Errorf("patch: %d %s", r.status, r.body)
			}
		}()
	}
	wg.Wait()
	s := e.dir.Settings()
	if s.SendEmails || !s.AnonymousCanStart {
		t.Fatalf("a patch was lost: %+v", s)
	}
}
