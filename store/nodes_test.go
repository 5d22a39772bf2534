package store_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dialin/dialin/store"
)

// Two Directories on one PostgreSQL database are two nodes: what either
// changes, the other's in-memory index shows within a second, through the
// change feed (store.ChangeFeed, store/postgres's LISTEN/NOTIFY). SQLite
// serves one node and has no feed.

// propagation is how long a test waits for the other node: twice the
// promise of one second.
const propagation = 2 * time.Second

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(propagation)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen by the other node within %v", what, propagation)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// twoNodes opens two directories on one new PostgreSQL database.
func twoNodes(t *testing.T) (a, b *testDir) {
	t.Helper()
	be := testBackends[1]
	if be.name != "postgres" {
		t.Fatal("testBackends[1] is not postgres")
	}
	dsn := be.create(t)
	return openTestDir(t, be, dsn), openTestDir(t, be, dsn)
}

func lockOf(t *testing.T, d *testDir, id int64) store.LockState {
	t.Helper()
	u, err := d.GetUser(context.Background(), id) // the lock as the index holds it
	if err != nil {
		t.Fatal(err)
	}
	return u.Lock
}

func TestNodesSeeEachOthersChanges(t *testing.T) {
	ctx := context.Background()
	a, b := twoNodes(t)

	// Enable on A: B's call path knows the ID and the PIN.
	e := enable(t, a, "ada@example.com")
	id := e.User.ConferenceID
	eventually(t, "enable", func() bool { _, ok := b.LookupConference(id); return ok })
	if r, err := b.VerifyOrganizerPIN(ctx, id, e.PIN); r != store.PINOK || err != nil {
		t.Fatalf("B, A's PIN: %v, %v", r, err)
	}

	// PIN reset on A: the new one works on B, the old one no longer.
	reset, err := a.ResetPIN(ctx, e.User.ID, store.MailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "PIN reset", func() bool {
		r, _ := b.VerifyOrganizerPIN(ctx, id, reset.PIN)
		return r == store.PINOK
	})
	if r, _ := b.VerifyOrganizerPIN(ctx, id, e.PIN); r != store.PINWrong {
		t.Fatalf("B, the old PIN after the reset: %v", r)
	}

	// PIN set on B: A follows.
	if _, err := b.SetPIN(ctx, e.User.ID, "80417"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "PIN set", func() bool {
		r, _ := a.VerifyOrganizerPIN(ctx, id, "80417")
		return r == store.PINOK
	})

	// Conference ID reset on A: the old ID stops working on B.
	ch, err := a.ResetConferenceID(ctx, e.User.ID, store.MailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "conference ID reset", func() bool {
		_, old := b.LookupConference(id)
		c, ok := b.LookupConference(ch.User.ConferenceID)
		return !old && ok && c.OrganizerID == e.User.ID
	})
	if r, _ := b.VerifyOrganizerPIN(ctx, ch.User.ConferenceID, "80417"); r != store.PINOK {
		t.Fatalf("B, the PIN on the new ID: %v", r)
	}

	// Conference ID set on B: A follows.
	newID, err := store.NewConferenceID(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if ch, err = b.SetConferenceID(ctx, e.User.ID, newID, store.MailOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "conference ID set", func() bool {
		_, ok := a.LookupConference(newID)
		_, old := a.LookupConference(id)
		return ok && !old
	})

	// Settings on A: B's lookups follow them.
	if c, _ := b.LookupConference(ch.User.ConferenceID); !c.RequireOrganizer {
		t.Fatalf("before: %+v", c)
	}
	if _, err := a.UpdateSettings(ctx, func(s *store.Settings) error { s.AnonymousCanStart = true; return nil }); err != nil {
		t.Fatal(err)
	}
	eventually(t, "settings", func() bool {
		c, _ := b.LookupConference(ch.User.ConferenceID)
		return !c.RequireOrganizer && b.Settings().AnonymousCanStart
	})

	// Email override on A: B's listing shows it (read from the index's
	// user, which B must know).
	if _, err := a.SetEmailOverride(ctx, e.User.ID, "ada.phone@example.com"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "email override", func() bool {
		u, err := b.GetUser(ctx, e.User.ID)
		return err == nil && u.EmailOverride == "ada.phone@example.com"
	})

	// A dynamic meeting made on B works on A; deleted on A, gone from B.
	m, err := b.CreateMeeting(ctx, e.User.ID, false, true)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "meeting created", func() bool {
		c, ok := a.LookupConference(m.ConferenceID)
		return ok && c.BypassLobby
	})
	if err := a.DeleteMeeting(ctx, m.ConferenceID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "meeting deleted", func() bool { _, ok := b.LookupConference(m.ConferenceID); return !ok })

	// Disable on B: A refuses the ID, and no longer knows the user.
	if err := b.DisableUser(ctx, e.User.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "disable", func() bool {
		_, ok := a.LookupConference(ch.User.ConferenceID)
		return !ok && a.Users() == 0
	})
}

func TestNodesShareLockout(t *testing.T) {
	ctx := context.Background()
	a, b := twoNodes(t)
	local, global := 4, 100
	e, err := a.EnableUser(ctx, store.EnableRequest{Email: "ada@example.com",
		Policy: store.PINPolicy{LocalLimit: &local, GlobalLimit: &global}})
	if err != nil {
		t.Fatal(err)
	}
	id := e.User.ConferenceID
	eventually(t, "enable", func() bool { _, ok := b.LookupConference(id); return ok })
	wrong := "00000"
	if e.PIN == wrong {
		wrong = "99999"
	}

	// Three failures on A, counted in the database: B counts on from
	// them, and its one failure locks the PIN (a guesser spread over the
	// nodes gets one budget, not one per node).
	for range 3 {
		if r, _ := a.VerifyOrganizerPIN(ctx, id, wrong); r != store.PINWrong {
			t.Fatalf("A, failure: %v", r)
		}
	}
	eventually(t, "A's failures", func() bool { return lockOf(t, b, e.User.ID).Failures == 3 })
	if r, err := b.VerifyOrganizerPIN(ctx, id, wrong); r != store.PINLocked || err != nil {
		t.Fatalf("B, the fourth failure: %v, %v; want locked", r, err)
	}
	// Locked on B: A refuses the right PIN as locked.
	eventually(t, "B's lock", func() bool { return lockOf(t, a, e.User.ID).Locked(a.clock.Now()) })
	if r, _ := a.VerifyOrganizerPIN(ctx, id, e.PIN); r != store.PINLocked {
		t.Fatalf("A, the right PIN while locked: %v", r)
	}

	// Unlocked on A: B lets the organizer in.
	if _, err := a.UnlockPIN(ctx, e.User.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "unlock", func() bool { return !lockOf(t, b, e.User.ID).Locked(b.clock.Now()) })
	if r, _ := b.VerifyOrganizerPIN(ctx, id, e.PIN); r != store.PINOK {
		t.Fatalf("B, the right PIN after the unlock: %v", r)
	}

	// Locked by failures on A alone: B refuses.
	for range local {
		a.VerifyOrganizerPIN(ctx, id, wrong)
	}
	eventually(t, "lock by failures", func() bool {
		r, _ := b.VerifyOrganizerPIN(ctx, id, e.PIN)
		return r == store.PINLocked
	})
}

// The listener survives its connection's death (pg_terminate_backend) and
// catches up with what changed while it was gone.
func TestNodesListenerSurvivesKilledConnection(t *testing.T) {
	ctx := context.Background()
	a, b := twoNodes(t)
	e := enable(t, a, "ada@example.com")
	eventually(t, "enable", func() bool { _, ok := b.LookupConference(e.User.ConferenceID); return ok })

	killed := killListeners(t, a)
	if killed != 2 {
		t.Fatalf("killed %d listening connections, want 2 (one per node)", killed)
	}
	// Changed at once, while the listeners are likely still reconnecting.
	reset, err := a.ResetPIN(ctx, e.User.ID, store.MailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := enable(t, a, "bob@example.com")
	eventually(t, "PIN reset across a lost connection", func() bool {
		r, _ := b.VerifyOrganizerPIN(ctx, e.User.ConferenceID, reset.PIN)
		_, ok := b.LookupConference(f.User.ConferenceID)
		return r == store.PINOK && ok
	})
	// And it listens again: a later change arrives too.
	if err := a.DisableUser(ctx, f.User.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a change after the reconnection", func() bool { _, ok := b.LookupConference(f.User.ConferenceID); return !ok })
}

// killListeners ends every connection of d's database that listens for
// changes, as a failover or an idle timeout would, and says how many.
func killListeners(t *testing.T, d *testDir) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, d.path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid != pg_backend_pid() AND query LIKE 'LISTEN %'`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A right PIN on a node that has not heard of another node's lock yet
// does not write over that lock.
func TestNodesRightPINKeepsAnotherNodesLock(t *testing.T) {
	ctx := context.Background()
	a, b := twoNodes(t)
	e := enable(t, a, "ada@example.com")
	id := e.User.ConferenceID
	eventually(t, "enable", func() bool { _, ok := b.LookupConference(id); return ok })
	wrong := "00000"
	if e.PIN == wrong {
		wrong = "99999"
	}
	if r, _ := b.VerifyOrganizerPIN(ctx, id, wrong); r != store.PINWrong {
		t.Fatalf("B, a failure: %v", r)
	}
	eventually(t, "B's failure", func() bool { return lockOf(t, a, e.User.ID).Failures == 1 })
	// Locked behind B's back: no notification, as if B had not heard yet.
	conn, err := pgx.Connect(ctx, a.path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE users SET locked_by_admin = true WHERE id = $1`, e.User.ID); err != nil {
		t.Fatal(err)
	}
	// B lets the right PIN in (its index knows no lock) and clears its
	// counters, but the write keeps the stored lock.
	if r, _ := b.VerifyOrganizerPIN(ctx, id, e.PIN); r != store.PINOK {
		t.Fatalf("B, the right PIN: %v", r)
	}
	eventually(t, "B keeping the stored lock", func() bool { return lockOf(t, b, e.User.ID).LockedByAdmin })
	stored, err := a.db.GetUser(ctx, e.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.Lock.LockedByAdmin {
		t.Fatalf("the stored lock was written over: %+v", stored.Lock)
	}
}
