package admin

import (
	"context"
	"net/http"
	"strings"

	"github.com/dialin/dialin/admin/wire"
	"github.com/dialin/dialin/store"
)

// adminDirectory is what the /admins routes need of the directory: the
// administrators' accounts of the admin center.
type adminDirectory interface {
	AddAdmin(ctx context.Context, name string) (store.AdminAccount, string, error)
	ResetAdminPassword(ctx context.Context, name string) (string, error)
	RemoveAdmin(ctx context.Context, name string) error
	ListAdmins(ctx context.Context) ([]store.AdminAccount, error)
}

// viewAdmin is an account as the API shows it: never its hash.
func viewAdmin(a store.AdminAccount) wire.Admin {
	return wire.Admin{Name: a.Name, CreatedAt: a.CreatedAt, PasswordSetAt: a.PasswordSetAt}
}

// GET /api/v1/admins
func (a *api) listAdmins(w http.ResponseWriter, r *http.Request) error {
	list, err := a.admins.ListAdmins(r.Context())
	if err != nil {
		return err
	}
	out := wire.AdminList{Admins: make([]wire.Admin, 0, len(list))}
	for _, acc := range list {
		out.Admins = append(out.Admins, viewAdmin(acc))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// POST /api/v1/admins {"name": ...}: the account and its generated
// password, shown this once.
func (a *api) addAdmin(w http.ResponseWriter, r *http.Request) error {
	var req wire.AdminRequest
	if err := decodeBody(w, r, &req, false); err != nil {
		return err
	}
	if req.Name == nil {
		return invalidInput("name", "required: the administrator's name")
	}
	acc, password, err := a.admins.AddAdmin(r.Context(), strings.TrimSpace(*req.Name))
	if err != nil {
		return about(err, "administrator "+*req.Name)
	}
	writeJSON(w, http.StatusCreated, wire.AdminPassword{Admin: viewAdmin(acc), Password: password})
	return nil
}

// POST /api/v1/admins/{name}/password: a new generated password, shown
// this once; the one before stops working.
func (a *api) resetAdminPassword(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var body struct{}
	if err := decodeBody(w, r, &body, true); err != nil {
		return err
	}
	password, err := a.admins.ResetAdminPassword(r.Context(), name)
	if err != nil {
		return about(err, "administrator "+name)
	}
	writeJSON(w, http.StatusOK, wire.AdminPassword{Admin: wire.Admin{Name: name}, Password: password})
	return nil
}

// DELETE /api/v1/admins/{name}
func (a *api) removeAdmin(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := a.admins.RemoveAdmin(r.Context(), name); err != nil {
		return about(err, "administrator "+name)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
