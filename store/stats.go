package store

import "sync/atomic"

// directoryStats count events of the directory, for metrics.
type directoryStats struct {
	lockouts   atomic.Uint64
	mailQueued atomic.Uint64
}

// Stats is what the directory counted since it opened.
type Stats struct {
	// PINLockouts counts PINs locked by failed attempts (for a while, or
	// until an administrator unlocks them).
	PINLockouts uint64
	// MailQueued counts the emails queued.
	MailQueued uint64
}

// Stats reads the directory's counters.
func (d *Directory) Stats() Stats {
	return Stats{PINLockouts: d.stats.lockouts.Load(), MailQueued: d.stats.mailQueued.Load()}
}
