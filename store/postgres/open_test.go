package postgres

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/storetest"
)

// pgExec runs statements on the database dsn names, outside any store.
func pgExec(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
}

func TestPostgresMigrationsRecorded(t *testing.T) {
	dsn := pg.Get(t).NewDatabase(t)
	versions := func() map[int64]int64 {
		t.Helper()
		s := pgOpen(t, dsn)
		defer s.Close()
		rows, err := s.pool.Query(context.Background(), `SELECT version, applied_at FROM schema_migrations`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[int64]int64{}
		for rows.Next() {
			var v, at int64
			if err := rows.Scan(&v, &at); err != nil {
				t.Fatal(err)
			}
			got[v] = at
		}
		return got
	}
	first := versions()
	if len(first) != len(migrations) {
		t.Fatalf("schema_migrations = %v, want the %d versions of migrations", first, len(migrations))
	}
	for _, m := range migrations {
		if first[int64(m.version)] == 0 {
			t.Fatalf("schema_migrations = %v: version %d missing", first, m.version)
		}
	}
	// Reopening applies nothing again.
	if second := versions(); !reflect.DeepEqual(second, first) {
		t.Errorf("after reopen: %v, want %v", second, first)
	}
}

// Nodes that start at once on a new database migrate it once: the
// migration lock makes the others wait, then find every version applied.
func TestPostgresConcurrentOpensMigrateOnce(t *testing.T) {
	dsn := pg.Get(t).NewDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(context.Background(), dsn)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s := pgOpen(t, dsn)
	var n int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(migrations) {
		t.Fatalf("%d versions recorded, %v; want %d", n, err, len(migrations))
	}
}

func TestPostgresRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	s, dsn := pgTempStore(t)
	u := storetest.FullUser(1)
	if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	pgExec(t, dsn, `INSERT INTO schema_migrations (version, applied_at) VALUES (99, 1)`)

	s2, err := Open(ctx, dsn)
	if err == nil {
		s2.Close()
		t.Fatal("opened a database of schema version 99")
	}
	for _, mention := range []string{"99", "newer"} {
		if !strings.Contains(err.Error(), mention) {
			t.Errorf("error %q does not mention %q", err, mention)
		}
	}
}

// A database with another program's tables is refused, and left as it was.
func TestPostgresRefusesForeignDatabase(t *testing.T) {
	dsn := pg.Get(t).NewDatabase(t)
	pgExec(t, dsn, `CREATE TABLE invoices (id int); INSERT INTO invoices VALUES (1)`)
	s, err := Open(context.Background(), dsn)
	if err == nil {
		s.Close()
		t.Fatal("opened another program's database")
	}
	if !strings.Contains(err.Error(), "not a dialin database") {
		t.Errorf("error %q does not say why", err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&tables); err != nil || tables != 1 {
		t.Errorf("%d tables after the refusal, %v; want only invoices", tables, err)
	}
}

// A DSN that does not parse, or names a server that is not there, is a
// clear error that never shows the password.
func TestPostgresBrokenDSN(t *testing.T) {
	for _, dsn := range []string{
		"postgres://dialin:s3cret-pw@[::1", // does not parse
		"host=/nonexistent/socket user=dialin password=s3cret-pw dbname=dialin connect_timeout=2",
	} {
		s, err := Open(context.Background(), dsn)
		if err == nil {
			s.Close()
			t.Fatalf("opened %q", dsn)
		}
		if strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("the error shows the password: %v", err)
		}
		if !strings.HasPrefix(err.Error(), "postgres: open") {
			t.Errorf("error %q does not say what failed", err)
		}
	}
}

// Probe fails on a database that takes no writes (here: read-only by
// default, as a standby is), and passes again once it takes them.
func TestPostgresProbeFailsOnAReadOnlyDatabase(t *testing.T) {
	ctx := context.Background()
	s, dsn := pgTempStore(t)
	if err := s.Probe(ctx); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pgExec(t, dsn, `ALTER DATABASE `+cfg.Database+` SET default_transaction_read_only = on`)
	s.pool.Reset() // the setting applies to new sessions
	err = s.Probe(ctx)
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("Probe on a read-only database: %v", err)
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalidInput) {
		t.Error("a storage failure reads as the caller's error")
	}
	// A restart on the read-only database: nothing to migrate, so it opens.
	s2 := pgOpen(t, dsn)
	if err := s2.Probe(ctx); err == nil {
		t.Error("Probe passed on a read-only database after a restart")
	}
	pgExec(t, dsn, `BEGIN READ WRITE; ALTER DATABASE `+cfg.Database+` SET default_transaction_read_only = off; COMMIT`)
	s2.pool.Reset()
	if err := s2.Probe(ctx); err != nil {
		t.Errorf("Probe once writable again: %v", err)
	}
}

// Two nodes giving the same conference ID at once, one to a user and one
// to a dynamic meeting (no key of one table covers the other): one wins,
// the other gets ErrExists, every time (conferenceIDFree's lock).
func TestPostgresConferenceIDRaceAcrossNodes(t *testing.T) {
	ctx := context.Background()
	a, dsn := pgTempStore(t)
	b := pgOpen(t, dsn) // another node on the same database
	owner := storetest.FullUser(0)
	owner.ConferenceID = ""
	if err := a.CreateUser(ctx, &owner, nil, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		id := fmt.Sprintf("%07d", 2000000+i)
		u := storetest.FullUser(i + 1)
		u.ConferenceID = id
		m := store.Meeting{ConferenceID: id, OrganizerID: owner.ID, CreatedAt: time.Now()}
		var wg sync.WaitGroup
		var errUser, errMeeting error
		wg.Go(func() { errUser = a.CreateUser(ctx, &u, nil, nil) })
		wg.Go(func() { errMeeting = b.CreateMeeting(ctx, &m) })
		wg.Wait()
		if (errUser == nil) == (errMeeting == nil) {
			t.Fatalf("ID %s: user %v, meeting %v; want exactly one to win", id, errUser, errMeeting)
		}
		for _, err := range []error{errUser, errMeeting} {
			if err != nil && !errors.Is(err, store.ErrExists) {
				t.Fatalf("ID %s: %v, want ErrExists", id, err)
			}
		}
	}
}
