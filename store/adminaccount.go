package store

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// Administrator accounts sign in to the admin center with a name and a
// password (the API token stays for the API and the commands). Only an
// argon2id hash of each password is stored, in the PHC string format, so
// a copy of the database does not give the passwords away; a password is
// shown once, in the answer that sets it.

// AdminAccount is one administrator's account (never its password).
type AdminAccount struct {
	ID            int64
	Name          string
	Hash          string // argon2id, PHC string; never shown
	CreatedAt     time.Time
	PasswordSetAt time.Time
}

// AdminAccountBackend is the Backend's part for administrator accounts.
type AdminAccountBackend interface {
	// CreateAdminAccount inserts a (setting a.ID). ErrExists if the name
	// is taken (compared case-insensitively).
	CreateAdminAccount(ctx context.Context, a *AdminAccount) error
	// GetAdminAccount reads the account of this name. ErrNotFound if none.
	GetAdminAccount(ctx context.Context, name string) (AdminAccount, error)
	// ListAdminAccounts reads every account, by name.
	ListAdminAccounts(ctx context.Context) ([]AdminAccount, error)
	// SetAdminPassword replaces the account's hash. ErrNotFound if none.
	SetAdminPassword(ctx context.Context, name, hash string, at time.Time) error
	// DeleteAdminAccount removes the account. ErrNotFound if none.
	DeleteAdminAccount(ctx context.Context, name string) error
}

// PasswordParams are argon2id's costs. DefaultPasswordParams follow RFC
// 9106's second recommendation (64 MiB, 3 passes); tests use cheaper ones.
type PasswordParams struct {
	Time    uint32 // passes
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultPasswordParams are the costs of a password hash in production.
var DefaultPasswordParams = PasswordParams{Time: 3, Memory: 64 * 1024, Threads: 2}

// adminNameRE is what an account may be called: the names the audit shows.
var adminNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// MinAdminPasswordLength is the shortest password an administrator may
// choose; generated ones are longer.
const MinAdminPasswordLength = 12

// ValidAdminName reports whether name could be an account's name.
func ValidAdminName(name string) bool { return adminNameRE.MatchString(name) }

// checkAdminName refuses a name the audit could not show as it is.
func checkAdminName(name string) error {
	if !adminNameRE.MatchString(name) {
		return &InputError{Field: "name", Msg: fmt.Sprintf(
			"%q is not a name: 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit", name)}
	}
	return nil
}

// AddAdmin creates an administrator account with a generated password,
// returned this once. ErrExists if the name is taken.
func (d *Directory) AddAdmin(ctx context.Context, name string) (AdminAccount, string, error) {
	if err := checkAdminName(name); err != nil {
		return AdminAccount{}, "", err
	}
	password, err := d.newPassword()
	if err != nil {
		return AdminAccount{}, "", err
	}
	hash, err := d.hashPassword(password)
	if err != nil {
		return AdminAccount{}, "", err
	}
	now := d.now().UTC()
	a := AdminAccount{Name: name, Hash: hash, CreatedAt: now, PasswordSetAt: now}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.note(ctx, "", "administrator "+name, "account created with a generated password")
	if err := d.backend.CreateAdminAccount(ctx, &a); err != nil {
		return AdminAccount{}, "", fmt.Errorf("directory: add administrator %s: %w", name, err)
	}
	return a, password, nil
}

// ResetAdminPassword gives the account a new generated password, returned
// this once; the one before stops working.
func (d *Directory) ResetAdminPassword(ctx context.Context, name string) (string, error) {
	if err := checkAdminName(name); err != nil {
		return "", err
	}
	password, err := d.newPassword()
	if err != nil {
		return "", err
	}
	hash, err := d.hashPassword(password)
	if err != nil {
		return "", err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.note(ctx, "", "administrator "+name, "new generated password; the one before stops working")
	if err := d.backend.SetAdminPassword(ctx, name, hash, d.now().UTC()); err != nil {
		return "", fmt.Errorf("directory: reset the password of administrator %s: %w", name, err)
	}
	return password, nil
}

// RemoveAdmin deletes the account.
func (d *Directory) RemoveAdmin(ctx context.Context, name string) error {
	if err := checkAdminName(name); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.note(ctx, "", "administrator "+name, "account removed")
	if err := d.backend.DeleteAdminAccount(ctx, name); err != nil {
		return fmt.Errorf("directory: remove administrator %s: %w", name, err)
	}
	return nil
}

// ListAdmins reads every account (hashes included: callers show none).
func (d *Directory) ListAdmins(ctx context.Context) ([]AdminAccount, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	list, err := d.backend.ListAdminAccounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("directory: list administrators: %w", err)
	}
	return list, nil
}

// VerifyAdmin checks an administrator's name and password. It takes as
// long for a name that does not exist (a hash is still computed), so the
// time does not tell which names exist. ok is false for a wrong name or
// password; err is a failure of the storage.
func (d *Directory) VerifyAdmin(ctx context.Context, name, password string) (AdminAccount, bool, error) {
	d.mu.Lock()
	a, err := d.backend.GetAdminAccount(ctx, name)
	d.mu.Unlock() // the hash is computed outside: it takes a while
	switch {
	case errors.Is(err, ErrNotFound):
		d.dummyOnce.Do(func() {
			d.dummyHash = encodePasswordHash(d.passwordParams, make([]byte, 16), "no such administrator")
		})
		_ = verifyPassword(d.dummyHash, password) // the same work as for a real name
		return AdminAccount{}, false, nil
	case err != nil:
		return AdminAccount{}, false, fmt.Errorf("directory: administrator %s: %w", name, err)
	}
	if !verifyPassword(a.Hash, password) {
		return AdminAccount{}, false, nil
	}
	return a, true, nil
}

// newPassword is 120 random bits in 24 characters of base64url: easy to
// paste, long enough that a copied hash is no help.
func (d *Directory) newPassword() (string, error) {
	var raw [18]byte
	if _, err := io.ReadFull(d.random, raw[:]); err != nil {
		return "", fmt.Errorf("directory: new password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// hashPassword makes the PHC string of password under a fresh salt.
func (d *Directory) hashPassword(password string) (string, error) {
	var salt [16]byte
	if _, err := io.ReadFull(d.random, salt[:]); err != nil {
		return "", fmt.Errorf("directory: password salt: %w", err)
	}
	return encodePasswordHash(d.passwordParams, salt[:], password), nil
}

func encodePasswordHash(p PasswordParams, salt []byte, password string) string {
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// verifyPassword checks password against a PHC argon2id string, in
// constant time once the key is made; false for a hash it cannot read.
func verifyPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Time == 0 || p.Threads == 0 || p.Memory < 8*uint32(p.Threads) || p.Memory > 1<<22 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
