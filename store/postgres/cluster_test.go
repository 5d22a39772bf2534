package postgres

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
)

// The cluster's shared state (cluster.go) on a real server, through two
// pools as two nodes would, with pgx's extended protocol and with the
// simple one (PgBouncer in transaction mode).

const (
	longTTL  = time.Minute            // a lease that cannot expire during a test
	shortTTL = 200 * time.Millisecond // one a test waits out
)

// pastShortTTL waits until a lease of shortTTL taken before the call has
// surely expired, by the database's clock too (same machine).
func pastShortTTL() { time.Sleep(shortTTL + 100*time.Millisecond) }

// pgNodes opens two pools on one new database, in the given exec mode
// ("" for pgx's default).
func pgNodes(t *testing.T, mode string) (a, b *DB) {
	dsn := pg.Get(t).NewDatabase(t)
	if mode != "" {
		dsn += " default_query_exec_mode=" + mode
	}
	return pgOpen(t, dsn), pgOpen(t, dsn)
}

var clusterModes = []string{"", "simple_protocol"}

func forEachMode(t *testing.T, fn func(t *testing.T, a, b *DB)) {
	for _, mode := range clusterModes {
		name := mode
		if name == "" {
			name = "extended"
		}
		t.Run(name, func(t *testing.T) {
			a, b := pgNodes(t, mode)
			fn(t, a, b)
		})
	}
}

func claim(t *testing.T, s *DB, id, node string, ttl time.Duration) store.Home {
	t.Helper()
	h, err := s.ClaimHome(context.Background(), id, node, node+".example:5060", ttl)
	if err != nil {
		t.Fatalf("%s claims %s: %v", node, id, err)
	}
	return h
}

func homeOf(t *testing.T, s *DB, id string) (store.Home, bool) {
	t.Helper()
	h, ok, err := s.HomeOf(context.Background(), id)
	if err != nil {
		t.Fatalf("HomeOf %s: %v", id, err)
	}
	return h, ok
}

func renew(t *testing.T, s *DB, node string, ttl time.Duration, ids ...string) []string {
	t.Helper()
	lost, err := s.RenewHomes(context.Background(), node, ids, ttl)
	if err != nil {
		t.Fatalf("%s renews %v: %v", node, ids, err)
	}
	return lost
}

// The first claim wins; another node's claim returns the holder's home;
// the holder's own claim and RenewHomes extend the lease.
func TestPostgresClaimAndRenewHome(t *testing.T) {
	forEachMode(t, func(t *testing.T, a, b *DB) {
		ctx := context.Background()
		before := time.Now()
		h := claim(t, a, "1000001", "node-a", longTTL)
		want := store.Home{ConferenceID: "1000001", Node: "node-a", SIPAddr: "node-a.example:5060", Expires: h.Expires}
		if h != want || !h.Expires.After(before.Add(longTTL/2)) {
			t.Fatalf("claim: %+v, want %+v expiring in about %s", h, want, longTTL)
		}
		if other := claim(t, b, "1000001", "node-b", longTTL); other != h {
			t.Fatalf("another node's claim: %+v, want the holder's %+v", other, h)
		}
		if got, ok := homeOf(t, b, "1000001"); !ok || got != h {
			t.Fatalf("HomeOf: %+v %v, want %+v", got, ok, h)
		}
		if _, ok := homeOf(t, b, "1000002"); ok {
			t.Fatal("HomeOf an ID nobody claimed")
		}

		// The holder's claim renews, keeping started.
		if err := a.SetHomeStarted(ctx, "1000001", "node-a", true); err != nil {
			t.Fatal(err)
		}
		again := claim(t, a, "1000001", "node-a", 2*longTTL)
		if again.Node != "node-a" || !again.Started || !again.Expires.After(h.Expires) {
			t.Fatalf("the holder's claim: %+v, want node-a, started, expiring after %s", again, h.Expires)
		}
		if lost := renew(t, a, "node-a", 3*longTTL, "1000001"); len(lost) != 0 {
			t.Fatalf("renew lost %v", lost)
		}
		if got, _ := homeOf(t, b, "1000001"); !got.Expires.After(again.Expires) || !got.Started {
			t.Fatalf("after RenewHomes: %+v, want started, expiring after %s", got, again.Expires)
		}
		if lost := renew(t, a, "node-a", longTTL); lost != nil {
			t.Fatalf("renewing nothing lost %v", lost)
		}

		for _, bad := range []struct {
			id, node string
			ttl      time.Duration
		}{{"", "node-a", longTTL}, {"1000003", "", longTTL}, {"1000003", "node-a", 0}} {
			if _, err := a.ClaimHome(ctx, bad.id, bad.node, "x:5060", bad.ttl); !errors.Is(err, store.ErrInvalidInput) {
				t.Errorf("claim %+v: %v, want ErrInvalidInput", bad, err)
			}
		}
		if _, err := a.RenewHomes(ctx, "node-a", []string{"1000001"}, -time.Second); !errors.Is(err, store.ErrInvalidInput) {
			t.Errorf("renew with a negative ttl: %v", err)
		}
	})
}

// An expired lease is no home; another node takes it over (not started);
// the old holder's renewal reports it lost, and the old holder can no
// longer mark it started nor release it. A lease that expired but that no
// other node took is still its holder's to renew.
func TestPostgresHomeExpiryAndTakeOver(t *testing.T) {
	forEachMode(t, func(t *testing.T, a, b *DB) {
		ctx := context.Background()
		claim(t, a, "2000001", "node-a", shortTTL)
		if err := a.SetHomeStarted(ctx, "2000001", "node-a", true); err != nil {
			t.Fatal(err)
		}
		claim(t, a, "2000002", "node-a", shortTTL)
		pastShortTTL()
		if h, ok := homeOf(t, b, "2000001"); ok {
			t.Fatalf("HomeOf an expired lease: %+v", h)
		}

		took := claim(t, b, "2000001", "node-b", longTTL)
		if took.Node != "node-b" || took.SIPAddr != "node-b.example:5060" || !took.Started {
			t.Fatalf("take-over: %+v, want node-b's, still started (the meeting was on when its home died)", took)
		}
		lost := renew(t, a, "node-a", longTTL, "2000001", "2000002", "2000009", "2000001")
		if want := []string{"2000001", "2000009"}; !slices.Equal(lost, want) {
			t.Fatalf("node-a's renewal lost %v, want %v (2000002 expired but is still node-a's)", lost, want)
		}
		if h, ok := homeOf(t, b, "2000001"); !ok || h != took {
			t.Fatalf("after the old holder's renewal: %+v %v, want %+v", h, ok, took)
		}
		if h, ok := homeOf(t, b, "2000002"); !ok || h.Node != "node-a" {
			t.Fatalf("the expired lease node-a renewed: %+v %v", h, ok)
		}

		if err := a.SetHomeStarted(ctx, "2000001", "node-a", true); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the old holder sets started: %v, want ErrNotFound", err)
		}
		if err := b.SetHomeStarted(ctx, "2000001", "node-b", true); err != nil {
			t.Fatal(err)
		}
		if h, _ := homeOf(t, a, "2000001"); !h.Started || h.Node != "node-b" {
			t.Fatalf("after the holder set started: %+v", h)
		}
		if err := b.SetHomeStarted(ctx, "2000001", "node-b", false); err != nil {
			t.Fatal(err)
		}
		if h, _ := homeOf(t, a, "2000001"); h.Started {
			t.Fatalf("after the holder's meeting ended: %+v", h)
		}
	})
}

// ReleaseHome ends only the caller's lease; ReleaseNode every lease of
// one node and none of another's.
func TestPostgresReleaseHomes(t *testing.T) {
	forEachMode(t, func(t *testing.T, a, b *DB) {
		ctx := context.Background()
		claim(t, a, "3000001", "node-a", longTTL)
		if err := b.ReleaseHome(ctx, "3000001", "node-b"); err != nil {
			t.Fatal(err)
		}
		if h, ok := homeOf(t, b, "3000001"); !ok || h.Node != "node-a" {
			t.Fatalf("after another node's release: %+v %v", h, ok)
		}
		if err := a.ReleaseHome(ctx, "3000001", "node-a"); err != nil {
			t.Fatal(err)
		}
		if h, ok := homeOf(t, b, "3000001"); ok {
			t.Fatalf("after the holder's release: %+v", h)
		}
		if h := claim(t, b, "3000001", "node-b", longTTL); h.Node != "node-b" {
			t.Fatalf("claim after release: %+v", h)
		}
		if err := b.SetHomeStarted(ctx, "3000009", "node-b", true); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("started on no lease: %v, want ErrNotFound", err)
		}

		claim(t, a, "3000002", "node-a", longTTL)
		claim(t, a, "3000003", "node-a", shortTTL)
		if err := a.SetHomeStarted(ctx, "3000002", "node-a", true); err != nil {
			t.Fatal(err)
		}
		if err := a.ReleaseNode(ctx, "node-a"); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"3000002", "3000003"} {
			if h, ok := homeOf(t, b, id); ok {
				t.Fatalf("%s after ReleaseNode: %+v", id, h)
			}
		}
		if lost := renew(t, a, "node-a", longTTL, "3000002", "3000003"); len(lost) != 2 {
			t.Fatalf("renewing released leases lost %v", lost)
		}
		if h, ok := homeOf(t, a, "3000001"); !ok || h.Node != "node-b" {
			t.Fatalf("another node's lease after ReleaseNode: %+v %v", h, ok)
		}
		// A meeting that was on when its node let it go is on for the next
		// home (its callers on other nodes rejoin it).
		if h := claim(t, b, "3000002", "node-b", longTTL); h.Node != "node-b" || !h.Started {
			t.Fatalf("claim of a released started meeting: %+v, want node-b's, started", h)
		}
		if h := claim(t, b, "3000003", "node-b", longTTL); h.Started {
			t.Fatalf("claim of a released meeting that was not on: %+v, want not started", h)
		}
	})
}

// Heartbeat inserts, then updates, a node's row; Nodes lists those seen
// within maxAge (a row is aged by moving its seen_at back, not by waiting).
func TestPostgresHeartbeatAndNodes(t *testing.T) {
	forEachMode(t, func(t *testing.T, a, b *DB) {
		ctx := context.Background()
		started := time.Date(2026, 12, 4, 5, 6, 7, 123456789, time.UTC)
		na := store.Node{ID: "node-a", SIPAddr: "10.0.0.1:5060", AdminURL: "http://10.0.0.1:8080", Started: started}
		nb := store.Node{ID: "node-b", SIPAddr: "10.0.0.2:5060", Started: started.Add(time.Second)}
		nc := store.Node{ID: "node-c", SIPAddr: "10.0.0.3:5060"}
		for _, hb := range []struct {
			s *DB
			n store.Node
		}{{a, na}, {b, nb}, {a, nc}} {
			if err := hb.s.Heartbeat(ctx, hb.n); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := a.pool.Exec(ctx, `UPDATE cluster_nodes SET seen_at = seen_at - $1 WHERE id = 'node-c'`,
			int64(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		nodes := func(maxAge time.Duration) []store.Node {
			t.Helper()
			got, err := b.Nodes(ctx, maxAge)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		recent := nodes(5 * time.Minute)
		if len(recent) != 2 {
			t.Fatalf("nodes seen within 5 minutes: %+v, want node-a and node-b", recent)
		}
		for i, want := range []store.Node{na, nb} {
			got := recent[i]
			if got.Seen.IsZero() || !got.Started.Equal(want.Started) {
				t.Errorf("node %d: %+v, want %+v with a Seen time", i, got, want)
			}
			got.Seen, got.Started, want.Started = time.Time{}, time.Time{}, time.Time{}
			if got != want {
				t.Errorf("node %d: %+v, want %+v", i, got, want)
			}
		}
		if all := nodes(time.Hour); len(all) != 3 || all[2].ID != "node-c" || !all[2].Started.IsZero() {
			t.Fatalf("nodes seen within an hour: %+v", all)
		}

		// A later heartbeat changes what the node says and moves Seen on.
		na.Draining, na.AdminURL = true, "http://10.0.0.1:9090"
		if err := a.Heartbeat(ctx, na); err != nil {
			t.Fatal(err)
		}
		after := nodes(5 * time.Minute)
		if len(after) != 2 || !after[0].Draining || after[0].AdminURL != na.AdminURL || after[0].Seen.Before(recent[0].Seen) {
			t.Fatalf("after a second heartbeat: %+v (first seen %s)", after, recent[0].Seen)
		}

		if err := a.Heartbeat(ctx, store.Node{}); !errors.Is(err, store.ErrInvalidInput) {
			t.Errorf("a heartbeat without ID: %v", err)
		}
		if _, err := a.Nodes(ctx, 0); !errors.Is(err, store.ErrInvalidInput) {
			t.Errorf("Nodes(0): %v", err)
		}
	})
}

// Many nodes, on two pools, claiming the same ID at once: exactly one
// wins, and every claim returns the winner's home.
func TestPostgresConcurrentClaims(t *testing.T) {
	forEachMode(t, func(t *testing.T, a, b *DB) {
		const rounds, claimers = 20, 16
		for r := range rounds {
			id := fmt.Sprintf("%07d", 4000000+r)
			homes := make([]store.Home, claimers)
			errs := make([]error, claimers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range claimers {
				pool := a
				if i%2 == 1 {
					pool = b
				}
				node := fmt.Sprintf("node-%02d", i)
				wg.Go(func() {
					<-start
					homes[i], errs[i] = pool.ClaimHome(context.Background(), id, node, node+":5060", longTTL)
				})
			}
			close(start)
			wg.Wait()
			winners := 0
			for i, h := range homes {
				if errs[i] != nil {
					t.Fatalf("round %d, claimer %d: %v", r, i, errs[i])
				}
				if h.Node == fmt.Sprintf("node-%02d", i) {
					winners++
				}
				if !reflect.DeepEqual(h, homes[0]) {
					t.Fatalf("round %d: claimer %d sees %+v, claimer 0 %+v", r, i, h, homes[0])
				}
			}
			if winners != 1 {
				t.Fatalf("round %d: %d winners, want 1", r, winners)
			}
			if h, ok := homeOf(t, a, id); !ok || h != homes[0] {
				t.Fatalf("round %d: HomeOf %+v %v, want %+v", r, h, ok, homes[0])
			}
		}
	})
}
