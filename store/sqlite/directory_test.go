package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
)

// The tests of this file run the store.Directory on a real file: start-up
// from a million users, and an upgrade of an old schema seen through the
// directory.

var testSecret = bytes.Repeat([]byte{7}, 32)

// sqOpenDir opens a directory on the database at path, closed when the test
// ends.
func sqOpenDir(t testing.TB, path string) *store.Directory {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := store.Open(ctx, store.Options{Backend: db, Secret: testSecret})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func sqEnable(t *testing.T, d *store.Directory, email string) store.Change {
	t.Helper()
	e, err := d.EnableUser(context.Background(), store.EnableRequest{Email: email, DisplayName: "Test " + email})
	if err != nil {
		t.Fatalf("enable %s: %v", email, err)
	}
	return e
}

func sqPending(t *testing.T, d *store.Directory) int {
	t.Helper()
	n, err := d.PendingMail(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A database written before the outbox and the user tokens existed
// (schema 1) is upgraded in place and keeps its users.
func TestSQLiteUpgradeAddsOutbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dialin.db")
	d := sqOpenDir(t, path)
	e := sqEnable(t, d, "ada@example.com")
	d.Close()
	raw, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	// Every table of a later migration goes, whichever they are.
	rows, err := raw.Query(`SELECT name FROM sqlite_schema WHERE type = 'table'
		AND name NOT IN ('settings', 'users', 'meetings', 'schema_migrations') AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	var later []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		later = append(later, `DROP TABLE `+name)
	}
	rows.Close()
	later = append(later, `ALTER TABLE meetings DROP COLUMN no_check_digit`) // migration 7's
	later = append(later, `DROP INDEX users_display_name`)                   // migration 10's
	for _, q := range append(later, `DELETE FROM schema_migrations WHERE version >= 2`) {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	d2 := sqOpenDir(t, path)
	if r, _ := d2.VerifyOrganizerPIN(context.Background(), e.User.ConferenceID, e.PIN); r != store.PINOK {
		t.Fatalf("user lost in the upgrade: %v", r)
	}
	if n := sqPending(t, d2); n != 0 {
		t.Fatalf("%d pending after upgrade", n)
	}
	sqEnable(t, d2, "bob@example.com")
	if n := sqPending(t, d2); n != 1 {
		t.Fatalf("%d pending, want 1", n)
	}
	if _, err := d2.IssueUserToken(context.Background(), e.User.ID); err != nil {
		t.Fatalf("user token after upgrade: %v", err)
	}
}

const benchUsers = 1_000_000

var (
	benchOnce sync.Once
	benchSnap *store.Snapshot
)

// millionUsers builds, once per test binary, the snapshot of store's
// benchmarks: user i has the i-th conference ID (the whole 10^6 ID space)
// and a PIN.
func millionUsers(tb testing.TB) *store.Snapshot {
	benchOnce.Do(func() {
		h, err := store.NewPINHasher(testSecret)
		if err != nil {
			tb.Fatal(err)
		}
		snap := &store.Snapshot{Settings: store.DefaultSettings(), Users: make([]store.User, benchUsers), Meetings: make([]store.Meeting, benchUsers)}
		digests := make([][32]byte, benchUsers)
		created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range benchUsers {
			id := sqWithCheckDigit(tb, i)
			digests[i] = h.Digest(strconv.Itoa(10000 + i%90000))
			snap.Users[i] = store.User{ID: int64(i + 1), Email: "u" + strconv.Itoa(i) + "@example.com", ConferenceID: id,
				PINDigest: digests[i][:], PINLength: 5, CreatedAt: created}
			snap.Meetings[i] = store.Meeting{ConferenceID: id, OrganizerID: int64(i + 1), Static: true, CreatedAt: created}
		}
		benchSnap = snap
	})
	return benchSnap
}

// sqWithCheckDigit is the conference ID of the 6-digit number n: the one
// check digit that store.ValidConferenceID accepts.
func sqWithCheckDigit(tb testing.TB, n int) string {
	body := strconv.Itoa(1_000_000 + n)[1:]
	for c := '0'; c <= '9'; c++ {
		if id := body + string(c); store.ValidConferenceID(id) {
			return id
		}
	}
	tb.Fatalf("no check digit for %s", body)
	return ""
}

// BenchmarkOpenSQLite1M: start-up from a real SQLite file of a million
// users, Load and index build together (the issue's "index load"), and the
// heap kept afterwards (heap-MB).
func BenchmarkOpenSQLite1M(b *testing.B) {
	snap := millionUsers(b)
	path := b.TempDir() + "/dialin.db"
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	sqBulkInsert(b, db, snap.Users, snap.Meetings)
	db.Close()
	var mb float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		db, err := Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		d, err := store.Open(ctx, store.Options{Backend: db, Secret: testSecret})
		if err != nil {
			b.Fatal(err)
		}
		if d.Users() != benchUsers {
			b.Fatalf("%d users", d.Users())
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		mb = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
		d.Close()
		b.StartTimer()
	}
	b.ReportMetric(mb, "heap-MB")
}
