package store_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
)

// testUserTokens: a token finds its user across a restart, a new one
// replaces it, disabling the user kills it, and only its hash is stored.
func testUserTokens(t *testing.T, be testBackend) {
	ctx := context.Background()
	path := be.create(t)
	d := openTestDir(t, be, path)
	ada := enable(t, d, "ada@example.com")
	bob := enable(t, d, "bob@example.com")

	first, err := d.IssueUserToken(ctx, ada.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first, store.UserTokenPrefix) || len(first) < len(store.UserTokenPrefix)+40 {
		t.Fatalf("token %q", first)
	}
	if u, err := d.UserByToken(ctx, first); err != nil || u.ID != ada.User.ID {
		t.Fatalf("UserByToken: %v, %v", u.Email, err)
	}
	if _, err := d.IssueUserToken(ctx, 999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token for a user who does not exist: %v", err)
	}
	for _, bad := range []string{"", "secret", store.UserTokenPrefix, store.UserTokenPrefix + "AAAA", strings.TrimPrefix(first, store.UserTokenPrefix)} {
		if _, err := d.UserByToken(ctx, bad); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UserByToken(%q): %v, want ErrNotFound", bad, err)
		}
	}

	second, err := d.IssueUserToken(ctx, ada.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Fatal("the same token twice")
	}
	if _, err := d.UserByToken(ctx, first); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("replaced token still works: %v", err)
	}
	bobToken, err := d.IssueUserToken(ctx, bob.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d2 := openTestDir(t, be, path)
	if u, err := d2.UserByToken(ctx, second); err != nil || u.ID != ada.User.ID {
		t.Fatalf("after restart: %v, %v", u.Email, err)
	}
	// The own reset: a new PIN that works, and no email, even with emails on.
	if !d2.Settings().SendEmails {
		t.Fatal("test wants emails on")
	}
	pending, _ := d2.PendingMail(ctx)
	c, err := d2.ResetOwnPIN(ctx, ada.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.MailQueued {
		t.Error("the own PIN reset queued an email")
	}
	if n, _ := d2.PendingMail(ctx); n != pending {
		t.Errorf("outbox went from %d to %d", pending, n)
	}
	if r, _ := d2.VerifyOrganizerPIN(ctx, ada.User.ConferenceID, c.PIN); r != store.PINOK {
		t.Errorf("the new PIN: %v", r)
	}

	// Disabling bob takes his token with him.
	if err := d2.DisableUser(ctx, bob.User.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d2.UserByToken(ctx, bobToken); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a disabled user's token: %v", err)
	}
	if err := d2.Close(); err != nil {
		t.Fatal(err)
	}

	data := be.stored(t, path)
	for _, tok := range []string{first, second, bobToken} {
		if bytes.Contains(data, []byte(strings.TrimPrefix(tok, store.UserTokenPrefix))) {
			t.Errorf("a token in clear in %s", path)
		}
	}
}

// testUserTokenExpiresAndRevokes: a token works for 30 days from its issue
// and not a minute longer; revoking ends it at once; revoking none is
// ErrNotFound.
func testUserTokenExpiresAndRevokes(t *testing.T, be testBackend) {
	ctx := context.Background()
	d := openTestDir(t, be, "")
	ada := enable(t, d, "ada@example.com")
	token, err := d.IssueUserToken(ctx, ada.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	issued := d.clock.Now()
	if got := d.UserTokenExpiry(issued); !got.Equal(issued.Add(store.DefaultUserTokenTTL)) {
		t.Errorf("expiry %v", got)
	}
	d.clock.Advance(store.DefaultUserTokenTTL - time.Minute)
	if _, err := d.UserByToken(ctx, token); err != nil {
		t.Fatalf("a minute before its expiry: %v", err)
	}
	d.clock.Advance(2 * time.Minute)
	if _, err := d.UserByToken(ctx, token); !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("a minute after its expiry: %v, want expired", err)
	}

	again, err := d.IssueUserToken(ctx, ada.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.UserByToken(ctx, again); err != nil {
		t.Fatalf("a new token: %v", err)
	}
	if err := d.RevokeUserToken(ctx, ada.User.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UserByToken(ctx, again); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a revoked token: %v", err)
	}
	if err := d.RevokeUserToken(ctx, ada.User.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking no token: %v", err)
	}
	if err := d.RevokeUserToken(ctx, 999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking a user who does not exist: %v", err)
	}
}
