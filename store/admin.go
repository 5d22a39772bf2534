package store

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// The administration side of the directory (the seed documents' tasks).
// Each method holds d.mu for its whole read-modify-write, so writes never
// interleave, and updates the index only after the backend committed.

// user returns the index entry of id; with d.mu held.
func (d *Directory) user(id int64) (*userEntry, error) {
	u := d.users[id]
	if u == nil {
		return nil, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	return u, nil
}

// GetUser reads a user from the backend, with its current lock state.
func (d *Directory) GetUser(ctx context.Context, id int64) (User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.getUserLocked(ctx, id)
}

func (d *Directory) getUserLocked(ctx context.Context, id int64) (User, error) {
	if _, err := d.user(id); err != nil {
		return User{}, err
	}
	u, err := d.backend.GetUser(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("directory: user %d: %w", id, err)
	}
	return u, d.overlayLock(&u)
}

// ResetPIN gives the user a new generated PIN, returned this once. A
// locked PIN must be unlocked first (the seed documents' rule).
func (d *Directory) ResetPIN(ctx context.Context, id int64, opts MailOptions) (Change, error) {
	if err := checkMailOptions(opts); err != nil {
		return Change{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.getUserLocked(ctx, id)
	if err != nil {
		return Change{}, err
	}
	if u.Lock.Locked(d.now()) {
		return Change{}, fmt.Errorf("user %s: %w", u.Email, ErrPINLocked)
	}
	pin, err := GeneratePIN(d.random, pinRules(d.settings.Load(), &u.Policy, u.ConferenceID))
	if err != nil {
		return Change{}, fmt.Errorf("directory: generate PIN: %w", err)
	}
	mail, err := d.mailFor(ctx, MailPINReset, &u, pin, opts, false)
	if err != nil {
		return Change{}, err
	}
	d.note(ctx, u.Email, "user "+u.Email, "new PIN generated; "+mailNote(mail))
	if err := d.setPINLocked(ctx, &u, pin, mail); err != nil {
		return Change{}, err
	}
	return Change{User: u, PIN: pin, MailQueued: d.mailQueued(mail)}, nil
}

// SetPIN sets a PIN chosen by an administrator (or the user), checked
// against the policy; a refusal is a *PolicyError naming the rule.
func (d *Directory) SetPIN(ctx context.Context, id int64, pin string) (User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.getUserLocked(ctx, id)
	if err != nil {
		return User{}, err
	}
	if u.Lock.Locked(d.now()) {
		return User{}, fmt.Errorf("user %s: %w", u.Email, ErrPINLocked)
	}
	if err := CheckPIN(pin, pinRules(d.settings.Load(), &u.Policy, u.ConferenceID)); err != nil {
		return User{}, err
	}
	d.note(ctx, u.Email, "user "+u.Email, "PIN chosen by hand")
	if err := d.setPINLocked(ctx, &u, pin, nil); err != nil {
		return User{}, err
	}
	return u, nil
}

// setPINLocked stores a new PIN (which also clears the failure counters)
// and queues mail, if not nil, in the same transaction.
func (d *Directory) setPINLocked(ctx context.Context, u *User, pin string, mail *SealedMail) error {
	digest := d.hasher.Digest(pin)
	u.PINDigest = digest[:]
	u.PINLength = len(pin)
	u.PINSetAt = d.now().UTC()
	u.Lock = LockState{}
	if err := d.backend.UpdateUser(ctx, u, mail); err != nil {
		return fmt.Errorf("directory: set PIN of user %d: %w", u.ID, err)
	}
	e := d.users[u.ID]
	e.mu.Lock()
	e.digest = digest
	e.pinLength = u.PINLength
	e.lock = compactLock{}
	e.dirty = false
	e.mu.Unlock()
	return nil
}

// UnlockPIN clears a user's lock and failure counters.
func (d *Directory) UnlockPIN(ctx context.Context, id int64) (User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.getUserLocked(ctx, id)
	if err != nil {
		return User{}, err
	}
	was := "was not locked; failure counters cleared"
	if u.Lock.Locked(d.now()) {
		was = "was locked"
	}
	d.note(ctx, u.Email, "user "+u.Email, was)
	if err := d.backend.SaveLockState(ctx, id, LockState{}); err != nil {
		return User{}, fmt.Errorf("directory: unlock user %d: %w", id, err)
	}
	e := d.users[id]
	e.mu.Lock()
	e.lock = compactLock{}
	e.dirty = false
	e.mu.Unlock()
	u.Lock = LockState{}
	return u, nil
}

// ResetConferenceID gives the user a new static conference ID; the old one
// stops working at once, for callers already in the IVR too (they look it
// up again when they enter their PIN).
func (d *Directory) ResetConferenceID(ctx context.Context, id int64, opts MailOptions) (Change, error) {
	if err := checkMailOptions(opts); err != nil {
		return Change{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.getUserLocked(ctx, id)
	if err != nil {
		return Change{}, err
	}
	if u.ConferenceID == "" {
		return Change{}, noStaticID(&u)
	}
	newID, err := d.newConferenceID()
	if err != nil {
		return Change{}, err
	}
	return d.replaceConferenceIDLocked(ctx, &u, newID, opts)
}

// SetConferenceID gives the user a conference ID chosen by hand: seven
// digits with a valid check digit (an *InputError names the right one),
// not anyone else's (ErrExists). The old ID stops working at once.
func (d *Directory) SetConferenceID(ctx context.Context, id int64, conferenceID string, opts MailOptions) (Change, error) {
	if err := checkConferenceID(conferenceID); err != nil {
		return Change{}, err
	}
	return d.setConferenceID(ctx, id, conferenceID, opts)
}

// ImportConferenceID is SetConferenceID for an ID brought from another
// system: any seven digits, whether or not the last is a Damm check digit.
// An ID whose check digit is wrong is flagged (Meeting.NoCheckDigit): from
// then on the IVR looks up every seven-digit entry, since a typo of it
// cannot be refused by its form (and may land in another meeting). The
// bridge's own IDs keep their check digit.
func (d *Directory) ImportConferenceID(ctx context.Context, id int64, conferenceID string, opts MailOptions) (Change, error) {
	if _, ok := ConferenceIDKey(conferenceID); !ok {
		return Change{}, &InputError{Field: "conference_id", Msg: fmt.Sprintf("%q is not %d digits", conferenceID, ConferenceIDLength)}
	}
	return d.setConferenceID(ctx, id, conferenceID, opts)
}

// setConferenceID moves the user to conferenceID, checked for its form.
func (d *Directory) setConferenceID(ctx context.Context, id int64, conferenceID string, opts MailOptions) (Change, error) {
	if err := checkMailOptions(opts); err != nil {
		return Change{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.getUserLocked(ctx, id)
	if err != nil {
		return Change{}, err
	}
	if u.ConferenceID == "" {
		return Change{}, noStaticID(&u)
	}
	if conferenceID == u.ConferenceID {
		return Change{User: u}, nil // nothing changes, nothing to tell
	}
	if key, _ := ConferenceIDKey(conferenceID); d.conf.get(key) != nil {
		return Change{}, fmt.Errorf("conference ID %s is taken: %w", conferenceID, ErrExists)
	}
	return d.replaceConferenceIDLocked(ctx, &u, conferenceID, opts)
}

// checkConferenceID explains what is wrong with an ID typed by hand.
func checkConferenceID(id string) error {
	if len(id) != ConferenceIDLength || strings.Trim(id, "0123456789") != "" {
		return &InputError{Field: "conference_id", Msg: fmt.Sprintf("%q is not %d digits", id, ConferenceIDLength)}
	}
	if !ValidConferenceID(id) {
		body := id[:ConferenceIDLength-1]
		right := body + string(dammCheckDigit([]byte(body)))
		return &InputError{Field: "conference_id", Msg: fmt.Sprintf(
			"%s has a wrong check digit: the last digit must be %c (%s)", id, right[ConferenceIDLength-1], right)}
	}
	return nil
}

func noStaticID(u *User) error {
	return &InputError{Field: "conference_id", Msg: fmt.Sprintf("user %s has no static conference ID (dynamic mode)", u.Email)}
}

// replaceConferenceIDLocked moves u to newID (free) and queues the email
// telling of it; with d.mu held.
func (d *Directory) replaceConferenceIDLocked(ctx context.Context, u *User, newID string, opts MailOptions) (Change, error) {
	oldID := u.ConferenceID
	changed := *u
	changed.ConferenceID = newID
	mail, err := d.mailFor(ctx, MailConferenceIDReset, &changed, "", opts, false)
	if err != nil {
		return Change{}, err
	}
	d.note(ctx, u.Email, "user "+u.Email, "conference ID "+conferenceIDText(oldID)+" -> "+newID+"; "+mailNote(mail))
	if err := d.backend.ReplaceConferenceID(ctx, u.ID, oldID, newID, mail); err != nil {
		return Change{}, fmt.Errorf("directory: change conference ID of user %d: %w", u.ID, err)
	}
	oldKey, _ := ConferenceIDKey(oldID)
	newKey, _ := ConferenceIDKey(newID)
	e := d.users[u.ID]
	d.conf.put(&confEntry{key: newKey, organizerID: u.ID, user: e, static: true, noCheckDigit: !ValidConferenceID(newID)})
	d.conf.remove(oldKey)
	e.mu.Lock()
	e.conferenceID = newID
	e.mu.Unlock()
	return Change{User: changed, MailQueued: d.mailQueued(mail)}, nil
}

// DisableUser removes a user from audio conferencing, with every meeting
// it organizes; its conference IDs stop working at once.
func (d *Directory) DisableUser(ctx context.Context, id int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.user(id); err != nil {
		return err
	}
	meetings, err := d.backend.ListMeetings(ctx, MeetingFilter{OrganizerID: id})
	if err != nil {
		return fmt.Errorf("directory: disable user %d: %w", id, err)
	}
	d.note(ctx, "", "", fmt.Sprintf("disabled with %d meeting(s)", len(meetings)))
	if err := d.backend.DeleteUser(ctx, id); err != nil {
		return fmt.Errorf("directory: disable user %d: %w", id, err)
	}
	for _, m := range meetings {
		if key, ok := ConferenceIDKey(m.ConferenceID); ok {
			d.conf.remove(key)
		}
	}
	delete(d.users, id)
	return nil
}

// UpdateSettings changes the organisation-wide settings. A new PIN length
// applies to PINs generated from now on; existing PINs keep working.
// change edits a copy of the current settings; nothing is stored if it or
// Validate returns an error (Validate's is an *InputError naming the field).
func (d *Directory) UpdateSettings(ctx context.Context, change func(*Settings) error) (Settings, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := *d.settings.Load()
	s.DialInNumbers = append([]string(nil), s.DialInNumbers...)
	if err := change(&s); err != nil {
		return Settings{}, err
	}
	s.DialInNumbers = trimAll(s.DialInNumbers)
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	d.note(ctx, "", "settings", settingsChanges(*d.settings.Load(), s))
	if err := d.backend.SaveSettings(ctx, s); err != nil {
		return Settings{}, fmt.Errorf("directory: save settings: %w", err)
	}
	d.settings.Store(&s)
	return s, nil
}

// trimAll is list with each element trimmed, in a new slice (nil stays nil).
func trimAll(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.TrimSpace(s)
	}
	return out
}

// Validate checks settings: the first field refused is an *InputError
// naming it as the API does ("lockout.window"), in words the API shows.
func (s Settings) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	l := s.Lockout
	switch {
	// Shorter windows would make the lockout meaningless.
	case l.Window < time.Minute:
		return bad("lockout.window", "%s is shorter than 1m", l.Window)
	case l.LocalLockDuration < time.Minute:
		return bad("lockout.local_lock_duration", "%s is shorter than 1m", l.LocalLockDuration)
	case s.PINLength < MinPINLength || s.PINLength > MaxPINLength:
		return bad("pin_length", "%d is not %d-%d", s.PINLength, MinPINLength, MaxPINLength)
	case s.ConferenceIDMode != ConferenceIDStatic && s.ConferenceIDMode != ConferenceIDDynamic:
		return bad("conference_id_mode", "%q is not %q or %q", s.ConferenceIDMode, ConferenceIDStatic, ConferenceIDDynamic)
	case s.LobbyAdmission != AdmitByOrganizer && s.LobbyAdmission != AdmitAuto:
		return bad("lobby_admission", "%q is not %q or %q", s.LobbyAdmission, AdmitByOrganizer, AdmitAuto)
	case s.EntryExitAnnouncements != AnnounceTones && s.EntryExitAnnouncements != AnnounceOff:
		return bad("entry_exit_announcements", "%q is not %q or %q", s.EntryExitAnnouncements, AnnounceTones, AnnounceOff)
	case l.LocalLimit < 0:
		return bad("lockout.local_limit", "must be 0 (automatic) or more")
	case l.GlobalLimit < 0:
		return bad("lockout.global_limit", "must be 0 (automatic) or more")
	case l.LocalLimit > 0 && l.GlobalLimit > 0 && l.LocalLimit > l.GlobalLimit:
		return bad("lockout.local_limit", "%d is above lockout.global_limit %d: the permanent lock would always come first",
			l.LocalLimit, l.GlobalLimit)
	}
	for i, n := range s.DialInNumbers {
		if strings.TrimSpace(n) == "" {
			return bad("dial_in_numbers", "number %d is empty", i+1)
		}
		if why := checkPhoneNumber(n); why != "" {
			return bad("dial_in_numbers", "number %d (%q) %s", i+1, n, why)
		}
	}
	return nil
}

// checkPhoneNumber says what is wrong with a dial-in number, "" if
// nothing: it is printed in emails and dialled from them, so it is a
// phone number as people write one ("+1 (425) 555-0100"): digits, with
// spaces, dots, hyphens and parentheses between them and a + only in
// front, 3 to 15 digits (E.164's longest).
func checkPhoneNumber(n string) string {
	digits := 0
	for i, r := range n {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == '+':
			return "has a + that is not in front"
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return fmt.Sprintf("has %q: a number has only digits, spaces, . - ( ) and a + in front", r)
		}
	}
	switch {
	case digits < 3:
		return "has fewer than 3 digits"
	case digits > 15:
		return "has more than 15 digits"
	}
	return ""
}

// checkAddress refuses what is not a bare address ("ada@example.com", not
// "Ada <ada@example.com>"), naming the field; addr is trimmed already.
func checkAddress(field, addr string) error {
	if addr == "" {
		return &InputError{Field: field, Msg: field + " is required"}
	}
	if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr {
		return &InputError{Field: field, Msg: fmt.Sprintf("%q is not an email address", addr)}
	}
	return nil
}

// CreateMeeting creates a meeting with its own conference ID for an
// organizer (dynamic conference IDs).
func (d *Directory) CreateMeeting(ctx context.Context, organizerID int64, requireOrganizer, bypassLobby bool) (Meeting, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, err := d.user(organizerID)
	if err != nil {
		return Meeting{}, err
	}
	id, err := d.newConferenceID()
	if err != nil {
		return Meeting{}, err
	}
	m := Meeting{ConferenceID: id, OrganizerID: organizerID, RequireOrganizer: requireOrganizer, BypassLobby: bypassLobby, CreatedAt: d.now().UTC()}
	d.note(ctx, "", "meeting "+id, fmt.Sprintf("require organizer %s, bypass lobby %s", yesNo(requireOrganizer), yesNo(bypassLobby)))
	if err := d.backend.CreateMeeting(ctx, &m); err != nil {
		return Meeting{}, fmt.Errorf("directory: create meeting: %w", err)
	}
	key, _ := ConferenceIDKey(id)
	d.conf.put(&confEntry{key: key, organizerID: organizerID, user: e, requireOrganizer: requireOrganizer, bypassLobby: bypassLobby})
	return m, nil
}

// DeleteMeeting removes a dynamic meeting; its ID stops working at once.
func (d *Directory) DeleteMeeting(ctx context.Context, conferenceID string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	key, ok := ConferenceIDKey(conferenceID)
	if !ok {
		return fmt.Errorf("%w: conference ID %q", ErrInvalidInput, conferenceID)
	}
	if e := d.conf.get(key); e != nil && e.static {
		return fmt.Errorf("%w: %s is a user's static conference ID: reset it instead", ErrInvalidInput, conferenceID)
	}
	d.note(ctx, "", "meeting "+conferenceID, "")
	if err := d.backend.DeleteMeeting(ctx, conferenceID); err != nil {
		return fmt.Errorf("directory: delete meeting %s: %w", conferenceID, err)
	}
	d.conf.remove(key)
	return nil
}
