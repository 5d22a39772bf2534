package postgres

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/storetest"
)

// The parallel Load (ranges on several connections, one snapshot) gives
// exactly what the sequential one gives: every user in ID order, with gaps
// in the IDs, the rare extras merged in, every meeting whatever its ID.
func TestPostgresLoadParallelMatchesSequential(t *testing.T) {
	s, _ := pgTempStore(t)
	ctx := context.Background()
	users := make([]store.User, 500)
	var meetings []store.Meeting
	for i := range users {
		users[i] = storetest.FullUser(i)
		users[i].ConferenceID = fmt.Sprintf("%07d", i*19997%10000000)
		if i%7 != 0 { // most users have no extras
			users[i].EmailOverride, users[i].Policy, users[i].Lock = "", store.PINPolicy{}, store.LockState{}
		}
		if i%50 == 0 {
			users[i].ConferenceID = "" // dynamic mode
			continue
		}
		meetings = append(meetings, store.Meeting{ConferenceID: users[i].ConferenceID, OrganizerID: int64(i + 1), Static: true, CreatedAt: users[i].CreatedAt})
	}
	pgBulkInsert(t, s, users, meetings)
	for i, id := range []string{"9999999", "0000001", "A-12345", "5", "4999999x"} {
		m := store.Meeting{ConferenceID: id, OrganizerID: int64(1 + i), BypassLobby: true, CreatedAt: time.Now()}
		if err := s.CreateMeeting(ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	for id := int64(100); id < 200; id += 3 { // gaps in the IDs
		if err := s.DeleteUser(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveLockState(ctx, 2, store.LockState{LockedByAdmin: true}); err != nil {
		t.Fatal(err)
	}

	defer func(rows int, parts func() int) { parallelLoadRows, loadParts = rows, parts }(parallelLoadRows, loadParts)
	parallelLoadRows, loadParts = 1<<62, func() int { return 1 }
	want := storetest.LoadFull(t, s)
	if !slices.IsSortedFunc(want.Users, func(a, b store.User) int { return cmp.Compare(a.ID, b.ID) }) {
		t.Error("users not in ID order")
	}
	if n := len(want.Users); n != 500-34 {
		t.Fatalf("%d users", n)
	}
	for _, parts := range []int{2, 3, 8, 10, 16} {
		parallelLoadRows, loadParts = 1, func() int { return parts }
		got := storetest.LoadFull(t, s)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%d parts: the parallel Load differs from the sequential one", parts)
		}
	}
	// Writers go on while a Load reads its snapshot; the next Load sees them.
	u := storetest.FullUser(1000)
	if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := storetest.LoadFull(t, s); len(got.Users) != len(want.Users)+1 {
		t.Errorf("%d users after a create, want %d", len(got.Users), len(want.Users)+1)
	}
}

// pgBulkInsert writes users and their meetings straight into the tables
// with COPY, for benchmarks: the Backend's one transaction per user is too
// slow to set up a million. Users get IDs 1..len(users) in order.
func pgBulkInsert(tb testing.TB, s *DB, users []store.User, meetings []store.Meeting) {
	tb.Helper()
	ctx := context.Background()
	userRows := make([][]any, len(users))
	for i := range users {
		r, err := userColumns(&users[i])
		if err != nil {
			tb.Fatal(err)
		}
		userRows[i] = []any{int64(i + 1), r.email, r.displayName, r.emailOverride, r.conferenceID,
			r.digest, r.pinLength, r.pinSetAt, r.policy, r.failures, r.windowStart,
			r.totalFailures, r.lockedUntil, r.lockedByAdmin, r.createdAt}
	}
	meetingRows := make([][]any, len(meetings))
	for i, m := range meetings {
		meetingRows[i] = []any{m.ConferenceID, m.OrganizerID, m.Static, m.RequireOrganizer, m.BypassLobby, nanos(m.CreatedAt)}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"users"}, []string{"id", "email", "display_name",
			"email_override", "conference_id", "pin_digest", "pin_length", "pin_set_at", "policy", "failures",
			"window_start", "total_failures", "locked_until", "locked_by_admin", "created_at"},
			pgx.CopyFromRows(userRows)); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"meetings"}, []string{"conference_id", "organizer_id",
			"static", "require_organizer", "bypass_lobby", "created_at"}, pgx.CopyFromRows(meetingRows)); err != nil {
			return err
		}
		// The identity goes on after the IDs COPY gave.
		_, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))`)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `VACUUM ANALYZE users, meetings`); err != nil {
		tb.Fatal(err)
	}
}

// millionUsers is the benchmarks' directory: user i has the i-th
// conference ID and its static meeting, as in store/sqlite's.
func millionUsers() ([]store.User, []store.Meeting) {
	const n = 1_000_000
	users := make([]store.User, n)
	meetings := make([]store.Meeting, n)
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		id := fmt.Sprintf("%07d", i)
		users[i] = store.User{Email: "u" + strconv.Itoa(i) + "@example.com", DisplayName: "User " + strconv.Itoa(i),
			ConferenceID: id, PINDigest: storetest.Digest(id), PINLength: 5, PINSetAt: created, CreatedAt: created}
		meetings[i] = store.Meeting{ConferenceID: id, OrganizerID: int64(i + 1), Static: true, RequireOrganizer: true, CreatedAt: created}
	}
	return users, meetings
}

// BenchmarkPostgresLoad1M: Load of a million users, each with its static
// meeting, from the test server (on a unix socket): the database's share
// of start-up, to compare with BenchmarkSQLiteLoad1M.
//
//	go test ./store/postgres -run '^$' -bench PostgresLoad1M -benchtime 3x
func BenchmarkPostgresLoad1M(b *testing.B) {
	s, _ := pgTempStore(b)
	users, meetings := millionUsers()
	start := time.Now()
	pgBulkInsert(b, s, users, meetings)
	b.Logf("inserted %d users and meetings in %v", len(users), time.Since(start).Round(time.Millisecond))
	n := len(users)
	users, meetings = nil, nil
	ctx := context.Background()
	var heapMB float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		snap, err := s.Load(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Users) != n || len(snap.Meetings) != n {
			b.Fatalf("loaded %d users, %d meetings", len(snap.Users), len(snap.Meetings))
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		heapMB = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
		runtime.KeepAlive(snap)
		b.StartTimer()
	}
	b.ReportMetric(heapMB, "snapshot-MB")
}

// BenchmarkOpenPostgres1M: start-up from PostgreSQL with a million users:
// connect, migrate (nothing to do), Load and the index build together, and
// the heap kept afterwards (heap-MB), as BenchmarkOpenSQLite1M measures it
// for SQLite (budget: 3 s). Like that one it keeps its fixture alive, so
// the garbage collector has as much to scan.
//
//	go test ./store/postgres -run '^$' -bench OpenPostgres1M -benchtime 3x
func BenchmarkOpenPostgres1M(b *testing.B) {
	s, dsn := pgTempStore(b)
	users, meetings := millionUsers()
	for i := range users { // IDs with a right check digit: the directory indexes them
		id := withCheckDigit(b, i)
		users[i].ConferenceID, meetings[i].ConferenceID = id, id
	}
	pgBulkInsert(b, s, users, meetings)
	s.Close()
	ctx := context.Background()
	secret := bytes.Repeat([]byte{7}, 32)
	var mb float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		db, err := Open(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		d, err := store.Open(ctx, store.Options{Backend: db, Secret: secret})
		if err != nil {
			b.Fatal(err)
		}
		if d.Users() != len(users) {
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
	runtime.KeepAlive(users)
	runtime.KeepAlive(meetings)
}

// withCheckDigit is the conference ID of the 6-digit number n.
func withCheckDigit(tb testing.TB, n int) string {
	body := strconv.Itoa(1_000_000 + n)[1:]
	for c := '0'; c <= '9'; c++ {
		if id := body + string(c); store.ValidConferenceID(id) {
			return id
		}
	}
	tb.Fatalf("no check digit for %s", body)
	return ""
}
