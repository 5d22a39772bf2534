package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// sqliteApplicationID marks a database file as dialin's ("DIAL" in ASCII),
// in the SQLite header, so that another program's database is refused
// instead of having our tables added to it.
const sqliteApplicationID = 0x4449414C

// A migration moves the schema from version-1 to version. Migrations are
// only ever appended: a released one is never edited.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations is the schema history, in order. Each has its translation,
// numbered and named the same, in store/postgres/migrations.go
// (TestPostgresMigrationsMatchSQLite checks it).
//
// Times are INTEGER Unix nanoseconds, UTC, 0 for the zero time.Time: they
// compare and round-trip exactly and load without parsing. Booleans are
// INTEGER 0/1. Tables are STRICT so that a wrong type is an error, not a
// silent conversion.
var migrations = []migration{
	{
		version: 1,
		name:    "directory",
		sql: `
CREATE TABLE settings (
	id    INTEGER PRIMARY KEY CHECK (id = 1), -- one row
	value TEXT NOT NULL                        -- Settings as JSON
) STRICT;

CREATE TABLE users (
	-- AUTOINCREMENT: the ID of a deleted user is never given to another.
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	email           TEXT NOT NULL UNIQUE COLLATE NOCASE,
	display_name    TEXT NOT NULL DEFAULT '',
	email_override  TEXT NOT NULL DEFAULT '',
	conference_id   TEXT,          -- static ID; NULL in dynamic mode
	pin_digest      BLOB NOT NULL, -- HMAC-SHA256 of the PIN, never the PIN
	pin_length      INTEGER NOT NULL,
	pin_set_at      INTEGER NOT NULL DEFAULT 0,
	policy          TEXT,          -- PINPolicy as JSON; NULL inherits everything
	failures        INTEGER NOT NULL DEFAULT 0,
	window_start    INTEGER NOT NULL DEFAULT 0,
	total_failures  INTEGER NOT NULL DEFAULT 0,
	locked_until    INTEGER NOT NULL DEFAULT 0,
	locked_by_admin INTEGER NOT NULL DEFAULT 0 CHECK (locked_by_admin IN (0, 1)),
	created_at      INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX users_conference_id ON users (conference_id);

-- A user's static conference ID is also its meeting's key, so the primary
-- key keeps conference IDs unique across users and meetings.
CREATE TABLE meetings (
	conference_id     TEXT NOT NULL PRIMARY KEY,
	organizer_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	static            INTEGER NOT NULL DEFAULT 0 CHECK (static IN (0, 1)),
	require_organizer INTEGER NOT NULL DEFAULT 0 CHECK (require_organizer IN (0, 1)),
	bypass_lobby      INTEGER NOT NULL DEFAULT 0 CHECK (bypass_lobby IN (0, 1)),
	created_at        INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- ON DELETE CASCADE looks meetings up by organizer.
CREATE INDEX meetings_organizer_id ON meetings (organizer_id);

PRAGMA application_id = 1145651532;
`,
	},
	{
		version: 2,
		name:    "outbox",
		sql: `
-- Emails to users, queued in the same transaction as the change they tell
-- of and deleted once sent. The content (which may hold a PIN) is sealed:
-- AES-256-GCM under a key derived from the PIN secret, bound to kind and
-- recipient.
CREATE TABLE outbox (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	kind         TEXT NOT NULL,
	recipient    TEXT NOT NULL,
	sealed       BLOB NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt INTEGER NOT NULL DEFAULT 0, -- Unix nanoseconds; due when <= now
	last_error   TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX outbox_next_attempt ON outbox (next_attempt, id);
`,
	},
	{
		version: 3,
		name:    "user_tokens",
		sql: `
-- Each user's self-service token (at most one): the SHA-256 of a random
-- 256-bit token, never the token. It lets the user (or a portal acting for
-- them) read their own details and reset their own PIN, nothing else.
CREATE TABLE user_tokens (
	user_id    INTEGER NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	token_hash BLOB NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
) STRICT;
`,
	},
	{
		version: 4,
		name:    "call_records",
		sql: `
-- One row per call that passed the trunk ACL (callrecords.go). Durations
-- are INTEGER nanoseconds; a direction's quality columns are NULL when it
-- was not measured. organizer_email is copied at insert, so a record keeps
-- it when the user is disabled. Pruned by started_at (call_records.retention).
CREATE TABLE call_records (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	call_id         TEXT NOT NULL,
	calling         TEXT NOT NULL DEFAULT '',
	called          TEXT NOT NULL DEFAULT '',
	source          TEXT NOT NULL DEFAULT '',
	transport       TEXT NOT NULL DEFAULT '',
	started_at      INTEGER NOT NULL,
	answered_at     INTEGER NOT NULL DEFAULT 0,
	ended_at        INTEGER NOT NULL,
	status          INTEGER NOT NULL DEFAULT 0,
	outcome         TEXT NOT NULL,
	conference_id   TEXT NOT NULL DEFAULT '',
	organizer_id    INTEGER NOT NULL DEFAULT 0,
	organizer_email TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
	meeting_start   INTEGER NOT NULL DEFAULT 0,
	role            TEXT NOT NULL DEFAULT '',
	lobby_ns        INTEGER NOT NULL DEFAULT 0,
	end_reason      TEXT NOT NULL DEFAULT '',
	codec           TEXT NOT NULL DEFAULT '',
	dtmf            TEXT NOT NULL DEFAULT '',
	in_packets      INTEGER,
	in_lost         INTEGER,
	in_jitter_ns    INTEGER,
	in_max_gap_ns   INTEGER,
	in_mos          REAL,
	out_packets     INTEGER,
	out_lost        INTEGER,
	out_jitter_ns   INTEGER,
	out_max_gap_ns  INTEGER,
	out_mos         REAL,
	rtt_ns          INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX call_records_started ON call_records (started_at);
CREATE INDEX call_records_call_id ON call_records (call_id);
CREATE INDEX call_records_conference ON call_records (conference_id, started_at);
CREATE INDEX call_records_organizer ON call_records (organizer_email, started_at);
`,
	},
	{
		version: 5,
		name:    "audit",
		sql: `
-- The audit trail (store/audit.go): every administrative change, written
-- in the transaction of the change, and every refused or failed attempt.
-- The credential is the name of the token, never the token or its hash; no
-- column ever holds a PIN. No foreign key: an entry outlives its user.
CREATE TABLE audit (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	at         INTEGER NOT NULL,              -- Unix nanoseconds, UTC
	credential TEXT NOT NULL,
	address    TEXT NOT NULL DEFAULT '',
	action     TEXT NOT NULL,
	user_email TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
	target     TEXT NOT NULL DEFAULT '',
	detail     TEXT NOT NULL DEFAULT '',
	outcome    TEXT NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
	error      TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_user ON audit (user_email, id);
`,
	},
	{
		version: 6,
		name:    "mail_queue",
		sql: `
-- The outbox becomes a mail queue an operator can see: an email is pending
-- until sent, dropped (superseded, no longer true, or by hand) or failed
-- for good; those stay listed, their content erased (failed ones keep it
-- for a retry), until pruned. user_id and user_email say whom it is about
-- (0 and '' for emails queued before: found by the sealed content).
ALTER TABLE outbox ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'
	CHECK (status IN ('pending', 'sent', 'failed', 'dropped'));
ALTER TABLE outbox ADD COLUMN user_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN user_email TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN reason TEXT NOT NULL DEFAULT ''; -- why dropped or failed for good
ALTER TABLE outbox ADD COLUMN done_at INTEGER NOT NULL DEFAULT 0; -- sent, dropped or failed for good

DROP INDEX outbox_next_attempt;
CREATE INDEX outbox_due ON outbox (next_attempt, id) WHERE status = 'pending';
CREATE INDEX outbox_user ON outbox (user_id) WHERE status = 'pending';
CREATE INDEX outbox_status ON outbox (status, id);
CREATE INDEX outbox_done ON outbox (done_at) WHERE status != 'pending';
`,
	},
	{
		version: 7,
		name:    "meetings_no_check_digit",
		sql: `
-- A conference ID imported from another system without a Damm check digit
-- (conference-id set --no-check-digit): the IVR looks up any seven digits
-- while such IDs exist, since a typo of one cannot be told by its form.
-- Every ID the bridge makes has a check digit (0).
ALTER TABLE meetings ADD COLUMN no_check_digit INTEGER NOT NULL DEFAULT 0 CHECK (no_check_digit IN (0, 1));
`,
	},
	{
		// The readiness check's scratch table (Probe): one row, rewritten
		// by every /readyz, so a database that cannot be written to fails
		// readiness before an administrator's change does.
		version: 8,
		name:    "readiness probe",
		sql: `
CREATE TABLE probe (
	id INTEGER PRIMARY KEY CHECK (id = 1), -- one row
	at INTEGER NOT NULL                    -- when the last probe wrote it
) STRICT;`,
	},
	{
		version: 9,
		name:    "admin_accounts",
		sql: `
-- Administrators who sign in to the admin center (store/adminaccount.go).
-- hash is an argon2id PHC string; no column ever holds a password.
CREATE TABLE admin_accounts (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	name            TEXT NOT NULL UNIQUE COLLATE NOCASE,
	hash            TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	password_set_at INTEGER NOT NULL
) STRICT;
`,
	},
	{
		version: 10,
		name:    "users_display_name",
		sql: `
-- The admin center's search (SearchUsers) finds users by a prefix of their
-- display name, case-insensitively (ASCII), as it does by email (the
-- email's own NOCASE index) and conference ID (users_conference_id): a
-- range of this index, never a scan of users.
CREATE INDEX users_display_name ON users (display_name COLLATE NOCASE);
`,
	},
	{
		version: 11,
		name:    "signin_links",
		sql: `
-- The self-service page's one-time sign-in links (store/signinlink.go):
-- SHA-256 digests of the link's token and of the nonce of the browser that
-- asked for it, never either in clear. A link works once, for 15 minutes;
-- links are pruned a day after they were made.
CREATE TABLE signin_links (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	token_hash BLOB NOT NULL UNIQUE,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	nonce_hash BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	used_at    INTEGER NOT NULL DEFAULT 0 -- 0 until used
) STRICT;

CREATE INDEX signin_links_created ON signin_links (created_at);
-- ON DELETE CASCADE looks links up by user.
CREATE INDEX signin_links_user ON signin_links (user_id);
`,
	},
	{
		version: 12,
		name:    "cluster",
		sql: `
-- PostgreSQL's cluster tables (store/postgres/cluster.go: meetings' home
-- leases and the node registry), created here too but never used: a
-- SQLite directory is one node and its Backend is no store.ClusterBackend.
-- They keep a schema version the same schema in both engines.
CREATE TABLE cluster_nodes (
	id         TEXT NOT NULL PRIMARY KEY,
	sip_addr   TEXT NOT NULL DEFAULT '',
	admin_url  TEXT NOT NULL DEFAULT '',
	draining   INTEGER NOT NULL DEFAULT 0 CHECK (draining IN (0, 1)),
	started_at INTEGER NOT NULL DEFAULT 0,
	seen_at    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE meeting_homes (
	conference_id TEXT NOT NULL PRIMARY KEY,
	node          TEXT NOT NULL,
	sip_addr      TEXT NOT NULL DEFAULT '',
	expires_at    INTEGER NOT NULL,
	started       INTEGER NOT NULL DEFAULT 0 CHECK (started IN (0, 1))
) STRICT, WITHOUT ROWID;

CREATE INDEX meeting_homes_node ON meeting_homes (node);
`,
	},
}

// latestSchemaVersion is the version this program writes.
func latestSchemaVersion() int { return migrations[len(migrations)-1].version }

// migrate brings the schema up to date, one transaction per migration,
// each recording its version in schema_migrations. It refuses a database
// written by a newer program, or by another program, without changing it.
func migrate(ctx context.Context, db *sql.DB) error {
	if err := checkDatabase(ctx, db); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at INTEGER NOT NULL -- Unix nanoseconds, UTC
) STRICT`); err != nil {
		return fmt.Errorf("sqlite: migrate: create schema_migrations: %w", err)
	}
	for _, m := range migrations {
		if err := applyMigration(ctx, db, m); err != nil {
			return err
		}
	}
	return nil
}

// checkDatabase refuses, by reading only, a database that is another
// program's or that has a schema version this program does not know.
func checkDatabase(ctx context.Context, db *sql.DB) error {
	hasMigrations, err := checkApplication(ctx, db)
	if err != nil || !hasMigrations {
		return err
	}
	applied, err := appliedVersions(ctx, db)
	if err != nil {
		return err
	}
	known := make(map[int]bool, len(migrations))
	for _, m := range migrations {
		known[m.version] = true
	}
	for _, v := range applied {
		if !known[v] {
			return fmt.Errorf("sqlite: migrate: the database has schema version %d, "+
				"but this program knows versions up to %d: it was written by a newer dialin; "+
				"run that version or restore a backup (the database was not changed)",
				v, latestSchemaVersion())
		}
	}
	return nil
}

// checkApplication refuses a SQLite database that belongs to another
// program: one with a foreign application_id, or with tables but no
// schema_migrations. It reports whether schema_migrations exists.
func checkApplication(ctx context.Context, db *sql.DB) (hasMigrations bool, err error) {
	var appID int64
	if err := db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&appID); err != nil {
		return false, fmt.Errorf("sqlite: migrate: read application_id: %w", err)
	}
	if appID != 0 && appID != sqliteApplicationID {
		return false, fmt.Errorf("sqlite: migrate: the database belongs to another program "+
			"(application_id %#x), it is not a dialin database; refusing to change it", appID)
	}
	var tables, ours int
	err = db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE name = 'schema_migrations')
		FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).Scan(&tables, &ours)
	if err != nil {
		return false, fmt.Errorf("sqlite: migrate: read schema: %w", err)
	}
	if tables > 0 && ours == 0 {
		return false, fmt.Errorf("sqlite: migrate: the database has %d tables but no schema_migrations: "+
			"it is not a dialin database; refusing to change it", tables)
	}
	return ours > 0, nil
}

func appliedVersions(ctx context.Context, db *sql.DB) ([]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrate: read schema_migrations: %w", err)
	}
	defer rows.Close()
	var versions []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("sqlite: migrate: read schema_migrations: %w", err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: migrate: read schema_migrations: %w", err)
	}
	return versions, nil
}

// applyMigration runs m unless its version is recorded, and records it, in
// one immediate transaction: checking inside the transaction makes two
// processes starting at once apply it only once.
func applyMigration(ctx context.Context, db *sql.DB, m migration) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate to version %d (%s): %w", m.version, m.name, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var done int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&done)
	if err != nil {
		return fmt.Errorf("sqlite: migrate to version %d (%s): %w", m.version, m.name, err)
	}
	if done > 0 {
		return tx.Rollback()
	}
	if _, err = tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("sqlite: migrate to version %d (%s): %w", m.version, m.name, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.version, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("sqlite: migrate to version %d (%s): record version: %w", m.version, m.name, err)
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate to version %d (%s): commit: %w", m.version, m.name, err)
	}
	return nil
}
