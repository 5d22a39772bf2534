package postgres

import (
	"context"
	"os"
	"reflect"
	"testing"

	"github.com/dialin/dialin/internal/pgtest"
	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/storetest"
)

// Every test of this package runs on a real PostgreSQL server (started
// once for the package, internal/pgtest), each in a database of its own.

var pg pgtest.Lazy

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

// pgOpen opens the database dsn names, closed when the test ends.
func pgOpen(t testing.TB, dsn string) *DB {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// pgTempStore opens a new empty database.
func pgTempStore(t testing.TB) (*DB, string) {
	t.Helper()
	dsn := pg.Get(t).NewDatabase(t)
	return pgOpen(t, dsn), dsn
}

// pgEngine is PostgreSQL for the conformance suite: a new database.
func pgEngine(t testing.TB) storetest.Opener {
	dsn := pg.Get(t).NewDatabase(t)
	return func(t testing.TB) store.Backend { return pgOpen(t, dsn) }
}

// TestStoreConformance runs the backends' common suite (store/storetest)
// on PostgreSQL.
func TestStoreConformance(t *testing.T) {
	storetest.Run(t, pgEngine)
}

// A stored settings row written before a field existed loads that field
// with its default.
func TestPostgresSettingsMissingFieldsDefault(t *testing.T) {
	s, _ := pgTempStore(t)
	if _, err := s.pool.Exec(context.Background(), `INSERT INTO settings (id, value) VALUES (1, '{"pin_length": 7}')`); err != nil {
		t.Fatal(err)
	}
	want := store.DefaultSettings()
	want.PINLength = 7
	if got := storetest.LoadFull(t, s).Settings; !reflect.DeepEqual(got, want) {
		t.Errorf("settings:\n got %+v\nwant %+v", got, want)
	}
}

// A settings row written before a setting existed loads with that
// setting's default: entry_exit_announcements came later, as tones.
func TestPostgresSettingsAddedLaterGetTheirDefault(t *testing.T) {
	s, _ := pgTempStore(t)
	if _, err := s.pool.Exec(context.Background(), `INSERT INTO settings (id, value) VALUES (1, '{"pin_length":7,"lobby_admission":"auto"}')`); err != nil {
		t.Fatal(err)
	}
	got := storetest.LoadFull(t, s).Settings
	if got.PINLength != 7 || got.LobbyAdmission != store.AdmitAuto || got.EntryExitAnnouncements != store.AnnounceTones {
		t.Fatalf("settings = %+v", got)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("the old row with its defaults: %v", err)
	}
}

// TestStoreConformanceSimpleProtocol runs the suite as through PgBouncer in
// transaction mode, which allows no prepared statements: pgx's simple
// protocol, where every value comes back as text.
func TestStoreConformanceSimpleProtocol(t *testing.T) {
	storetest.Run(t, func(t testing.TB) storetest.Opener {
		dsn := pg.Get(t).NewDatabase(t) + " default_query_exec_mode=simple_protocol"
		return func(t testing.TB) store.Backend { return pgOpen(t, dsn) }
	})
}
