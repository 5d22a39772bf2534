package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dialin/dialin/store"
)

// SaveUserToken sets the user's token hash (a user deleted takes it along:
// ON DELETE CASCADE).
func (s *DB) SaveUserToken(ctx context.Context, userID int64, hash []byte, createdAt time.Time) error {
	if err := checkTimes(createdAt); err != nil {
		return fmt.Errorf("postgres: save token of user %d: %w", userID, err)
	}
	return s.inTx(ctx, fmt.Sprintf("save token of user %d", userID), func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, userID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return fmt.Errorf("user %d: %w", userID, store.ErrNotFound)
		}
		_, err := tx.Exec(ctx, `INSERT INTO user_tokens (user_id, token_hash, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at`,
			userID, hash, nanos(createdAt))
		return err
	})
}

// UserIDByToken finds the owner of a token hash, and when it was issued.
func (s *DB) UserIDByToken(ctx context.Context, hash []byte) (int64, time.Time, error) {
	var id, created int64
	err := s.pool.QueryRow(ctx, `SELECT user_id, created_at FROM user_tokens WHERE token_hash = $1`, hash).Scan(&id, &created)
	if noRows(err) {
		return 0, time.Time{}, fmt.Errorf("postgres: user token: %w", store.ErrNotFound)
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("postgres: user token: %w", err)
	}
	return id, timeFromNanos(created), nil
}

// DeleteUserToken removes a user's token.
func (s *DB) DeleteUserToken(ctx context.Context, userID int64) error {
	return s.inTx(ctx, fmt.Sprintf("revoke the token of user %d", userID), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM user_tokens WHERE user_id = $1`, userID)
		if err != nil {
			return err
		}
		return oneRow(tag, "token of user", userID)
	})
}
