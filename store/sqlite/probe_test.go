package sqlite

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
)

// immutable sets or clears the immutable attribute (chattr) on paths. It is
// what makes writes fail even for root, who ignores file modes, and it
// holds for descriptors already open: a bridge's open database file stops
// taking writes at once, as on a disk remounted read-only. Skips the test
// where the filesystem or the tool cannot.
func immutable(t *testing.T, on bool, paths ...string) {
	t.Helper()
	flag := "-i"
	if on {
		flag = "+i"
	}
	out, err := exec.Command("chattr", append([]string{flag}, paths...)...).CombinedOutput()
	if err != nil {
		if on {
			t.Skipf("chattr +i is not available here (%v: %s): cannot make the database read-only as root", err, out)
		}
		t.Errorf("chattr -i: %v: %s", err, out)
	}
}

func TestProbeFailsOnAReadOnlyDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "dialin.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Probe(ctx); err != nil {
		t.Fatalf("probe of a writable database: %v", err)
	}
	// Not the -shm file: SQLite maps it into memory, and a write to a
	// mapping of an immutable file kills the process (SIGBUS), where a
	// read-only disk fails the write with an error.
	files := []string{path, path + "-wal", dir}
	immutable(t, true, files...)
	t.Cleanup(func() {
		if files != nil {
			immutable(t, false, files...)
		}
	})
	if err := db.Probe(ctx); err == nil {
		t.Fatal("the probe wrote to a read-only database")
	} else {
		t.Logf("probe on the read-only database: %v", err)
	}
	immutable(t, false, files...)
	files = nil // cleared: the cleanup has nothing left to do
	if err := db.Probe(ctx); err != nil {
		t.Fatalf("probe after the database is writable again: %v", err)
	}
}
