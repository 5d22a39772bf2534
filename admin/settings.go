package admin

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dialin/dialin/store"
)

// settingsView is store.Settings as the API shows it: durations as Go
// duration strings ("30m0s"), which people can read and write.
type settingsView struct {
	PINLength         int         `json:"pin_length"`
	SendEmails        bool        `json:"send_emails"`
	ConferenceIDMode  string      `json:"conference_id_mode"`
	AnonymousCanStart bool        `json:"anonymous_can_start"`
	LobbyAdmission    string      `json:"lobby_admission"`
	DialInBypassLobby bool        `json:"dial_in_bypass_lobby"`
	BlockCommonPINs   bool        `json:"block_common_pins"`
	Lockout           lockoutView `json:"lockout"`
	DialInNumbers     []string    `json:"dial_in_numbers"`
}

type lockoutView struct {
	Window            string `json:"window"`
	LocalLockDuration string `json:"local_lock_duration"`
	LocalLimit        int    `json:"local_limit"`
	GlobalLimit       int    `json:"global_limit"`
}

func viewSettings(s store.Settings) settingsView {
	numbers := append([]string{}, s.DialInNumbers...) // [] rather than null
	return settingsView{
		PINLength:         s.PINLength,
		SendEmails:        s.SendEmails,
		ConferenceIDMode:  s.ConferenceIDMode,
		AnonymousCanStart: s.AnonymousCanStart,
		LobbyAdmission:    s.LobbyAdmission,
		DialInBypassLobby: s.DialInBypassLobby,
		BlockCommonPINs:   s.BlockCommonPINs,
		Lockout: lockoutView{
			Window:            s.Lockout.Window.String(),
			LocalLockDuration: s.Lockout.LocalLockDuration.String(),
			LocalLimit:        s.Lockout.LocalLimit,
			GlobalLimit:       s.Lockout.GlobalLimit,
		},
		DialInNumbers: numbers,
	}
}

// settings converts the view back, checking each field so that a refusal
// names it (store.Settings.Validate checks again, without field names).
func (v settingsView) settings() (store.Settings, error) {
	s := store.Settings{
		PINLength:         v.PINLength,
		SendEmails:        v.SendEmails,
		ConferenceIDMode:  v.ConferenceIDMode,
		AnonymousCanStart: v.AnonymousCanStart,
		LobbyAdmission:    v.LobbyAdmission,
		DialInBypassLobby: v.DialInBypassLobby,
		BlockCommonPINs:   v.BlockCommonPINs,
		Lockout: store.Lockout{
			LocalLimit:  v.Lockout.LocalLimit,
			GlobalLimit: v.Lockout.GlobalLimit,
		},
	}
	var err error
	if s.Lockout.Window, err = parseDuration("lockout.window", v.Lockout.Window); err != nil {
		return store.Settings{}, err
	}
	if s.Lockout.LocalLockDuration, err = parseDuration("lockout.local_lock_duration", v.Lockout.LocalLockDuration); err != nil {
		return store.Settings{}, err
	}
	switch {
	case s.PINLength < store.MinPINLength || s.PINLength > store.MaxPINLength:
		return store.Settings{}, &store.InputError{Field: "pin_length",
			Msg: fmt.Sprintf("%d is not %d-%d", s.PINLength, store.MinPINLength, store.MaxPINLength)}
	case s.ConferenceIDMode != store.ConferenceIDStatic && s.ConferenceIDMode != store.ConferenceIDDynamic:
		return store.Settings{}, &store.InputError{Field: "conference_id_mode",
			Msg: fmt.Sprintf("%q is not %q or %q", s.ConferenceIDMode, store.ConferenceIDStatic, store.ConferenceIDDynamic)}
	case s.LobbyAdmission != store.AdmitByOrganizer && s.LobbyAdmission != store.AdmitAuto:
		return store.Settings{}, &store.InputError{Field: "lobby_admission",
			Msg: fmt.Sprintf("%q is not %q or %q", s.LobbyAdmission, store.AdmitByOrganizer, store.AdmitAuto)}
	case s.Lockout.LocalLimit < 0:
		return store.Settings{}, &store.InputError{Field: "lockout.local_limit", Msg: "must be 0 (automatic) or more"}
	case s.Lockout.GlobalLimit < 0:
		return store.Settings{}, &store.InputError{Field: "lockout.global_limit", Msg: "must be 0 (automatic) or more"}
	case s.Lockout.LocalLimit > 0 && s.Lockout.GlobalLimit > 0 && s.Lockout.LocalLimit > s.Lockout.GlobalLimit:
		return store.Settings{}, &store.InputError{Field: "lockout.local_limit",
			Msg: fmt.Sprintf("%d is above lockout.global_limit %d: the permanent lock would always come first", s.Lockout.LocalLimit, s.Lockout.GlobalLimit)}
	}
	for i, n := range v.DialInNumbers {
		n = strings.TrimSpace(n)
		if n == "" {
			return store.Settings{}, &store.InputError{Field: "dial_in_numbers", Msg: fmt.Sprintf("number %d is empty", i+1)}
		}
		s.DialInNumbers = append(s.DialInNumbers, n)
	}
	return s, nil
}

// parseDuration reads a Go duration of at least a minute (shorter windows
// would make the lockout meaningless).
func parseDuration(field, text string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(text))
	if err != nil {
		return 0, &store.InputError{Field: field, Msg: fmt.Sprintf("%q is not a duration like \"30m\" or \"1h\"", text)}
	}
	if d < time.Minute {
		return 0, &store.InputError{Field: field, Msg: fmt.Sprintf("%s is shorter than 1m", d)}
	}
	return d, nil
}

// GET /api/v1/settings
func (a *api) getSettings(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, viewSettings(a.dir.Settings()))
	return nil
}

// PATCH /api/v1/settings: the fields given replace the current ones. The
// patch is applied inside UpdateSettings, to the settings as they are at
// that moment, so concurrent patches of different fields both survive.
func (a *api) patchSettings(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if body == nil {
		return badRequest("a JSON object body is required")
	}
	apply := func(s *store.Settings) error {
		v := viewSettings(*s)
		if err := decodeJSON(body, &v); err != nil {
			return err
		}
		next, err := v.settings()
		if err != nil {
			return err
		}
		*s = next
		return nil
	}
	// Check first against a copy, so a bad patch never reaches the store.
	current := a.dir.Settings()
	if err := apply(&current); err != nil {
		return err
	}
	updated, err := a.dir.UpdateSettings(r.Context(), apply)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewSettings(updated))
	return nil
}
