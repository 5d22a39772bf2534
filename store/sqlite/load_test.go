package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/storetest"
)

// The parallel Load (ranges on several connections) gives exactly what the
// sequential one gives: every user in ID order, with gaps in the IDs, the
// rare extras (email override, policy, lock state) merged in, every
// meeting whatever its ID.
func TestSQLiteLoadParallelMatchesSequential(t *testing.T) {
	s, _ := sqTempStore(t)
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
	sqBulkInsert(t, s, users, meetings)
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
	// The write lock Load held is released.
	u := storetest.FullUser(1000)
	if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
		t.Fatal(err)
	}
}

// sqBulkInsert writes users and their meetings straight into the tables,
// 100,000 rows per transaction, for benchmarks: the Backend's one
// transaction per user is too slow to set up a million. Users get IDs
// 1..len(users) in order.
func sqBulkInsert(tb testing.TB, s *DB, users []store.User, meetings []store.Meeting) {
	tb.Helper()
	ctx := context.Background()
	const batch = 100_000
	for start := 0; start < len(users) || start < len(meetings); start += batch {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			tb.Fatal(err)
		}
		insUser, err := tx.Prepare(`INSERT INTO users (id, email, display_name, email_override,
			conference_id, pin_digest, pin_length, pin_set_at, policy, failures, window_start,
			total_failures, locked_until, locked_by_admin, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			tb.Fatal(err)
		}
		for i := start; i < min(start+batch, len(users)); i++ {
			u := &users[i]
			r, err := userColumns(u)
			if err != nil {
				tb.Fatal(err)
			}
			if _, err := insUser.Exec(i+1, r.email, r.displayName, r.emailOverride, r.conferenceID,
				r.digest, r.pinLength, r.pinSetAt, r.policy, r.failures, r.windowStart,
				r.totalFailures, r.lockedUntil, r.lockedByAdmin, r.createdAt); err != nil {
				tb.Fatal(err)
			}
		}
		insMeeting, err := tx.Prepare(`INSERT INTO meetings (conference_id, organizer_id, static,
			require_organizer, bypass_lobby, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			tb.Fatal(err)
		}
		for i := start; i < min(start+batch, len(meetings)); i++ {
			m := &meetings[i]
			if _, err := insMeeting.Exec(m.ConferenceID, m.OrganizerID, m.Static,
				m.RequireOrganizer, m.BypassLobby, nanos(m.CreatedAt)); err != nil {
				tb.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkSQLiteLoad1M: Load of a million users, each with its static
// meeting, from a real file: the database's share of start-up. Reports the
// file size and the heap the snapshot holds.
//
//	go test ./store/sqlite -run '^$' -bench SQLiteLoad1M -benchtime 3x
func BenchmarkSQLiteLoad1M(b *testing.B) {
	const n = 1_000_000
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "dialin.db")
	s := sqOpen(b, path)
	users := make([]store.User, n)
	meetings := make([]store.Meeting, n)
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		id := fmt.Sprintf("%07d", i)
		users[i] = store.User{Email: "u" + strconv.Itoa(i) + "@example.com", DisplayName: "User " + strconv.Itoa(i),
			ConferenceID: id, PINDigest: storetest.Digest(id), PINLength: 5, PINSetAt: created, CreatedAt: created}
		meetings[i] = store.Meeting{ConferenceID: id, OrganizerID: int64(i + 1), Static: true, RequireOrganizer: true, CreatedAt: created}
	}
	start := time.Now()
	sqBulkInsert(b, s, users, meetings)
	b.Logf("inserted %d users and meetings in %v", n, time.Since(start).Round(time.Millisecond))
	users, meetings = nil, nil
	if err := s.Close(); err != nil { // checkpoint: the size is the file's
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	s = sqOpen(b, path)

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
	b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
	b.ReportMetric(heapMB, "snapshot-MB")
}
