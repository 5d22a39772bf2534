package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/dialin/dialin/store"
)

// selfSend makes a request with a user's own token.
func (e *env) selfSend(token, method, path, body string) response {
	e.t.Helper()
	h := http.Header{"Authorization": {"Bearer " + token}}
	if body != "" {
		h.Set("Content-Type", "application/json")
	}
	return e.raw(method, path, body, h)
}

func TestSelfServiceTokenAndOwnPINReset(t *testing.T) {
	e := newEnv(t)
	ada := e.enable("ada@example.com")
	e.enable("bob@example.com")
	ctx := context.Background()

	var issued struct {
		Token string   `json:"token"`
		User  userResp `json:"user"`
	}
	e.must(201, "POST", "/api/v1/users/ada@example.com/token", "").decode(t, &issued)
	if !strings.HasPrefix(issued.Token, store.UserTokenPrefix) || issued.User.Email != "ada@example.com" {
		t.Fatalf("issued: %+v", issued)
	}
	e.fail(404, "not_found", "POST", "/api/v1/users/nobody@example.com/token", "")

	// The token reads its own user, and only that.
	var me userResp
	if r := e.selfSend(issued.Token, "GET", "/api/v1/me", ""); r.status != 200 {
		t.Fatalf("GET /me: %d %s", r.status, r.body)
	} else {
		r.decode(t, &me)
	}
	if me.Email != "ada@example.com" || me.ConferenceID != ada.User.ConferenceID || me.PIN != store.MaskedPIN {
		t.Fatalf("me: %+v", me)
	}

	// Its own PIN reset: a new PIN shown once, no email even with emails on.
	pending, _ := e.dir.PendingMail(ctx)
	var c changeResp
	r := e.selfSend(issued.Token, "POST", "/api/v1/me/pin/reset", "")
	if r.status != 200 {
		t.Fatalf("own reset: %d %s", r.status, r.body)
	}
	r.decode(t, &c)
	if c.PIN == nil || c.EmailQueued || c.User.PIN != store.MaskedPIN {
		t.Fatalf("own reset: %s", r.body)
	}
	if n, _ := e.dir.PendingMail(ctx); n != pending {
		t.Errorf("own reset queued mail: %d → %d", pending, n)
	}
	if res, _ := e.dir.VerifyOrganizerPIN(ctx, ada.User.ConferenceID, *c.PIN); res != store.PINOK {
		t.Fatalf("new PIN: %v", res)
	}
	if !strings.Contains(e.logs.String(), "user reset their own PIN") {
		t.Error("the own reset is not logged")
	}
	if strings.Contains(e.logs.String(), *c.PIN) || strings.Contains(e.logs.String(), issued.Token) {
		t.Error("a PIN or token in the log")
	}

	// The user token opens no administrator route, and the admin token no
	// user route; a wrong or missing token gets 401 with a hint.
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/v1/users"},
		{"GET", "/api/v1/users/bob@example.com"},
		{"POST", "/api/v1/users/bob@example.com/pin/reset"},
		{"POST", "/api/v1/users/ada@example.com/token"},
		{"GET", "/api/v1/status"},
	} {
		e.checkErr(e.selfSend(issued.Token, tc.method, tc.path, ""), 401, "unauthorized", "user token on "+tc.path)
	}
	for _, token := range []string{testToken, "", "dialin-user-nope", "dialin-user-" + strings.Repeat("A", 43)} {
		got := e.checkErr(e.selfSend(token, "GET", "/api/v1/me", ""), 401, "unauthorized", "GET /me with "+token)
		if !strings.Contains(got.Message, "user token") {
			t.Errorf("401 message %q does not say what is needed", got.Message)
		}
	}
	if r := e.selfSend(issued.Token, "POST", "/api/v1/me/pin/reset", `{"pin":"12345"}`); r.status != 400 {
		t.Errorf("unknown field in the reset body: %d %s", r.status, r.body)
	}

	// A new token replaces the old; disabling the user kills it.
	var again struct{ Token string }
	e.must(201, "POST", "/api/v1/users/ada@example.com/token", "").decode(t, &again)
	e.checkErr(e.selfSend(issued.Token, "GET", "/api/v1/me", ""), 401, "unauthorized", "replaced token")
	if r := e.selfSend(again.Token, "GET", "/api/v1/me", ""); r.status != 200 {
		t.Fatalf("new token: %d", r.status)
	}
	e.must(204, "DELETE", "/api/v1/users/ada@example.com", "")
	e.checkErr(e.selfSend(again.Token, "GET", "/api/v1/me", ""), 401, "unauthorized", "token of a disabled user")
}

func TestOwnPINResetOfALockedPIN(t *testing.T) {
	e := newEnv(t)
	e.must(200, "PATCH", "/api/v1/settings", `{"lockout":{"local_limit":1}}`)
	ada := e.enable("ada@example.com")
	var issued struct{ Token string }
	e.must(201, "POST", "/api/v1/users/ada@example.com/token", "").decode(t, &issued)
	if res, _ := e.dir.VerifyOrganizerPIN(context.Background(), ada.User.ConferenceID, "00000"); res != store.PINLocked {
		t.Fatalf("wrong PIN: %v", res)
	}
	e.checkErr(e.selfSend(issued.Token, "POST", "/api/v1/me/pin/reset", ""), 409, "pin_locked", "own reset of a locked PIN")
}
