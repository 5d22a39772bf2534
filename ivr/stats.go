package ivr

import "sync/atomic"

// menuStats count the menu's outcomes, for metrics: one atomic add per
// entry, read on scrape.
type menuStats struct {
	idFound, idNotFound, idGaveUp atomic.Uint64
	pinOK, pinWrong, pinLocked    atomic.Uint64
	callsRefused, entriesRefused  atomic.Uint64
	overRate, blocked             atomic.Uint64
}

// Stats is what the menu's callers did so far.
type Stats struct {
	// Conference IDs: found, not found (each wrong entry), and callers who
	// entered none (two prompts without a key).
	IDFound, IDNotFound, IDGaveUp uint64
	// Organizer PINs: accepted, wrong, and refused as locked.
	PINAccepted, PINWrong, PINLocked uint64
	// The guard: calls refused at the start, entries refused mid-call,
	// entries not checked because the carrier was over its rate, and
	// failures that refused a caller (a number or address blocked).
	GuardCallsRefused, GuardEntriesRefused, GuardOverRate, GuardBlocked uint64
}

// Stats reads the menu's counters.
func (m *Menu) Stats() Stats {
	s := &m.stats
	return Stats{
		IDFound: s.idFound.Load(), IDNotFound: s.idNotFound.Load(), IDGaveUp: s.idGaveUp.Load(),
		PINAccepted: s.pinOK.Load(), PINWrong: s.pinWrong.Load(), PINLocked: s.pinLocked.Load(),
		GuardCallsRefused: s.callsRefused.Load(), GuardEntriesRefused: s.entriesRefused.Load(),
		GuardOverRate: s.overRate.Load(), GuardBlocked: s.blocked.Load(),
	}
}
