package center

import (
	"sync"
	"time"
)

// Failed sign-ins are counted three ways within throttleWindow, and a
// count at its limit refuses sign-ins (the right password included) until
// its window ends:
//
//   - a name from one address: pairLimit (5) — one browser guessing one
//     account;
//   - one address, whatever the names: addrLimit (20) — one source trying
//     many accounts;
//   - one name, from every address: nameLimit (100) — a guess spread over
//     many sources.
//
// Only the last lets someone else lock an administrator out of the pages,
// and it takes 100 failures from at least five addresses in a quarter of
// an hour; the lockout ends with the window, and the API token and the CLI
// are never throttled (docs/SECURITY.md). Passwords are generated (dialin
// admin add), so 100 guesses a quarter of an hour find none.
const (
	pairLimit       = 5
	addrLimit       = 20
	nameLimit       = 100
	throttleWindow  = 15 * time.Minute
	throttleEntries = 10000 // per table: a sweep makes room, then new keys go uncounted
)

type throttleEntry struct {
	failures int
	first    time.Time
}

type throttle struct {
	mu    sync.Mutex
	pairs map[string]*throttleEntry // name + "\x00" + address
	addrs map[string]*throttleEntry
	names map[string]*throttleEntry
}

func newThrottle() *throttle {
	return &throttle{pairs: map[string]*throttleEntry{}, addrs: map[string]*throttleEntry{}, names: map[string]*throttleEntry{}}
}

// refused reports whether name from addr may not sign in now.
func (t *throttle) refused(name, addr string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return over(t.pairs[name+"\x00"+addr], pairLimit, now) || over(t.addrs[addr], addrLimit, now) ||
		over(t.names[name], nameLimit, now)
}

func over(e *throttleEntry, limit int, now time.Time) bool {
	return e != nil && now.Sub(e.first) <= throttleWindow && e.failures >= limit
}

// failed counts a failed sign-in.
func (t *throttle) failed(name, addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	count(t.pairs, name+"\x00"+addr, now)
	count(t.addrs, addr, now)
	count(t.names, name, now)
}

func count(m map[string]*throttleEntry, key string, now time.Time) {
	e := m[key]
	if e == nil || now.Sub(e.first) > throttleWindow {
		if e == nil && len(m) >= throttleEntries {
			for k, old := range m {
				if now.Sub(old.first) > throttleWindow {
					delete(m, k)
				}
			}
			if len(m) >= throttleEntries {
				return
			}
		}
		e = &throttleEntry{first: now}
		m[key] = e
	}
	e.failures++
}
