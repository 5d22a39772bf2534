package admin

import (
	"strings"
	"testing"

	"github.com/dialin/dialin/admin/wire"
)

// TestPatchUserPINLength: PATCH /users/{email} sets the user's own PIN
// length, which the next reset uses and a PIN set by hand must reach; 0
// goes back to the setting; out of range is 400 naming pin_length.
func TestPatchUserPINLength(t *testing.T) {
	e := newEnv(t)
	e.enable("ada@example.com")
	var u wire.User
	e.must(200, "PATCH", "/api/v1/users/ada@example.com", `{"pin_length":9}`).decode(t, &u)
	if u.Policy.Length == nil || *u.Policy.Length != 9 || u.PINLength != 5 {
		t.Fatalf("after PATCH: policy %+v, PIN length %d (the PIN stays until reset)", u.Policy, u.PINLength)
	}
	var c changeResp
	e.must(200, "POST", "/api/v1/users/ada@example.com/pin/reset", `{"send_email":false}`).decode(t, &c)
	if c.PIN == nil || len(*c.PIN) != 9 {
		t.Fatalf("reset with pin_length 9: %+v", c)
	}
	if err := e.fail(400, "pin_policy", "PUT", "/api/v1/users/ada@example.com/pin", `{"pin":"83715"}`); err.Rule != "length" {
		t.Errorf("a 5-digit PIN under a 9-digit policy: %+v", err)
	}
	e.must(200, "GET", "/api/v1/users/ada@example.com", "").decode(t, &u)
	if u.Policy.Length == nil || *u.Policy.Length != 9 {
		t.Errorf("GET after PATCH: %+v", u.Policy)
	}

	for _, body := range []string{`{"pin_length":3}`, `{"pin_length":13}`, `{"pin_length":-1}`, `{}`} {
		err := e.fail(400, "invalid_input", "PATCH", "/api/v1/users/ada@example.com", body)
		if err.Field != "pin_length" {
			t.Errorf("%s: field %q, want pin_length (%s)", body, err.Field, err.Message)
		}
	}
	e.fail(400, "bad_request", "PATCH", "/api/v1/users/ada@example.com", `{"pin_length":"8"}`)
	e.fail(404, "not_found", "PATCH", "/api/v1/users/nobody@example.com", `{"pin_length":8}`)

	e.must(200, "PATCH", "/api/v1/users/ada@example.com", `{"pin_length":0}`).decode(t, &u)
	if u.Policy.Length != nil {
		t.Fatalf("pin_length 0: policy %+v, want the setting's", u.Policy)
	}
	e.must(200, "POST", "/api/v1/users/ada@example.com/pin/reset", `{"send_email":false}`).decode(t, &c)
	if c.PIN == nil || len(*c.PIN) != 5 {
		t.Fatalf("reset back on the setting (5): %+v", c)
	}
	if strings.Contains(e.logs.String(), *c.PIN) {
		t.Error("the PIN is in the API's log")
	}
}
