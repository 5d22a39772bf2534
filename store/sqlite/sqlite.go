// Package sqlite is the store.Backend on an embedded SQLite file, through a
// pure-Go driver (no cgo). Only the program that picks the engine imports
// it: everything else reaches the directory through store.
//
// Files by concern: sqlite.go opens the file and runs transactions,
// migrations.go holds the schema history, load.go the start-up read,
// users.go, meetings.go, settings.go, tokens.go and outbox.go one table
// each, columns.go how values are stored and how SQLite's errors map to
// store's.
package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/dialin/dialin/store"
)

// DB is the store.Backend on an embedded SQLite database file (pure Go
// driver, no cgo). It keeps one connection: the Directory serialises
// writes, and reads happen at Load, which opens extra read connections for
// its duration.
type DB struct {
	db   *sql.DB
	path string
}

var _ store.Backend = (*DB)(nil)

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// Open opens the database at path, creating it (and its folder, mode
// 0700) if missing, and migrates its schema. The file gets mode 0600: it
// holds PIN digests. An existing file that is not a SQLite database, or a
// database written by a newer dialin or by another program, is refused and
// left untouched.
func Open(ctx context.Context, path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: create folder: %w", abs, err)
	}
	if err := prepareSQLiteFile(abs); err != nil {
		return nil, err
	}
	if err := preflightSQLite(ctx, abs); err != nil {
		return nil, err
	}

	db, err := sql.Open("sqlite", sqliteDSN(abs))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	// One connection: SQLite has one writer anyway, and the pragmas of the
	// DSN then apply to every statement. Keep it open for the life of the
	// store so they run once.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	s := &DB{db: db, path: abs}
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *DB) init(ctx context.Context) error {
	// journal_mode(WAL) fails silently (the mode stays as it was) where
	// WAL cannot work, e.g. on some network filesystems; our durability
	// reasoning assumes WAL, so check.
	var mode string
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", s.path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: open %s: journal mode is %q, not WAL (is the folder on a network filesystem?)", s.path, mode)
	}
	if err := migrate(ctx, s.db); err != nil {
		return fmt.Errorf("%w (database %s)", err, s.path)
	}
	return nil
}

// preflightSQLite checks, through a connection that only reads (no
// pragmas: switching to WAL would rewrite the header), that the file is a
// dialin database this program can use, before Open's connection
// changes anything.
func preflightSQLite(ctx context.Context, path string) error {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := checkDatabase(ctx, db); err != nil {
		if damaged(err) {
			return fmt.Errorf("sqlite: open %s: the file is not a SQLite database or is damaged; "+
				"refusing to use it, it was left unchanged: %w", path, err)
		}
		return fmt.Errorf("%w (database %s)", err, path)
	}
	return nil
}

// sqliteDSN is the driver's connection string for the file at path, with
// these pragmas and any extra ones:
//
//   - journal_mode(WAL): the writer does not block readers, and a crash
//     leaves committed transactions in the WAL, replayed at the next open.
//   - synchronous(FULL): in WAL mode FULL fsyncs the WAL at every commit,
//     so a write that returned survives kill -9 and power loss; NORMAL
//     would survive kill -9 but could lose the last commits on power loss.
//     Writes are administrative and rare, so the fsync is cheap enough.
//   - busy_timeout(5000): wait up to 5 s for a lock held by another
//     process (a CLI, a backup) instead of failing at once. It is first so
//     that it also covers the journal mode switch.
//   - foreign_keys(1): SQLite leaves them off by default; meetings cascade
//     with their organizer.
//   - _txlock=immediate: every transaction takes the write lock at BEGIN,
//     so it cannot fail halfway with SQLITE_BUSY when upgrading a read.
func sqliteDSN(path string, extraPragmas ...string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	for _, p := range extraPragmas {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	// A file: URI, escaped, so that a '?' or '#' in the path stays in the path.
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// prepareSQLiteFile creates the database file with mode 0600, or checks that
// an existing one is a SQLite database before the driver touches it: SQLite
// never overwrites a file it cannot read, but refusing here gives a clear
// error and guarantees that nothing stored is lost.
func prepareSQLiteFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return createSQLiteFile(path)
	}
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("sqlite: open %s: not a regular file", path)
	}
	if fi.Size() > 0 {
		if err := checkSQLiteHeader(path, fi.Size()); err != nil {
			return err
		}
	}
	// Tighten a file made by hand or restored from a backup with a wider
	// mode; SQLite gives its -wal and -shm files the mode of the database.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite: open %s: %w", p, err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("sqlite: open %s: restrict mode to 0600: %w", p, err)
			}
		}
	}
	return nil
}

// createSQLiteFile creates an empty file (an empty file is an empty SQLite
// database) with mode 0600, and makes its directory entry durable.
func createSQLiteFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		_ = dir.Sync() // best effort: not every filesystem syncs directories
		dir.Close()
	}
	return nil
}

func checkSQLiteHeader(path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer f.Close()
	header := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, header); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// A SQLite file is at least one 100-byte header long.
	if size < 100 || !bytes.Equal(header, sqliteHeader) {
		return fmt.Errorf("sqlite: open %s: the file is not a SQLite database (wrong header); "+
			"refusing to use it, it was left unchanged", path)
	}
	return nil
}

// Close closes the database; SQLite checkpoints the WAL into the file.
func (s *DB) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// inTx runs fn in one (immediate) transaction, writes the audit entry ctx
// carries (store.AuditOf) in it, and commits it; any error rolls
// everything back and is wrapped as "sqlite: <op>: ...". Every write
// method goes through here: that is how each keeps store.Backend's audit
// contract.
func (s *DB) inTx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	e := store.AuditOf(ctx)
	if e != nil && e.ID != 0 {
		e = nil // written by an earlier write of the same change
	}
	var auditID int64
	err := s.tx(ctx, op, func(tx *sql.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if e == nil {
			return nil
		}
		var err error
		auditID, err = insertAudit(ctx, tx, e)
		return err
	})
	if err == nil && e != nil {
		e.ID = auditID
	}
	return err
}

// tx runs fn in one (immediate) transaction and commits it, with no audit.
func (s *DB) tx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %s: begin: %w", op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: commit: %w", op, err)
	}
	return nil
}

// damaged reports whether err says the file is not a database or is corrupt.
func damaged(err error) bool {
	var se *sqlitedrv.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff // the primary code of an extended one
	return code == sqlite3.SQLITE_NOTADB || code == sqlite3.SQLITE_CORRUPT
}
