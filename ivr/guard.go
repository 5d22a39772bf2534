package ivr

import (
	"sync"
	"time"
)

// guardMaxEntries bounds the guard's memory under a flood of calls from
// made-up numbers; past it, expired entries are swept and, if that is not
// enough, new numbers are not tracked (the limit then rests on the source
// address, which a trunk cannot make up).
const guardMaxEntries = 100_000

// Guard refuses callers who guess: failed conference IDs and PINs are
// counted per calling number and per source address, across calls; Limit
// failures within Window refuse that number's or address's new calls for
// Cooloff. None of the anchor systems does this; a 7-digit ID and a 5-digit
// PIN are otherwise open to a patient dialler.
type Guard struct {
	limit   int
	window  time.Duration
	cooloff time.Duration
	now     func() time.Time

	mu      sync.Mutex
	entries map[string]*guardEntry
}

type guardEntry struct {
	failures     int
	windowStart  time.Time
	blockedUntil time.Time
}

// NewGuard returns a guard; limit 0 turns it off. now is the clock (nil:
// time.Now).
func NewGuard(limit int, window, cooloff time.Duration, now func() time.Time) *Guard {
	if now == nil {
		now = time.Now
	}
	return &Guard{limit: limit, window: window, cooloff: cooloff, now: now, entries: map[string]*guardEntry{}}
}

// guardKeys names what is counted for a call: its number and its address.
func guardKeys(caller, sourceIP string) []string {
	keys := make([]string, 0, 2)
	if caller != "" {
		keys = append(keys, "number:"+caller)
	}
	if sourceIP != "" {
		keys = append(keys, "address:"+sourceIP)
	}
	return keys
}

// Refused reports whether a new call from caller at sourceIP is refused,
// and until when.
func (g *Guard) Refused(caller, sourceIP string) (bool, time.Time) {
	if g == nil || g.limit == 0 {
		return false, time.Time{}
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	var until time.Time
	for _, k := range guardKeys(caller, sourceIP) {
		if e := g.entries[k]; e != nil && now.Before(e.blockedUntil) && e.blockedUntil.After(until) {
			until = e.blockedUntil
		}
	}
	return !until.IsZero(), until
}

// GuardReport is what one failure did, for the log.
type GuardReport struct {
	NumberFailures  int  // failures of the calling number in its window
	AddressFailures int  // failures of the source address in its window
	Blocked         bool // this failure reached the limit: new calls are refused
}

// Failed counts one failed conference ID or PIN.
func (g *Guard) Failed(caller, sourceIP string) GuardReport {
	var r GuardReport
	if g == nil || g.limit == 0 {
		return r
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, k := range guardKeys(caller, sourceIP) {
		e := g.entry(k, now)
		if e == nil {
			continue
		}
		if now.Sub(e.windowStart) >= g.window {
			e.failures, e.windowStart = 0, now
		}
		e.failures++
		n := e.failures
		if e.failures >= g.limit {
			e.blockedUntil = now.Add(g.cooloff)
			e.failures, e.windowStart = 0, now
			r.Blocked = true
		}
		if k[0] == 'n' {
			r.NumberFailures = n
		} else {
			r.AddressFailures = n
		}
	}
	return r
}

// entry finds or makes k's entry; nil when the table is full. With g.mu held.
func (g *Guard) entry(k string, now time.Time) *guardEntry {
	if e := g.entries[k]; e != nil {
		return e
	}
	if len(g.entries) >= guardMaxEntries {
		g.sweep(now)
		if len(g.entries) >= guardMaxEntries {
			return nil
		}
	}
	e := &guardEntry{windowStart: now}
	g.entries[k] = e
	return e
}

// sweep forgets entries neither counting nor blocking any more.
func (g *Guard) sweep(now time.Time) {
	for k, e := range g.entries {
		if now.Sub(e.windowStart) >= g.window && !now.Before(e.blockedUntil) {
			delete(g.entries, k)
		}
	}
}
