package cli

import (
	"slices"
	"strings"
	"testing"
)

func TestCLIParseLine(t *testing.T) {
	l, err := parseLine([]string{"user", "--json", "enable", "ada@example.com", "--name", "Ada L", "--email-to=x@example.com", "--no-email=false", "-timeout", "3s", "--", "--odd"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"user", "enable", "ada@example.com", "--odd"}; !slices.Equal(l.args, want) {
		t.Errorf("args = %q, want %q", l.args, want)
	}
	want := map[string]string{"json": "true", "name": "Ada L", "email-to": "x@example.com", "no-email": "false", "timeout": "3s"}
	for k, v := range want {
		if l.flags[k] != v {
			t.Errorf("flag %s = %q, want %q", k, l.flags[k], v)
		}
	}
	for _, bad := range [][]string{{"user", "list", "--nope"}, {"user", "list", "--server"}, {"user", "list", "--json=maybe"}} {
		if _, err := parseLine(bad); err == nil {
			t.Errorf("parseLine(%q) accepted", bad)
		}
	}
	// Which command a line names, whatever options come before its name;
	// a bad option is a usage error that names it, before or after.
	app := New(noServe)
	for _, tc := range []struct {
		args []string
		want string // the command, "" for none
		err  string // the first line of stderr, when it is a usage error
	}{
		{[]string{"user", "list"}, "user list", ""},
		{[]string{"--json", "user", "list"}, "user list", ""},
		{[]string{"--server", "http://x:1", "--token", "t", "me", "show"}, "me show", ""},
		{[]string{"user", "list", "--nope"}, "", "dialin: unknown flag --nope"},
		{[]string{"serve", "--config", "x.yaml"}, "serve", ""},
		{[]string{"--config", "x.yaml", "serve"}, "serve", ""},
		{[]string{"check-config", "x.yaml"}, "check-config", ""},
		{[]string{"--nope", "user", "list"}, "", "dialin: unknown flag --nope"},
		{[]string{"--json"}, "", "dialin: no command given"},
		{nil, "", "dialin: no command given"},
	} {
		got := ""
		if l, err := parseLine(tc.args); err == nil && len(l.args) > 0 {
			if cmd, _, _, err := app.find(l.args); err == nil && cmd != nil {
				got = cmd.name
			}
		}
		if got != tc.want {
			t.Errorf("dialin %q names %q, want %q", tc.args, got, tc.want)
		}
		if tc.err == "" {
			continue
		}
		r := run(tc.args...)
		checkFailure(t, r, ExitUsage, tc.args)
		if first, _, _ := strings.Cut(r.Stderr, "\n"); first != tc.err {
			t.Errorf("dialin %q: first line %q, want %q", tc.args, first, tc.err)
		}
	}
}
