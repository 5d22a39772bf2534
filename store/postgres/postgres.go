// Package postgres is the store.Backend on a PostgreSQL server, through
// pgx v5 and its pool: the directory several bridge nodes share. Same
// semantics as store/sqlite (every method one transaction, the outbox and
// the audit entry in the change's transaction, the same schema history);
// only the program that picks the engine imports it.
//
// Files by concern, as in store/sqlite: postgres.go connects and runs
// transactions, migrations.go holds the schema history, load.go the
// start-up read, one file per table, columns.go how values are stored and
// how PostgreSQL's errors map to store's.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dialin/dialin/store"
)

// DB is the store.Backend on a PostgreSQL database.
type DB struct {
	pool *pgxpool.Pool
	name string // the server and database, for errors: never the password

	// The change feed's listening connections (changes.go).
	connConfig *pgx.ConnConfig
	watchMu    sync.Mutex
	watchStop  []context.CancelFunc
	watchers   sync.WaitGroup
}

var _ store.Backend = (*DB)(nil)

// minPoolConns is the pool's smallest size: Load reads on several
// connections at once while one holds the snapshot, and the call records'
// writer and the API read beside the Directory.
const minPoolConns = 10

// connectTimeout bounds each connection attempt unless the DSN sets
// connect_timeout.
const connectTimeout = 10 * time.Second

// Open connects to the database dsn names (a libpq connection string or
// a postgres:// URL), checks that it answers, and migrates its schema. A
// database written by a newer dialin, or one holding another program's
// tables, is refused and left untouched.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message hides the password of the string it quotes.
		return nil, fmt.Errorf("postgres: open: the DSN does not parse: %w", err)
	}
	if cfg.MaxConns < minPoolConns {
		cfg.MaxConns = minPoolConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// A server that does not answer fails the start, rather than
		// leaving it waiting on the system's TCP timeout.
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	name := fmt.Sprintf("%s/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", name, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", name, err)
	}
	s := &DB{pool: pool, name: name, connConfig: cfg.ConnConfig.Copy()}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%w (database %s)", err, name)
	}
	return s, nil
}

// Where names the server and database (never the password), for logs.
func (s *DB) Where() string { return s.name }

// Close closes every connection of the pool.
func (s *DB) Close() error {
	s.stopWatching()
	s.pool.Close()
	return nil
}

// inTx runs fn in one transaction, writes the audit entry ctx carries
// (store.AuditOf) in it, and commits it; any error rolls everything back
// and is wrapped as "postgres: <op>: ...". Every write method goes through
// here: that is how each keeps store.Backend's audit contract.
func (s *DB) inTx(ctx context.Context, op string, fn func(pgx.Tx) error) error {
	e := store.AuditOf(ctx)
	if e != nil && e.ID != 0 {
		e = nil // written by an earlier write of the same change
	}
	var auditID int64
	err := s.tx(ctx, op, func(tx pgx.Tx) error {
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

// tx runs fn in one read-committed transaction and commits it, with no
// audit. Read committed is enough: the Directory serialises a node's
// writes, each statement checks the keys it needs, and conferenceIDFree
// takes a lock for the one check that spans two tables.
func (s *DB) tx(ctx context.Context, op string, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %s: begin: %w", op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(ctx)
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: %s: commit: %w", op, err)
	}
	return nil
}

// noRows reports whether err is a QueryRow that found nothing.
func noRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
