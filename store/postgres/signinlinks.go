package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dialin/dialin/store"
)

// CreateSignInLink inserts a sign-in link and prunes the old ones (a user
// deleted takes theirs along: ON DELETE CASCADE).
func (s *DB) CreateSignInLink(ctx context.Context, l *store.SignInLink, pruneBefore time.Time) error {
	if err := checkTimes(l.CreatedAt, pruneBefore); err != nil {
		return fmt.Errorf("postgres: sign-in link of user %d: %w", l.UserID, err)
	}
	var id int64
	err := s.inTx(ctx, fmt.Sprintf("sign-in link of user %d", l.UserID), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM signin_links WHERE created_at < $1`, nanos(pruneBefore)); err != nil {
			return err
		}
		// The foreign key tells a user who is gone (on any node: its check
		// locks the user's row until the commit).
		err := tx.QueryRow(ctx, `INSERT INTO signin_links (token_hash, user_id, nonce_hash, created_at)
			VALUES ($1, $2, $3, $4) RETURNING id`, l.TokenHash, l.UserID, l.NonceHash, nanos(l.CreatedAt)).Scan(&id)
		if kind, _ := constraint(err); kind == "foreign key" {
			return fmt.Errorf("user %d: %w", l.UserID, store.ErrNotFound)
		} else if kind == "unique" {
			return fmt.Errorf("sign-in link of user %d: %w", l.UserID, store.ErrExists)
		}
		return err
	})
	if err != nil {
		return err
	}
	l.ID = id
	return nil
}

// SignInLinkByToken reads the link of a token digest.
func (s *DB) SignInLinkByToken(ctx context.Context, tokenHash []byte) (store.SignInLink, error) {
	l := store.SignInLink{TokenHash: tokenHash}
	var created, used int64
	err := s.pool.QueryRow(ctx, `SELECT id, user_id, nonce_hash, created_at, used_at FROM signin_links
		WHERE token_hash = $1`, tokenHash).Scan(&l.ID, &l.UserID, &l.NonceHash, &created, &used)
	if noRows(err) {
		return store.SignInLink{}, fmt.Errorf("postgres: sign-in link: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.SignInLink{}, fmt.Errorf("postgres: sign-in link: %w", err)
	}
	l.CreatedAt, l.UsedAt = timeFromNanos(created), timeFromNanos(used)
	return l, nil
}

// UseSignInLink marks a link used, once: of two nodes racing with one
// link, the second's UPDATE waits for the first's row lock and then finds
// it used.
func (s *DB) UseSignInLink(ctx context.Context, id int64, at time.Time) error {
	if err := checkTimes(at); err != nil || at.IsZero() {
		return fmt.Errorf("postgres: use sign-in link %d: time %v: %w", id, at, store.ErrInvalidInput)
	}
	return s.inTx(ctx, fmt.Sprintf("use sign-in link %d", id), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE signin_links SET used_at = $1 WHERE id = $2 AND used_at = 0`, nanos(at), id)
		if err != nil {
			return err
		}
		return oneRow(tag, "unused sign-in link", id)
	})
}
