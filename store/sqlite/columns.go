package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/dialin/dialin/store"
)

// How values are stored, and how SQLite's errors become store's.

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// oneRow turns "no row changed" into ErrNotFound.
func oneRow(res sql.Result, what string, id int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s %d: %w", what, id, store.ErrNotFound)
	}
	return nil
}

// constraint reports which constraint err violated: "unique" (UNIQUE or
// PRIMARY KEY) or "foreign key", with SQLite's message naming the columns
// ("UNIQUE constraint failed: users.email"); "" if err is something else.
func constraint(err error) (kind, msg string) {
	var se *sqlitedrv.Error
	if !errors.As(err, &se) {
		return "", ""
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return "unique", se.Error()
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return "foreign key", se.Error()
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
