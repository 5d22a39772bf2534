package ivr

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/store"
)

// maxInSpan is the most of times (in order) that fall in any span [t, t+d).
func maxInSpan(times []time.Time, d time.Duration) int {
	best, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= d {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// One calling number, with the default guard, cannot lock a 5-digit PIN
// on its own: whatever its schedule, it makes fewer wrong entries in any
// lock window than the policy's local limit. The schedules are the ones
// that beat a fixed window (as many as allowed just before a window ends
// and just after, and after each cool-off), the greedy one, and random ones.
func TestGuardOneNumberCannotLockOrganizer(t *testing.T) {
	lockout := store.DefaultSettings().Lockout
	local := lockout.LocalLimitFor(5)
	cfg := config.Default().IVR
	schedules := map[string]func(at time.Duration) int{
		// limit-1 at the start of every window, which never refuses it
		"under the limit": func(at time.Duration) int {
			if at%cfg.GuessWindow == 0 {
				return cfg.GuessLimit - 1
			}
			return 0
		},
		// the limit-1, then at the window's very end and again at once
		"window edges": func(at time.Duration) int {
			switch at % cfg.GuessWindow {
			case 0, cfg.GuessWindow - time.Second:
				return cfg.GuessLimit
			}
			return 0
		},
		// one to open a window, the limit-2 at its very end, then as many
		// as allowed: at once in the next window and after each cool-off
		"edges then greedy": func(at time.Duration) int {
			switch {
			case at == 0:
				return 1
			case at == cfg.GuessWindow-time.Second:
				return cfg.GuessLimit - 2
			case at >= cfg.GuessWindow:
				return 100
			}
			return 0
		},
		"greedy": func(time.Duration) int { return 100 },
	}
	for seed := range 20 {
		r := rand.New(rand.NewPCG(uint64(seed), 1))
		schedules["random"+string(rune('a'+seed))] = func(time.Duration) int {
			if r.IntN(300) == 0 {
				return r.IntN(12)
			}
			return 0
		}
	}
	for name, tries := range schedules {
		clock := &testClock{now: time.Unix(1_000_000, 0)}
		o, err := GuardOptionsFrom(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		o.Now = clock.Now
		g := NewGuard(o)
		var checked []time.Time
		for at := time.Duration(0); at < 6*time.Hour; at += time.Second {
			for range tries(at) {
				if fail(g, "+15550003333", "") != Check {
					break
				}
				checked = append(checked, clock.Now())
			}
			clock.Add(time.Second)
		}
		n := maxInSpan(checked, lockout.Window)
		t.Logf("%s: at most %d in %v", name, n, lockout.Window)
		if n >= local {
			t.Errorf("%s: %d wrong PINs from one number within %v: the local limit %d locks the PIN", name, n, lockout.Window, local)
		}
	}
}

// A refusal's end does not give a fresh budget: the next failure in the
// same window refuses again at once; a right entry then is let through and
// leaves the number as it was.
func TestGuardRefusedAgainInItsWindow(t *testing.T) {
	clock := &testClock{now: time.Unix(0, 0)}
	g := NewGuard(GuardOptions{Limit: 3, Window: time.Hour, Cooloff: time.Minute, Now: clock.Now})
	for range 3 {
		fail(g, "+1", "")
	}
	clock.Add(time.Minute) // the cool-off ends; the window does not
	a := g.Begin("+1", "", true)
	if a.Verdict != Check {
		t.Fatalf("verdict %v after the cool-off", a.Verdict)
	}
	a.Right()
	if refused, _ := g.Refused("+1", ""); refused {
		t.Fatal("a right entry after the cool-off left the number refused")
	}
	if r := g.Begin("+1", "", true).Wrong(); !r.Blocked {
		t.Fatalf("a failure after the cool-off, in the same window, did not refuse again: %+v", r)
	}
	clock.Add(time.Hour) // a new window
	if r := g.Begin("+1", "", true).Wrong(); r.Blocked || r.NumberFailures != 1 {
		t.Fatalf("a new window: %+v", r)
	}
}

// When another call's turn reaches the limit while this one is in flight,
// and this one was right, the limit was not reached: the refusal is lifted.
func TestGuardRightLiftsOthersRefusal(t *testing.T) {
	g := NewGuard(GuardOptions{Limit: 3, Window: time.Hour, Cooloff: time.Hour})
	fail(g, "+1", "")
	a := g.Begin("+1", "", true) // in flight
	b := g.Begin("+1", "", true) // reaches the limit
	if refused, _ := g.Refused("+1", ""); !refused {
		t.Fatal("the limit reached in flight does not hold the number")
	}
	a.Right()
	b.Wrong()
	if refused, _ := g.Refused("+1", ""); refused {
		t.Fatal("refused after 2 failures, limit 3")
	}
}

// A flood of made-up numbers through a carrier (typos: free of its budget)
// fills the number table, not the addresses': a guesser at a new
// non-carrier address is still counted and refused. Swept, the table takes
// new numbers again.
func TestGuardMadeUpNumbersDoNotCrowdOutAddresses(t *testing.T) {
	clock := &testClock{now: time.Unix(0, 0)}
	g := defaultGuard(clock)
	g.maxEntries = 100
	for i := range 1000 {
		if v := fail2(g, fmt.Sprintf("+1555%07d", i), carrierIP, false); v != Check {
			t.Fatalf("flood entry %d: verdict %v", i, v)
		}
	}
	if n := len(g.numbers.m); n > g.maxEntries {
		t.Fatalf("%d numbers tracked, bound %d", n, g.maxEntries)
	}
	for i := range 10 {
		fail(g, fmt.Sprintf("+1666%07d", i), "192.0.2.50")
	}
	if refused, _ := g.Refused("+17770000000", "192.0.2.50"); !refused {
		t.Fatal("a guessing address went uncounted once made-up numbers filled the table")
	}
	clock.Add(31 * time.Minute) // every number's window has passed
	if r := g.Begin("+18880000000", carrierIP, false).Wrong(); r.NumberFailures != 1 {
		t.Fatalf("a new number is not tracked after the sweep: %+v", r)
	}
}

// fail2 is fail with metered given.
func fail2(g *Guard, caller, source string, metered bool) Verdict {
	a := g.Begin(caller, source, metered)
	if a.Verdict == Check {
		a.Wrong()
	}
	return a.Verdict
}
