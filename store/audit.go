package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// The audit trail: one entry per administrative change, and per refused or
// failed attempt at one, saying when, which credential from which address,
// what, on whom, and the outcome. Never a PIN, a token or a token's hash:
// only the name of the credential.
//
// Who writes an entry: the caller that knows the actor (the API) puts an
// *AuditEntry in the context (WithAudit) before calling the Directory; the
// Directory's write method fills in what the change is about (Note) and
// hands the context to the Backend, whose write carries the entry out in
// the same transaction as the change and sets its ID. An entry whose ID is
// still 0 after the call was not written (the change was refused before
// the database, failed, or touched no table, as the live meeting
// controls): its owner writes it on its own with RecordAudit.

// Outcomes of an audited attempt.
const (
	AuditOK      = "ok"      // the change was made
	AuditRefused = "refused" // the request's fault: invalid, not found, conflict
	AuditFailed  = "failed"  // ours: the storage or the bridge failed
)

// AuditEntry is one row of the audit trail.
type AuditEntry struct {
	ID         int64     // set once written
	Time       time.Time // when the change was made (or refused)
	Credential string    // the name of the administrator's token, or "user:EMAIL" for a user's own
	Address    string    // the client's address (host:port)
	Action     string    // what was asked: "user.enable", "pin.reset", "meeting.mute"...
	User       string    // the user the change is about (its primary address), if any
	Target     string    // what exactly: "user ada@example.com", "meeting 1234567", "settings"
	Detail     string    // what changed, in words; never a secret
	Outcome    string    // AuditOK, AuditRefused, AuditFailed
	Error      string    // for refused and failed: the API's error code, with the field or rule
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	From, To   time.Time // From <= Time < To; zero: unbounded
	Credential string    // "": any
	User       string    // "": any (compared case-insensitively)
	Action     string    // "": any
	Before     int64     // IDs below this one (the cursor); 0: from the newest
	Limit      int       // at most this many (Directory: 0 means 100, at most 1000)
}

// AuditBackend is the Backend's part for the audit trail. Besides these,
// every write method of Backend writes the entry its context carries (see
// Backend).
type AuditBackend interface {
	// AppendAudit writes e on its own transaction (setting e.ID): an
	// attempt that changed nothing, or a change outside the database.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// ListAudit reads entries matching f, newest (highest ID) first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

type auditKey struct{}

// WithAudit returns ctx carrying e, for the Backend to write in the
// transaction of the change (Backend's contract).
func WithAudit(ctx context.Context, e *AuditEntry) context.Context {
	return context.WithValue(ctx, auditKey{}, e)
}

// AuditOf is the entry ctx carries, or nil.
func AuditOf(ctx context.Context) *AuditEntry {
	e, _ := ctx.Value(auditKey{}).(*AuditEntry)
	return e
}

// note fills the entry ctx carries, if any, with what the change is about
// (empty arguments leave a field as the caller set it) and its time; the
// Directory calls it, with d.mu held, right before the Backend write.
func (d *Directory) note(ctx context.Context, user, target, detail string) {
	e := AuditOf(ctx)
	if e == nil {
		return
	}
	if user != "" {
		e.User = user
	}
	if target != "" {
		e.Target = target
	}
	if detail != "" {
		e.Detail = detail
	}
	e.Time = d.now().UTC()
}

// mailNote says what became of a change's email, for the audit.
func mailNote(m *SealedMail) string {
	if m == nil {
		return "no email"
	}
	return "email queued to " + m.To
}

// RecordAudit writes e on its own: a refused or failed attempt, or a
// change that touched no table. The time is now unless set.
func (d *Directory) RecordAudit(ctx context.Context, e *AuditEntry) error {
	if e.ID != 0 {
		return nil // written with its change
	}
	if e.Time.IsZero() {
		e.Time = d.now().UTC()
	}
	if err := e.check(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.backend.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("directory: audit: %w", err)
	}
	return nil
}

// check refuses an entry that names no credential, action or outcome.
func (e *AuditEntry) check() error {
	switch {
	case e.Credential == "":
		return fmt.Errorf("%w: audit entry without a credential", ErrInvalidInput)
	case e.Action == "":
		return fmt.Errorf("%w: audit entry without an action", ErrInvalidInput)
	case !slices.Contains([]string{AuditOK, AuditRefused, AuditFailed}, e.Outcome):
		return fmt.Errorf("%w: audit outcome %q", ErrInvalidInput, e.Outcome)
	}
	return nil
}

// Audit lists audit entries, newest first (f.Limit 0: 100, at most 1000).
func (d *Directory) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 0 || f.Limit > 1000 {
		return nil, &InputError{Field: "limit", Msg: fmt.Sprintf("%d is not 1-1000", f.Limit)}
	}
	if f.Before < 0 {
		return nil, &InputError{Field: "before", Msg: "must be a positive entry ID"}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, &InputError{Field: "to", Msg: "must be after from"}
	}
	f.User = strings.TrimSpace(f.User)
	d.mu.Lock()
	defer d.mu.Unlock()
	entries, err := d.backend.ListAudit(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("directory: audit: %w", err)
	}
	return entries, nil
}

// settingsChanges lists, for the audit, the settings that differ between
// old and updated: "pin_length 5 -> 6, lockout.window 30m0s -> 1h0m0s".
// Settings hold no secret.
func settingsChanges(old, updated Settings) string {
	flat := func(s Settings) map[string]string {
		view := map[string]any{
			"pin_length":                  s.PINLength,
			"send_emails":                 s.SendEmails,
			"conference_id_mode":          s.ConferenceIDMode,
			"anonymous_can_start":         s.AnonymousCanStart,
			"lobby_admission":             s.LobbyAdmission,
			"dial_in_bypass_lobby":        s.DialInBypassLobby,
			"entry_exit_announcements":    s.EntryExitAnnouncements,
			"block_common_pins":           s.BlockCommonPINs,
			"lockout.window":              s.Lockout.Window.String(),
			"lockout.local_lock_duration": s.Lockout.LocalLockDuration.String(),
			"lockout.local_limit":         s.Lockout.LocalLimit,
			"lockout.global_limit":        s.Lockout.GlobalLimit,
			"dial_in_numbers":             s.DialInNumbers,
		}
		out := make(map[string]string, len(view))
		for k, v := range view {
			raw, _ := json.Marshal(v) // plain values: cannot fail
			out[k] = string(raw)
		}
		return out
	}
	before, after := flat(old), flat(updated)
	var changes []string
	for _, k := range slices.Sorted(maps.Keys(after)) {
		if before[k] != after[k] {
			changes = append(changes, k+" "+before[k]+" -> "+after[k])
		}
	}
	if len(changes) == 0 {
		return "nothing changed"
	}
	return strings.Join(changes, ", ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// conferenceIDText is a static conference ID for the audit, or what
// stands in its place.
func conferenceIDText(id string) string {
	if id == "" {
		return "none (dynamic)"
	}
	return id
}
