package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Sign-in links: a user signs in to their self-service page (/me/) with a
// link emailed to their address. A link works once, for SignInLinkTTL, and
// only in the browser that asked for it: the request carries a random
// nonce (the page keeps it in a cookie) and the link is refused with any
// other. Only SHA-256 digests of the link's token and of the nonce are
// stored (both are 256 random bits, so a plain hash is as strong as they
// are): a copy of the database opens nobody's page.

// SignInLinkPrefix starts every link token, so that one pasted in the
// wrong place is recognisable.
const SignInLinkPrefix = "dialin-link-"

// SignInLinkTTL is how long a sign-in link works after it is sent.
const SignInLinkTTL = 15 * time.Minute

// signInLinkKeep is how long a link is kept after it was made, so that an
// old one is told apart ("expired", "used") from a wrong one; then pruned.
const signInLinkKeep = 24 * time.Hour

// Why a sign-in link is refused; a link that is nobody's is ErrNotFound.
var (
	ErrLinkExpired      = errors.New("the sign-in link has expired")
	ErrLinkUsed         = errors.New("the sign-in link was used already")
	ErrLinkOtherBrowser = errors.New("the sign-in link was asked for in another browser")
)

// SignInLink is a sign-in link as a Backend stores it: digests only.
type SignInLink struct {
	ID        int64
	TokenHash []byte // SHA-256 of the token in the link
	UserID    int64
	NonceHash []byte // SHA-256 of the nonce of the browser that asked
	CreatedAt time.Time
	UsedAt    time.Time // zero until used
}

// SignInLinkBackend is the Backend's part for sign-in links.
type SignInLinkBackend interface {
	// CreateSignInLink inserts l (setting l.ID) and deletes the links made
	// before pruneBefore, in one transaction. ErrNotFound if l's user is
	// gone.
	CreateSignInLink(ctx context.Context, l *SignInLink, pruneBefore time.Time) error
	// SignInLinkByToken reads the link of this token digest. ErrNotFound
	// if none.
	SignInLinkByToken(ctx context.Context, tokenHash []byte) (SignInLink, error)
	// UseSignInLink marks the link used at at, if it is not yet: ErrNotFound
	// if it is gone or was used already (so two requests racing with one
	// link sign in once).
	UseSignInLink(ctx context.Context, id int64, at time.Time) error
}

// IssueSignInLink makes a sign-in link for the user whose primary address
// is email, for the browser holding nonce, made at now (the caller's
// clock, which also judges its use). It returns the link's token, this
// once, and the user. ErrNotFound when no user has this address.
func (d *Directory) IssueSignInLink(ctx context.Context, email, nonce string, now time.Time) (string, User, error) {
	if nonce == "" {
		return "", User{}, &InputError{Field: "nonce", Msg: "no browser nonce"}
	}
	u, err := d.UserByEmail(ctx, email)
	if err != nil {
		return "", User{}, err
	}
	var raw [32]byte
	if _, err := io.ReadFull(d.random, raw[:]); err != nil {
		return "", User{}, fmt.Errorf("directory: sign-in link for user %d: %w", u.ID, err)
	}
	token := SignInLinkPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	th, nh := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(nonce))
	l := SignInLink{TokenHash: th[:], UserID: u.ID, NonceHash: nh[:], CreatedAt: now.UTC()}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.backend.CreateSignInLink(ctx, &l, now.Add(-signInLinkKeep).UTC()); err != nil {
		return "", User{}, fmt.Errorf("directory: sign-in link for user %d: %w", u.ID, err)
	}
	return token, u, nil
}

// SignInWithLink uses a sign-in link: the user it was made for, when the
// link is not older than SignInLinkTTL at now, was not used, and nonce is
// the one of the browser that asked for it. Otherwise ErrLinkExpired,
// ErrLinkUsed, ErrLinkOtherBrowser or ErrNotFound (a link that is
// nobody's, or whose user was disabled). A link opened in another browser
// stays usable in the right one.
func (d *Directory) SignInWithLink(ctx context.Context, token, nonce string, now time.Time) (User, error) {
	if !strings.HasPrefix(token, SignInLinkPrefix) {
		return User{}, fmt.Errorf("sign-in link: %w", ErrNotFound)
	}
	th := sha256.Sum256([]byte(token))
	d.mu.Lock()
	defer d.mu.Unlock()
	l, err := d.backend.SignInLinkByToken(ctx, th[:])
	if err != nil {
		return User{}, fmt.Errorf("directory: %w", err)
	}
	nh := sha256.Sum256([]byte(nonce))
	switch {
	case !l.UsedAt.IsZero():
		return User{}, ErrLinkUsed
	case now.Sub(l.CreatedAt) > SignInLinkTTL:
		return User{}, ErrLinkExpired
	case nonce == "" || subtle.ConstantTimeCompare(nh[:], l.NonceHash) != 1:
		return User{}, ErrLinkOtherBrowser
	}
	if err := d.backend.UseSignInLink(ctx, l.ID, now.UTC()); err != nil {
		if errors.Is(err, ErrNotFound) {
			return User{}, ErrLinkUsed
		}
		return User{}, fmt.Errorf("directory: use sign-in link: %w", err)
	}
	return d.getUserLocked(ctx, l.UserID)
}
