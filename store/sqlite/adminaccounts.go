package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dialin/dialin/store"
)

// CreateAdminAccount inserts an administrator's account.
func (s *DB) CreateAdminAccount(ctx context.Context, a *store.AdminAccount) error {
	if err := checkTimes(a.CreatedAt, a.PasswordSetAt); err != nil {
		return fmt.Errorf("sqlite: create administrator %s: %w", a.Name, err)
	}
	return s.inTx(ctx, "create administrator "+a.Name, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO admin_accounts (name, hash, created_at, password_set_at)
			VALUES (?, ?, ?, ?)`, a.Name, a.Hash, nanos(a.CreatedAt), nanos(a.PasswordSetAt))
		if err != nil {
			if kind, _ := constraint(err); kind == "unique" {
				return fmt.Errorf("administrator %q: %w", a.Name, store.ErrExists)
			}
			return err
		}
		a.ID, err = res.LastInsertId()
		return err
	})
}

// GetAdminAccount reads one account by name (case-insensitively).
func (s *DB) GetAdminAccount(ctx context.Context, name string) (store.AdminAccount, error) {
	var a store.AdminAccount
	var created, set int64
	err := s.db.QueryRowContext(ctx, `SELECT id, name, hash, created_at, password_set_at FROM admin_accounts
		WHERE name = ?`, name).Scan(&a.ID, &a.Name, &a.Hash, &created, &set)
	if errors.Is(err, sql.ErrNoRows) {
		return store.AdminAccount{}, fmt.Errorf("sqlite: administrator %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.AdminAccount{}, fmt.Errorf("sqlite: administrator %q: %w", name, err)
	}
	a.CreatedAt, a.PasswordSetAt = timeFromNanos(created), timeFromNanos(set)
	return a, nil
}

// ListAdminAccounts reads every account, by name.
func (s *DB) ListAdminAccounts(ctx context.Context) ([]store.AdminAccount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, hash, created_at, password_set_at FROM admin_accounts
		ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list administrators: %w", err)
	}
	defer rows.Close()
	var list []store.AdminAccount
	for rows.Next() {
		var a store.AdminAccount
		var created, set int64
		if err := rows.Scan(&a.ID, &a.Name, &a.Hash, &created, &set); err != nil {
			return nil, fmt.Errorf("sqlite: list administrators: %w", err)
		}
		a.CreatedAt, a.PasswordSetAt = timeFromNanos(created), timeFromNanos(set)
		list = append(list, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list administrators: %w", err)
	}
	return list, nil
}

// SetAdminPassword replaces an account's hash.
func (s *DB) SetAdminPassword(ctx context.Context, name, hash string, at time.Time) error {
	if err := checkTimes(at); err != nil {
		return fmt.Errorf("sqlite: password of administrator %s: %w", name, err)
	}
	return s.inTx(ctx, "set the password of administrator "+name, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE admin_accounts SET hash = ?, password_set_at = ? WHERE name = ?`,
			hash, nanos(at), name)
		if err != nil {
			return err
		}
		return noRowNotFound(res, "administrator "+name)
	})
}

// DeleteAdminAccount removes an account.
func (s *DB) DeleteAdminAccount(ctx context.Context, name string) error {
	return s.inTx(ctx, "remove administrator "+name, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM admin_accounts WHERE name = ?`, name)
		if err != nil {
			return err
		}
		return noRowNotFound(res, "administrator "+name)
	})
}

// noRowNotFound turns a write that changed no row into ErrNotFound (oneRow
// for a key that is a name, not an ID).
func noRowNotFound(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}
