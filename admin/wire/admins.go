package wire

import (
	"encoding/json"
	"time"
)

// Admin is an administrator's account of the admin center, as the API
// shows it: never its password or hash.
type Admin struct {
	Name          string    `json:"name"`
	CreatedAt     time.Time `json:"created_at"`
	PasswordSetAt time.Time `json:"password_set_at"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw object in Raw.
func (a *Admin) UnmarshalJSON(data []byte) error {
	type plain Admin
	var p plain
	if err := keepRaw(data, &p, &p.Raw); err != nil {
		return err
	}
	*a = Admin(p)
	return nil
}

// AdminList is GET /admins.
type AdminList struct {
	Admins []Admin `json:"admins"`
}

// AdminRequest is the body of POST /admins.
type AdminRequest struct {
	Name *string `json:"name"` // required
}

// AdminPassword answers POST /admins and POST /admins/{name}/password: the
// generated password, shown this once.
type AdminPassword struct {
	Admin    Admin  `json:"admin"`
	Password string `json:"password"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw object in Raw.
func (p *AdminPassword) UnmarshalJSON(data []byte) error {
	type plain AdminPassword
	var q plain
	if err := keepRaw(data, &q, &q.Raw); err != nil {
		return err
	}
	*p = AdminPassword(q)
	return nil
}
