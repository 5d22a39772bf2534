package bridge

import "sync/atomic"

// bridgeStats count the bridge's refusals, for metrics.
type bridgeStats struct {
	full, locked atomic.Uint64
}

// Counts is what the bridge holds now and has refused so far.
type Counts struct {
	Meetings     int // meetings on (started)
	Participants int // callers in a meeting
	Lobby        int // callers waiting in a lobby
	// Callers refused: the meeting was full, or locked.
	RefusedFull, RefusedLocked uint64
}

// Counts counts the meetings, participants and lobby callers: a walk over
// the meetings under their locks, for a scrape, never the call path.
func (b *Bridge) Counts() Counts {
	c := Counts{RefusedFull: b.stats.full.Load(), RefusedLocked: b.stats.locked.Load()}
	b.mu.Lock()
	list := make([]*Meeting, 0, len(b.meetings))
	for _, m := range b.meetings {
		list = append(list, m)
	}
	b.mu.Unlock()
	for _, m := range list {
		m.mu.Lock()
		if m.started {
			c.Meetings++
		}
		c.Participants += m.participants
		for _, mem := range m.members {
			if !mem.inMeeting && !mem.exited() {
				c.Lobby++
			}
		}
		m.mu.Unlock()
	}
	return c
}
