package store

import (
	"context"
	"fmt"
)

// SetPINLength sets the length of the user's generated PINs (and the
// shortest PIN that may be set by hand for them), overriding the pin_length
// setting for this user; 0 goes back to the setting. The PIN the user has
// stays valid: the length applies from the next reset. A length outside
// MinPINLength..MaxPINLength is an *InputError naming "pin_length".
func (d *Directory) SetPINLength(ctx context.Context, id int64, length int) (User, error) {
	if length != 0 && (length < MinPINLength || length > MaxPINLength) {
		return User{}, &InputError{Field: "pin_length", Msg: fmt.Sprintf(
			"%d is not %d-%d (or 0 for the organisation's pin_length setting)", length, MinPINLength, MaxPINLength)}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.getUserLocked(ctx, id)
	if err != nil {
		return User{}, err
	}
	p := u.Policy
	p.Length = nil
	if length != 0 {
		p.Length = &length
	}
	if err := validatePolicy(p); err != nil {
		return User{}, err
	}
	u.Policy = p
	detail := "PIN length: the pin_length setting"
	if length != 0 {
		detail = fmt.Sprintf("PIN length: %d digits", length)
	}
	d.note(ctx, u.Email, "", detail)
	if err := d.backend.UpdateUser(ctx, &u, nil); err != nil {
		return User{}, fmt.Errorf("directory: set PIN length of user %d: %w", id, err)
	}
	e := d.users[id]
	e.mu.Lock()
	e.policy = nil
	if p != (PINPolicy{}) {
		e.policy = &p
	}
	e.mu.Unlock()
	return u, nil
}
