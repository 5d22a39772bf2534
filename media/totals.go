package media

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/dialin/dialin/internal/atomichist"
)

// Totals are the bridge-wide media counters, for metrics: every session
// and jitter buffer made with them adds to them where it counts its own
// figures, with one atomic add (no lock, no allocation). Sessions come and
// go; these only grow, as Prometheus counters must.
type Totals struct {
	// Each counter on its own cache line: the clock shards add to them
	// from different cores.
	received, sent, dropped, foreign paddedCounter
	late, lost, discarded            paddedCounter
}

type paddedCounter struct {
	atomic.Uint64
	_ [56]byte
}

// TotalsSnapshot is what the Totals say at one moment.
type TotalsSnapshot struct {
	Received, Sent uint64 // RTP packets taken and sent
	Dropped        uint64 // from the latched peer's address but of no use (malformed, other codecs, too big, a second source)
	DroppedForeign uint64 // refused by the latch rule
	// The jitter buffers': packets that came after their turn, sequence
	// numbers that never came, and packets discarded unplayed (to bound
	// the delay, on a resync, lone strays).
	JitterLate, JitterLost, JitterDiscarded uint64
}

// Snapshot reads the counters.
func (t *Totals) Snapshot() TotalsSnapshot {
	return TotalsSnapshot{
		Received: t.received.Load(), Sent: t.sent.Load(), Dropped: t.dropped.Load(), DroppedForeign: t.foreign.Load(),
		JitterLate: t.late.Load(), JitterLost: t.lost.Load(), JitterDiscarded: t.discarded.Load(),
	}
}

// Totals are the clock's media counters; hand them to the sessions
// (SessionConfig.Totals) and jitter buffers (JitterBuffer.CountInto) the
// clock serves.
// A nil clock has none.
func (c *Clock) Totals() *Totals {
	if c == nil {
		return nil
	}
	return c.totals
}

// tickLatenessBounds are the buckets of the tick-lateness histogram: a
// tick a few milliseconds late is normal scheduling; one 20 ms late or more
// is an overrun that a listener hears.
var tickLatenessBounds = []time.Duration{
	500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
}

// TickLateness is how late the clock's ticks started against their
// schedule, every shard's ticks together.
func (c *Clock) TickLateness() atomichist.Snapshot {
	var s atomichist.Snapshot
	for _, sh := range c.shards {
		s.Add(sh.lateness.Snapshot())
	}
	return s
}

// Stalled reports a shard that has work but has not ticked for longer than
// limit (a Ticker that blocks, a starved process); nil when every shard
// with work ticks. An idle shard sleeps and is not stalled.
func (c *Clock) Stalled(now time.Time, limit time.Duration) error {
	for i, sh := range c.shards {
		last := sh.lastTick.Load()
		if last == 0 || sh.idle() {
			continue // idle, or just woken
		}
		if since := now.Sub(time.Unix(0, last)); since > limit {
			return fmt.Errorf("media clock shard %d has not ticked for %v (limit %v)", i, since.Round(time.Millisecond), limit)
		}
	}
	return nil
}
