package cli

import (
	"strings"
	"testing"
	"time"
)

func TestTimeFlag(t *testing.T) {
	for _, v := range []string{"2026-01-31", "2026-01-31T09:00:00Z"} {
		if got, err := timeFlag(v, "from"); err != nil || got != v {
			t.Errorf("%s: %q, %v", v, got, err)
		}
	}
	got, err := timeFlag("7d", "from")
	if err != nil {
		t.Fatal(err)
	}
	at, _ := time.Parse(time.RFC3339, got)
	if d := time.Since(at); d < 7*24*time.Hour-time.Minute || d > 7*24*time.Hour+time.Minute {
		t.Errorf("7d: %s", got)
	}
	if _, err := timeFlag("yesterday", "to"); err == nil || !strings.Contains(err.Error(), "--to") {
		t.Errorf("a bad time: %v", err)
	}
}
