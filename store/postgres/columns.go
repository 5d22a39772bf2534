package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dialin/dialin/store"
)

// How values are stored, and how PostgreSQL's errors become store's.

// querier is the pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// params numbers a query's parameters as they are added ($1, $2...), for
// the queries built from filters.
type params struct{ args []any }

func (p *params) add(v any) string {
	p.args = append(p.args, v)
	return "$" + strconv.Itoa(len(p.args))
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// oneRow turns "no row changed" into ErrNotFound.
func oneRow(tag pgconn.CommandTag, what string, id int64) error {
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s %d: %w", what, id, store.ErrNotFound)
	}
	return nil
}

// noRowNotFound is oneRow for a key that is a name, not an ID.
func noRowNotFound(tag pgconn.CommandTag, what string) error {
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// constraint reports which constraint err violated: "unique" (a unique
// index or primary key) or "foreign key", with the constraint's name
// ("users_email"); "" if err is something else.
func constraint(err error) (kind, name string) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return "", ""
	}
	switch pe.Code {
	case "23505": // unique_violation
		return "unique", pe.ConstraintName
	case "23503": // foreign_key_violation
		return "foreign key", pe.ConstraintName
	}
	return "", ""
}

// Times are stored as Unix nanoseconds (UTC), exact to the nanosecond; the
// zero time.Time is 0. Loaded times are in UTC and carry no monotonic
// reading, so compare them with Equal.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeFromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// Unix nanoseconds in an int64 cover 1678 to 2262.
var (
	minStoredTime = time.Unix(0, -1<<63+1)
	maxStoredTime = time.Unix(0, 1<<63-1)
)

// checkTimes refuses times that Unix nanoseconds cannot hold, rather than
// storing a wrong value.
func checkTimes(times ...time.Time) error {
	for _, t := range times {
		if t.IsZero() {
			continue
		}
		if t.Before(minStoredTime) || t.After(maxStoredTime) {
			return fmt.Errorf("time %s is outside 1678-2262: %w", t.Format(time.RFC3339), store.ErrInvalidInput)
		}
	}
	return nil
}
