package cli

import (
	"errors"
	"testing"
	"time"
)

func TestAuditFilterFlags(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	l, perr := parseLine([]string{"audit", "list", "--from", "24h", "--to", "2026-12-03T11:00:00Z",
		"--credential", "alice", "--user", "ada@example.com", "--action", "pin.reset", "--limit", "7"})
	if perr != nil {
		t.Fatal(perr)
	}
	f, limit, err := auditFilter(l, now)
	if err != nil {
		t.Fatal(err)
	}
	if !f.From.Equal(now.Add(-24*time.Hour)) || !f.To.Equal(now.Add(-time.Hour)) || f.Credential != "alice" ||
		f.User != "ada@example.com" || f.Action != "pin.reset" || limit != 7 {
		t.Errorf("filter %+v, limit %d", f, limit)
	}
	l, _ = parseLine([]string{"audit", "list", "--from", "2026-12-01"})
	if f, limit, err := auditFilter(l, now); err != nil || !f.From.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || limit != defaultAuditLimit {
		t.Errorf("a day: %+v %d %v", f, limit, err)
	}
	for _, args := range [][]string{
		{"--from", "yesterday"}, {"--to", "-5m"}, {"--limit", "0"}, {"--limit", "many"},
		{"--from", "1h", "--to", "2h"}, // from after to
	} {
		l, _ := parseLine(append([]string{"audit", "list"}, args...))
		var ue *usageError
		if _, _, err := auditFilter(l, now); !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
