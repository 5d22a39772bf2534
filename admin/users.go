package admin

import (
	"errors"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/dialin/dialin/store"
)

// userView is a user as the API shows it. It lists every field by hand
// rather than embedding store.User, so the API does not change when the
// store's model does, and the PIN is always masked.
type userView struct {
	ID            int64           `json:"id"`
	Email         string          `json:"email"`
	DisplayName   string          `json:"display_name"`
	EmailOverride string          `json:"email_override"`
	ConferenceID  string          `json:"conference_id"`
	PIN           string          `json:"pin"`
	PINLength     int             `json:"pin_length"`
	PINSetAt      time.Time       `json:"pin_set_at"`
	Policy        store.PINPolicy `json:"policy"`
	Lock          store.LockState `json:"lock"`
	Locked        bool            `json:"locked"`
	CreatedAt     time.Time       `json:"created_at"`
}

func viewUser(u store.User) userView {
	return userView{
		ID:            u.ID,
		Email:         u.Email,
		DisplayName:   u.DisplayName,
		EmailOverride: u.EmailOverride,
		ConferenceID:  u.ConferenceID,
		PIN:           store.MaskedPIN,
		PINLength:     u.PINLength,
		PINSetAt:      u.PINSetAt,
		Policy:        u.Policy,
		Lock:          u.Lock,
		Locked:        u.Lock.Locked(time.Now()),
		CreatedAt:     u.CreatedAt,
	}
}

// changeView is the result of a change: the PIN only when the change set
// one (the one time it is ever shown).
type changeView struct {
	User        userView `json:"user"`
	PIN         string   `json:"pin,omitempty"`
	EmailQueued bool     `json:"email_queued"`
}

func viewChange(c store.Change) changeView {
	return changeView{User: viewUser(c.User), PIN: c.PIN, EmailQueued: c.MailQueued}
}

type userList struct {
	Users     []userView `json:"users"`
	NextAfter int64      `json:"next_after"`
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
		u, err := a.dir.UserByEmail(r.Context(), email)
		if err != nil {
			return about(err, subject)
		}
		return about(h(w, r, u), subject)
	}
}

// GET /api/v1/users?after=ID&limit=N
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
	users, err := a.dir.ListUsers(r.Context(), after, limit)
	if err != nil {
		return err
	}
	out := userList{Users: make([]userView, 0, len(users))}
	for _, u := range users {
		out.Users = append(out.Users, viewUser(u))
	}
	if len(users) == limit {
		// A full page: look one further, so next_after is 0 exactly at
		// the end and clients never fetch an empty page.
		last := users[len(users)-1].ID
		more, err := a.dir.ListUsers(r.Context(), last, 1)
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
	var req struct {
		Email         string `json:"email"`
		DisplayName   string `json:"display_name"`
		EmailOverride string `json:"email_override"`
		SendEmail     *bool  `json:"send_email"`
		EmailTo       string `json:"email_to"`
	}
	if err := decodeBody(w, r, &req, false); err != nil {
		return err
	}
	req.Email = strings.TrimSpace(req.Email)
	req.EmailOverride = strings.TrimSpace(req.EmailOverride)
	if err := checkEmail("email", req.Email); err != nil {
		return err
	}
	if req.EmailOverride != "" {
		if err := checkEmail("email_override", req.EmailOverride); err != nil {
			return err
		}
	}
	mail, err := mailOptions{SendEmail: req.SendEmail, EmailTo: req.EmailTo}.toStore()
	if err != nil {
		return err
	}
	c, err := a.dir.EnableUser(r.Context(), store.EnableRequest{
		Email:         req.Email,
		DisplayName:   req.DisplayName,
		EmailOverride: req.EmailOverride,
		Mail:          mail,
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

// DELETE /api/v1/users/{email}
func (a *api) disableUser(w http.ResponseWriter, r *http.Request, u store.User) error {
	if err := a.dir.DisableUser(r.Context(), u.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// POST /api/v1/users/{email}/pin/reset
func (a *api) resetPIN(w http.ResponseWriter, r *http.Request, u store.User) error {
	var req mailOptions
	if err := decodeBody(w, r, &req, true); err != nil {
		return err
	}
	mail, err := req.toStore()
	if err != nil {
		return err
	}
	c, err := a.dir.ResetPIN(r.Context(), u.ID, mail)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewChange(c))
	return nil
}

// PUT /api/v1/users/{email}/pin
func (a *api) setPIN(w http.ResponseWriter, r *http.Request, u store.User) error {
	var req struct {
		PIN *string `json:"pin"`
	}
	if err := decodeBody(w, r, &req, false); err != nil {
		return err
	}
	if req.PIN == nil {
		return invalidInput("pin", "pin is required")
	}
	updated, err := a.dir.SetPIN(r.Context(), u.ID, *req.PIN)
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
	updated, err := a.dir.UnlockPIN(r.Context(), u.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewChange(store.Change{User: updated}))
	return nil
}

// POST /api/v1/users/{email}/conference-id/reset
func (a *api) resetConferenceID(w http.ResponseWriter, r *http.Request, u store.User) error {
	var req mailOptions
	if err := decodeBody(w, r, &req, true); err != nil {
		return err
	}
	mail, err := req.toStore()
	if err != nil {
		return err
	}
	c, err := a.dir.ResetConferenceID(r.Context(), u.ID, mail)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewChange(c))
	return nil
}

// PUT /api/v1/users/{email}/conference-id
func (a *api) setConferenceID(w http.ResponseWriter, r *http.Request, u store.User) error {
	var req struct {
		ConferenceID string `json:"conference_id"`
		SendEmail    *bool  `json:"send_email"`
		EmailTo      string `json:"email_to"`
	}
	if err := decodeBody(w, r, &req, false); err != nil {
		return err
	}
	if req.ConferenceID == "" {
		return invalidInput("conference_id", "conference_id is required")
	}
	mail, err := mailOptions{SendEmail: req.SendEmail, EmailTo: req.EmailTo}.toStore()
	if err != nil {
		return err
	}
	c, err := a.dir.SetConferenceID(r.Context(), u.ID, req.ConferenceID, mail)
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
	var req struct {
		EmailTo string `json:"email_to"`
	}
	if err := decodeBody(w, r, &req, true); err != nil {
		return err
	}
	// send_email is not accepted here (sending is the point); reuse the
	// address check.
	mail, err := mailOptions{EmailTo: req.EmailTo}.toStore()
	if err != nil {
		return err
	}
	c, err := a.dir.SendConferenceInfo(r.Context(), u.ID, mail)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewChange(c))
	return nil
}
