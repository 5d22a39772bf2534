package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Only the binary links the database drivers (docs/ARCHITECTURE.md): the
// engines that wrap them, and the test double that starts PostgreSQL,
// are the only other packages whose dependencies name one.
func TestStoreDriversLinkedOnlyByTheBinary(t *testing.T) {
	drivers := []string{"modernc.org/sqlite", "github.com/jackc/pgx/v5"}
	allowed := []string{
		"github.com/dialin/dialin/cmd/dialin",
		"github.com/dialin/dialin/store/sqlite",
		"github.com/dialin/dialin/store/postgres",
		"github.com/dialin/dialin/internal/pgtest",
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "github.com/dialin/dialin/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, " ")
		if slices.Contains(allowed, pkg) {
			continue
		}
		for _, dep := range strings.Fields(deps) {
			if slices.Contains(drivers, dep) {
				t.Errorf("%s links %s: only cmd/dialin may (through store/sqlite, store/postgres)", pkg, dep)
			}
		}
	}
}
