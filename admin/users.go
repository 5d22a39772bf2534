package admin

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/store"
)

// userDirectory is what the /users routes need of the directory.
type userDirectory interface {
	UserByEmail(ctx context.Context, email string) (store.User, error)
	SearchUsers(ctx context.Context, q string, afterID int64, limit int) ([]store.User, error)
	EnableUser(ctx context.Context, req store.EnableRequest) (store.Change, error)
	DisableUser(ctx context.Context, id int64) error
	ResetPIN(ctx context.Context, id int64, mail store.MailOptions) (store.Change, error)
	SetPIN(ctx context.Context, id int64, pin string) (store.User, error)
	UnlockPIN(ctx context.Context, id int64) (store.User, error)
	ResetConferenceID(ctx context.Context, id int64, mail store.MailOptions) (store.Change, error)
	SetConferenceID(ctx context.Context, id int64, conferenceID string, mail store.MailOptions) (store.Change, error)
	ImportConferenceID(ctx context.Context, id int64, conferenceID string, mail store.MailOptions) (store.Change, error)
	SendConferenceInfo(ctx context.Context, id int64, mail store.MailOptions) (store.Change, error)
	SetEmailOverride(ctx context.Context, id int64, addr string) (store.User, error)
	SetPINLength(ctx context.Context, id int64, length int) (store.User, error)
}

// viewUser is a user as the API shows it. wire.User lists every field by
// hand rather than embedding store.User, so the API does not change when
// the store's model does, and the PIN is always masked.
func viewUser(u store.User) wire.User {
	return wire.User{
		ID:            u.ID,
		Email:         u.Email,
		DisplayName:   u.DisplayName,
		EmailOverride: u.EmailOverride,
		ConferenceID:  u.ConferenceID,
		PIN:           wire.MaskedPIN,
		PINLength:     u.PINLength,
		PINSetAt:      u.PINSetAt,
		Policy: wire.PINPolicy{
			Length:      u.Policy.Length,
			BlockCommon: u.Policy.BlockCommon,
			LocalLimit:  u.Policy.LocalLimit,
			GlobalLimit: u.Policy.GlobalLimit,
		},
		Lock: wire.LockState{
			Failures:      u.Lock.Failures,
			WindowStart:   u.Lock.WindowStart,
			TotalFailures: u.Lock.TotalFailures,
			LockedUntil:   u.Lock.LockedUntil,
			LockedByAdmin: u.Lock.LockedByAdmin,
		},
		Locked:    u.Lock.Locked(time.Now()),
		CreatedAt: u.CreatedAt,
	}
}

// viewChange is the result of a change: the PIN only when the change set
// one (the one time it is ever shown).
func viewChange(c store.Change) wire.Change {
	return wire.Change{User: viewUser(c.User), PIN: c.PIN, EmailQueued: c.MailQueued}
}

// userFunc is the handler of a route under /users/{email}.
type userFunc func(w http.ResponseWriter, r *http.Request, u store.User) error

// withUser looks up the user the path names. Store errors of the handler
// are about that user, so a not-found says which.
func (a *api) withUser(h userFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		email := strings.TrimSpace(r.PathValue("email"))
		if err := checkEmail("email", email); err != nil {
			return err
		}
		subject := "user " + email
		u, err := a.users.UserByEmail(r.Context(), email)
		if err != nil {
			return about(err, subject)
		}
		return about(h(w, r, u), subject)
	}
}

// GET /api/v1/users?q=Q&after=ID&limit=N: every user, or those q finds
// (store.Directory.SearchUsers), by ID.
func (a *api) listUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	after, err := queryInt(q, "after", 0, 0, math.MaxInt64)
	if err != nil {
		return err
	}
	limit, err := queryLimit(q)
	if err != nil {
		return err
	}
	search := q.Get("q")
	users, err := a.users.SearchUsers(r.Context(), search, after, limit)
	if err != nil {
		return err
	}
	out := wire.UserPage{Users: make([]wire.User, 0, len(users))}
	for _, u := range users {
		out.Users = append(out.Users, viewUser(u))
	}
	if len(users) == limit {
		// A full page: look one further, so next_after is 0 exactly at
		// the end and clients never fetch an empty page.
		last := users[len(users)-1].ID
		more, err := a.users.SearchUsers(r.Context(), search, last, 1)
		if err != nil {
			return err
		}
		if len(more) > 0 {
			out.NextAfter = last
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// POST /api/v1/users
func (a *api) enableUser(w http.ResponseWriter, r *http.Request) error {
	var req wire.EnableRequest
	if err := decodeBody(w, r, &req, false); err != nil {
		return err
	}
	// The store checks the addresses, naming the field.
	req.Email = strings.TrimSpace(req.Email)
	auditUser(r, req.Email)
	c, err := a.users.EnableUser(r.Context(), store.EnableRequest{
		Email:         req.Email,
		DisplayName:   req.DisplayName,
		EmailOverride: strings.TrimSpace(req.EmailOverride),
		Mail:          mailOptions(req.SendEmail, req.EmailTo),
	})
	if errors.Is(err, store.ErrExists) {
		// The store's message names its tables; say it as people would.
		return conflict("user %s is already enabled", req.Email)
	}
	if err != nil {
		return about(err, "user "+req.Email)
	}
	writeJSON(w, http.StatusCreated, viewChange(c))
	return nil
}

// GET /api/v1/users/{email}
func (a *api) getUser(w http.ResponseWriter, r *http.Request, u store.User) error {
	writeJSON(w, http.StatusOK, viewUser(u))
	return nil
}

// PATCH /api/v1/users/{email}
func (a *api) patchUser(w http.ResponseWriter, r *http.Request, u store.User) error {
	var req wire.UserPatch
	if err := decodeBody(w, r, &req, false); err != nil {
		return err
	}
	if req.EmailOverride == nil && req.PINLength == nil {
		return invalidInput("pin_length", "nothing to change: give email_override or pin_length")
	}
	if req.PINLength != nil {
		updated, err := a.users.SetPINLength(r.Context(), u.ID, *req.PINLength)
		if err != nil {
			return err
		}
		u = updated
	}
	if req.EmailOverride != nil {
		// The store checks the address, naming the field.
		updated, err := a.users.SetEmailOverride(r.Context(), u.ID, *req.EmailOverride)
		if err != nil {
			return err
		}
		u = updated
	}
	writeJSON(w, http.StatusOK, viewUser(u))
	return nil
}

// DELETE /api/v1/users/{email}
func (a *api) disableUser(w http.ResponseWriter, r *http.Request, u store.User) error {
	if err := a.users.DisableUser(r.Context(), u.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// POST /api/v1/users/{email}/pin/reset
func (a *api) resetPIN(w http.ResponseWriter, r *http.Request, u store.User) error {
	var req wire.MailRequest
	if err := decodeBody(w, r, &req, true); err != nil {
		return err
	}
	c, err := a.users.ResetPIN(r.Context(), u.ID, mailOptions(req.SendEmail, req.EmailTo))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewChange(c))
	return nil
}

// PUT /api/v1/users/{email}/pin
func (a *api) setPIN(w http.ResponseWriter, r *http.Request, u store.User) error {
	var req wire.PINRequest
	if err := decodeBody(w, r, &req, false); err != nil {
		return err
	}
	if req.PIN == nil {
		return invalidInput("pin", "pin is required")
	}
	updated, err := a.users.SetPIN(r.Context(), u.ID, *req.PIN)
	if err != nil {
		return err
	}
	// The administrator chose this PIN: it is not echoed back.
	writeJSON(w, http.StatusOK, viewChange(store.Change{User: updated}))
	return nil
}

// POST /api/v1/users/{email}/pin/unlock
func (a *api) unlockPIN(w http.ResponseWriter, r *http.Request, u store.User) error {
	var req struct{}
	if err := decodeBody(w, r, &req, true); err != nil {
		return err
	}
	updated, err := a.users.UnlockPIN(r.Context(), u.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewChange(store.Change{User: updated}))
	return nil
}

// POST /api/v1/users/{email}/conference-id/reset
func (a *api) resetConferenceID(w http.ResponseWriter, r *http.Request, u store.User) error {
	var req wire.MailRequest
	if err := decodeBody(w, r, &req, true); err != nil {
		return err
	}
	c, err := a.users.ResetConferenceID(r.Context(), u.ID, mailOptions(req.SendEmail, req.EmailTo))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewChange(c))
	return nil
}

// PUT /api/v1/users/{email}/conference-id
func (a *api) setConferenceID(w http.ResponseWriter, r *http.Request, u store.User) error {
	var req wire.ConferenceIDRequest
	if err := decodeBody(w, r, &req, false); err != nil {
		return err
	}
	if req.ConferenceID == "" {
		return invalidInput("conference_id", "conference_id is required")
	}
	set := a.users.SetConferenceID
	if req.NoCheckDigit {
		set = a.users.ImportConferenceID
	}
	c, err := set(r.Context(), u.ID, req.ConferenceID, mailOptions(req.SendEmail, req.EmailTo))
	if errors.Is(err, store.ErrExists) {
		return conflict("conference ID %s is already taken", req.ConferenceID)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewChange(c))
	return nil
}

// POST /api/v1/users/{email}/conference-id/send-info
func (a *api) sendConferenceInfo(w http.ResponseWriter, r *http.Request, u store.User) error {
	var req wire.SendInfoRequest // no send_email: sending is the point
	if err := decodeBody(w, r, &req, true); err != nil {
		return err
	}
	c, err := a.users.SendConferenceInfo(r.Context(), u.ID, mailOptions(nil, req.EmailTo))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewChange(c))
	return nil
}
