package store

import (
	"context"
	"fmt"
	"strings"
)

// SetEmailOverride changes the address a user's emails go to instead of
// their primary one ("" sends them to the primary address again). Emails
// already queued keep the address they were written for.
func (d *Directory) SetEmailOverride(ctx context.Context, id int64, addr string) (User, error) {
	addr = strings.TrimSpace(addr)
	if addr != "" {
		if err := checkAddress("email_override", addr); err != nil {
			return User{}, err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.getUserLocked(ctx, id)
	if err != nil {
		return User{}, err
	}
	if u.EmailOverride == addr {
		return u, nil
	}
	u.EmailOverride = addr
	detail := "email override cleared"
	if addr != "" {
		detail = "email override set to " + addr
	}
	d.note(ctx, u.Email, "", detail)
	if err := d.backend.UpdateUser(ctx, &u, nil); err != nil {
		return User{}, fmt.Errorf("directory: set the email override of user %d: %w", id, err)
	}
	return u, nil
}
