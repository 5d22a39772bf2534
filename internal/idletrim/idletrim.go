// Package idletrim hands the memory a busy spell left behind back to the
// system once the bridge has been idle for a while.
package idletrim

import (
	"context"
	"time"
)

// After is how long the bridge must have had no call before it hands free
// memory back: past SIP's 32 s transaction timers, so the last calls'
// signalling is gone too.
const After = time.Minute

// Run returns the memory a busy spell left behind to the system
// once the bridge has had no call for idleFor. Go's runtime does it by
// itself only partly, keeping what the last peak's heap goal allowed, so
// after a busy hour the process would look minutes (or forever) larger
// than what it holds. trim is debug.FreeOSMemory in the bridge: a
// collection and a scavenge, a few milliseconds on an idle process. Run
// returns when ctx ends.
func Run(ctx context.Context, calls func() int, idleFor time.Duration, trim func()) {
	ticker := time.NewTicker(idleFor / 4)
	defer ticker.Stop()
	busy := false           // calls came since the last trim
	var idleSince time.Time // zero while calls are up
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			switch {
			case calls() > 0:
				busy, idleSince = true, time.Time{}
			case !busy:
			case idleSince.IsZero():
				idleSince = now
			case now.Sub(idleSince) >= idleFor:
				trim()
				busy, idleSince = false, time.Time{}
			}
		}
	}
}
