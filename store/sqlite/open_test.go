package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/storetest"
)

func TestSQLiteMigrationsRecorded(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dialin.db")
	versions := func() map[int64]int64 {
		t.Helper()
		s := sqOpen(t, path)
		defer s.Close()
		rows, err := s.db.Query(`SELECT version, applied_at FROM schema_migrations`)
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
		var app int64
		if err := s.db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app); err != nil || app != sqliteApplicationID {
			t.Errorf("application_id = %#x, %v; want %#x", app, err, sqliteApplicationID)
		}
		return got
	}
	first := versions()
	// Versions are reserved per change, so the list may have gaps.
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

// sqFileBytes reads a file, failing the test if it cannot.
func sqFileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSQLiteRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dialin.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	u := storetest.FullUser(1)
	if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (99, 1)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	want := sqFileBytes(t, path)

	s, err = Open(ctx, path)
	if err == nil {
		s.Close()
		t.Fatal("opened a database of schema version 99")
	}
	for _, mention := range []string{"99", "newer", path} {
		if !strings.Contains(err.Error(), mention) {
			t.Errorf("error %q does not mention %q", err, mention)
		}
	}
	if !bytes.Equal(sqFileBytes(t, path), want) {
		t.Error("the refused database file was changed")
	}
}

func TestSQLiteRefusesNonDatabase(t *testing.T) {
	junk := make([]byte, 8192)
	for i := range junk {
		junk[i] = byte(i * 7)
	}
	cases := map[string][]byte{
		"text":            []byte("users:\n  - alice@example.com 1234567\n"),
		"short":           []byte("SQLite format 3\x00"),
		"binary":          junk,
		"header, garbage": append([]byte("SQLite format 3\x00"), junk...),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "dialin.db")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), path)
			if err == nil {
				s.Close()
				t.Fatal("opened a file that is not a database")
			}
			if !strings.Contains(err.Error(), "not a SQLite database") || !strings.Contains(err.Error(), path) {
				t.Errorf("unclear error: %v", err)
			}
			if !bytes.Equal(sqFileBytes(t, path), content) {
				t.Error("the file was changed")
			}
		})
	}
}

// A database whose pages were damaged gives an error (at Open or at Load),
// and is not changed by the attempt.
func TestSQLiteDamagedDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dialin.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	users := make([]store.User, 2000)
	meetings := make([]store.Meeting, len(users))
	for i := range users {
		users[i] = storetest.FullUser(i)
		meetings[i] = *storetest.StaticMeeting(&users[i])
		meetings[i].OrganizerID = int64(i + 1)
	}
	sqBulkInsert(t, s, users, meetings)
	s.Close()
	content := sqFileBytes(t, path)
	if len(content) < 40*4096 {
		t.Fatalf("database only %d bytes", len(content))
	}
	// Overwrite pages in the middle of the file (the users and meetings
	// b-trees) with a pattern.
	for i := len(content) / 3; i < len(content)*2/3; i++ {
		content[i] = 0xA5
	}
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path)
	if err == nil {
		_, err = s.Load(ctx)
		s.Close()
	}
	if err == nil {
		t.Fatal("a damaged database loaded without error")
	}
	t.Logf("error: %v", err)
	if !bytes.Equal(sqFileBytes(t, path), content) {
		t.Error("the damaged file was changed")
	}
}

func TestSQLiteRefusesForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	want := sqFileBytes(t, path)
	s, err := Open(context.Background(), path)
	if err == nil {
		s.Close()
		t.Fatal("opened another program's database")
	}
	if !strings.Contains(err.Error(), "not a dialin database") {
		t.Errorf("unclear error: %v", err)
	}
	if !bytes.Equal(sqFileBytes(t, path), want) {
		t.Error("the other program's database was changed")
	}
}

func TestSQLiteFileModes(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data", "dialin")
	path := filepath.Join(dir, "dialin.db")
	s := sqOpen(t, path)
	u := storetest.FullUser(1)
	if err := s.CreateUser(ctx, &u, nil, nil); err != nil { // so that the WAL exists
		t.Fatal(err)
	}
	mode := func(p string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if m := mode(dir); m != 0o700 {
		t.Errorf("folder mode %o, want 700", m)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if m := mode(p); m != 0o600 {
			t.Errorf("%s mode %o, want 600", filepath.Base(p), m)
		}
	}
	s.Close()

	// A copy restored with a wider mode is tightened when opened.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	sqOpen(t, path)
	if m := mode(path); m != 0o600 {
		t.Errorf("reopened file mode %o, want 600", m)
	}
}

// A path with characters that mean something in a URI stays the path.
func TestSQLiteOddPath(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a b?c#d%20e", "dialin?mode=ro.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	u := storetest.FullUser(1)
	if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	s = sqOpen(t, path)
	storetest.CheckUser(t, storetest.LoadUser(t, s, u.ID), u)
}
