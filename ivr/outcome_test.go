package ivr

import (
	"context"
	"testing"
	"time"
)

// The menu says how it ended, for the call's record.
func TestMenuOutcome(t *testing.T) {
	for _, tc := range []struct {
		name, keys string
		want       Outcome
		ok         bool
	}{
		{"found", testID, OutcomeFound, true},
		{"not found", "1111111" + "2222222" + "333#", OutcomeNotFound, false},
		{"gave up", "", OutcomeGaveUp, false},
	} {
		e := newMenuEnv(t)
		call := newMemCall(e.logs)
		for _, k := range []byte(tc.keys) {
			call.digits <- k
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		entry, ok := e.menu.Identify(ctx, call)
		cancel()
		if ok != tc.ok || entry.Outcome != tc.want {
			t.Errorf("%s: %v, %q; want %v, %q", tc.name, ok, entry.Outcome, tc.ok, tc.want)
		}
	}

	// Hung up inside the PIN entry.
	e := newMenuEnv(t)
	call := newMemCall(e.logs)
	for _, k := range []byte(testID + "*12") {
		call.digits <- k
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if entry, ok := e.menu.Identify(ctx, call); ok || entry.Outcome != OutcomeHungUp {
		t.Errorf("hung up mid-PIN: %v, %q", ok, entry.Outcome)
	}
}
