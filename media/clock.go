package media

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialin/dialin/internal/atomichist"
	"github.com/dialin/dialin/internal/cowlist"
)

// Ticker is anything that sends one frame per 20 ms: a call playing a
// prompt, a lobby listener, a conference. Tick runs on a clock goroutine
// shared with many others, so it must not block.
type Ticker interface {
	Tick()
}

// shardFill is how much one shard takes (tickers plus sessions) before the
// next one gets any: a lightly loaded bridge then wakes one goroutine per
// tick instead of one per CPU, and an empty shard does not wake at all.
// Past it, work goes to the least loaded shard.
const shardFill = 256

// maxCatchUp bounds how many frames a clock sends at once after a stall.
// Beyond it the clock resets its schedule: bursting seconds of audio at a
// far-end jitter buffer does more harm than a gap.
const maxCatchUp = 5

// Clock is the bridge's 20 ms heartbeat. Instead of one timer per call it
// runs a few shard goroutines (one per CPU is plenty), each ticking its
// share of the tickers every 20 ms on an absolute schedule that catches up
// after a scheduling stall.
//
// The shards also read the calls' RTP sockets: every tick, before its
// tickers send, a shard reads whatever arrived on each of its sessions
// (AddSession). Reading 50 packets a second per call this way costs one
// system call per sending call per tick (sockets found empty share one poll)
// and no goroutine wake-ups, where a goroutine blocked on each socket costs
// a wake-up, a netpoll round and a read per packet, and its stack.
type Clock struct {
	shards []*clockShard
	mu     sync.Mutex // serialises Add/Remove
	totals *Totals    // the media counters of everything the clock serves (totals.go)
}

type clockShard struct {
	tickers  cowlist.List[Ticker]   // ticks read it lock-free
	sessions cowlist.List[*Session] // read every tick, before the tickers
	recv     *recvBuffers
	ready    readiness     // which sessions have something to read
	readable []bool        // per session, this tick
	wake     chan struct{} // an idle shard waits here for work
	resets   atomic.Uint64
	// For metrics and readiness (totals.go): how late each tick started,
	// and when the last one did (unix ns; 0 while idle).
	lateness *atomichist.Histogram
	lastTick atomic.Int64
}

func (sh *clockShard) load() int { return sh.tickers.Len() + sh.sessions.Len() }

func (sh *clockShard) idle() bool { return sh.load() == 0 }

// notify wakes the shard if it sleeps for want of work.
func (sh *clockShard) notify() {
	select {
	case sh.wake <- struct{}{}:
	default:
	}
}

// NewClock returns a clock with n shards (at least one).
func NewClock(n int) *Clock {
	c := &Clock{shards: make([]*clockShard, max(n, 1)), totals: new(Totals)}
	for i := range c.shards {
		c.shards[i] = &clockShard{recv: newRecvBuffers(), wake: make(chan struct{}, 1), lateness: atomichist.New(tickLatenessBounds...)}
	}
	return c
}

// pick is the shard for new work: the first one not yet filled, else the
// least loaded. Call with c.mu held.
func (c *Clock) pick() *clockShard {
	best := c.shards[0]
	for _, sh := range c.shards {
		if sh.load() < shardFill {
			return sh
		}
		if sh.load() < best.load() {
			best = sh
		}
	}
	return best
}

// AddSession starts reading s's socket every tick, and ticking its player
// (the call's sender; nil if none) on the same shard right after the read:
// a key read in a tick stops a prompt in that same tick, so barge-in waits
// for no other shard. The session's key callbacks and OnFailure run there too.
func (c *Clock) AddSession(s *Session, player Ticker) {
	s.heard.Store(time.Now().UnixNano()) // the inactivity timer starts with the reading
	c.mu.Lock()
	defer c.mu.Unlock()
	sh := c.pick()
	sh.sessions.Add(s)
	if player != nil {
		sh.tickers.Add(player)
	}
	sh.notify()
}

// RemoveSession stops reading s and ticking its player. A tick already in
// progress may still reach them once more.
func (c *Clock) RemoveSession(s *Session, player Ticker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sh := range c.shards {
		if sh.sessions.Remove(s) {
			if player != nil {
				sh.tickers.Remove(player)
			}
			return
		}
	}
}

// Sessions is the number of sessions the clock reads.
func (c *Clock) Sessions() int {
	n := 0
	for _, sh := range c.shards {
		n += sh.sessions.Len()
	}
	return n
}

// Run ticks until ctx is done.
func (c *Clock) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, sh := range c.shards {
		wg.Go(func() { sh.run(ctx) })
	}
	wg.Wait()
}

// Add starts ticking t.
func (c *Clock) Add(t Ticker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sh := c.pick()
	sh.tickers.Add(t)
	sh.notify()
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
		if sh.idle() {
			// Nothing to send or read: sleep until there is, then start a
			// fresh schedule.
			ticker.Stop()
			sh.lastTick.Store(0)
			select {
			case <-ctx.Done():
				return
			case <-sh.wake:
			}
			start, done = time.Now(), 0
			sh.lastTick.Store(start.UnixNano())
			ticker.Reset(FrameDuration)
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-sh.wake: // work added while ticking: nothing to do now
		case now := <-ticker.C:
			// How late this tick starts against the schedule: the ticker's
			// time is when it fired, not when this goroutine got to run.
			began := time.Now()
			sh.lateness.Observe(began.Sub(start.Add(time.Duration(done+1) * FrameDuration)))
			sh.lastTick.Store(began.UnixNano())
			due := int64(now.Sub(start)/FrameDuration) - done
			if due > maxCatchUp {
				sh.resets.Add(1)
				start, done, due = now, 0, 1
			}
			// Read once however many frames are due: the reads drain the
			// sockets, and the jitter buffers hold what they got.
			sessions := sh.sessions.Load()
			sh.readable = sh.ready.check(sessions, sh.readable)
			for i, s := range sessions {
				s.receive(now, sh.recv, sh.readable[i])
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
