package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dialin/dialin/store"
)

// CreateSignInLink inserts a sign-in link and prunes the old ones (a user
// deleted takes theirs along: ON DELETE CASCADE).
func (s *DB) CreateSignInLink(ctx context.Context, l *store.SignInLink, pruneBefore time.Time) error {
	if err := checkTimes(l.CreatedAt, pruneBefore); err != nil {
		return fmt.Errorf("sqlite: sign-in link of user %d: %w", l.UserID, err)
	}
	return s.inTx(ctx, fmt.Sprintf("sign-in link of user %d", l.UserID), func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM signin_links WHERE created_at < ?`, nanos(pruneBefore)); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE id = ?`, l.UserID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("user %d: %w", l.UserID, store.ErrNotFound)
		}
		return tx.QueryRowContext(ctx, `INSERT INTO signin_links (token_hash, user_id, nonce_hash, created_at)
			VALUES (?, ?, ?, ?) RETURNING id`, l.TokenHash, l.UserID, l.NonceHash, nanos(l.CreatedAt)).Scan(&l.ID)
	})
}

// SignInLinkByToken reads the link of a token digest.
func (s *DB) SignInLinkByToken(ctx context.Context, tokenHash []byte) (store.SignInLink, error) {
	l := store.SignInLink{TokenHash: tokenHash}
	var created, used int64
	err := s.db.QueryRowContext(ctx, `SELECT id, user_id, nonce_hash, created_at, used_at FROM signin_links
		WHERE token_hash = ?`, tokenHash).Scan(&l.ID, &l.UserID, &l.NonceHash, &created, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return store.SignInLink{}, fmt.Errorf("sqlite: sign-in link: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.SignInLink{}, fmt.Errorf("sqlite: sign-in link: %w", err)
	}
	l.CreatedAt, l.UsedAt = timeFromNanos(created), timeFromNanos(used)
	return l, nil
}

// UseSignInLink marks a link used, once.
func (s *DB) UseSignInLink(ctx context.Context, id int64, at time.Time) error {
	if err := checkTimes(at); err != nil || at.IsZero() {
		return fmt.Errorf("sqlite: use sign-in link %d: time %v: %w", id, at, store.ErrInvalidInput)
	}
	return s.inTx(ctx, fmt.Sprintf("use sign-in link %d", id), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE signin_links SET used_at = ? WHERE id = ? AND used_at = 0`, nanos(at), id)
		if err != nil {
			return err
		}
		return oneRow(res, "unused sign-in link", id)
	})
}
