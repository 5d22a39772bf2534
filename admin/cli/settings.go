package cli

// dialin settings: show them, and set one by its key (settingKeys).

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dialin/dialin/admin/client"
)

// settingKey is one key of `settings set`, mapped to the PATCH body.
type settingKey struct {
	name  string
	value string // how the value is written, for the usage text
	set   func(p *client.SettingsPatch, v string) error
	show  func(s client.Settings) string
}

var settingKeys = []settingKey{
	{"pin-length", "N (4-12)",
		func(p *client.SettingsPatch, v string) error { return setInt(&p.PINLength, v) },
		func(s client.Settings) string { return strconv.Itoa(s.PINLength) }},
	{"send-emails", "on|off",
		func(p *client.SettingsPatch, v string) error { return setBool(&p.SendEmails, v) },
		func(s client.Settings) string { return onOff(s.SendEmails) }},
	{"conference-id-mode", "static|dynamic",
		func(p *client.SettingsPatch, v string) error {
			return setChoice(&p.ConferenceIDMode, v, "static", "dynamic")
		},
		func(s client.Settings) string { return s.ConferenceIDMode }},
	{"anonymous-can-start", "on|off",
		func(p *client.SettingsPatch, v string) error { return setBool(&p.AnonymousCanStart, v) },
		func(s client.Settings) string { return onOff(s.AnonymousCanStart) }},
	{"lobby-admission", "organizer|auto",
		func(p *client.SettingsPatch, v string) error {
			return setChoice(&p.LobbyAdmission, v, "organizer", "auto")
		},
		func(s client.Settings) string { return s.LobbyAdmission }},
	{"dial-in-bypass-lobby", "on|off",
		func(p *client.SettingsPatch, v string) error { return setBool(&p.DialInBypassLobby, v) },
		func(s client.Settings) string { return onOff(s.DialInBypassLobby) }},
	{"entry-exit-announcements", "tones|off",
		func(p *client.SettingsPatch, v string) error {
			return setChoice(&p.EntryExitAnnouncements, v, "tones", "off")
		},
		func(s client.Settings) string { return s.EntryExitAnnouncements }},
	{"block-common-pins", "on|off",
		func(p *client.SettingsPatch, v string) error { return setBool(&p.BlockCommonPINs, v) },
		func(s client.Settings) string { return onOff(s.BlockCommonPINs) }},
	{"lockout-window", "DURATION",
		func(p *client.SettingsPatch, v string) error { return setDuration(&lockout(p).Window, v) },
		func(s client.Settings) string { return s.Lockout.Window }},
	{"lockout-local-lock-duration", "DURATION",
		func(p *client.SettingsPatch, v string) error { return setDuration(&lockout(p).LocalLockDuration, v) },
		func(s client.Settings) string { return s.Lockout.LocalLockDuration }},
	{"lockout-local-limit", "N (0: automatic)",
		func(p *client.SettingsPatch, v string) error { return setInt(&lockout(p).LocalLimit, v) },
		func(s client.Settings) string { return limitText(s.Lockout.LocalLimit) }},
	{"lockout-global-limit", "N (0: automatic)",
		func(p *client.SettingsPatch, v string) error { return setInt(&lockout(p).GlobalLimit, v) },
		func(s client.Settings) string { return limitText(s.Lockout.GlobalLimit) }},
	{"dial-in-numbers", `"NUMBER,NUMBER" ("" clears)`,
		func(p *client.SettingsPatch, v string) error {
			numbers := []string{} // not nil: an empty list clears
			for _, n := range strings.Split(v, ",") {
				if n = strings.TrimSpace(n); n != "" {
					numbers = append(numbers, n)
				}
			}
			p.DialInNumbers = &numbers
			return nil
		},
		func(s client.Settings) string {
			if len(s.DialInNumbers) == 0 {
				return "-"
			}
			return strings.Join(s.DialInNumbers, ", ")
		}},
}

func settingsKeysUsage() string {
	var b strings.Builder
	b.WriteString("Keys of dialin settings set:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, k := range settingKeys {
		fmt.Fprintf(tw, "  %s\t%s\n", k.name, k.value)
	}
	tw.Flush()
	b.WriteString("  (on/off also accept true/false and yes/no)\n")
	return b.String()
}

func lockout(p *client.SettingsPatch) *client.LockoutPatch {
	if p.Lockout == nil {
		p.Lockout = &client.LockoutPatch{}
	}
	return p.Lockout
}

func limitText(n int) string {
	if n == 0 {
		return "0 (automatic)"
	}
	return strconv.Itoa(n)
}

func setInt(dst **int, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", v)
	}
	*dst = &n
	return nil
}

func setBool(dst **bool, v string) error {
	var b bool
	switch strings.ToLower(v) {
	case "on", "true", "yes":
		b = true
	case "off", "false", "no":
	default:
		return fmt.Errorf("%q is not on or off", v)
	}
	*dst = &b
	return nil
}

func setChoice(dst **string, v string, choices ...string) error {
	if !slices.Contains(choices, v) {
		return fmt.Errorf("%q is not %s", v, strings.Join(choices, " or "))
	}
	*dst = &v
	return nil
}

func setDuration(dst **string, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%q is not a duration like 30m or 1h", v)
	}
	s := d.String()
	*dst = &s
	return nil
}

// settingsPatch is the PATCH body that sets key to value; a bad key or
// value is a usage error.
func settingsPatch(key, value string) (client.SettingsPatch, error) {
	var p client.SettingsPatch
	for _, k := range settingKeys {
		if k.name == key {
			if err := k.set(&p, value); err != nil {
				return p, &usageError{msg: fmt.Sprintf("settings set %s: %v", key, err)}
			}
			return p, nil
		}
	}
	return p, &usageError{msg: fmt.Sprintf("settings set: unknown key %q", key), usage: settingsKeysUsage()}
}

// checkSettingsSet refuses a bad key or value before the server is asked.
func checkSettingsSet(args []string) error {
	_, err := settingsPatch(args[0], args[1])
	return err
}

func runSettingsShow(j *job, _ []string) error {
	s, err := j.client.Settings(j.ctx)
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(s.Raw)
	}
	j.printSettings(s, "")
	return nil
}

// printSettings prints the settings under the keys of `settings set`, or
// only the key given.
func (j *job) printSettings(s client.Settings, only string) {
	var kv []string
	for _, k := range settingKeys {
		if only == "" || k.name == only {
			kv = append(kv, k.name, k.show(s))
		}
	}
	j.block("", kv...)
}

func runSettingsSet(j *job, args []string) error {
	patch, err := settingsPatch(args[0], args[1])
	if err != nil {
		return err
	}
	s, err := j.client.UpdateSettings(j.ctx, patch)
	if err != nil {
		return err
	}
	if j.json {
		return j.printJSON(s.Raw)
	}
	j.printSettings(s, args[0])
	return nil
}
