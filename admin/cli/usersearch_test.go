package cli

import (
	"strings"
	"testing"
)

// TestUserListSearch: dialin user list --search TEXT lists the users whose
// email, display name or conference ID starts with TEXT, and says so when
// none does.
func TestUserListSearch(t *testing.T) {
	t.Parallel()
	url, _ := inProcessAPI(t, nil)
	for _, args := range [][]string{
		{"user", "enable", "ada@example.com", "--name", "Ada Lovelace", "--no-email"},
		{"user", "enable", "grace@example.com", "--name", "Grace Hopper", "--no-email"},
	} {
		if r := inProcessCLI(url, args...); r.Code != ExitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, r.Code, r.Stdout, r.Stderr)
		}
	}
	r := inProcessCLI(url, "user", "list", "--search", "ADA L")
	if r.Code != ExitOK || !strings.Contains(r.Stdout, "ada@example.com") || !strings.Contains(r.Stdout, "1 user(s)") {
		t.Errorf("--search 'ADA L': exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = inProcessCLI(url, "user", "list", "--search", "gr")
	if r.Code != ExitOK || !strings.Contains(r.Stdout, "grace@example.com") || strings.Contains(r.Stdout, "ada@") ||
		!strings.Contains(r.Stdout, "1 user(s)") {
		t.Errorf("--search gr: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = inProcessCLI(url, "user", "list", "--search", "zz")
	if r.Code != ExitOK || !strings.Contains(r.Stdout+r.Stderr, `starts with "zz"`) {
		t.Errorf("--search zz: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}
