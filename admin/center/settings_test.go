package center

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dialin/dialin/store"
)

var shownRE = regexp.MustCompile(`name="shown" value="([^"]*)"`)

// settingsForm is the form of the settings page as a browser would send
// it untouched: every field as shown, the CSRF token and the copy of
// what was shown.
func (e *env) settingsForm(c *http.Client) url.Values {
	e.t.Helper()
	p := e.get(c, "/admin/settings")
	if p.status != http.StatusOK {
		e.t.Fatalf("settings page: %d\n%s", p.status, p.body)
	}
	m := shownRE.FindStringSubmatch(p.body)
	if m == nil {
		e.t.Fatalf("no copy of the shown settings in the form:\n%s", p.body)
	}
	s := e.dir.Settings()
	f := url.Values{
		"csrf":                        {csrfOf(e.t, p)},
		"shown":                       {html.UnescapeString(m[1])},
		"pin_length":                  {strconv.Itoa(s.PINLength)},
		"lockout.window":              {s.Lockout.Window.String()},
		"lockout.local_lock_duration": {s.Lockout.LocalLockDuration.String()},
		"lockout.local_limit":         {strconv.Itoa(s.Lockout.LocalLimit)},
		"lockout.global_limit":        {strconv.Itoa(s.Lockout.GlobalLimit)},
		"conference_id_mode":          {s.ConferenceIDMode},
		"lobby_admission":             {s.LobbyAdmission},
		"entry_exit_announcements":    {s.EntryExitAnnouncements},
		"dial_in_numbers":             {strings.Join(s.DialInNumbers, "\n")},
	}
	for name, on := range map[string]bool{"send_emails": s.SendEmails, "block_common_pins": s.BlockCommonPINs,
		"anonymous_can_start": s.AnonymousCanStart, "dial_in_bypass_lobby": s.DialInBypassLobby} {
		if on {
			f.Set(name, "on")
		}
	}
	return f
}

// inputTag is the tag of the element with this id.
func inputTag(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<(?:input|textarea|fieldset)[^>]*\bid="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(body)
	if m == "" {
		t.Fatalf("no element #%s in the page", id)
	}
	return m
}

// TestSettingsPageShowsTheSettings: every setting is in the form with a
// label, filled from the API.
func TestSettingsPageShowsTheSettings(t *testing.T) {
	e := newEnv(t)
	e.signIn(e.client, "alice", e.password)
	if _, err := e.dir.UpdateSettings(context.Background(), func(s *store.Settings) error {
		s.DialInNumbers = []string{"+1 425 555 0100", "+44 20 7946 0000"}
		s.LobbyAdmission = store.AdmitAuto
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	p := e.get(e.client, "/admin/settings")
	if p.status != http.StatusOK || !strings.Contains(p.body, `<a href="/admin/settings" aria-current="page">Settings</a>`) {
		t.Fatalf("settings page: %d\n%s", p.status, p.body)
	}
	body := html.UnescapeString(p.body)
	for _, f := range settingsFields {
		id := emptySettingsForm()[f.name].ID
		if !strings.Contains(body, `<label for="`+id+`">`) {
			t.Errorf("%s (#%s) has no label", f.name, id)
		}
	}
	for _, want := range []string{
		`name="pin_length" type="number" min="4" max="12" step="1" inputmode="numeric" value="5"`,
		`name="lockout.window" autocomplete="off" spellcheck="false" value="30m"`,
		`name="lockout.local_lock_duration" autocomplete="off" spellcheck="false" value="1h"`,
		`name="lobby_admission" type="radio" value="auto" checked`,
		`name="entry_exit_announcements" type="radio" value="tones" checked`,
		`name="send_emails" type="checkbox" value="on" checked`,
		">+1 425 555 0100\n+44 20 7946 0000</textarea>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the form has no %q", want)
		}
	}
	if strings.Contains(body, `aria-invalid`) || strings.Contains(body, `class="field-error"`) {
		t.Error("a fresh form shows an error")
	}
}

// TestSettingsSaveSendsOnlyWhatChanged: the PATCH holds the fields the
// administrator changed, so another administrator's change made while
// the form was open survives; the notice names what changed; the audit
// names the account.
func TestSettingsSaveSendsOnlyWhatChanged(t *testing.T) {
	e := newEnv(t)
	e.signIn(e.client, "alice", e.password)
	form := e.settingsForm(e.client)
	// Meanwhile, someone else sets the PIN length.
	if _, err := e.dir.UpdateSettings(context.Background(), func(s *store.Settings) error {
		s.PINLength = 8
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	form.Set("entry_exit_announcements", "off")
	form.Set("dial_in_numbers", " +1 425 555 0100 \r\n\r\n+44 20 7946 0000\r\n")
	form.Set("lockout.window", "30m") // the 30m0s shown: not a change
	p := e.post(e.client, "/admin/settings", form)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/settings" {
		t.Fatalf("save: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
	}
	s := e.dir.Settings()
	if s.PINLength != 8 || s.EntryExitAnnouncements != store.AnnounceOff ||
		strings.Join(s.DialInNumbers, "|") != "+1 425 555 0100|+44 20 7946 0000" {
		t.Fatalf("stored: %+v", s)
	}
	after := e.get(e.client, "/admin/settings")
	if !strings.Contains(after.body, "Settings saved: Entry and exit announcements, Dial-in numbers.") {
		t.Errorf("no notice naming what changed:\n%s", after.body)
	}
	if again := e.get(e.client, "/admin/settings"); strings.Contains(again.body, "Settings saved") {
		t.Error("the notice shows twice")
	}

	entries, err := e.dir.Audit(context.Background(), store.AuditFilter{Action: "settings.update", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var mine []store.AuditEntry
	for _, a := range entries {
		if a.Credential == "account:alice" {
			mine = append(mine, a)
		}
	}
	if len(mine) != 1 || mine[0].Outcome != store.AuditOK ||
		mine[0].Detail != `dial_in_numbers null -> ["+1 425 555 0100","+44 20 7946 0000"], entry_exit_announcements "tones" -> "off"` {
		t.Fatalf("audit: %+v", entries)
	}

	// The same form again changes nothing and says so, without a PATCH.
	form = e.settingsForm(e.client)
	if p := e.post(e.client, "/admin/settings", form); p.status != http.StatusSeeOther {
		t.Fatalf("unchanged form: %d", p.status)
	}
	if p := e.get(e.client, "/admin/settings"); !strings.Contains(p.body, "Nothing changed") {
		t.Errorf("unchanged form: no notice")
	}
	entries, _ = e.dir.Audit(context.Background(), store.AuditFilter{Action: "settings.update", Credential: "account:alice"})
	if len(entries) != 1 {
		t.Errorf("an unchanged form sent a PATCH: %d audit entries", len(entries))
	}
}

// TestSettingsErrorsOnTheirFields: each refused value is shown on its own
// field (aria-invalid, aria-describedby, .field-error) and in the list
// above the form; the other fields keep what was typed; nothing is stored.
func TestSettingsErrorsOnTheirFields(t *testing.T) {
	e := newEnv(t)
	e.signIn(e.client, "alice", e.password)
	before := e.dir.Settings()
	for _, tc := range []struct {
		field, value, id, message string
	}{
		{"pin_length", "3", "set-pin-length", "3 is not 4-12"},
		{"pin_length", "13", "set-pin-length", "13 is not 4-12"},
		{"pin_length", "six", "set-pin-length", "Enter a whole number from 4 to 12."},
		{"lockout.window", "soon", "set-lockout-window", `"soon" is not a duration`},
		{"lockout.window", "10s", "set-lockout-window", "10s is shorter than 1m"},
		{"lockout.local_lock_duration", "0", "set-lockout-local-lock-duration", "is shorter than 1m"},
		{"lockout.local_limit", "-1", "set-lockout-local-limit", "Must be 0 (automatic) or more"},
		{"lockout.local_limit", "many", "set-lockout-local-limit", "Enter a whole number: 0 for automatic."},
		{"lockout.global_limit", "-5", "set-lockout-global-limit", "Must be 0 (automatic) or more"},
		{"conference_id_mode", "random", "set-conference-id-mode", `"random" is not "static" or "dynamic"`},
		{"lobby_admission", "everyone", "set-lobby-admission", `"everyone" is not "organizer" or "auto"`},
		{"entry_exit_announcements", "names", "set-entry-exit-announcements", `"names" is not "tones" or "off"`},
		{"dial_in_numbers", "+1 425 555 0100\n+1 425 CALL NOW", "set-dial-in-numbers", `Number 2 ("+1 425 CALL NOW") has 'C'`},
	} {
		form := e.settingsForm(e.client)
		form.Set(tc.field, tc.value)
		if tc.field != "lockout.window" {
			form.Set("lockout.window", "45m") // typed, and kept when another field is refused
		}
		p := e.post(e.client, "/admin/settings", form)
		body := html.UnescapeString(p.body)
		if p.status != http.StatusBadRequest {
			t.Errorf("%s=%q: %d, want 400", tc.field, tc.value, p.status)
			continue
		}
		tag := inputTag(t, body, tc.id)
		if !strings.Contains(tag, `aria-invalid="true"`) && !strings.HasPrefix(tag, "<fieldset") {
			t.Errorf("%s: not marked invalid: %s", tc.field, tag)
		}
		if !strings.Contains(tag, tc.id+"-error") {
			t.Errorf("%s: not described by its error: %s", tc.field, tag)
		}
		errRE := regexp.MustCompile(`<p class="field-error" id="` + tc.id + `-error">([^<]*)</p>`)
		if m := errRE.FindStringSubmatch(body); m == nil || !strings.Contains(m[1], tc.message) {
			t.Errorf("%s=%q: error on the field %q, want %q", tc.field, tc.value, m, tc.message)
		}
		if n := strings.Count(body, `class="field-error"`); n != 1 {
			t.Errorf("%s: %d fields show an error, want 1", tc.field, n)
		}
		if !strings.Contains(body, `<a href="#`+tc.id+`">`) {
			t.Errorf("%s: not in the list of errors above the form", tc.field)
		}
		if tc.field != "lockout.window" && !strings.Contains(body, `name="lockout.window" autocomplete="off" spellcheck="false" value="45m"`) {
			t.Errorf("%s: the other fields lost what was typed", tc.field)
		}
		if tc.field == "dial_in_numbers" && !strings.Contains(body, ">"+tc.value+"</textarea>") {
			t.Errorf("the refused numbers are not kept as typed")
		}
	}
	// Two fields the page cannot read: both shown at once.
	form := e.settingsForm(e.client)
	form.Set("pin_length", "x")
	form.Set("lockout.global_limit", "y")
	p := e.post(e.client, "/admin/settings", form)
	if strings.Count(p.body, `class="field-error"`) != 2 || !strings.Contains(p.body, `id="set-pin-length-error"`) ||
		!strings.Contains(p.body, `id="set-lockout-global-limit-error"`) {
		t.Errorf("two unreadable fields: %d\n%s", p.status, p.body)
	}
	if after := e.dir.Settings(); after.PINLength != before.PINLength || after.Lockout != before.Lockout ||
		len(after.DialInNumbers) != 0 || after.EntryExitAnnouncements != before.EntryExitAnnouncements {
		t.Fatalf("refused forms changed the settings: %+v", after)
	}
}

// TestSettingsNeedTheFormsToken: a save without the session's CSRF token,
// or without a session, is refused and changes nothing.
func TestSettingsNeedTheFormsToken(t *testing.T) {
	e := newEnv(t)
	e.signIn(e.client, "alice", e.password)
	form := e.settingsForm(e.client)
	form.Set("pin_length", "9")
	for name, f := range map[string]url.Values{"forged": withValue(form, "csrf", "forged"), "none": withValue(form, "csrf", "")} {
		if p := e.post(e.client, "/admin/settings", f); p.status != http.StatusForbidden {
			t.Errorf("%s token: %d, want 403", name, p.status)
		}
	}
	if p := e.post(newBrowser(t), "/admin/settings", form); p.status != http.StatusForbidden {
		t.Errorf("no session: %d, want 403", p.status)
	}
	if p := e.get(newBrowser(t), "/admin/settings"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/signin" {
		t.Errorf("the page without a session: %d %s", p.status, p.header.Get("Location"))
	}
	if s := e.dir.Settings(); s.PINLength != store.DefaultPINLength {
		t.Fatalf("a refused form changed the PIN length to %d", s.PINLength)
	}
}

func withValue(v url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	out.Set(key, value)
	return out
}
