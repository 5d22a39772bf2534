package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"time"
)

// UserTokenPrefix starts every self-service token, so that one pasted in
// the wrong place is recognisable (and an admin token is never looked up
// as one).
const UserTokenPrefix = "dialin-user-"

// DefaultUserTokenTTL is how long a self-service token works.
const DefaultUserTokenTTL = 30 * 24 * time.Hour

// IssueUserToken gives the user a new self-service token, returned this
// once (it works for the directory's UserTokenTTL, default 30 days): with it the user (or a portal acting for them) reads their own
// details and resets their own PIN. The token before it stops working.
// Only its SHA-256 is stored; the token is 256 random bits, so a plain
// hash is as strong as the token.
func (d *Directory) IssueUserToken(ctx context.Context, id int64) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.user(id); err != nil {
		return "", err
	}
	var raw [32]byte
	if _, err := io.ReadFull(d.random, raw[:]); err != nil {
		return "", fmt.Errorf("directory: token for user %d: %w", id, err)
	}
	token := UserTokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	hash := sha256.Sum256([]byte(token))
	d.note(ctx, "", "", "new self-service token issued; any earlier one stops working")
	if err := d.backend.SaveUserToken(ctx, id, hash[:], d.now()); err != nil {
		return "", fmt.Errorf("directory: token for user %d: %w", id, err)
	}
	return token, nil
}

// UserByToken is the user a self-service token belongs to: ErrNotFound
// for one that is nobody's (never issued, replaced, or its user disabled).
func (d *Directory) UserByToken(ctx context.Context, token string) (User, error) {
	if !strings.HasPrefix(token, UserTokenPrefix) {
		return User{}, fmt.Errorf("user token: %w", ErrNotFound)
	}
	hash := sha256.Sum256([]byte(token))
	id, created, err := d.backend.UserIDByToken(ctx, hash[:])
	if err != nil {
		return User{}, fmt.Errorf("directory: %w", err)
	}
	if d.now().After(created.Add(d.userTokenTTL)) {
		return User{}, fmt.Errorf("user token: expired (issued %s, valid %v): %w",
			created.Format(time.RFC3339), d.userTokenTTL, ErrNotFound)
	}
	return d.GetUser(ctx, id)
}

// UserTokenExpiry is when a token issued now stops working.
func (d *Directory) UserTokenExpiry(issued time.Time) time.Time { return issued.Add(d.userTokenTTL) }

// RevokeUserToken ends the user's self-service token at once. ErrNotFound
// if the user has none.
func (d *Directory) RevokeUserToken(ctx context.Context, id int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.user(id); err != nil {
		return err
	}
	d.note(ctx, "", "", "self-service token revoked")
	if err := d.backend.DeleteUserToken(ctx, id); err != nil {
		return fmt.Errorf("directory: revoke the token of user %d: %w", id, err)
	}
	return nil
}

// ResetOwnPIN is the user's own PIN reset: a new generated PIN, returned
// this once and never emailed (the user sees it on their screen), as
// Teams' self-service page does. A locked PIN needs an administrator.
func (d *Directory) ResetOwnPIN(ctx context.Context, id int64) (Change, error) {
	return d.ResetPIN(ctx, id, MailOptions{Skip: true})
}
