package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dialin/dialin/store"
)

// SaveUserToken sets the user's token hash (a user deleted takes it along:
// ON DELETE CASCADE).
func (s *DB) SaveUserToken(ctx context.Context, userID int64, hash []byte, createdAt time.Time) error {
	if err := checkTimes(createdAt); err != nil {
		return fmt.Errorf("sqlite: save token of user %d: %w", userID, err)
	}
	return s.inTx(ctx, fmt.Sprintf("save token of user %d", userID), func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE id = ?`, userID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("user %d: %w", userID, store.ErrNotFound)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO user_tokens (user_id, token_hash, created_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at`,
			userID, hash, nanos(createdAt))
		return err
	})
}

// UserIDByToken finds the owner of a token hash, and when it was issued.
func (s *DB) UserIDByToken(ctx context.Context, hash []byte) (int64, time.Time, error) {
	var id, created int64
	err := s.db.QueryRowContext(ctx, `SELECT user_id, created_at FROM user_tokens WHERE token_hash = ?`, hash).Scan(&id, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, fmt.Errorf("sqlite: user token: %w", store.ErrNotFound)
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlite: user token: %w", err)
	}
	return id, timeFromNanos(created), nil
}

// DeleteUserToken removes a user's token.
func (s *DB) DeleteUserToken(ctx context.Context, userID int64) error {
	return s.inTx(ctx, fmt.Sprintf("revoke the token of user %d", userID), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM user_tokens WHERE user_id = ?`, userID)
		if err != nil {
			return err
		}
		return oneRow(res, "token of user", userID)
	})
}
