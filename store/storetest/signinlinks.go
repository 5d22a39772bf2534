package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
)

// testSignInLinksRoundTrip: a link is stored as given (digests, times to
// the nanosecond, in UTC), found by its token's digest, used once; a link
// for a user who is gone is ErrNotFound; making one prunes those made
// before the given time; deleting the user deletes their links.
func testSignInLinksRoundTrip(t *testing.T, e Engine) {
	s := e.fresh(t)
	ctx := context.Background()
	u := FullUser(1)
	if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
		t.Fatal(err)
	}
	zone := time.FixedZone("UTC-3", -3*3600)
	made := time.Date(2026, 12, 4, 9, 0, 0, 123456789, zone)
	link := func(seed string, at time.Time) *store.SignInLink {
		return &store.SignInLink{TokenHash: Digest("token " + seed), UserID: u.ID, NonceHash: Digest("nonce " + seed), CreatedAt: at}
	}

	if err := s.CreateSignInLink(ctx, &store.SignInLink{TokenHash: Digest("x"), UserID: u.ID + 100,
		NonceHash: Digest("y"), CreatedAt: made}, made.Add(-time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a link for nobody: %v", err)
	}
	old := link("old", made.Add(-48*time.Hour))
	if err := s.CreateSignInLink(ctx, old, made.Add(-72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	l := link("a", made)
	if err := s.CreateSignInLink(ctx, l, made.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if l.ID == 0 || l.ID == old.ID {
		t.Fatalf("IDs: %d, %d", old.ID, l.ID)
	}
	if _, err := s.SignInLinkByToken(ctx, old.TokenHash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a link made before the prune time: %v", err)
	}
	got, err := s.SignInLinkByToken(ctx, l.TokenHash)
	if err != nil {
		t.Fatal(err)
	}
	sameTime(t, "CreatedAt", got.CreatedAt, made)
	if got.ID != l.ID || got.UserID != u.ID || !bytes.Equal(got.TokenHash, l.TokenHash) ||
		!bytes.Equal(got.NonceHash, l.NonceHash) || !got.UsedAt.IsZero() {
		t.Errorf("link: %+v, want %+v", got, *l)
	}
	if _, err := s.SignInLinkByToken(ctx, Digest("nobody's")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unknown token: %v", err)
	}

	used := made.Add(time.Minute + 1)
	if err := s.UseSignInLink(ctx, l.ID, used); err != nil {
		t.Fatal(err)
	}
	if err := s.UseSignInLink(ctx, l.ID, used.Add(time.Second)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("used twice: %v", err)
	}
	if err := s.UseSignInLink(ctx, l.ID+100, used); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unknown link used: %v", err)
	}
	if got, err = s.SignInLinkByToken(ctx, l.TokenHash); err != nil {
		t.Fatal(err)
	}
	sameTime(t, "UsedAt", got.UsedAt, used)

	other := link("b", made)
	if err := s.CreateSignInLink(ctx, other, made.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, h := range [][]byte{l.TokenHash, other.TokenHash} {
		if _, err := s.SignInLinkByToken(ctx, h); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a link of a deleted user: %v", err)
		}
	}
}
