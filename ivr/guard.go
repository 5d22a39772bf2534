package ivr

import (
	"net/netip"
	"strings"
	"sync"
	"time"
)

// guardMaxEntries bounds each of the guard's tables (numbers, addresses)
// under a flood of calls from made-up numbers; past it, expired entries are
// swept and, if that is not enough, new keys are not tracked. The tables
// are apart so that made-up numbers (free through a carrier when they are
// typos) cannot crowd out the addresses, which a caller cannot make up: a
// full number table leaves the limit to the address or the carrier's budget.
const guardMaxEntries = 100_000

// guardSweepEvery spaces the sweeps of a full table: a table full of live
// entries would otherwise be walked, under the lock, at every new key.
const guardSweepEvery = time.Second

// Guard holds back callers who guess conference IDs and PINs (see
// docs/SECURITY.md). Each entry a caller makes is checked only once the
// guard has given it a turn (Begin), which counts it as a failure at once,
// so concurrent calls cannot overrun a limit; a right entry gives its turn
// back (Attempt.Right).
//
//   - A calling number that fails Limit times within Window is refused for
//     Cooloff: its new calls, and its calls in progress at their next
//     entry. Anonymous or withheld numbers are no number: they are not
//     counted, or one guesser would refuse every anonymous caller.
//   - A source address outside the carrier networks is counted the same way.
//   - A source inside a carrier network (an SBC or proxy: one address, many
//     callers) is never refused. Its wrong entries draw on a token bucket
//     per carrier network: one per CarrierInterval, CarrierBurst at once.
//     When the bucket is empty, each entry from that carrier, right or
//     wrong (so that the time of the answer does not tell which), waits
//     its turn before it is checked; an entry whose turn is more than
//     CarrierMaxWait away is not checked at all.
type Guard struct {
	o GuardOptions

	maxEntries int // guardMaxEntries; tests lower it

	mu        sync.Mutex
	numbers   table
	addresses table
	buckets   map[netip.Prefix]*bucket
}

// table is the guard's entries of one kind, by key.
type table struct {
	m     map[string]*guardEntry
	swept time.Time // the last sweep of the table when full
}

// GuardOptions configure a guard.
type GuardOptions struct {
	// Limit failures within Window refuse a number or a non-carrier
	// address for Cooloff; 0 turns that off (the carriers' budget stays).
	Limit   int
	Window  time.Duration
	Cooloff time.Duration
	// Carriers are the networks of carriers' SBCs and proxies, each with
	// its own budget of CarrierBurst entries, one more per
	// CarrierInterval; an entry waits at most CarrierMaxWait for its turn.
	Carriers        []netip.Prefix
	CarrierInterval time.Duration
	CarrierBurst    int
	CarrierMaxWait  time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

type guardEntry struct {
	failures     int
	windowStart  time.Time
	blockedUntil time.Time
}

// bucket is a carrier network's budget of wrong entries. tokens below zero
// is the debt of entries waiting for their turn.
type bucket struct {
	tokens float64
	last   time.Time
}

// NewGuard returns a guard.
func NewGuard(o GuardOptions) *Guard {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CarrierInterval <= 0 {
		o.CarrierInterval = time.Minute
	}
	if o.CarrierBurst < 1 {
		o.CarrierBurst = 1
	}
	return &Guard{o: o, maxEntries: guardMaxEntries,
		numbers: table{m: map[string]*guardEntry{}}, addresses: table{m: map[string]*guardEntry{}},
		buckets: map[netip.Prefix]*bucket{}}
}

// anonymous are the user parts carriers and phones send for a withheld
// number (RFC 3323's "anonymous", and what networks write instead).
var anonymous = map[string]bool{
	"": true, "anonymous": true, "restricted": true, "private": true, "unavailable": true,
	"unknown": true, "withheld": true, "anonymous.invalid": true,
}

// numberKey is the guard's key for a calling number; "" for anonymous.
func numberKey(caller string) string {
	caller = strings.TrimSpace(caller)
	if anonymous[strings.ToLower(caller)] {
		return ""
	}
	return "number:" + caller
}

// carrier finds the carrier network sourceIP is in.
func (g *Guard) carrier(sourceIP string) (netip.Prefix, bool) {
	if len(g.o.Carriers) == 0 {
		return netip.Prefix{}, false
	}
	ip, err := netip.ParseAddr(sourceIP)
	if err != nil {
		return netip.Prefix{}, false
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range g.o.Carriers {
		if p.Contains(ip) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// keys names what is counted for a call: its number (unless anonymous) and
// its address (unless a carrier's).
func (g *Guard) keys(caller, sourceIP string) (number, address string) {
	if g.o.Limit == 0 {
		return "", ""
	}
	number = numberKey(caller)
	if _, isCarrier := g.carrier(sourceIP); sourceIP != "" && !isCarrier {
		address = "address:" + addressKey(sourceIP)
	}
	return number, address
}

// addressKey names the source a caller cannot easily change: an IPv4
// address (an IPv4-mapped IPv6 one counts as the same), or the /64 of an
// IPv6 address, since one host is usually given a whole /64 and could
// otherwise rotate its addresses to escape the limit.
func addressKey(sourceIP string) string {
	ip, err := netip.ParseAddr(sourceIP)
	if err != nil {
		return sourceIP
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String()
	}
	return netip.PrefixFrom(ip, 64).Masked().String()
}

// Refused reports whether a new call from caller at sourceIP is refused,
// and until when.
func (g *Guard) Refused(caller, sourceIP string) (bool, time.Time) {
	if g == nil {
		return false, time.Time{}
	}
	number, address := g.keys(caller, sourceIP)
	now := g.o.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	until := g.numbers.blockedUntil(number, now)
	if u := g.addresses.blockedUntil(address, now); u.After(until) {
		until = u
	}
	return !until.IsZero(), until
}

// blockedUntil is when k's refusal ends; zero if k is not refused. With g.mu held.
func (t *table) blockedUntil(k string, now time.Time) time.Time {
	if e := t.m[k]; k != "" && e != nil && now.Before(e.blockedUntil) {
		return e.blockedUntil
	}
	return time.Time{}
}

// Verdict is what the guard says of an entry about to be checked.
type Verdict int

const (
	// Check the entry (after Attempt.Wait).
	Check Verdict = iota
	// Refused: the number or address is refused; the entry is not checked.
	Refused
	// OverRate: the carrier's next turn is more than CarrierMaxWait away;
	// the entry is not checked.
	OverRate
)

// Attempt is one entry's turn. Exactly one of Right, Wrong or Cancel ends
// a Check; the others need none.
type Attempt struct {
	Verdict Verdict
	Wait    time.Duration // wait this long before checking (the carrier is over its rate)
	Until   time.Time     // Refused: until when
	Carrier string        // the carrier network of the source, if any

	g       *Guard
	counted [2]counted
	bucket  *bucket
	report  GuardReport
	ended   bool
}

// counted is one entry's share of an attempt, to give back on Right.
type counted struct {
	e           *guardEntry
	windowStart time.Time // the window the failure was counted in
	blocked     time.Time // the refusal this attempt started, if any
	prevBlocked time.Time // the (ended) refusal it replaced
}

// GuardReport is what one failure did, for the log.
type GuardReport struct {
	NumberFailures  int  // failures of the calling number in its window
	AddressFailures int  // failures of the source address in its window
	Blocked         bool // this failure reached the limit: the caller is refused
}

// Begin gives an entry from caller at sourceIP its turn, or not. metered
// says whether a carrier's entry draws on its budget: conference IDs with
// a wrong check digit (typos) do not, since a guesser never sends them.
// A nil guard lets everything be checked.
func (g *Guard) Begin(caller, sourceIP string, metered bool) *Attempt {
	a := &Attempt{g: g}
	if g == nil {
		return a
	}
	number, address := g.keys(caller, sourceIP)
	pfx, isCarrier := g.carrier(sourceIP)
	if isCarrier {
		a.Carrier = pfx.String()
	}
	now := g.o.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	until := g.numbers.blockedUntil(number, now)
	if u := g.addresses.blockedUntil(address, now); u.After(until) {
		until = u
	}
	if !until.IsZero() {
		a.Verdict, a.Until = Refused, until
		return a
	}
	if isCarrier && metered {
		b := g.buckets[pfx]
		if b == nil {
			b = &bucket{tokens: float64(g.o.CarrierBurst), last: now}
			g.buckets[pfx] = b
		}
		wait, ok := g.take(b, now)
		if !ok {
			a.Verdict = OverRate
			return a
		}
		a.bucket, a.Wait = b, wait
	}
	tables := [2]*table{&g.numbers, &g.addresses}
	for i, k := range [2]string{number, address} {
		if k == "" {
			continue
		}
		e := g.entry(tables[i], k, now)
		if e == nil {
			continue
		}
		if now.Sub(e.windowStart) >= g.o.Window {
			// A new window only once the old one has passed, not when a
			// refusal ends: a fresh budget after each cool-off would let
			// one number make three windows' worth of failures in one PIN
			// lock window and lock its organizer on its own. Past a
			// refusal, still in its window, the next failure refuses again.
			e.failures, e.windowStart, e.blockedUntil = 0, now, time.Time{}
		}
		e.failures++
		c := counted{e: e, windowStart: e.windowStart, prevBlocked: e.blockedUntil}
		if e.failures >= g.o.Limit {
			e.blockedUntil = now.Add(g.o.Cooloff)
			c.blocked = e.blockedUntil
			a.report.Blocked = true
		}
		a.counted[i] = c
		if i == 0 {
			a.report.NumberFailures = e.failures
		} else {
			a.report.AddressFailures = e.failures
		}
	}
	return a
}

// take draws one turn from b: at once while it has tokens, else after the
// debt before it is repaid; false when that is more than CarrierMaxWait
// away. With g.mu held.
func (g *Guard) take(b *bucket, now time.Time) (time.Duration, bool) {
	g.refill(b, now)
	maxDebt := float64(g.o.CarrierMaxWait) / float64(g.o.CarrierInterval)
	if b.tokens-1 < -maxDebt {
		return 0, false
	}
	b.tokens--
	if b.tokens >= 0 {
		return 0, true
	}
	return time.Duration(-b.tokens * float64(g.o.CarrierInterval)), true
}

// refill adds the tokens earned since b was last seen, up to the burst.
func (g *Guard) refill(b *bucket, now time.Time) {
	if now.After(b.last) {
		b.tokens += float64(now.Sub(b.last)) / float64(g.o.CarrierInterval)
		b.last = now
	}
	b.tokens = min(b.tokens, float64(g.o.CarrierBurst))
}

// Right ends a checked attempt whose entry was right: its turn is given
// back, so right entries never count as failures.
func (a *Attempt) Right() { a.giveBack() }

// Cancel ends an attempt that was not checked after all (the caller hung
// up while it waited): it gave nothing away, so it costs nothing.
func (a *Attempt) Cancel() { a.giveBack() }

// Wrong ends a checked attempt whose entry was wrong; the failure was
// counted when the turn was given. It reports it for the log.
func (a *Attempt) Wrong() GuardReport {
	a.ended = true
	return a.report
}

func (a *Attempt) giveBack() {
	g := a.g
	if g == nil || a.ended || a.Verdict != Check {
		return
	}
	a.ended = true
	now := g.o.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range a.counted {
		e := c.e
		if e == nil || !e.windowStart.Equal(c.windowStart) {
			continue // that window is gone, and the failure with it
		}
		if e.failures > 0 {
			e.failures--
		}
		if !c.blocked.IsZero() && e.blockedUntil.Equal(c.blocked) {
			e.blockedUntil = c.prevBlocked // the refusal this turn started is undone
		}
		if e.failures < g.o.Limit {
			// Another call's turn reached the limit while this one was in
			// flight; this one was right, so the limit was not reached.
			e.blockedUntil = time.Time{}
		}
	}
	if b := a.bucket; b != nil {
		g.refill(b, now)
		b.tokens = min(b.tokens+1, float64(g.o.CarrierBurst))
	}
}

// entry finds or makes k's entry in t; nil when t is full. With g.mu held.
func (g *Guard) entry(t *table, k string, now time.Time) *guardEntry {
	if e := t.m[k]; e != nil {
		return e
	}
	if len(t.m) >= g.maxEntries {
		if now.Sub(t.swept) >= guardSweepEvery {
			g.sweep(t, now)
			t.swept = now
		}
		if len(t.m) >= g.maxEntries {
			return nil
		}
	}
	e := &guardEntry{windowStart: now}
	t.m[k] = e
	return e
}

// sweep forgets t's entries neither counting nor blocking any more.
func (g *Guard) sweep(t *table, now time.Time) {
	for k, e := range t.m {
		if now.Sub(e.windowStart) >= g.o.Window && !now.Before(e.blockedUntil) {
			delete(t.m, k)
		}
	}
}
