package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dialin/dialin/store"
)

// The audit table (migration 5). Entries reach it two ways: inTx writes the
// one a change's context carries in the change's transaction, and
// AppendAudit writes one on its own.

// AppendAudit writes e in a transaction of its own and sets e.ID.
func (s *DB) AppendAudit(ctx context.Context, e *store.AuditEntry) error {
	var id int64
	err := s.tx(ctx, "append audit entry", func(tx pgx.Tx) error {
		var err error
		id, err = insertAudit(ctx, tx, e)
		return err
	})
	if err != nil {
		return err
	}
	e.ID = id
	return nil
}

// insertAudit inserts e and returns its ID, for the caller to set once the
// transaction commits. An entry written with its change is AuditOK (the
// change is being committed) and, if the Directory gave it no time, now.
func insertAudit(ctx context.Context, tx pgx.Tx, e *store.AuditEntry) (int64, error) {
	if e.Credential == "" || e.Action == "" {
		return 0, fmt.Errorf("audit entry without credential or action: %w", store.ErrInvalidInput)
	}
	if e.Outcome == "" {
		e.Outcome = store.AuditOK
	}
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	if err := checkTimes(e.Time); err != nil {
		return 0, fmt.Errorf("audit entry: %w", err)
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO audit (at, credential, address, action, user_email,
		target, detail, outcome, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		nanos(e.Time), e.Credential, e.Address, e.Action, e.User, e.Target, e.Detail, e.Outcome, e.Error).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("audit entry: %w", err)
	}
	return id, nil
}

// ListAudit reads entries matching f, newest first.
func (s *DB) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	query := `SELECT id, at, credential, address, action, user_email, target, detail, outcome, error
		FROM audit WHERE true`
	var p params
	if f.Before > 0 {
		query += ` AND id < ` + p.add(f.Before)
	}
	if !f.From.IsZero() {
		query += ` AND at >= ` + p.add(nanos(f.From))
	}
	if !f.To.IsZero() {
		query += ` AND at < ` + p.add(nanos(f.To))
	}
	if f.Credential != "" {
		query += ` AND credential = ` + p.add(f.Credential)
	}
	if f.User != "" {
		query += ` AND lower(user_email) = lower(` + p.add(f.User) + `)`
	}
	if f.Action != "" {
		query += ` AND action = ` + p.add(f.Action)
	}
	query += ` ORDER BY id DESC`
	if f.Limit > 0 {
		query += ` LIMIT ` + p.add(f.Limit)
	}
	rows, err := s.pool.Query(ctx, query, p.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list audit: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Credential, &e.Address, &e.Action, &e.User,
			&e.Target, &e.Detail, &e.Outcome, &e.Error); err != nil {
			return nil, fmt.Errorf("postgres: list audit: %w", err)
		}
		e.Time = timeFromNanos(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list audit: %w", err)
	}
	return out, nil
}
