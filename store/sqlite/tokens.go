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

// UserIDByToken finds the owner of a token hash.
func (s *DB) UserIDByToken(ctx context.Context, hash []byte) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT user_id FROM user_tokens WHERE token_hash = ?`, hash).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite: user token: %w", store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: user token: %w", err)
	}
	return id, nil
}
