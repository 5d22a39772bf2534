package sqlite

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/storetest"
)

// Every test of this package uses a real SQLite file in t.TempDir().

// sqOpen opens a store at path, closed when the test ends.
func sqOpen(t testing.TB, path string) *DB {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sqTempStore(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dialin.db")
	return sqOpen(t, path), path
}

// sqEngine is SQLite for the conformance suite: a file in a new folder.
func sqEngine(t testing.TB) storetest.Opener {
	path := filepath.Join(t.TempDir(), "dialin.db")
	return func(t testing.TB) store.Backend { return sqOpen(t, path) }
}

// TestStoreConformance runs the backends' common suite (store/storetest)
// on SQLite.
func TestStoreConformance(t *testing.T) {
	storetest.Run(t, sqEngine)
}

// A stored settings row written before a field existed loads that field
// with its default.
func TestSQLiteSettingsMissingFieldsDefault(t *testing.T) {
	s, _ := sqTempStore(t)
	if _, err := s.db.Exec(`INSERT INTO settings (id, value) VALUES (1, '{"pin_length": 7}')`); err != nil {
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
func TestSQLiteSettingsAddedLaterGetTheirDefault(t *testing.T) {
	s, _ := sqTempStore(t)
	if _, err := s.db.Exec(`INSERT INTO settings (id, value) VALUES (1, '{"pin_length":7,"lobby_admission":"auto"}')`); err != nil {
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
