package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dialin/dialin/store"
)

// The outbox's states (store.MailQueueBackend): listing, finishing,
// retrying and pruning emails.

// PendingMailOf reads the pending emails about userID to to, with content.
func (s *DB) PendingMailOf(ctx context.Context, userID int64, to string) ([]store.SealedMail, error) {
	return s.queryMail(ctx, "pending email of a user", true, `SELECT `+mailColumns+`, sealed FROM outbox
		WHERE status = 'pending' AND user_id = ? AND recipient = ? ORDER BY id`, userID, to)
}

// GetMail reads one email without its content.
func (s *DB) GetMail(ctx context.Context, id int64) (store.SealedMail, error) {
	m, err := scanMail(s.db.QueryRowContext(ctx, `SELECT `+mailColumns+` FROM outbox WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.SealedMail{}, fmt.Errorf("email %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.SealedMail{}, fmt.Errorf("sqlite: email %d: %w", id, err)
	}
	return m, nil
}

// ListMail reads emails by ID, without their content.
func (s *DB) ListMail(ctx context.Context, f store.MailFilter) ([]store.SealedMail, error) {
	if f.Limit <= 0 {
		return nil, fmt.Errorf("sqlite: list emails: limit %d: %w", f.Limit, store.ErrInvalidInput)
	}
	if f.Status == "" {
		return s.queryMail(ctx, "list emails", false, `SELECT `+mailColumns+` FROM outbox
			WHERE id > ? ORDER BY id LIMIT ?`, f.After, f.Limit)
	}
	return s.queryMail(ctx, "list emails", false, `SELECT `+mailColumns+` FROM outbox
		WHERE status = ? AND id > ? ORDER BY id LIMIT ?`, string(f.Status), f.After, f.Limit)
}

// FinishMail marks an email sent (from any state but sent: the server took
// it, whatever happened meanwhile) or dropped (from pending or failed), and
// erases its content.
func (s *DB) FinishMail(ctx context.Context, id int64, status store.MailStatus, reason string, at time.Time) error {
	var from string
	switch status {
	case store.OutboxSent:
		from = `status != 'sent'`
	case store.OutboxDropped:
		from = `status IN ('pending', 'failed')`
	default:
		return fmt.Errorf("sqlite: finish email %d: status %q: %w", id, status, store.ErrInvalidInput)
	}
	if err := checkTimes(at); err != nil {
		return fmt.Errorf("sqlite: email %d: %w", id, err)
	}
	return s.inTx(ctx, fmt.Sprintf("mark email %d %s", id, status), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET status = ?, reason = ?, done_at = ?, sealed = x''
			WHERE id = ? AND `+from, string(status), reason, nanos(at), id)
		if err != nil {
			return err
		}
		return mailChanged(ctx, tx, res, id)
	})
}

// GiveUpMail counts a last failed attempt and marks a pending email failed,
// keeping its content.
func (s *DB) GiveUpMail(ctx context.Context, id int64, reason string, at time.Time) error {
	if err := checkTimes(at); err != nil {
		return fmt.Errorf("sqlite: email %d: %w", id, err)
	}
	return s.inTx(ctx, fmt.Sprintf("mark email %d failed", id), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'failed', attempts = attempts + 1,
			last_error = ?, reason = ?, done_at = ? WHERE id = ? AND status = 'pending'`, reason, reason, nanos(at), id)
		if err != nil {
			return err
		}
		return mailChanged(ctx, tx, res, id)
	})
}

// RetryMail makes a pending or failed email pending again, due at next.
func (s *DB) RetryMail(ctx context.Context, id int64, next time.Time) error {
	if err := checkTimes(next); err != nil {
		return fmt.Errorf("sqlite: email %d: %w", id, err)
	}
	return s.inTx(ctx, fmt.Sprintf("retry email %d", id), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'pending', attempts = 0, next_attempt = ?,
			reason = '', done_at = 0 WHERE id = ? AND status IN ('pending', 'failed')`, nanos(next), id)
		if err != nil {
			return err
		}
		return mailChanged(ctx, tx, res, id)
	})
}

// mailChanged turns an update that changed no row into ErrNotFound (no
// such email) or ErrMailDone (one in another state).
func mailChanged(ctx context.Context, tx *sql.Tx, res sql.Result, id int64) error {
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var status string
	err := tx.QueryRowContext(ctx, `SELECT status FROM outbox WHERE id = ?`, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("email %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("email %d is %s: %w", id, status, store.ErrMailDone)
}

// PruneMail deletes the emails finished before before.
func (s *DB) PruneMail(ctx context.Context, before time.Time) (int, error) {
	if err := checkTimes(before); err != nil {
		return 0, fmt.Errorf("sqlite: prune emails: %w", err)
	}
	var n int64
	err := s.inTx(ctx, "prune emails", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE status != 'pending' AND done_at < ?`, nanos(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
