package cli

import (
	"strings"
	"testing"
)

// TestCLIUsage: bad usage exits 2 with a usage text, help exits 0, and
// neither needs a server.
func TestCLIUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"user"},
		{"user", "frob"},
		{"user", "show"},
		{"user", "show", "ada@example.com", "extra"},
		{"pin", "set", "ada@example.com"},
		{"user", "list", "--bogus"},
		{"user", "list", "--no-email"},
		{"user", "list", "--server"},
		{"user", "list", "--timeout", "soon"},
		{"pin", "reset", "ada@example.com", "--no-email", "--email-to", "b@example.com"},
		{"settings", "set", "pin-length", "six"},
		{"settings", "set", "send-emails", "maybe"},
		{"settings", "set", "lockout-window", "soon"},
		{"settings", "set", "conference-id-mode", "sometimes"},
	} {
		r := run(args...)
		checkFailure(t, r, 2, args)
		if !strings.Contains(r.Stderr, "\nUsage") {
			t.Errorf("dialin %s: no usage in stderr:\n%s", strings.Join(args, " "), r.Stderr)
		}
	}
	// An unknown key lists the keys.
	r := run("settings", "set", "colour", "blue")
	checkFailure(t, r, 2, []string{"settings", "set", "colour", "blue"})
	for _, k := range settingKeys {
		if !strings.Contains(r.Stderr, k.name) {
			t.Errorf("unknown key: %s not listed:\n%s", k.name, r.Stderr)
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "--help"}, "dialin user enable EMAIL [--name NAME] [--email-override ADDRESS] [--no-email] [--email-to ADDRESS]"},
		{[]string{"user", "help"}, "dialin user list"},
		{[]string{"pin", "reset", "-h"}, "Usage: dialin pin reset EMAIL [--no-email] [--email-to ADDRESS]"},
		{[]string{"settings", "set", "--help"}, "lockout-local-lock-duration"},
		{[]string{"meeting", "--help"}, "dialin meeting create EMAIL [--no-require-organizer] [--bypass-lobby]"},
		{[]string{"conference-id", "--help"}, "dialin conference-id send-info EMAIL [--email-to ADDRESS]"},
		{[]string{"help"}, "dialin serve"},
	} {
		r := run(tc.args...)
		if r.Code != 0 || r.Stderr != "" || !strings.Contains(r.Stdout, tc.want) {
			t.Errorf("dialin %s: exit %d, stderr %q, stdout without %q:\n%s", strings.Join(tc.args, " "), r.Code, r.Stderr, tc.want, r.Stdout)
		}
	}
}

// TestCLIMeetingLiveUsage: bad usage of the live-control commands exits 2
// with the usage, before any server is looked for.
func TestCLIMeetingLiveUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"meeting", "start"},
		{"meeting", "start", "1234566", "extra"},
		{"meeting", "start", ""},
		{"meeting", "start", "1234566", "--off"},
		{"meeting", "end"},
		{"meeting", "end", "1234566", "extra"},
		{"meeting", "admit"},
		{"meeting", "admit", "1234566", "l1", "extra"},
		{"meeting", "admit", "1234566", ""},
		{"meeting", "admit", "", "l1"},
		{"meeting", "admit", "1234566", "--off"},
		{"meeting", "mute"},
		{"meeting", "mute", "1234566"},
		{"meeting", "mute", "1234566", "p1", "extra"},
		{"meeting", "mute", "1234566", " "},
		{"meeting", "mute", "1234566", "p1", "--off=maybe"},
		{"meeting", "mute", "1234566", "p1", "--on"},
		{"meeting", "remove"},
		{"meeting", "remove", "1234566"},
		{"meeting", "remove", "1234566", "p1", "extra"},
		{"meeting", "remove", "1234566", ""},
		{"meeting", "remove", "1234566", "p1", "--off"},
		{"meeting", "show", "1234566", "--off"},
	} {
		r := run(args...)
		checkFailure(t, r, 2, args)
		if !strings.Contains(r.Stderr, "\nUsage") {
			t.Errorf("dialin %q: no usage in stderr:\n%s", args, r.Stderr)
		}
	}
	r := run("meeting", "admit")
	if !strings.Contains(r.Stderr, "meeting admit: missing ID\n") || !strings.Contains(r.Stderr, "Usage: dialin meeting admit ID [CALLER-ID]\n") {
		t.Errorf("admit without ID:\n%s", r.Stderr)
	}
	r = run("meeting", "--help")
	for _, want := range []string{
		"dialin meeting show ID\n",
		"dialin meeting start ID\n",
		"dialin meeting end ID\n",
		"dialin meeting admit ID [CALLER-ID]\n",
		"dialin meeting mute ID PARTICIPANT-ID [--off]\n",
		"dialin meeting remove ID CALLER-ID\n",
	} {
		if r.Code != 0 || !strings.Contains(r.Stdout, want) {
			t.Errorf("meeting --help: exit %d, no %q:\n%s", r.Code, want, r.Stdout)
		}
	}
}
