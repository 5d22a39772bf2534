package center

import (
	"sync"
	"time"
)

// Failed sign-ins are counted per name and per source address: after
// throttleLimit failures within throttleWindow, that name (or address) may
// not sign in for throttleWindow, even with the right password, so a
// guesser gets at most throttleLimit tries a quarter of an hour per name.
const (
	throttleLimit   = 5
	throttleWindow  = 15 * time.Minute
	throttleEntries = 10000 // per table: a sweep makes room, then new keys go uncounted
)

type throttleEntry struct {
	failures int
	first    time.Time
}

type throttle struct {
	mu    sync.Mutex
	names map[string]*throttleEntry
	addrs map[string]*throttleEntry
}

func newThrottle() *throttle {
	return &throttle{names: map[string]*throttleEntry{}, addrs: map[string]*throttleEntry{}}
}

// refused reports whether the name or the address is over the limit.
func (t *throttle) refused(name, addr string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return over(t.names[name], now) || over(t.addrs[addr], now)
}

func over(e *throttleEntry, now time.Time) bool {
	return e != nil && now.Sub(e.first) <= throttleWindow && e.failures >= throttleLimit
}

// failed counts a failed sign-in.
func (t *throttle) failed(name, addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	count(t.names, name, now)
	count(t.addrs, addr, now)
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
