package center

// The Settings section: the organisation-wide settings in one form. The
// page reads them from the API (GET /api/v1/settings) and saves with one
// PATCH that holds only the fields the administrator changed, so that two
// administrators changing different settings at the same time both keep
// their change; the API validates, audits (account:NAME) and stores it.

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dialin/dialin/admin/client"
)

// settingsRoutes are the pages and forms of this section.
func (c *Center) settingsRoutes() []route {
	return []route{
		{"GET /admin/settings", c.settingsPage},
		{"POST /admin/settings", c.saveSettings},
	}
}

// settingsFields are the form's fields by the API's name of the setting,
// which is also the input's name, in the order of the page: the labels
// name them in the list of errors and in the notice after a save.
var settingsFields = []struct{ name, label string }{
	{"pin_length", "PIN length"},
	{"block_common_pins", "Block common PINs"},
	{"lockout.local_limit", "Temporary lock after"},
	{"lockout.window", "Failures count within"},
	{"lockout.local_lock_duration", "Temporary lock lasts"},
	{"lockout.global_limit", "Locked until unlocked after"},
	{"conference_id_mode", "Conference IDs"},
	{"anonymous_can_start", "Anonymous callers can start a meeting"},
	{"lobby_admission", "Lobby admission"},
	{"dial_in_bypass_lobby", "Dial-in callers bypass the lobby"},
	{"entry_exit_announcements", "Entry and exit announcements"},
	{"send_emails", "Send emails"},
	{"dial_in_numbers", "Dial-in numbers"},
}

// settingField is one field as the form shows it: what the administrator
// typed (or the stored value), and its error.
type settingField struct {
	ID    string // the element's id; its error is ID+"-error"
	Value string // text fields and radio groups
	On    bool   // checkboxes
	Error string
}

// Invalid tells the template to mark the field (aria-invalid).
func (f settingField) Invalid() bool { return f.Error != "" }

// settingProblem is one line of the list of errors above the form.
type settingProblem struct {
	ID, Label, Message string
}

// settingsData fills settings.html.
type settingsData struct {
	pageData
	// Shown is the settings the form was first filled from (JSON), sent
	// back with the form: a field is changed if it differs from these.
	Shown    string
	Fields   map[string]*settingField // by the setting's API name
	Problems []settingProblem
	Alert    string // an error of the API that names no field of the form
}

// GET /admin/settings
func (c *Center) settingsPage(w http.ResponseWriter, r *http.Request, ses *session) {
	s, err := c.api.Settings(c.as(r, ses))
	if err != nil {
		c.failed(w, ses, err)
		return
	}
	shown, _ := json.Marshal(s) // strings, numbers, lists: cannot fail
	d := settingsData{pageData: c.page(ses, "settings", "Settings"), Shown: string(shown), Fields: settingsFormOf(s)}
	c.render(w, http.StatusOK, "settings.html", d)
}

// POST /admin/settings: the fields that differ from what the form showed
// go to the API in one PATCH. A refusal shows the form again as it was
// typed, the error on its field; a save leaves a notice and goes back to
// the page (Post/Redirect/Get).
func (c *Center) saveSettings(w http.ResponseWriter, r *http.Request, ses *session) {
	ctx := c.as(r, ses)
	shownText := r.PostFormValue("shown")
	var shown client.Settings
	if err := json.Unmarshal([]byte(shownText), &shown); err != nil {
		// No copy of what the form showed (an old page): compare with the
		// settings as they are now.
		if shown, err = c.api.Settings(ctx); err != nil {
			c.failed(w, ses, err)
			return
		}
		raw, _ := json.Marshal(shown)
		shownText = string(raw)
	}
	fields := typedSettings(r)
	patch, changed, problems := settingsPatchOf(fields, shown)
	again := func(status int, alert string) {
		d := settingsData{pageData: c.page(ses, "settings", "Settings"), Shown: shownText, Fields: fields, Alert: alert}
		for _, f := range settingsFields {
			if msg := sentence(problems[f.name]); msg != "" {
				fields[f.name].Error = msg
				d.Problems = append(d.Problems, settingProblem{ID: fields[f.name].ID, Label: f.label, Message: msg})
			}
		}
		if len(d.Problems) > 0 {
			d.Title = "Settings: check the marked fields"
		}
		c.render(w, status, "settings.html", d)
	}
	if len(problems) > 0 {
		again(http.StatusBadRequest, "")
		return
	}
	if len(changed) == 0 {
		ses.notify("Nothing changed: the settings are as they were.")
		http.Redirect(w, r, "/admin/settings", http.StatusSeeOther)
		return
	}
	if _, err := c.api.UpdateSettings(ctx, patch); err != nil {
		byField := fieldErrors(err)
		if byField == nil {
			c.failed(w, ses, err)
			return
		}
		for name, msg := range byField {
			if _, ok := fields[name]; ok {
				problems[name] = msg
			} else {
				// A field the form does not have (a newer API): say it
				// above the form rather than lose it.
				again(http.StatusBadRequest, name+": "+msg)
				return
			}
		}
		again(http.StatusBadRequest, "")
		return
	}
	c.log.Info().Str("account", ses.account).Strs("changed", changed).Msg("admin center: settings saved")
	ses.notify("Settings saved: " + strings.Join(changed, ", ") + ".")
	http.Redirect(w, r, "/admin/settings", http.StatusSeeOther)
}

// settingsFormOf fills the form from the stored settings.
func settingsFormOf(s client.Settings) map[string]*settingField {
	f := emptySettingsForm()
	f["pin_length"].Value = strconv.Itoa(s.PINLength)
	f["block_common_pins"].On = s.BlockCommonPINs
	f["lockout.window"].Value = settingsDuration(s.Lockout.Window)
	f["lockout.local_limit"].Value = strconv.Itoa(s.Lockout.LocalLimit)
	f["lockout.local_lock_duration"].Value = settingsDuration(s.Lockout.LocalLockDuration)
	f["lockout.global_limit"].Value = strconv.Itoa(s.Lockout.GlobalLimit)
	f["conference_id_mode"].Value = s.ConferenceIDMode
	f["anonymous_can_start"].On = s.AnonymousCanStart
	f["lobby_admission"].Value = s.LobbyAdmission
	f["dial_in_bypass_lobby"].On = s.DialInBypassLobby
	f["entry_exit_announcements"].Value = s.EntryExitAnnouncements
	f["send_emails"].On = s.SendEmails
	f["dial_in_numbers"].Value = strings.Join(s.DialInNumbers, "\n")
	return f
}

// typedSettings is the form as the administrator sent it. An unticked
// checkbox sends nothing: off.
func typedSettings(r *http.Request) map[string]*settingField {
	f := emptySettingsForm()
	for name, field := range f {
		switch name {
		case "block_common_pins", "anonymous_can_start", "dial_in_bypass_lobby", "send_emails":
			field.On = r.PostFormValue(name) != ""
		case "dial_in_numbers":
			field.Value = r.PostFormValue(name)
		default:
			field.Value = strings.TrimSpace(r.PostFormValue(name))
		}
	}
	return f
}

func emptySettingsForm() map[string]*settingField {
	f := make(map[string]*settingField, len(settingsFields))
	for _, s := range settingsFields {
		f[s.name] = &settingField{ID: "set-" + strings.NewReplacer(".", "-", "_", "-").Replace(s.name)}
	}
	return f
}

// settingsPatchOf is the PATCH of the fields that differ from shown, the
// labels of those fields, and the fields that cannot be read (a number
// that is not one) by name. Everything else, the API checks.
func settingsPatchOf(f map[string]*settingField, shown client.Settings) (client.SettingsPatch, []string, map[string]string) {
	var p client.SettingsPatch
	var lp client.LockoutPatch
	problems := map[string]string{}
	changed := map[string]bool{}
	number := func(name, msg string, was int, dst **int) {
		n, err := strconv.Atoi(f[name].Value)
		if err != nil {
			problems[name] = msg
			return
		}
		if n != was {
			*dst, changed[name] = &n, true
		}
	}
	text := func(name, was string, dst **string) {
		if v := f[name].Value; v != was {
			*dst, changed[name] = &v, true
		}
	}
	duration := func(name, was string, dst **string) {
		v := f[name].Value
		if d, err := time.ParseDuration(v); err == nil && d.String() == was {
			return // "30m" is the 30m0s shown
		}
		*dst, changed[name] = &v, true // the API reads it, or names the field
	}
	flag := func(name string, was bool, dst **bool) {
		if v := f[name].On; v != was {
			*dst, changed[name] = &v, true
		}
	}

	number("pin_length", "Enter a whole number from 4 to 12.", shown.PINLength, &p.PINLength)
	flag("block_common_pins", shown.BlockCommonPINs, &p.BlockCommonPINs)
	duration("lockout.window", shown.Lockout.Window, &lp.Window)
	number("lockout.local_limit", "Enter a whole number: 0 for automatic.", shown.Lockout.LocalLimit, &lp.LocalLimit)
	duration("lockout.local_lock_duration", shown.Lockout.LocalLockDuration, &lp.LocalLockDuration)
	number("lockout.global_limit", "Enter a whole number: 0 for automatic.", shown.Lockout.GlobalLimit, &lp.GlobalLimit)
	text("conference_id_mode", shown.ConferenceIDMode, &p.ConferenceIDMode)
	flag("anonymous_can_start", shown.AnonymousCanStart, &p.AnonymousCanStart)
	text("lobby_admission", shown.LobbyAdmission, &p.LobbyAdmission)
	flag("dial_in_bypass_lobby", shown.DialInBypassLobby, &p.DialInBypassLobby)
	text("entry_exit_announcements", shown.EntryExitAnnouncements, &p.EntryExitAnnouncements)
	flag("send_emails", shown.SendEmails, &p.SendEmails)
	if numbers := dialInLines(f["dial_in_numbers"].Value); !slices.Equal(numbers, shown.DialInNumbers) {
		p.DialInNumbers, changed["dial_in_numbers"] = &numbers, true
	}
	if lp != (client.LockoutPatch{}) {
		p.Lockout = &lp
	}
	var labels []string
	for _, s := range settingsFields {
		if changed[s.name] {
			labels = append(labels, s.label)
		}
	}
	return p, labels, problems
}

// dialInLines is the dial-in numbers of the textarea, one a line; blank
// lines are left out. Never nil: an empty list clears the numbers.
func dialInLines(text string) []string {
	numbers := []string{}
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			numbers = append(numbers, line)
		}
	}
	return numbers
}

// settingsDuration writes the API's "1h0m0s" as people do: "1h".
func settingsDuration(text string) string {
	d, err := time.ParseDuration(text)
	if err != nil || d <= 0 {
		return text
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// sentence starts an error with a capital, as the page's own do: the
// API's may start with a word ("number 2 ...").
func sentence(msg string) string {
	if msg == "" || msg[0] < 'a' || msg[0] > 'z' {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}
