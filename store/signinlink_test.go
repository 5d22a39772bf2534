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

// testSignInLinks: a link works once, within its 15 minutes, in the
// browser that asked (another browser's attempt does not use it up);
// unknown addresses and tokens are ErrNotFound; disabling the user ends
// their links; old links are pruned; neither the token nor the nonce is
// stored in clear.
func testSignInLinks(t *testing.T, be testBackend) {
	ctx := context.Background()
	d := openTestDir(t, be, "")
	ada := enable(t, d, "ada@example.com")
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)

	if _, _, err := d.IssueSignInLink(ctx, "nobody@example.com", "nonce-1", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a link for nobody: %v", err)
	}
	token, u, err := d.IssueSignInLink(ctx, "ADA@example.com", "nonce-1", now)
	if err != nil || u.ID != ada.User.ID || !strings.HasPrefix(token, store.SignInLinkPrefix) {
		t.Fatalf("IssueSignInLink: %q %v %v", token, u.Email, err)
	}
	if _, err := d.SignInWithLink(ctx, token, "nonce-2", now.Add(time.Minute)); !errors.Is(err, store.ErrLinkOtherBrowser) {
		t.Errorf("another browser: %v", err)
	}
	if _, err := d.SignInWithLink(ctx, token, "", now.Add(time.Minute)); !errors.Is(err, store.ErrLinkOtherBrowser) {
		t.Errorf("no nonce: %v", err)
	}
	for _, bad := range []string{"", "x", store.SignInLinkPrefix + "AAAA", strings.TrimPrefix(token, store.SignInLinkPrefix)} {
		if _, err := d.SignInWithLink(ctx, bad, "nonce-1", now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("token %q: %v", bad, err)
		}
	}
	if u, err := d.SignInWithLink(ctx, token, "nonce-1", now.Add(store.SignInLinkTTL)); err != nil || u.ID != ada.User.ID {
		t.Fatalf("the right browser at 15 minutes: %v %v", u.Email, err)
	}
	if _, err := d.SignInWithLink(ctx, token, "nonce-1", now.Add(store.SignInLinkTTL)); !errors.Is(err, store.ErrLinkUsed) {
		t.Errorf("used twice: %v", err)
	}

	late, _, err := d.IssueSignInLink(ctx, "ada@example.com", "nonce-1", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SignInWithLink(ctx, late, "nonce-1", now.Add(store.SignInLinkTTL+time.Second)); !errors.Is(err, store.ErrLinkExpired) {
		t.Errorf("after 15 minutes: %v", err)
	}

	// A day later the old links are pruned when a new one is made.
	if _, _, err := d.IssueSignInLink(ctx, "ada@example.com", "nonce-1", now.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SignInWithLink(ctx, late, "nonce-1", now.Add(25*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a pruned link: %v", err)
	}

	fresh, _, err := d.IssueSignInLink(ctx, "ada@example.com", "nonce-3", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.DisableUser(ctx, ada.User.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SignInWithLink(ctx, fresh, "nonce-3", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the link of a disabled user: %v", err)
	}

	d.Close()
	data := be.stored(t, d.path)
	for _, secret := range []string{token, late, fresh, "nonce-1", "nonce-3"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("%s holds %q in clear", d.path, secret)
		}
	}
}
