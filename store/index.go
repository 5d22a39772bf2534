package store

import (
	"sync"
	"sync/atomic"
	"time"
)

// confSlots is the number of possible conference IDs: six free digits and
// a check digit they determine.
const confSlots = 1_000_000

// confEntry is what the call path needs for a conference ID. It is never
// changed once published: a change publishes a new entry (and new copies
// of the entries chained after it).
type confEntry struct {
	key              uint32 // the full 7-digit ID as a number
	organizerID      int64
	user             *userEntry
	static           bool
	requireOrganizer bool // dynamic meetings only: static ones follow Settings
	bypassLobby      bool
	noCheckDigit     bool       // imported without a Damm check digit
	next             *confEntry // another ID of the same slot (imports only)
}

// confIndex maps conference IDs to entries with one slot per possible ID,
// indexed by the six digits before the check digit. A lookup is one atomic
// load and no lock at all; a million slots take 8 MB. The bridge's own IDs
// each have a slot to themselves (one right check digit per six digits);
// IDs imported without a check digit may share one with others of the same
// six digits, chained.
type confIndex struct {
	slots []atomic.Pointer[confEntry]
	// unchecked counts the entries imported without a check digit: while
	// there is none, an ID with a wrong check digit is a typo for sure.
	unchecked atomic.Int64
}

func newConfIndex() *confIndex {
	return &confIndex{slots: make([]atomic.Pointer[confEntry], confSlots)}
}

func (x *confIndex) get(key uint32) *confEntry {
	for e := x.slots[key/10%confSlots].Load(); e != nil; e = e.next {
		if e.key == key {
			return e
		}
	}
	return nil // free, or only IDs differing in the last digit
}

// put publishes e (not yet published) under its key, replacing the entry
// of the same key; writers are serialised by Directory.mu.
func (x *confIndex) put(e *confEntry) {
	slot := &x.slots[e.key/10%confSlots]
	rest, old := without(slot.Load(), e.key)
	e.next = rest
	slot.Store(e)
	x.count(old, -1)
	x.count(e, 1)
}

func (x *confIndex) remove(key uint32) {
	slot := &x.slots[key/10%confSlots]
	rest, old := without(slot.Load(), key)
	if old != nil {
		slot.Store(rest)
		x.count(old, -1)
	}
}

func (x *confIndex) count(e *confEntry, delta int64) {
	if e != nil && e.noCheckDigit {
		x.unchecked.Add(delta)
	}
}

// without returns the chain head without key's entry (copying the entries
// before it, since published entries never change) and that entry, if any.
func without(head *confEntry, key uint32) (rest, removed *confEntry) {
	if head == nil {
		return nil, nil
	}
	if head.key == key {
		return head.next, head
	}
	tail, removed := without(head.next, key)
	if removed == nil {
		return head, nil
	}
	c := *head
	c.next = tail
	return &c, removed
}

// has reports whether the slot of key is taken, whatever its check digit:
// the bridge makes only IDs whose slot is free, so that none is one last
// digit away from another.
func (x *confIndex) has(key uint32) bool { return x.slots[key/10%confSlots].Load() != nil }

// userEntry is the call path's copy of a user: PIN digest and lock state.
// Its fields after id are guarded by mu; verification takes only this
// user's mutex, so callers guessing one PIN never slow down another.
type userEntry struct {
	id int64

	mu           sync.Mutex
	digest       [32]byte
	pinLength    int
	conferenceID string // static ID, "" if none
	policy       *PINPolicy
	lock         compactLock
	dirty        bool // lock state changed since last persisted; guarded by mu
}

// compactLock is LockState in 32 bytes instead of 72: the index holds one
// per user, a million of them in the benchmark.
type compactLock struct {
	failures, total int32
	windowStart     int64 // Unix ns, 0 = none
	lockedUntil     int64
	byAdmin         bool
}

func compact(l LockState) compactLock {
	return compactLock{
		failures:    int32(l.Failures),
		total:       int32(l.TotalFailures),
		windowStart: nanos(l.WindowStart),
		lockedUntil: nanos(l.LockedUntil),
		byAdmin:     l.LockedByAdmin,
	}
}

func (c compactLock) expand() LockState {
	return LockState{
		Failures:      int(c.failures),
		WindowStart:   timeFromNanos(c.windowStart),
		TotalFailures: int(c.total),
		LockedUntil:   timeFromNanos(c.lockedUntil),
		LockedByAdmin: c.byAdmin,
	}
}

// nanos is t as Unix nanoseconds, 0 for the zero time; timeFromNanos is
// its inverse, in UTC. store/sqlite has its own copy: the index's format
// and the database's are free to differ.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeFromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// removeWhere removes every entry drop selects: a walk of every slot, for
// the rare changes that do not name their IDs (a disabled user seen on
// another node, a reload). Writers are serialised by Directory.mu.
func (x *confIndex) removeWhere(drop func(*confEntry) bool) {
	for i := range x.slots {
		for e := x.slots[i].Load(); e != nil; e = e.next {
			if drop(e) {
				x.remove(e.key)
			}
		}
	}
}
