package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/admin/client"
)

// TestCLIAdminAccounts: dialin admin add prints a generated password once;
// list shows the account, never the password; password gives a new one;
// remove deletes it; bad and taken names are refused with the field; and
// neither password is anywhere in the data folder or the bridge's log.
func TestCLIAdminAccounts(t *testing.T) {
	t.Parallel()
	b, c := startAdminBridge(t, "demo_organizer: false")

	out := c.ok("admin", "add", "alice")
	first := outField(t, out, "password")
	if len(first) < 20 || !strings.Contains(out, "shown once") || strings.Count(out, first) != 1 {
		t.Fatalf("admin add:\n%s", out)
	}
	c.fails(1, "admin", "add", "ALICE")  // taken, whatever the case
	c.fails(1, "admin", "add", "a name") // not a name
	c.fails(2, "admin", "add")           // no name: usage

	var list []client.Admin
	c.okJSON(&list, "admin", "list")
	if len(list) != 1 || list[0].Name != "alice" || bytes.Contains(list[0].Raw, []byte(first)) {
		t.Fatalf("admin list: %+v", list)
	}
	if out := c.ok("admin", "list"); !strings.Contains(out, "alice") || strings.Contains(out, first) {
		t.Errorf("admin list:\n%s", out)
	}

	// The account signs in to the admin center on the admin port.
	signInToCenter(t, apiURL(t, b), "alice", first)

	second := outField(t, c.ok("admin", "password", "alice"), "password")
	if second == first || len(second) < 20 {
		t.Fatalf("new password %q", second)
	}
	c.fails(1, "admin", "password", "bob")
	c.ok("admin", "remove", "alice")
	c.fails(1, "admin", "remove", "alice")
	if out := c.ok("admin", "list"); !strings.Contains(out, "No administrators") {
		t.Errorf("after remove:\n%s", out)
	}

	// The audit names what was done; no password anywhere on disk or in the log.
	audit := c.ok("audit", "list")
	for _, action := range []string{"admin_account.add", "admin_account.password_reset", "admin_account.remove"} {
		if !strings.Contains(audit, action) {
			t.Errorf("audit list has no %s:\n%s", action, audit)
		}
	}
	err := filepath.Walk(filepath.Join(b.Dir, "data"), func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, pw := range []string{first, second} {
			if bytes.Contains(data, []byte(pw)) {
				t.Errorf("%s holds a password in clear", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if log := b.tail(1 << 20); strings.Contains(log, first) || strings.Contains(log, second) {
		t.Error("the bridge logged a password")
	}
}

// signInToCenter fills the admin center's sign-in form as a browser would
// and checks the home page names the account.
func signInToCenter(t *testing.T, base, name, password string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Get(base + "/admin/signin")
	if err != nil {
		t.Fatal(err)
	}
	form, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(form)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("sign-in form: %d\n%s", resp.StatusCode, form)
	}
	resp, err = c.PostForm(base+"/admin/signin", url.Values{"csrf": {string(m[1])}, "name": {name}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	home, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(home), "<span>"+name+"</span>") {
		t.Fatalf("after sign-in: %d\n%s", resp.StatusCode, home)
	}
}
