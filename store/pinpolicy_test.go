package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dialin/dialin/store"
)

// testSetPINLengthStoredAndUsedByResets: the user's own PIN length is
// stored (it survives a restart) and every generated PIN follows it.
func testSetPINLengthStoredAndUsedByResets(t *testing.T, be testBackend) {
	ctx := context.Background()
	d := openTestDir(t, be, "")
	ada := enable(t, d, "ada@example.com")
	if _, err := d.SetPINLength(ctx, ada.User.ID, 8); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{3, 13, -1} {
		var ie *store.InputError
		if _, err := d.SetPINLength(ctx, ada.User.ID, n); !errors.As(err, &ie) || ie.Field != "pin_length" {
			t.Errorf("length %d: %v, want an InputError naming pin_length", n, err)
		}
	}
	path := d.path
	d.Close()
	d = openTestDir(t, be, path)
	u, err := d.GetUser(ctx, ada.User.ID)
	if err != nil || u.Policy.Length == nil || *u.Policy.Length != 8 {
		t.Fatalf("after a restart: %+v, %v", u.Policy, err)
	}
	c, err := d.ResetPIN(ctx, ada.User.ID, store.MailOptions{Skip: true})
	if err != nil || len(c.PIN) != 8 {
		t.Fatalf("reset: %d digits, %v", len(c.PIN), err)
	}
	if _, err := d.ResetOwnPIN(ctx, ada.User.ID); err != nil {
		t.Fatal(err)
	}
	if u, _ := d.GetUser(ctx, ada.User.ID); u.PINLength != 8 {
		t.Errorf("own reset: %d digits, want 8", u.PINLength)
	}
	if u, err := d.SetPINLength(ctx, ada.User.ID, 0); err != nil || u.Policy.Length != nil {
		t.Fatalf("back to the setting: %+v, %v", u.Policy, err)
	}
	if c, _ := d.ResetPIN(ctx, ada.User.ID, store.MailOptions{Skip: true}); len(c.PIN) != store.DefaultPINLength {
		t.Errorf("reset on the setting: %d digits", len(c.PIN))
	}
}
