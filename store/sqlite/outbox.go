package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dialin/dialin/store"
)

// The outbox: emails queued with the changes they tell of.

// insertMail queues mail (if not nil) inside tx; mail.ID is set, but is
// only meaningful once tx commits.
func insertMail(ctx context.Context, tx *sql.Tx, mail *store.SealedMail) error {
	if mail == nil {
		return nil
	}
	if mail.Kind == "" || mail.To == "" || len(mail.Sealed) == 0 {
		return fmt.Errorf("queue email: kind, recipient and content are required: %w", store.ErrInvalidInput)
	}
	if err := checkTimes(mail.NextAttempt, mail.CreatedAt); err != nil {
		return fmt.Errorf("queue email: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox (kind, recipient, sealed, attempts,
		next_attempt, last_error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		mail.Kind, mail.To, mail.Sealed, mail.Attempts, nanos(mail.NextAttempt), mail.LastError, nanos(mail.CreatedAt))
	if err != nil {
		return fmt.Errorf("queue email: %w", err)
	}
	mail.ID, err = res.LastInsertId()
	return err
}

// QueueMail queues an email on its own.
func (s *DB) QueueMail(ctx context.Context, mail *store.SealedMail) error {
	return s.inTx(ctx, "queue email", func(tx *sql.Tx) error { return insertMail(ctx, tx, mail) })
}

// DueMail reads up to limit emails due at now, oldest first.
func (s *DB) DueMail(ctx context.Context, now time.Time, limit int) ([]store.SealedMail, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlite: due email: limit %d: %w", limit, store.ErrInvalidInput)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, recipient, sealed, attempts, next_attempt,
		last_error, created_at FROM outbox WHERE next_attempt <= ? ORDER BY next_attempt, id LIMIT ?`,
		nanos(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: due email: %w", err)
	}
	defer rows.Close()
	var mails []store.SealedMail
	for rows.Next() {
		var m store.SealedMail
		var next, created int64
		if err := rows.Scan(&m.ID, &m.Kind, &m.To, &m.Sealed, &m.Attempts, &next, &m.LastError, &created); err != nil {
			return nil, fmt.Errorf("sqlite: due email: %w", err)
		}
		m.NextAttempt, m.CreatedAt = timeFromNanos(next), timeFromNanos(created)
		mails = append(mails, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: due email: %w", err)
	}
	return mails, nil
}

// DeleteMail removes a sent email; one already gone is not an error.
func (s *DB) DeleteMail(ctx context.Context, id int64) error {
	return s.inTx(ctx, fmt.Sprintf("delete email %d", id), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, id)
		return err
	})
}

// RecordMailFailure counts a failed attempt and sets the next one.
// ErrNotFound if the email is gone.
func (s *DB) RecordMailFailure(ctx context.Context, id int64, next time.Time, reason string) error {
	if err := checkTimes(next); err != nil {
		return fmt.Errorf("sqlite: email %d: %w", id, err)
	}
	return s.inTx(ctx, fmt.Sprintf("record failure of email %d", id), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt = ?,
			last_error = ? WHERE id = ?`, nanos(next), reason, id)
		if err != nil {
			return err
		}
		return oneRow(res, "email", id)
	})
}

// CountMail counts the queued emails.
func (s *DB) CountMail(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count email: %w", err)
	}
	return n, nil
}
