package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dialin/dialin/store"
)

// The outbox's states (store.MailQueueBackend): listing, finishing,
// retrying and pruning emails.

// PendingMailOf reads the pending emails about userID to to, with content.
func (s *DB) PendingMailOf(ctx context.Context, userID int64, to string) ([]store.SealedMail, error) {
	return s.queryMail(ctx, "pending email of a user", true, `SELECT `+mailColumns+`, sealed FROM outbox
		WHERE status = 'pending' AND user_id = $1 AND recipient = $2 ORDER BY id`, userID, to)
}

// GetMail reads one email without its content.
func (s *DB) GetMail(ctx context.Context, id int64) (store.SealedMail, error) {
	m, err := scanMail(s.pool.QueryRow(ctx, `SELECT `+mailColumns+` FROM outbox WHERE id = $1`, id))
	if noRows(err) {
		return store.SealedMail{}, fmt.Errorf("email %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.SealedMail{}, fmt.Errorf("postgres: email %d: %w", id, err)
	}
	return m, nil
}

// ListMail reads emails by ID, without their content.
func (s *DB) ListMail(ctx context.Context, f store.MailFilter) ([]store.SealedMail, error) {
	if f.Limit <= 0 {
		return nil, fmt.Errorf("postgres: list emails: limit %d: %w", f.Limit, store.ErrInvalidInput)
	}
	if f.Status == "" {
		return s.queryMail(ctx, "list emails", false, `SELECT `+mailColumns+` FROM outbox
			WHERE id > $1 ORDER BY id LIMIT $2`, f.After, f.Limit)
	}
	return s.queryMail(ctx, "list emails", false, `SELECT `+mailColumns+` FROM outbox
		WHERE status = $1 AND id > $2 ORDER BY id LIMIT $3`, string(f.Status), f.After, f.Limit)
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
		return fmt.Errorf("postgres: finish email %d: status %q: %w", id, status, store.ErrInvalidInput)
	}
	if err := checkTimes(at); err != nil {
		return fmt.Errorf("postgres: email %d: %w", id, err)
	}
	return s.inTx(ctx, fmt.Sprintf("mark email %d %s", id, status), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE outbox SET status = $1, reason = $2, done_at = $3, sealed = ''::bytea
			WHERE id = $4 AND `+from, string(status), reason, nanos(at), id)
		if err != nil {
			return err
		}
		return mailChanged(ctx, tx, tag, id)
	})
}

// GiveUpMail counts a last failed attempt and marks a pending email failed,
// keeping its content.
func (s *DB) GiveUpMail(ctx context.Context, id int64, reason string, at time.Time) error {
	if err := checkTimes(at); err != nil {
		return fmt.Errorf("postgres: email %d: %w", id, err)
	}
	return s.inTx(ctx, fmt.Sprintf("mark email %d failed", id), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE outbox SET status = 'failed', attempts = attempts + 1,
			last_error = $1, reason = $1, done_at = $2 WHERE id = $3 AND status = 'pending'`, reason, nanos(at), id)
		if err != nil {
			return err
		}
		return mailChanged(ctx, tx, tag, id)
	})
}

// RetryMail makes a pending or failed email pending again, due at next.
func (s *DB) RetryMail(ctx context.Context, id int64, next time.Time) error {
	if err := checkTimes(next); err != nil {
		return fmt.Errorf("postgres: email %d: %w", id, err)
	}
	return s.inTx(ctx, fmt.Sprintf("retry email %d", id), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE outbox SET status = 'pending', attempts = 0, next_attempt = $1,
			reason = '', done_at = 0 WHERE id = $2 AND status IN ('pending', 'failed')`, nanos(next), id)
		if err != nil {
			return err
		}
		return mailChanged(ctx, tx, tag, id)
	})
}

// mailChanged turns an update that changed no row into ErrNotFound (no
// such email) or ErrMailDone (one in another state).
func mailChanged(ctx context.Context, tx pgx.Tx, tag pgconn.CommandTag, id int64) error {
	if tag.RowsAffected() > 0 {
		return nil
	}
	var status string
	err := tx.QueryRow(ctx, `SELECT status FROM outbox WHERE id = $1`, id).Scan(&status)
	if noRows(err) {
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
		return 0, fmt.Errorf("postgres: prune emails: %w", err)
	}
	var n int64
	err := s.inTx(ctx, "prune emails", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM outbox WHERE status != 'pending' AND done_at < $1`, nanos(before))
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}
