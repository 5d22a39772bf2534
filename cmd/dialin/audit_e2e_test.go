package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/admin/wire"
)

// TestAuditE2E: on the real bridge, administrators with named tokens (the
// generated file token, "local", read by the CLI on the bridge's machine;
// one from admin.tokens in a file, one inline) change the directory and
// control a live meeting with a real caller admitted from the lobby, muted
// and removed; `dialin audit list` shows who did what, from where, with
// the outcome, refusals included; and neither the database file nor its
// WAL, under the running bridge and after it stopped, holds any PIN or
// token of the test.
func TestAuditE2E(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	aliceFile := filepath.Join(dir, "alice.token")
	const aliceTok, inlineTok = "alice-e2e-token-0123456789abcdef", "inline-e2e-token-0123456789abcdef"
	if err := os.WriteFile(aliceFile, []byte(aliceTok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// No admin.token: the bridge creates data/admin-token, named "local".
	b := startBridgeIn(t, dir, ivrWith(t, `
admin:
  token: ""
  tokens:
    - {name: alice, token_file: `+aliceFile+`}
    - {name: provisioning, token: `+inlineTok+`}
meeting: {join_leave_tones: false}
`))
	url := apiURL(t, b)
	cfgPath := filepath.Join(dir, "dialin.yaml")
	local := func(args ...string) string { // the token from the data folder
		t.Helper()
		r := runCLI(t, "", nil, append(args, "--config", cfgPath, "--server", url)...)
		if r.Code != 0 {
			t.Fatalf("dialin %s: exit %d\n%s%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
		}
		return r.Stdout
	}
	alice := apiCLI{t: t, url: url, token: aliceTok}
	prov := apiCLI{t: t, url: url, token: inlineTok}
	localTok, err := os.ReadFile(filepath.Join(dir, "data", "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{aliceTok, inlineTok, strings.TrimSpace(string(localTok))}

	// 12-digit PINs: a short one could turn up in the files' bytes by chance.
	local("settings", "set", "pin-length", "12")
	var ada client.Change
	if err := json.Unmarshal([]byte(local("user", "enable", "ada@example.com", "--no-email", "--json")), &ada); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, ada.PIN)
	id := ada.User.ConferenceID
	var reset client.Change
	prov.okJSON(&reset, "pin", "reset", "ada@example.com", "--no-email")
	secrets = append(secrets, reset.PIN)
	prov.fails(1, "pin", "set", "ada@example.com", "111111111111")
	secrets = append(secrets, "111111111111")
	prov.fails(1, "pin", "reset", "nobody@example.com")
	var tok client.UserToken
	alice.okJSON(&tok, "user", "token", "ada@example.com")
	secrets = append(secrets, tok.Token)

	// A live meeting: the organizer starts it, a caller waits in the
	// lobby; alice admits, mutes and removes the caller, then ends it.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	org, _ := meetOrganizer(t, ctx, b, id, reset.PIN, "+14255550100")
	caller := meetDial(t, ctx, b, id, "+14255550101")[0]
	member := meetJoined(t, b, caller, true)
	alice.ok("meeting", "admit", id, member)
	meetAdmitted(t, b, caller)
	alice.ok("meeting", "mute", id, member)
	alice.ok("meeting", "remove", id, member)
	waitEnded(t, caller, 10*time.Second)
	alice.fails(1, "meeting", "remove", id, member) // gone: refused
	alice.ok("meeting", "end", id)
	waitEnded(t, org, 10*time.Second)

	var entries []wire.AuditEntry
	alice.okJSON(&entries, "audit", "list")
	type row struct{ credential, action, outcome, target string }
	var got []row
	for i := len(entries) - 1; i >= 0; i-- { // oldest first
		e := entries[i]
		if !strings.HasPrefix(e.Address, "127.0.0.1:") || e.Time.IsZero() {
			t.Errorf("entry %d: address %q, time %v", e.ID, e.Address, e.Time)
		}
		got = append(got, row{e.Credential, e.Action, e.Outcome, e.Target})
	}
	mt := "meeting " + id
	pt := "participant " + member + " of " + mt
	want := []row{
		{"local", "settings.update", "ok", "settings"},
		{"local", "user.enable", "ok", "user ada@example.com"},
		{"provisioning", "pin.reset", "ok", "user ada@example.com"},
		{"provisioning", "pin.set", "refused", "user ada@example.com"},
		{"provisioning", "pin.reset", "refused", "user nobody@example.com"},
		{"alice", "user.token_issue", "ok", "user ada@example.com"},
		{"alice", "meeting.admit", "ok", "lobby caller " + member + " of " + mt},
		{"alice", "meeting.mute", "ok", pt},
		{"alice", "meeting.remove", "ok", pt},
		{"alice", "meeting.remove", "refused", pt},
		{"alice", "meeting.end", "ok", mt},
	}
	if len(got) != len(want) {
		t.Fatalf("audit list:\n%+v\nwant\n%+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %+v, want %+v", i, got[i], want[i])
		}
	}

	// The text, and the filters.
	out := local("audit", "list", "--credential", "alice", "--limit", "3")
	if !strings.Contains(out, "CREDENTIAL") || strings.Count(out, "alice") != 3 || !strings.Contains(out, "3 entries, newest first") {
		t.Errorf("audit list --credential alice --limit 3:\n%s", out)
	}
	out = local("audit", "list", "--user", "ada@example.com", "--action", "pin.set", "--from", "1h")
	if !strings.Contains(out, "pin_policy") || !strings.Contains(out, "1 entry") {
		t.Errorf("audit list --user --action --from:\n%s", out)
	}
	if r := runCLI(t, "", nil, "audit", "list", "--from", "someday", "--server", url, "--token", aliceTok); r.Code != 2 {
		t.Errorf("audit list --from someday: exit %d\n%s", r.Code, r.Stderr)
	}

	// No PIN or token in the database or its WAL, running and stopped.
	db := filepath.Join(dir, "data", "dialin.db")
	grep := func(when string) {
		t.Helper()
		var data []byte
		for _, p := range []string{db, db + "-wal"} {
			if d, err := os.ReadFile(p); err == nil {
				data = append(data, d...)
			}
		}
		if !bytes.Contains(data, []byte("provisioning")) {
			t.Fatalf("%s: the audit is not in the files read", when)
		}
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s: the database holds the secret %q", when, s)
			}
		}
	}
	grep("running")
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	grep("stopped")
}
