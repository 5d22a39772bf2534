package main

import (
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/store"
)

// TestCLISelfService: an administrator issues a user's token; the user,
// with only that token, sees their own details and resets their own PIN,
// which is printed once and not emailed; the token opens nothing else.
func TestCLISelfService(t *testing.T) {
	t.Parallel()
	b, c := startAdminBridge(t, "demo_organizer: false")
	var ada client.Change
	c.okJSON(&ada, "user", "enable", "ada@example.com")
	c.ok("user", "enable", "bob@example.com")

	out := c.ok("user", "token", "ada@example.com")
	token := outField(t, out, "token")
	if !strings.HasPrefix(token, store.UserTokenPrefix) || !strings.Contains(out, "shown once") {
		t.Fatalf("user token:\n%s", out)
	}
	var again client.UserToken
	c.okJSON(&again, "user", "token", "ada@example.com")
	if again.Token == token || again.User.Email != "ada@example.com" ||
		time.Until(again.ExpiresAt) < 29*24*time.Hour || time.Until(again.ExpiresAt) > 30*24*time.Hour {
		t.Fatalf("user token --json: %+v (want it to expire in 30 days)", again)
	}
	if !strings.Contains(out, "expires") {
		t.Errorf("user token does not say when it expires:\n%s", out)
	}
	c.fails(1, "user", "token", "nobody@example.com")

	me := func(env []string, args ...string) cliResult {
		t.Helper()
		return runCLI(t, "", env, append(args, "--server", c.url)...)
	}
	withToken := []string{"DIALIN_USER_TOKEN=" + again.Token}

	// The first token stopped working when the second was issued.
	r := me(nil, "me", "show", "--token", token)
	checkFailure(t, r, 1, []string{"me", "show"})
	if !strings.Contains(r.Stderr, "refused your token") || !strings.Contains(r.Stderr, "dialin user token EMAIL") {
		t.Errorf("old token: %s", r.Stderr)
	}

	r = me(withToken, "me", "show")
	if r.Code != 0 || outField(t, r.Stdout, "conference ID") != ada.User.ConferenceID || !strings.Contains(r.Stdout, store.MaskedPIN) {
		t.Fatalf("me show: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}

	type mailStatus struct {
		EmailsPending int `json:"emails_pending"`
	}
	var before, after mailStatus
	ivrAPI(t, b, 200, "GET", "/api/v1/status", "", &before)
	r = me(withToken, "me", "reset-pin")
	if r.Code != 0 {
		t.Fatalf("me reset-pin: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	pin := outField(t, r.Stdout, "PIN")
	checkPIN(t, pin, store.DefaultPINLength)
	if countPIN(r.Stdout, pin) != 1 || !outLine(r.Stdout, "email", "none (you reset it yourself)") {
		t.Errorf("me reset-pin:\n%s", r.Stdout)
	}
	var ch client.Change
	r = me(withToken, "me", "reset-pin", "--json")
	if r.Code != 0 || jsonInto(r.Stdout, &ch) != nil || ch.PIN == "" || ch.PIN == pin || ch.EmailQueued {
		t.Fatalf("me reset-pin --json: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	ivrAPI(t, b, 200, "GET", "/api/v1/status", "", &after)
	if after.EmailsPending != before.EmailsPending {
		t.Errorf("the own resets queued email: %d pending before, %d after", before.EmailsPending, after.EmailsPending)
	}

	// No token: a usage error naming where the token goes; the admin
	// token is not a user's.
	r = me(nil, "me", "show")
	checkFailure(t, r, 2, []string{"me", "show"})
	if !strings.Contains(r.Stderr, "DIALIN_USER_TOKEN") {
		t.Errorf("no token: %s", r.Stderr)
	}
	r = me(nil, "me", "reset-pin", "--token", testAdminToken)
	checkFailure(t, r, 1, []string{"me", "reset-pin"})

	// The user's token opens no administrator command.
	r = runCLI(t, "", nil, "user", "show", "bob@example.com", "--server", c.url, "--token", again.Token)
	checkFailure(t, r, 1, []string{"user", "show"})
	if !strings.Contains(r.Stderr, "401") {
		t.Errorf("user token on an admin command: %s", r.Stderr)
	}

	// Revoked, the token stops working at once; revoking it again fails.
	c.ok("user", "revoke-token", "ada@example.com")
	r = me(withToken, "me", "show")
	checkFailure(t, r, 1, []string{"me", "show"})
	c.fails(1, "user", "revoke-token", "ada@example.com")
}
