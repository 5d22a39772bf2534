package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dialin/dialin/store"
)

// Names compare case-insensitively, as SQLite's NOCASE column did: the
// unique index is on lower(name), and so is every lookup.

// CreateAdminAccount inserts an administrator's account.
func (s *DB) CreateAdminAccount(ctx context.Context, a *store.AdminAccount) error {
	if err := checkTimes(a.CreatedAt, a.PasswordSetAt); err != nil {
		return fmt.Errorf("postgres: create administrator %s: %w", a.Name, err)
	}
	var id int64
	err := s.inTx(ctx, "create administrator "+a.Name, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO admin_accounts (name, hash, created_at, password_set_at)
			VALUES ($1, $2, $3, $4) RETURNING id`, a.Name, a.Hash, nanos(a.CreatedAt), nanos(a.PasswordSetAt)).Scan(&id)
		if kind, _ := constraint(err); kind == "unique" {
			return fmt.Errorf("administrator %q: %w", a.Name, store.ErrExists)
		}
		return err
	})
	if err != nil {
		return err
	}
	a.ID = id
	return nil
}

// GetAdminAccount reads one account by name (case-insensitively).
func (s *DB) GetAdminAccount(ctx context.Context, name string) (store.AdminAccount, error) {
	list, err := s.adminAccounts(ctx, ` WHERE lower(name) = lower($1)`, name)
	if err != nil {
		return store.AdminAccount{}, fmt.Errorf("postgres: administrator %q: %w", name, err)
	}
	if len(list) == 0 {
		return store.AdminAccount{}, fmt.Errorf("postgres: administrator %q: %w", name, store.ErrNotFound)
	}
	return list[0], nil
}

// ListAdminAccounts reads every account, by name.
func (s *DB) ListAdminAccounts(ctx context.Context) ([]store.AdminAccount, error) {
	list, err := s.adminAccounts(ctx, ` ORDER BY lower(name), id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list administrators: %w", err)
	}
	return list, nil
}

func (s *DB) adminAccounts(ctx context.Context, where string, args ...any) ([]store.AdminAccount, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, hash, created_at, password_set_at FROM admin_accounts`+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []store.AdminAccount
	for rows.Next() {
		var a store.AdminAccount
		var created, set int64
		if err := rows.Scan(&a.ID, &a.Name, &a.Hash, &created, &set); err != nil {
			return nil, err
		}
		a.CreatedAt, a.PasswordSetAt = timeFromNanos(created), timeFromNanos(set)
		list = append(list, a)
	}
	return list, rows.Err()
}

// SetAdminPassword replaces an account's hash.
func (s *DB) SetAdminPassword(ctx context.Context, name, hash string, at time.Time) error {
	if err := checkTimes(at); err != nil {
		return fmt.Errorf("postgres: password of administrator %s: %w", name, err)
	}
	return s.inTx(ctx, "set the password of administrator "+name, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE admin_accounts SET hash = $1, password_set_at = $2 WHERE lower(name) = lower($3)`,
			hash, nanos(at), name)
		if err != nil {
			return err
		}
		return noRowNotFound(tag, "administrator "+name)
	})
}

// DeleteAdminAccount removes an account.
func (s *DB) DeleteAdminAccount(ctx context.Context, name string) error {
	return s.inTx(ctx, "remove administrator "+name, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM admin_accounts WHERE lower(name) = lower($1)`, name)
		if err != nil {
			return err
		}
		return noRowNotFound(tag, "administrator "+name)
	})
}
