package main

import (
	"strings"
	"testing"
)

// TestMainCommandLine: the binary runs admin/cli's command line, with its
// exit codes (the behaviours themselves are tested in admin/cli).
func TestMainCommandLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string // prefix
		stderr string // first line
	}{
		{[]string{"--version"}, 0, "dialin ", ""},
		{[]string{"serve", "--help"}, 0, "Usage: dialin serve [--config FILE]\n", ""},
		{[]string{"help", "user"}, 0, "Usage:\n  dialin user enable EMAIL", ""},
		{[]string{"nope"}, 2, "", `dialin: unknown command "nope"`},
		{[]string{"serve", "--nope"}, 2, "", "dialin: unknown flag --nope"},
		{[]string{"check-config", "missing.yaml"}, 1, "", "dialin: read config: open missing.yaml: no such file or directory"},
	} {
		r := runCLI(t, "", nil, tc.args...)
		first, _, _ := strings.Cut(r.Stderr, "\n")
		if r.Code != tc.code || !strings.HasPrefix(r.Stdout, tc.stdout) || first != tc.stderr {
			t.Errorf("dialin %q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.args, r.Code, tc.code, r.Stdout, r.Stderr)
		}
	}
}
