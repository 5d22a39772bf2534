package admin

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/store"
)

// settingsDirectory is what the /settings routes need of the directory.
type settingsDirectory interface {
	Settings() store.Settings
	// UpdateSettings applies change to a copy of the current settings and
	// stores it if it and the store's checks (an *store.InputError naming
	// the field) pass.
	UpdateSettings(ctx context.Context, change func(*store.Settings) error) (store.Settings, error)
}

// viewSettings is store.Settings as the API shows them: durations as Go
// duration strings ("30m0s"), which people can read and write.
func viewSettings(s store.Settings) wire.Settings {
	numbers := append([]string{}, s.DialInNumbers...) // [] rather than null
	return wire.Settings{
		PINLength:         s.PINLength,
		SendEmails:        s.SendEmails,
		ConferenceIDMode:  s.ConferenceIDMode,
		AnonymousCanStart: s.AnonymousCanStart,
		LobbyAdmission:    s.LobbyAdmission,
		DialInBypassLobby: s.DialInBypassLobby,
		BlockCommonPINs:   s.BlockCommonPINs,
		Lockout: wire.Lockout{
			Window:            s.Lockout.Window.String(),
			LocalLockDuration: s.Lockout.LocalLockDuration.String(),
			LocalLimit:        s.Lockout.LocalLimit,
			GlobalLimit:       s.Lockout.GlobalLimit,
		},
		DialInNumbers:          numbers,
		EntryExitAnnouncements: s.EntryExitAnnouncements,
	}
}

// settingsOf converts the view back. It reads the durations, naming the
// field it cannot read; the store checks the values.
func settingsOf(v wire.Settings) (store.Settings, error) {
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
		DialInNumbers:          v.DialInNumbers,
		EntryExitAnnouncements: v.EntryExitAnnouncements,
	}
	var err error
	if s.Lockout.Window, err = parseDuration("lockout.window", v.Lockout.Window); err != nil {
		return store.Settings{}, err
	}
	if s.Lockout.LocalLockDuration, err = parseDuration("lockout.local_lock_duration", v.Lockout.LocalLockDuration); err != nil {
		return store.Settings{}, err
	}
	return s, nil
}

// parseDuration reads a Go duration ("30m", "1h").
func parseDuration(field, text string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(text))
	if err != nil {
		return 0, invalidInput(field, "%q is not a duration like \"30m\" or \"1h\"", text)
	}
	return d, nil
}

// GET /api/v1/settings
func (a *api) getSettings(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, viewSettings(a.settings.Settings()))
	return nil
}

// settingsFields is wire.Settings without its UnmarshalJSON, so that the
// decoder's own checks (unknown fields, wrong types) reach into a patch.
type settingsFields wire.Settings

// PATCH /api/v1/settings: the fields given replace the current ones. The
// patch is applied inside UpdateSettings, to the settings as they are at
// that moment, so concurrent patches of different fields both survive;
// nothing is stored if the patch or the store's checks refuse it.
func (a *api) patchSettings(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if body == nil {
		return badRequest("a JSON object body is required")
	}
	updated, err := a.settings.UpdateSettings(r.Context(), func(s *store.Settings) error {
		v := settingsFields(viewSettings(*s))
		if err := decodeJSON(body, &v); err != nil {
			return err
		}
		next, err := settingsOf(wire.Settings(v))
		if err != nil {
			return err
		}
		*s = next
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewSettings(updated))
	return nil
}
