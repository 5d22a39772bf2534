package store_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dialin/dialin/store"
)

// cheapPasswords keep the tests' argon2id hashes fast; the defaults'
// costs are tested once, in TestAdminPasswordDefaultCosts.
var cheapPasswords = store.PasswordParams{Time: 1, Memory: 1024, Threads: 1}

// testAdminAccounts: an account's generated password signs in, across a
// restart; a wrong one, another name or the password before a reset does
// not; names are checked and unique whatever their case; only the
// argon2id hash reaches the database file.
func testAdminAccounts(t *testing.T, be testBackend) {
	ctx := context.Background()
	d := openTestDir(t, be, "")
	a, password, err := d.AddAdmin(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || len(password) < 20 || !strings.HasPrefix(a.Hash, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("account %+v, password of %d characters", a, len(password))
	}
	if _, _, err := d.AddAdmin(ctx, "Alice"); !errors.Is(err, store.ErrExists) {
		t.Errorf("a second Alice: %v, want ErrExists", err)
	}
	for _, bad := range []string{"", "-x", "a b", strings.Repeat("a", 65), "ada@exa mple", "é"} {
		var in *store.InputError
		if _, _, err := d.AddAdmin(ctx, bad); !errors.As(err, &in) || in.Field != "name" {
			t.Errorf("AddAdmin(%q): %v, want an input error on name", bad, err)
		}
	}

	check := func(name, pw string, want bool) {
		t.Helper()
		got, ok, err := d.VerifyAdmin(ctx, name, pw)
		if err != nil || ok != want || (ok && got.Name != "alice") {
			t.Errorf("VerifyAdmin(%q, ...) = %+v, %v, %v; want ok %v", name, got.Name, ok, err, want)
		}
	}
	check("alice", password, true)
	check("ALICE", password, true) // names compare without case, as the audit shows them
	check("alice", password+"x", false)
	check("alice", "", false)
	check("bob", password, false)

	again, err := d.ResetAdminPassword(ctx, "alice")
	if err != nil || again == password {
		t.Fatalf("reset: %v (same password %v)", err, again == password)
	}
	check("alice", password, false)
	check("alice", again, true)
	if _, err := d.ResetAdminPassword(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("reset bob: %v, want ErrNotFound", err)
	}

	// Across a restart, and nothing but the hash on disk.
	d.Close()
	d2 := openTestDir(t, be, d.path)
	if _, ok, err := d2.VerifyAdmin(ctx, "alice", again); !ok || err != nil {
		t.Errorf("after a restart: %v, %v", ok, err)
	}
	list, err := d2.ListAdmins(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "alice" || list[0].PasswordSetAt.IsZero() {
		t.Errorf("list %+v, %v", list, err)
	}
	d2.Close()
	data := be.stored(t, d.path)
	for _, pw := range []string{password, again} {
		if bytes.Contains(data, []byte(pw)) {
			t.Errorf("%s holds a password in clear", d.path)
		}
	}
	d3 := openTestDir(t, be, d.path)
	if err := d3.RemoveAdmin(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := d3.RemoveAdmin(ctx, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removed twice: %v", err)
	}
	if _, ok, _ := d3.VerifyAdmin(ctx, "alice", again); ok {
		t.Error("a removed account still signs in")
	}
}

// testAdminPasswordDefaultCosts: the production costs (RFC 9106's second
// recommendation) make a hash that verifies.
func testAdminPasswordDefaultCosts(t *testing.T, be testBackend) {
	ctx := context.Background()
	d := openTestDirWith(t, be, store.DefaultPasswordParams)
	_, password, err := d.AddAdmin(ctx, "root")
	if err != nil {
		t.Fatal(err)
	}
	list, _ := d.ListAdmins(ctx)
	if len(list) != 1 || !strings.HasPrefix(list[0].Hash, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("hash %+v", list)
	}
	if _, ok, err := d.VerifyAdmin(ctx, "root", password); !ok || err != nil {
		t.Errorf("verify: %v %v", ok, err)
	}
}
