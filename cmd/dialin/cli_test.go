package main

// End-to-end tests of the administration subcommands: the built dialin
// binary against the REST API of a real `dialin serve` (bridge_test.go),
// and, for the emails, against a real SMTP server (internal/smtptest).
// Each test runs its own bridge, so they run in parallel.

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/admin/client"
	"github.com/dialin/dialin/internal/smtptest"
	"github.com/dialin/dialin/store"
)

// ---- Against a bridge ---------------------------------------------------

// TestCLIUsersAndPINs covers user, pin and conference-id, in text and JSON.
func TestCLIUsersAndPINs(t *testing.T) {
	t.Parallel()
	_, c := startAdminBridge(t, "demo_organizer: false")

	// enable: the conference ID and the PIN, the PIN once.
	out := c.ok("user", "enable", "ada@example.com", "--name", "Ada Lovelace")
	adaID := outField(t, out, "conference ID")
	adaPIN := outField(t, out, "PIN")
	checkPIN(t, adaPIN, store.DefaultPINLength)
	if !store.ValidConferenceID(adaID) {
		t.Errorf("enable: conference ID %q is not valid", adaID)
	}
	if countPIN(out, adaPIN) != 1 || !strings.Contains(out, "shown once: it will not be shown again") {
		t.Errorf("enable: want the PIN once and the warning:\n%s", out)
	}
	if !outLine(out, "email", "queued to ada@example.com") {
		t.Errorf("enable: want the email queued to the user:\n%s", out)
	}

	// Flags before, between and after the arguments.
	var bob client.Change
	c.okJSON(&bob, "user", "--no-email", "enable", "--email-override", "bob.home@example.net", "bob@example.com", "--name", "Bob")
	checkPIN(t, bob.PIN, store.DefaultPINLength)
	if bob.User.Email != "bob@example.com" || bob.User.DisplayName != "Bob" || bob.User.EmailOverride != "bob.home@example.net" ||
		bob.User.PIN != store.MaskedPIN || bob.EmailQueued || !store.ValidConferenceID(bob.User.ConferenceID) {
		t.Errorf("enable --json: %+v", bob)
	}
	out = c.ok("user", "enable", "carol@example.com", "--email-to", "assistant@example.com")
	if !outLine(out, "email", "queued to assistant@example.com") {
		t.Errorf("enable --email-to: %s", out)
	}
	stderr := c.fails(1, "user", "enable", "ADA@example.com")
	if !strings.Contains(strings.ToLower(stderr), "ada@example.com is already enabled") {
		t.Errorf("enable twice: %s", stderr)
	}

	// list and show: masked PINs, never the PIN.
	out = c.ok("user", "list")
	for _, s := range []string{"ada@example.com", "Ada Lovelace", adaID, "bob@example.com", bob.User.ConferenceID, "carol@example.com", "3 user(s)"} {
		if !strings.Contains(out, s) {
			t.Errorf("user list: no %q:\n%s", s, out)
		}
	}
	if strings.Count(out, store.MaskedPIN) != 3 || countPIN(out, adaPIN) != 0 || countPIN(out, bob.PIN) != 0 {
		t.Errorf("user list: want 3 masked PINs and no PIN:\n%s", out)
	}
	var users []client.User
	c.okJSON(&users, "user", "list")
	if len(users) != 3 {
		t.Fatalf("user list --json: %d users, want 3", len(users))
	}
	// Options before the command's name, as the usage promises.
	var early []client.User
	if err := jsonInto(c.ok("--json", "user", "list"), &early); err != nil || len(early) != 3 {
		t.Fatalf("dialin --json user list: %d users, %v", len(early), err)
	}
	for _, u := range users {
		if u.PIN != store.MaskedPIN {
			t.Errorf("user list --json: %s has pin %q", u.Email, u.PIN)
		}
	}
	out = c.ok("user", "show", "ada@example.com")
	if !outLine(out, "conference ID", adaID) || !outLine(out, "display name", "Ada Lovelace") ||
		!strings.Contains(out, store.MaskedPIN) || countPIN(out, adaPIN) != 0 {
		t.Errorf("user show:\n%s", out)
	}
	var ada client.User
	c.okJSON(&ada, "user", "show", "ada@example.com")
	if ada.Email != "ada@example.com" || ada.ConferenceID != adaID || ada.PIN != store.MaskedPIN || ada.PINLength != 5 {
		t.Errorf("user show --json: %+v", ada)
	}

	// pin reset: the new PIN, once.
	out = c.ok("pin", "reset", "ada@example.com", "--no-email")
	pin := outField(t, out, "PIN")
	checkPIN(t, pin, 5)
	if countPIN(out, pin) != 1 || !strings.Contains(out, "shown once") || !strings.Contains(out, "none sent (--no-email)") {
		t.Errorf("pin reset:\n%s", out)
	}
	var ch client.Change
	c.okJSON(&ch, "pin", "reset", "ada@example.com")
	checkPIN(t, ch.PIN, 5)
	if !ch.EmailQueued || ch.User.PIN != store.MaskedPIN {
		t.Errorf("pin reset --json: %+v", ch)
	}
	if out := c.ok("user", "show", "ada@example.com", "--json"); countPIN(out, ch.PIN) != 0 || countPIN(out, pin) != 0 {
		t.Errorf("user show --json shows a PIN:\n%s", out)
	}

	// pin set: stored (pin_set_at and length change), never printed.
	c.okJSON(&ada, "user", "show", "ada@example.com")
	before := ada.PINSetAt
	out = c.ok("pin", "set", "ada@example.com", "493817")
	if !strings.Contains(out, "PIN set (6 digits)") || strings.Contains(out, "493817") {
		t.Errorf("pin set:\n%s", out)
	}
	c.okJSON(&ada, "user", "show", "ada@example.com")
	if ada.PINLength != 6 || !ada.PINSetAt.After(before) {
		t.Errorf("after pin set: pin_length %d, pin_set_at %v (before %v)", ada.PINLength, ada.PINSetAt, before)
	}
	before = ada.PINSetAt
	c.okJSON(&ch, "pin", "set", "ada@example.com", "738194")
	if ch.PIN != "" || ch.EmailQueued || ch.User.PINLength != 6 || !ch.User.PINSetAt.After(before) {
		t.Errorf("pin set --json: %+v", ch)
	}
	before = ch.User.PINSetAt
	// PINs that break the policy: the message names the rule.
	for pin, rule := range map[string]string{"12345": "sequence", "123": "length", "11111": "repeated", "12a45": "digits"} {
		stderr := c.fails(1, "pin", "set", "ada@example.com", pin)
		if !strings.Contains(stderr, "rule "+rule) {
			t.Errorf("pin set %s: want rule %s: %s", pin, rule, stderr)
		}
	}
	c.okJSON(&ada, "user", "show", "ada@example.com")
	if !ada.PINSetAt.Equal(before) {
		t.Errorf("a refused PIN changed pin_set_at: %v -> %v", before, ada.PINSetAt)
	}

	// pin unlock.
	if out := c.ok("pin", "unlock", "ada@example.com"); !strings.Contains(out, "ada@example.com: PIN unlocked") {
		t.Errorf("pin unlock: %s", out)
	}
	c.okJSON(&ch, "pin", "unlock", "ada@example.com")
	if ch.User.Locked || ch.User.Lock.Failures != 0 || ch.PIN != "" {
		t.Errorf("pin unlock --json: %+v", ch)
	}

	// conference-id reset and set.
	out = c.ok("conference-id", "reset", "ada@example.com", "--no-email")
	newID := outField(t, out, "conference ID")
	if newID == adaID || !store.ValidConferenceID(newID) || !outLine(out, "email", "none sent (--no-email): pass the details on yourself") {
		t.Errorf("conference-id reset (old %s):\n%s", adaID, out)
	}
	c.okJSON(&ch, "conference-id", "reset", "ada@example.com")
	if ch.User.ConferenceID == newID || !store.ValidConferenceID(ch.User.ConferenceID) || ch.PIN != "" || !ch.EmailQueued {
		t.Errorf("conference-id reset --json: %+v", ch)
	}
	id := newConferenceID(t)
	out = c.ok("conference-id", "set", "ada@example.com", id)
	if outField(t, out, "conference ID") != id || !outLine(out, "email", "queued to ada@example.com") {
		t.Errorf("conference-id set %s:\n%s", id, out)
	}
	id2 := newConferenceID(t)
	c.okJSON(&ch, "conference-id", "set", "ada@example.com", id2, "--no-email")
	if ch.User.ConferenceID != id2 || ch.EmailQueued {
		t.Errorf("conference-id set --json: %+v", ch)
	}
	stderr = c.fails(1, "conference-id", "set", "ada@example.com", bob.User.ConferenceID)
	if !strings.Contains(stderr, bob.User.ConferenceID) {
		t.Errorf("conference-id set to bob's ID: %s", stderr)
	}
	// The message names the right check digit.
	right := newConferenceID(t)
	stderr = c.fails(1, "conference-id", "set", "ada@example.com", wrongCheckDigit(right))
	if !strings.Contains(stderr, "must be "+right[6:]) {
		t.Errorf("wrong check digit (right: %s): %s", right, stderr)
	}

	// send-info: ID and numbers, no PIN.
	out = c.ok("conference-id", "send-info", "ada@example.com", "--email-to", "desk@example.com")
	if !outLine(out, "conference ID", id2) || !outLine(out, "email", "queued to desk@example.com") {
		t.Errorf("send-info:\n%s", out)
	}
	c.okJSON(&ch, "conference-id", "send-info", "bob@example.com")
	if !ch.EmailQueued || ch.PIN != "" || ch.User.Email != "bob@example.com" {
		t.Errorf("send-info --json: %+v", ch)
	}

	// Unknown users: exit 1, one clear line.
	r := c.run("user", "show", "nobody@example.com")
	if r.Code != 1 || r.Stderr != "dialin: user nobody@example.com not found\n" || r.Stdout != "" {
		t.Errorf("user show nobody: exit %d, stderr %q, stdout %q", r.Code, r.Stderr, r.Stdout)
	}
	for _, args := range [][]string{{"pin", "reset", "nobody@example.com"}, {"user", "disable", "nobody@example.com"}} {
		if stderr := c.fails(1, args...); !strings.Contains(stderr, "nobody@example.com not found") {
			t.Errorf("dialin %s: %s", strings.Join(args, " "), stderr)
		}
	}

	// disable.
	if out := c.ok("user", "disable", "bob@example.com"); !strings.Contains(out, "bob@example.com: disabled") {
		t.Errorf("user disable: %s", out)
	}
	c.fails(1, "user", "show", "bob@example.com")
	if out := c.ok("user", "disable", "carol@example.com", "--json"); out != "" {
		t.Errorf("user disable --json printed %q", out)
	}
	c.okJSON(&users, "user", "list")
	if len(users) != 1 || users[0].Email != "ada@example.com" {
		t.Errorf("after disabling two: %+v", users)
	}
}

// TestCLIMeetingsAndSettings covers meeting and settings, in text and JSON.
func TestCLIMeetingsAndSettings(t *testing.T) {
	t.Parallel()
	_, c := startAdminBridge(t, "demo_organizer: false")
	var ada client.Change
	c.okJSON(&ada, "user", "enable", "ada@example.com", "--no-email")

	// settings show.
	out := c.ok("settings", "show")
	for k, v := range map[string]string{"pin-length": "5", "send-emails": "on", "conference-id-mode": "static",
		"lockout-window": "30m0s", "lockout-local-limit": "0 (automatic)", "dial-in-numbers": "-",
		"entry-exit-announcements": "tones"} {
		if !outLine(out, k, v) {
			t.Errorf("settings show: want %s %s:\n%s", k, v, out)
		}
	}
	var s client.Settings
	c.okJSON(&s, "settings", "show")
	if s.PINLength != 5 || !s.SendEmails || s.Lockout.Window != "30m0s" || s.LobbyAdmission != "organizer" {
		t.Errorf("settings show --json: %+v", s)
	}

	// settings set, every key; the output is the key as it now is.
	for _, tc := range []struct{ key, value, want string }{
		{"pin-length", "6", "6"},
		{"send-emails", "no", "off"},
		{"conference-id-mode", "dynamic", "dynamic"},
		{"anonymous-can-start", "yes", "on"},
		{"lobby-admission", "auto", "auto"},
		{"dial-in-bypass-lobby", "true", "on"},
		{"entry-exit-announcements", "off", "off"},
		{"block-common-pins", "off", "off"},
		{"lockout-window", "45m", "45m0s"},
		{"lockout-local-lock-duration", "2h", "2h0m0s"},
		{"lockout-local-limit", "7", "7"},
		{"lockout-global-limit", "70", "70"},
		{"dial-in-numbers", "+1 425 555 0100, +44 20 7946 0000", "+1 425 555 0100, +44 20 7946 0000"},
	} {
		if out := c.ok("settings", "set", tc.key, tc.value); !outLine(out, tc.key, tc.want) {
			t.Errorf("settings set %s %q: want %q:\n%s", tc.key, tc.value, tc.want, out)
		}
	}
	c.okJSON(&s, "settings", "show")
	want := client.Settings{PINLength: 6, ConferenceIDMode: "dynamic", AnonymousCanStart: true, LobbyAdmission: "auto",
		DialInBypassLobby: true, Lockout: client.Lockout{Window: "45m0s", LocalLockDuration: "2h0m0s", LocalLimit: 7, GlobalLimit: 70},
		DialInNumbers: []string{"+1 425 555 0100", "+44 20 7946 0000"}, EntryExitAnnouncements: "off"}
	s.Raw = nil
	if fmt.Sprint(s) != fmt.Sprint(want) {
		t.Errorf("settings after set:\n got %+v\nwant %+v", s, want)
	}
	c.okJSON(&s, "settings", "set", "pin-length", "7")
	if s.PINLength != 7 {
		t.Errorf("settings set --json: %+v", s)
	}
	// Out of range: exit 1, nothing changed.
	if stderr := c.fails(1, "settings", "set", "pin-length", "13"); !strings.Contains(stderr, "pin_length") {
		t.Errorf("pin-length 13: %s", stderr)
	}
	c.fails(1, "settings", "set", "lockout-window", "10s")
	c.okJSON(&s, "settings", "show")
	if s.PINLength != 7 || s.Lockout.Window != "45m0s" {
		t.Errorf("refused settings changed something: %+v", s)
	}
	c.okJSON(&s, "settings", "set", "dial-in-numbers", "")
	if len(s.DialInNumbers) != 0 {
		t.Errorf("dial-in-numbers \"\": %q", s.DialInNumbers)
	}
	// In dynamic mode a new user has no static conference ID.
	out = c.ok("user", "enable", "bob@example.com")
	if !strings.Contains(out, "dynamic conference IDs") {
		t.Errorf("enable in dynamic mode:\n%s", out)
	}
	checkPIN(t, outField(t, out, "PIN"), 7)
	if !outLine(out, "email", "none sent (the send-emails setting is off): pass the details on yourself") {
		t.Errorf("enable with send-emails off:\n%s", out)
	}

	// meeting create, text and JSON.
	out = c.ok("meeting", "create", "ada@example.com")
	m1 := outField(t, out, "conference ID")
	if !store.ValidConferenceID(m1) || !outLine(out, "require organizer", "yes") || !outLine(out, "bypass lobby", "no") {
		t.Errorf("meeting create:\n%s", out)
	}
	var m2 client.Meeting
	c.okJSON(&m2, "meeting", "create", "ada@example.com", "--no-require-organizer", "--bypass-lobby")
	if m2.Organizer != "ada@example.com" || m2.RequireOrganizer || !m2.BypassLobby || m2.Static || !store.ValidConferenceID(m2.ConferenceID) {
		t.Errorf("meeting create --json: %+v", m2)
	}
	var m3 client.Meeting
	c.okJSON(&m3, "meeting", "create", "bob@example.com")
	c.fails(1, "meeting", "create", "nobody@example.com")

	// meeting list: every meeting, or one organizer's.
	out = c.ok("meeting", "list")
	for _, id := range []string{ada.User.ConferenceID, m1, m2.ConferenceID, m3.ConferenceID} {
		if !strings.Contains(out, id) {
			t.Errorf("meeting list: no %s:\n%s", id, out)
		}
	}
	var ms []client.Meeting
	c.okJSON(&ms, "meeting", "list")
	if len(ms) != 4 {
		t.Errorf("meeting list --json: %d meetings, want 4", len(ms))
	}
	c.okJSON(&ms, "meeting", "list", "--organizer", "ada@example.com")
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ConferenceID)
	}
	if len(ids) != 3 || !slices.Contains(ids, m1) || !slices.Contains(ids, ada.User.ConferenceID) || slices.Contains(ids, m3.ConferenceID) {
		t.Errorf("meeting list --organizer ada: %q", ids)
	}
	if out := c.ok("meeting", "list", "--organizer", "bob@example.com"); !strings.Contains(out, m3.ConferenceID) || strings.Contains(out, m1) {
		t.Errorf("meeting list --organizer bob:\n%s", out)
	}

	// meeting show.
	out = c.ok("meeting", "show", m1)
	if !outLine(out, "organizer", "ada@example.com") || !outLine(out, "started", "no") {
		t.Errorf("meeting show:\n%s", out)
	}
	var m client.Meeting
	c.okJSON(&m, "meeting", "show", m2.ConferenceID)
	if m.ConferenceID != m2.ConferenceID || m.Live == nil || m.Live.Started {
		t.Errorf("meeting show --json: %+v", m)
	}
	c.fails(1, "meeting", "show", newConferenceID(t))

	// meeting delete; a user's static ID cannot be deleted.
	if out := c.ok("meeting", "delete", m1); !strings.Contains(out, "meeting "+m1+" deleted") {
		t.Errorf("meeting delete: %s", out)
	}
	if stderr := c.fails(1, "meeting", "show", m1); !strings.Contains(stderr, "not found") {
		t.Errorf("show a deleted meeting: %s", stderr)
	}
	if out := c.ok("meeting", "delete", m2.ConferenceID, "--json"); out != "" {
		t.Errorf("meeting delete --json printed %q", out)
	}
	c.fails(1, "meeting", "delete", ada.User.ConferenceID)
	c.okJSON(&ms, "meeting", "list")
	if len(ms) != 2 {
		t.Errorf("after deleting two meetings: %d left, want 2", len(ms))
	}
}

// TestCLIConfigAndConnection: with no --server or --token the CLI finds the
// API and the generated token file from the configuration; a wrong token,
// a closed port and a silent server give one clear line.
func TestCLIConfigAndConnection(t *testing.T) {
	t.Parallel()
	port := freePort(t, false)
	// No admin.token: the bridge creates data/admin-token.
	b := startBridge(t, udpOnlySIP+"demo_organizer: true\n"+fmt.Sprintf("admin: {listen: \"127.0.0.1:%d\"}", port))
	url := apiURL(t, b)
	if want := fmt.Sprintf("http://127.0.0.1:%d", port); url != want {
		t.Fatalf("API at %s, want %s", url, want)
	}
	tokenFile := filepath.Join(b.Dir, "data", "admin-token")
	ready := b.WaitLog(t, msgIs("admin API ready"), time.Second)
	if ready["token_source"] != tokenFile {
		t.Errorf("token_source = %v, want %s", ready["token_source"], tokenFile)
	}
	fi, err := os.Stat(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %04o, want 0600", tokenFile, fi.Mode().Perm())
	}
	data, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(data))
	cfgPath := filepath.Join(b.Dir, "dialin.yaml")

	// --config only: URL from admin.listen, token from the file.
	r := runCLI(t, "", nil, "user", "list", "--config", cfgPath)
	if r.Code != 0 || !strings.Contains(r.Stdout, "demo@example.com") || !strings.Contains(r.Stdout, store.MaskedPIN) {
		t.Fatalf("user list --config: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	// DIALIN_CONFIG does the same.
	r = runCLI(t, "", []string{"DIALIN_CONFIG=" + cfgPath}, "user", "show", "demo@example.com")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Demo Organizer") {
		t.Errorf("DIALIN_CONFIG: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	// No configuration at all: the built-in data folder "data", relative
	// to where the command runs (as `make run` does).
	r = runCLI(t, b.Dir, []string{"DIALIN_SERVER=" + url}, "settings", "show")
	if r.Code != 0 || !outLine(r.Stdout, "pin-length", "5") {
		t.Errorf("built-in config with DIALIN_SERVER: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	// The environment alone.
	r = runCLI(t, "", []string{"DIALIN_SERVER=" + strings.TrimPrefix(url, "http://"), "DIALIN_ADMIN_TOKEN=" + token}, "user", "list", "--json")
	if r.Code != 0 || !strings.Contains(r.Stdout, `"demo@example.com"`) {
		t.Errorf("DIALIN_SERVER and DIALIN_ADMIN_TOKEN: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}

	// A wrong token: --token and DIALIN_ADMIN_TOKEN win over the file.
	const prefix = "dialin: the API refused the token (401 unauthorized): check --token, DIALIN_ADMIN_TOKEN or "
	args := []string{"user", "list", "--config", cfgPath, "--token", "wrong-token-0123456789abcdef"}
	r = runCLI(t, "", nil, args...)
	checkFailure(t, r, 1, args)
	if !strings.HasPrefix(r.Stderr, prefix) || !strings.Contains(r.Stderr, "--token)") {
		t.Errorf("wrong --token: %q", r.Stderr)
	}
	args = []string{"settings", "show", "--server", url}
	r = runCLI(t, "", []string{"DIALIN_ADMIN_TOKEN=wrong-token-0123456789abcdef"}, args...)
	checkFailure(t, r, 1, args)
	if !strings.HasPrefix(r.Stderr, prefix) || !strings.Contains(r.Stderr, "DIALIN_ADMIN_TOKEN)") {
		t.Errorf("wrong DIALIN_ADMIN_TOKEN: %q", r.Stderr)
	}
	// A wrong token file names the file.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "admin-token"), []byte("wrong-token-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	otherCfg := filepath.Join(other, "dialin.yaml")
	if err := os.WriteFile(otherCfg, fmt.Appendf(nil, "admin: {listen: \"127.0.0.1:%d\"}\ndata_dir: %q\n", port, other), 0o600); err != nil {
		t.Fatal(err)
	}
	args = []string{"user", "list", "--config", otherCfg}
	r = runCLI(t, "", nil, args...)
	checkFailure(t, r, 1, args)
	if r.Stderr != prefix+filepath.Join(other, "admin-token")+"\n" {
		t.Errorf("wrong token file: %q", r.Stderr)
	}
	// No token anywhere.
	if err := os.Remove(filepath.Join(other, "admin-token")); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, "", nil, args...)
	checkFailure(t, r, 1, args)
	if !strings.Contains(r.Stderr, "admin-token does not exist") {
		t.Errorf("no token file: %q", r.Stderr)
	}

	// Nothing listening.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	args = []string{"user", "list", "--server", "http://" + closed, "--token", token}
	r = runCLI(t, "", nil, args...)
	checkFailure(t, r, 1, args)
	if want := "dialin: cannot reach the API at http://" + closed + ": connection refused (is dialin serve running?)\n"; r.Stderr != want {
		t.Errorf("closed port: %q, want %q", r.Stderr, want)
	}
	// A server that accepts but never answers: --timeout.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	args = []string{"user", "list", "--server", "http://" + silent.Addr().String(), "--token", token, "--timeout", "300ms"}
	r = runCLI(t, "", nil, args...)
	checkFailure(t, r, 1, args)
	if !strings.Contains(r.Stderr, "no answer from the API at http://"+silent.Addr().String()+" within 300ms") {
		t.Errorf("silent server: %q", r.Stderr)
	}
}

// ---- Emails -------------------------------------------------------------

// emailYAML is the email section of a bridge that sends to s quickly.
func emailYAML(s *smtptest.Server, user, password string) string {
	y := fmt.Sprintf("email: {smtp_host: %s, smtp_port: %d, security: none, retry_min: 200ms, retry_max: 1s", s.Host(), s.Port())
	if user != "" {
		y += fmt.Sprintf(", username: %s, password: %s", user, password)
	}
	return y + "}\n"
}

// checkMail checks one received email: recipient, what it must and must
// not contain.
func checkMail(t *testing.T, m smtptest.Message, to string, has []string, hasNot []string) {
	t.Helper()
	if len(m.To) != 1 || m.To[0] != to {
		t.Errorf("email %q went to %q, want %s", m.Subject, m.To, to)
	}
	for _, s := range has {
		if !strings.Contains(m.Text, s) {
			t.Errorf("email %q to %s: no %q in:\n%s", m.Subject, to, s, m.Text)
		}
	}
	for _, s := range hasNot {
		// Not Raw: a 5-digit PIN may appear in a Message-ID or a boundary.
		if countPIN(m.Text, s) > 0 || countPIN(m.HTML, s) > 0 {
			t.Errorf("email %q to %s contains %q:\n%s", m.Subject, to, s, m.Text)
		}
	}
}

// TestCLIEmail: which changes send which email to whom, and that an email
// queued while the SMTP server is down arrives once it is back.
func TestCLIEmail(t *testing.T) {
	t.Parallel()
	smtp := smtptest.Start(t, smtptest.Options{})
	b, c := startAdminBridge(t, "demo_organizer: false\n"+emailYAML(smtp, "", ""))
	c.ok("settings", "set", "dial-in-numbers", "+1 425 555 0100")
	const wait = 15 * time.Second // the mailer looks for retries every 5 s

	// enable: to the user, with the conference ID and the PIN.
	var ada client.Change
	c.okJSON(&ada, "user", "enable", "ada@example.com", "--name", "Ada")
	msgs := smtp.Wait(t, 1, wait)
	checkMail(t, msgs[0], "ada@example.com", []string{ada.User.ConferenceID, ada.PIN, "+1 425 555 0100", "Hello Ada"}, nil)

	// pin reset --email-to: to the other address, with the new PIN.
	out := c.ok("pin", "reset", "ada@example.com", "--email-to", "other@example.com")
	pin := outField(t, out, "PIN")
	msgs = smtp.Wait(t, 2, wait)
	checkMail(t, msgs[1], "other@example.com", []string{pin}, nil)

	// --no-email, and send-emails off: nothing is queued. The outbox sends
	// in order, so a stray email would arrive before the next expected one.
	c.ok("pin", "reset", "ada@example.com", "--no-email")
	c.ok("settings", "set", "send-emails", "off")
	var bob client.Change
	c.okJSON(&bob, "user", "enable", "bob@example.com")
	c.okJSON(&bob, "pin", "reset", "bob@example.com")
	if bob.EmailQueued {
		t.Errorf("send-emails off: pin reset queued an email")
	}
	c.ok("settings", "set", "send-emails", "on")

	// conference-id reset: the new ID, no PIN.
	var ch client.Change
	c.okJSON(&ch, "pin", "reset", "ada@example.com", "--no-email")
	adaPIN := ch.PIN
	c.okJSON(&ch, "conference-id", "reset", "ada@example.com")
	msgs = smtp.Wait(t, 3, wait)
	checkMail(t, msgs[2], "ada@example.com", []string{ch.User.ConferenceID}, []string{adaPIN, "Your PIN"})

	// send-info: the ID and the numbers, never the PIN.
	c.ok("conference-id", "send-info", "ada@example.com")
	msgs = smtp.Wait(t, 4, wait)
	checkMail(t, msgs[3], "ada@example.com", []string{ch.User.ConferenceID, "+1 425 555 0100"}, []string{adaPIN, "Your PIN"})

	// The server has the message before the mailer has its answer and marks
	// it sent: stopping the server in between makes the mailer send it
	// again (at least once is the outbox's promise). Wait for the mark.
	b.WaitLog(t, allOf(msgIs("email sent"), fieldIs("kind", "conference_info")), wait)

	// The SMTP server is down: the email stays queued and goes out when it
	// is back.
	smtp.Stop()
	out = c.ok("pin", "reset", "ada@example.com")
	pin = outField(t, out, "PIN")
	b.WaitLog(t, allOf(msgIs("email not sent; kept in the outbox"), fieldIs("to", "ada@example.com")), wait)
	smtp.Restart(t)
	msgs = smtp.Wait(t, 5, wait)
	checkMail(t, msgs[4], "ada@example.com", []string{pin}, nil)

	if n := len(smtp.Messages()); n != 5 {
		t.Errorf("%d emails, want 5: %v", n, subjects(smtp.Messages()))
	}
}

func subjects(msgs []smtptest.Message) []string {
	var s []string
	for _, m := range msgs {
		s = append(s, m.Subject+" -> "+strings.Join(m.To, ","))
	}
	return s
}

// TestCLIEmailBadPassword: a wrong SMTP password is logged as an
// authentication failure and the email stays queued: a bridge restarted on
// the same data with the right password sends it.
func TestCLIEmailBadPassword(t *testing.T) {
	t.Parallel()
	smtp := smtptest.Start(t, smtptest.Options{Username: "dialin", Password: "right-password"})
	dir := t.TempDir()
	base := udpOnlySIP + "admin: {token: " + testAdminToken + "}\ndemo_organizer: false\n"
	b := startBridgeIn(t, dir, base+emailYAML(smtp, "dialin", "wrong-password"))
	c := apiCLI{t: t, url: apiURL(t, b), token: testAdminToken}

	var ada client.Change
	c.okJSON(&ada, "user", "enable", "ada@example.com")
	l := b.WaitLog(t, msgIs("email not sent; kept in the outbox"), 10*time.Second)
	if e, _ := l["error"].(string); !strings.Contains(e, "authentication") {
		t.Errorf("send error does not mention authentication: %v", l)
	}
	if smtp.AuthFailures() == 0 {
		t.Errorf("the SMTP server saw no failed AUTH")
	}
	if err := b.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if n := len(smtp.Messages()); n != 0 {
		t.Fatalf("%d emails arrived with the wrong password", n)
	}

	startBridgeIn(t, dir, base+emailYAML(smtp, "dialin", "right-password"))
	msgs := smtp.Wait(t, 1, 15*time.Second)
	checkMail(t, msgs[0], "ada@example.com", []string{ada.User.ConferenceID, ada.PIN}, nil)
}

func jsonInto(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// TestCLIMeetingLive: start a meeting on a real bridge and see it started.
func TestCLIMeetingLive(t *testing.T) {
	t.Parallel()
	_, c := startAdminBridge(t, "demo_organizer: false")
	var ada client.Change
	c.okJSON(&ada, "user", "enable", "ada@example.com", "--no-email")
	id := ada.User.ConferenceID

	// What works with or without the bridge: unknown meetings are not found.
	for _, args := range [][]string{{"meeting", "start", newConferenceID(t)}, {"meeting", "end", newConferenceID(t)},
		{"meeting", "mute", newConferenceID(t), "p1"}, {"meeting", "remove", newConferenceID(t), "p1"}} {
		if stderr := c.fails(1, args...); !strings.Contains(stderr, "not found") {
			t.Errorf("dialin %q: %q", args, stderr)
		}
	}

	r := c.run("meeting", "start", id)
	if r.Code != 0 || !strings.Contains(r.Stdout, "started") {
		t.Fatalf("meeting start: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	out := c.ok("meeting", "show", id)
	if !strings.Contains(out, "started") || !outLine(out, "started", "yes") {
		t.Fatalf("meeting show after start:\n%s", out)
	}
	var m client.Meeting
	c.okJSON(&m, "meeting", "show", id)
	if m.Live == nil || !m.Live.Started {
		t.Errorf("meeting show --json after start: %+v", m.Live)
	}
	// Nobody waits and nobody is in it: admitting everyone admits nobody,
	// and an id names nobody.
	if out := c.ok("meeting", "admit", id); out != "admitted 0 caller(s)\n" {
		t.Errorf("admit with an empty lobby: %q", out)
	}
	if stderr := c.fails(1, "meeting", "remove", id, "nobody"); !strings.Contains(stderr, "nobody") {
		t.Errorf("remove nobody: %q", stderr)
	}
	if out := c.ok("meeting", "end", id); !strings.Contains(out, "ended") {
		t.Errorf("meeting end: %q", out)
	}
	if !outLine(c.ok("meeting", "show", id), "started", "no") {
		t.Errorf("meeting show after end: still started")
	}
	if stderr := c.fails(1, "meeting", "end", id); !strings.Contains(stderr, "has not started") {
		t.Errorf("end an ended meeting: %q", stderr)
	}
}
