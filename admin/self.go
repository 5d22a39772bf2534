package admin

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/store"
)

// A user's own routes (Teams' self-service page): with the token an
// administrator issued them, a user (or a portal acting for them) reads
// their own details and resets their own PIN, which is shown once and
// never emailed. Nothing else: the token opens no administrator route.

// selfDirectory is what the user tokens need of the directory: issuing
// one (an administrator's route) and the routes served with one.
type selfDirectory interface {
	IssueUserToken(ctx context.Context, id int64) (string, error)
	UserTokenExpiry(issued time.Time) time.Time
	RevokeUserToken(ctx context.Context, id int64) error
	UserByToken(ctx context.Context, token string) (store.User, error)
	ResetOwnPIN(ctx context.Context, id int64) (store.Change, error)
}

// selfRoute is a route served with a user's own token.
type selfRoute struct {
	method, path string
	handle       userFunc
}

func (a *api) selfRoutes() []selfRoute {
	return []selfRoute{
		{"GET", "/api/v1/me", a.getSelf},
		{"POST", "/api/v1/me/pin/reset", a.resetOwnPIN},
		{"PUT", "/api/v1/me/pin", a.setOwnPIN},
		{"POST", "/api/v1/me/send-info", a.sendOwnInfo},
	}
}

// selfUser is the user whose token the request carries; store.ErrNotFound
// when it carries none or one that is nobody's.
func (a *api) selfUser(r *http.Request) (store.User, error) {
	if email := actingOf(r.Context()).user; email != "" {
		return a.users.UserByEmail(r.Context(), email)
	}
	token := bearerToken(r)
	if token == "" {
		return store.User{}, store.ErrNotFound
	}
	return a.selfDir.UserByToken(r.Context(), token)
}

// withSelf hands the handler the user whose token the request carries,
// before anything else is read. The administrators' token is not a user's:
// the token is who "me" is.
func (a *api) withSelf(h userFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, err := a.selfUser(r)
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="dialin-user"`)
			return &apiError{Status: http.StatusUnauthorized, Code: wire.CodeUnauthorized,
				Message: "missing or wrong user token (Authorization: Bearer dialin-user-...; an administrator issues it with POST /api/v1/users/{email}/token)"}
		}
		if err != nil {
			return err
		}
		// The user's own token is the credential the audit names.
		if e := store.AuditOf(r.Context()); e != nil {
			e.Credential, e.User, e.Target = userCredential(u.Email), u.Email, "user "+u.Email
		}
		return about(h(w, r, u), "user "+u.Email)
	}
}

// GET /api/v1/me
func (a *api) getSelf(w http.ResponseWriter, r *http.Request, u store.User) error {
	writeJSON(w, http.StatusOK, viewUser(u))
	return nil
}

// POST /api/v1/me/pin/reset
func (a *api) resetOwnPIN(w http.ResponseWriter, r *http.Request, u store.User) error {
	if err := decodeBody(w, r, &struct{}{}, true); err != nil {
		return err
	}
	c, err := a.selfDir.ResetOwnPIN(r.Context(), u.ID)
	if err != nil {
		return err
	}
	a.log.Info().Str("user", u.Email).Msg("user reset their own PIN")
	writeJSON(w, http.StatusOK, viewChange(c))
	return nil
}

// PUT /api/v1/me/pin: the user chooses their PIN (as Skype for Business
// Server's dial-in page allows), checked against their PIN policy; it is
// not echoed back, nor emailed. A locked PIN needs an administrator.
func (a *api) setOwnPIN(w http.ResponseWriter, r *http.Request, u store.User) error {
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
	a.log.Info().Str("user", u.Email).Msg("user chose their own PIN")
	writeJSON(w, http.StatusOK, viewChange(store.Change{User: updated}))
	return nil
}

// POST /api/v1/me/send-info: the user's meeting details (conference ID,
// dial-in numbers; never the PIN) emailed to their own address, whatever
// the send-emails setting says: sending is the point.
func (a *api) sendOwnInfo(w http.ResponseWriter, r *http.Request, u store.User) error {
	if err := decodeBody(w, r, &struct{}{}, true); err != nil {
		return err
	}
	c, err := a.users.SendConferenceInfo(r.Context(), u.ID, store.MailOptions{})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewChange(c))
	return nil
}

// POST /api/v1/users/{email}/token (administrators)
func (a *api) issueUserToken(w http.ResponseWriter, r *http.Request, u store.User) error {
	if err := decodeBody(w, r, &struct{}{}, true); err != nil {
		return err
	}
	issued := time.Now()
	token, err := a.selfDir.IssueUserToken(r.Context(), u.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, wire.UserToken{Token: token, ExpiresAt: a.selfDir.UserTokenExpiry(issued).UTC(), User: viewUser(u)})
	return nil
}

// DELETE /api/v1/users/{email}/token (administrators): the user's token
// stops working at once.
func (a *api) revokeUserToken(w http.ResponseWriter, r *http.Request, u store.User) error {
	if err := a.selfDir.RevokeUserToken(r.Context(), u.ID); err != nil {
		return about(err, "the self-service token of "+u.Email)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
