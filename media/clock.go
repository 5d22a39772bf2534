package media

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialin/dialin/internal/cowlist"
)

// Ticker is anything that sends one frame per 20 ms: a call playing a
// prompt, a lobby listener, a conference. Tick runs on a clock goroutine
// shared with many others, so it must not block.
type Ticker interface {
	Tick()
}

// maxCatchUp bounds how many frames a clock sends at once after a stall.
// Beyond it the clock resets its schedule: bursting seconds of audio at a
// far-end jitter buffer does more harm than a gap.
const maxCatchUp = 5

// Clock is the bridge's 20 ms heartbeat. Instead of one timer per call it
// runs a few shard goroutines (one per CPU is plenty), each ticking its
// share of the tickers every 20 ms on an absolute schedule that catches up
// after a scheduling stall.
type Clock struct {
	shards []*clockShard
	mu     sync.Mutex // serialises Add/Remove
}

type clockShard struct {
	tickers cowlist.List[Ticker] // ticks read it lock-free
	resets  atomic.Uint64
}

// NewClock returns a clock with n shards (at least one).
func NewClock(n int) *Clock {
	c := &Clock{shards: make([]*clockShard, max(n, 1))}
	for i := range c.shards {
		c.shards[i] = &clockShard{}
	}
	return c
}

// Run ticks until ctx is done.
func (c *Clock) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, sh := range c.shards {
		wg.Go(func() { sh.run(ctx) })
	}
	wg.Wait()
}

// Add starts ticking t on the least loaded shard.
func (c *Clock) Add(t Ticker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	best := c.shards[0]
	for _, sh := range c.shards[1:] {
		if sh.tickers.Len() < best.tickers.Len() {
			best = sh
		}
	}
	best.tickers.Add(t)
}

// Remove stops ticking t. A tick already in progress may still reach it.
func (c *Clock) Remove(t Ticker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sh := range c.shards {
		if sh.tickers.Remove(t) {
			return
		}
	}
}

// Len is the number of tickers on the clock.
func (c *Clock) Len() int {
	n := 0
	for _, sh := range c.shards {
		n += sh.tickers.Len()
	}
	return n
}

// Resets counts schedule resets after stalls longer than maxCatchUp frames.
func (c *Clock) Resets() uint64 {
	var n uint64
	for _, sh := range c.shards {
		n += sh.resets.Load()
	}
	return n
}

func (sh *clockShard) run(ctx context.Context) {
	ticker := time.NewTicker(FrameDuration)
	defer ticker.Stop()
	start := time.Now()
	var done int64 // frames sent since start
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			due := int64(now.Sub(start)/FrameDuration) - done
			if due > maxCatchUp {
				sh.resets.Add(1)
				start, done, due = now, 0, 1
			}
			for ; due > 0; due-- {
				for _, t := range sh.tickers.Load() {
					t.Tick()
				}
				done++
			}
		}
	}
}
