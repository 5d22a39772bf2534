package media

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
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
	tickers atomic.Pointer[[]Ticker] // copy-on-write: ticks read it lock-free
	resets  atomic.Uint64
}

// NewClock returns a clock with n shards (at least one).
func NewClock(n int) *Clock {
	c := &Clock{shards: make([]*clockShard, max(n, 1))}
	for i := range c.shards {
		c.shards[i] = &clockShard{}
		c.shards[i].tickers.Store(&[]Ticker{})
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
		if len(*sh.tickers.Load()) < len(*best.tickers.Load()) {
			best = sh
		}
	}
	old := *best.tickers.Load()
	next := make([]Ticker, len(old), len(old)+1)
	copy(next, old)
	next = append(next, t)
	best.tickers.Store(&next)
}

// Remove stops ticking t. A tick already in progress may still reach it.
func (c *Clock) Remove(t Ticker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sh := range c.shards {
		old := *sh.tickers.Load()
		for i, x := range old {
			if x == t {
				next := make([]Ticker, 0, len(old)-1)
				next = append(next, old[:i]...)
				next = append(next, old[i+1:]...)
				sh.tickers.Store(&next)
				return
			}
		}
	}
}

// Len is the number of tickers on the clock.
func (c *Clock) Len() int {
	n := 0
	for _, sh := range c.shards {
		n += len(*sh.tickers.Load())
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
				for _, t := range *sh.tickers.Load() {
					t.Tick()
				}
				done++
			}
		}
	}
}
