package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dialin/dialin/store"
)

// The outbox: emails queued with the changes they tell of.

// insertMail queues mail (if not nil) inside tx and drops the pending
// emails it supersedes; mail.ID is set, and mail.Supersedes cut to those
// still pending, but both are only meaningful once tx commits.
func insertMail(ctx context.Context, tx pgx.Tx, mail *store.SealedMail) error {
	if mail == nil {
		return nil
	}
	if mail.Kind == "" || mail.To == "" || len(mail.Sealed) == 0 {
		return fmt.Errorf("queue email: kind, recipient and content are required: %w", store.ErrInvalidInput)
	}
	if err := checkTimes(mail.NextAttempt, mail.CreatedAt); err != nil {
		return fmt.Errorf("queue email: %w", err)
	}
	err := tx.QueryRow(ctx, `INSERT INTO outbox (kind, recipient, sealed, attempts,
		next_attempt, last_error, created_at, status, user_id, user_email)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9) RETURNING id`,
		mail.Kind, mail.To, mail.Sealed, mail.Attempts, nanos(mail.NextAttempt), mail.LastError,
		nanos(mail.CreatedAt), mail.UserID, mail.UserEmail).Scan(&mail.ID)
	if err != nil {
		return fmt.Errorf("queue email: %w", err)
	}
	mail.Status = store.OutboxPending
	reason := fmt.Sprintf("superseded by email %d", mail.ID)
	var dropped []int64
	for _, id := range mail.Supersedes {
		tag, err := tx.Exec(ctx, `UPDATE outbox SET status = 'dropped', reason = $1, done_at = $2,
			sealed = ''::bytea WHERE id = $3 AND status = 'pending'`, reason, nanos(mail.CreatedAt), id)
		if err != nil {
			return fmt.Errorf("supersede email %d: %w", id, err)
		}
		if tag.RowsAffected() > 0 {
			dropped = append(dropped, id)
		}
	}
	mail.Supersedes = dropped
	return nil
}

// QueueMail queues an email on its own.
func (s *DB) QueueMail(ctx context.Context, mail *store.SealedMail) error {
	return s.inTx(ctx, "queue email", func(tx pgx.Tx) error { return insertMail(ctx, tx, mail) })
}

// mailColumns are what every read of the outbox takes but the content.
const mailColumns = `id, kind, recipient, attempts, next_attempt, last_error, created_at,
	status, user_id, user_email, reason, done_at`

// scanMail reads mailColumns, then the extra destinations (the content).
func scanMail(row pgx.Row, extra ...any) (store.SealedMail, error) {
	var m store.SealedMail
	var next, created, done int64
	var status string
	dest := append([]any{&m.ID, &m.Kind, &m.To, &m.Attempts, &next, &m.LastError, &created,
		&status, &m.UserID, &m.UserEmail, &m.Reason, &done}, extra...)
	if err := row.Scan(dest...); err != nil {
		return m, err
	}
	m.Status = store.MailStatus(status)
	m.NextAttempt, m.CreatedAt, m.DoneAt = timeFromNanos(next), timeFromNanos(created), timeFromNanos(done)
	return m, nil
}

// queryMail runs a query of mailColumns (and sealed, when withContent).
func (s *DB) queryMail(ctx context.Context, op string, withContent bool, query string, args ...any) ([]store.SealedMail, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", op, err)
	}
	defer rows.Close()
	var mails []store.SealedMail
	for rows.Next() {
		var sealed []byte
		var extra []any
		if withContent {
			extra = append(extra, &sealed)
		}
		m, err := scanMail(rows, extra...)
		if err != nil {
			return nil, fmt.Errorf("postgres: %s: %w", op, err)
		}
		m.Sealed = sealed
		mails = append(mails, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", op, err)
	}
	return mails, nil
}

// DueMail reads up to limit pending emails due at now, oldest first.
func (s *DB) DueMail(ctx context.Context, now time.Time, limit int) ([]store.SealedMail, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: due email: limit %d: %w", limit, store.ErrInvalidInput)
	}
	return s.queryMail(ctx, "due email", true, `SELECT `+mailColumns+`, sealed FROM outbox
		WHERE status = 'pending' AND next_attempt <= $1 ORDER BY next_attempt, id LIMIT $2`, nanos(now), limit)
}

// RecordMailFailure counts a failed attempt of a pending email and sets the
// next one. ErrNotFound if there is no such pending email.
func (s *DB) RecordMailFailure(ctx context.Context, id int64, next time.Time, reason string) error {
	if err := checkTimes(next); err != nil {
		return fmt.Errorf("postgres: email %d: %w", id, err)
	}
	return s.inTx(ctx, fmt.Sprintf("record failure of email %d", id), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt = $1,
			last_error = $2 WHERE id = $3 AND status = 'pending'`, nanos(next), reason, id)
		if err != nil {
			return err
		}
		return oneRow(tag, "pending email", id)
	})
}

// CountMail counts the pending emails.
func (s *DB) CountMail(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE status = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count email: %w", err)
	}
	return n, nil
}
