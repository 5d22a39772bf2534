package store_test

import (
	"context"
	"testing"
	"time"
)

// testClusterOnlySharedBackend: Cluster hands out the backend of a
// database several nodes share (PostgreSQL), and nothing for SQLite's one
// node; what is claimed through it is read back through it.
func testClusterOnlySharedBackend(t *testing.T, be testBackend) {
	d := openTestDir(t, be, "")
	c, ok := d.Cluster()
	if want := be.name == "postgres"; ok != want {
		t.Fatalf("Cluster() ok = %v, want %v", ok, want)
	}
	if !ok {
		return
	}
	ctx := context.Background()
	h, err := c.ClaimHome(ctx, "1000001", "node-a", "127.0.0.1:5060", time.Minute)
	if err != nil || h.Node != "node-a" {
		t.Fatalf("ClaimHome: %+v %v", h, err)
	}
	if got, ok, err := c.HomeOf(ctx, "1000001"); err != nil || !ok || got != h {
		t.Fatalf("HomeOf: %+v %v %v, want %+v", got, ok, err, h)
	}
}
