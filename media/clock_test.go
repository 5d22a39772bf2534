package media

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

type countingTicker struct{ n atomic.Int64 }

func (c *countingTicker) Tick() { c.n.Add(1) }

func TestClockFillsOneShardBeforeTheNext(t *testing.T) {
	c := NewClock(2)
	for range shardFill {
		c.Add(&countingTicker{})
	}
	if a, b := c.shards[0].load(), c.shards[1].load(); a != shardFill || b != 0 {
		t.Fatalf("after %d tickers the shards hold %d and %d, want all on the first", shardFill, a, b)
	}
	for range 10 {
		c.Add(&countingTicker{})
	}
	if b := c.shards[1].load(); b != 10 {
		t.Fatalf("the second shard holds %d, want the 10 beyond the first's fill", b)
	}
}

func TestClockSleepsWhenIdleAndWakesForWork(t *testing.T) {
	c := NewClock(2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	time.Sleep(50 * time.Millisecond) // both shards idle, asleep
	tk := &countingTicker{}
	c.Add(tk)
	waitFor(t, "ticks after waking", func() bool { return tk.n.Load() >= 5 })
	c.Remove(tk)
	time.Sleep(50 * time.Millisecond)
	stopped := tk.n.Load()
	time.Sleep(100 * time.Millisecond)
	if n := tk.n.Load(); n != stopped {
		t.Fatalf("a removed ticker ticked %d more times", n-stopped)
	}
	// Asleep again; new work wakes it again.
	tk2 := &countingTicker{}
	c.Add(tk2)
	waitFor(t, "ticks after waking again", func() bool { return tk2.n.Load() >= 3 })
}

func TestClockReadsASessionAndTicksItsPlayerOnOneShard(t *testing.T) {
	c := NewClock(2)
	for range shardFill - 1 {
		c.Add(&countingTicker{}) // the first shard has room for one more
	}
	s, _, _, _ := newTestSession(t, time.Second)
	player := &countingTicker{}
	c.AddSession(s, player)
	for i, sh := range c.shards {
		reads, ticks := false, false
		for _, x := range sh.sessions.Load() {
			reads = reads || x == s
		}
		for _, x := range sh.tickers.Load() {
			ticks = ticks || x == Ticker(player)
		}
		if reads != ticks {
			t.Fatalf("shard %d reads the session: %v, ticks its player: %v", i, reads, ticks)
		}
	}
	c.RemoveSession(s, player)
	if n := c.Sessions(); n != 0 || c.Len() != shardFill-1 {
		t.Fatalf("after RemoveSession: %d sessions, %d tickers", n, c.Len())
	}
}

// A shard polls its quiet sockets once a tick and reads only those with a
// datagram waiting: a call that sends nothing costs no read.
func TestReadinessFindsTheSocketsWithData(t *testing.T) {
	quiet, _, _, _ := newTestSession(t, time.Second)
	busy, _, peer, _ := newTestSession(t, time.Second)
	sendRTP(t, peer, busy.LocalPort(), 0, 1, 160, true, make([]byte, FrameBytes))
	quiet.quiet, busy.quiet = true, true // both found empty at their last read
	var r readiness
	var ready []bool
	waitFor(t, "the busy socket readable", func() bool {
		ready = r.check([]*Session{quiet, busy}, ready)
		return ready[1]
	})
	if ready[0] {
		t.Fatal("the quiet socket reported readable")
	}
	// A socket that had data at its last read is read without asking.
	quiet.quiet = false
	if ready = r.check([]*Session{quiet, busy}, ready); !ready[0] {
		t.Fatal("a socket not known to be quiet was not read")
	}
	quiet.quiet = true
	// A read that finds nothing marks the socket quiet; one that finds data, not.
	b := newRecvBuffers()
	quiet.receive(time.Now(), b, true)
	busy.receive(time.Now(), b, true)
	if !quiet.quiet || busy.quiet {
		t.Fatalf("after a read: quiet socket quiet=%v, busy socket quiet=%v", quiet.quiet, busy.quiet)
	}
	sessions := []*Session{quiet, busy}
	if allocs := testing.AllocsPerRun(100, func() { ready = r.check(sessions, ready) }); allocs != 0 {
		t.Fatalf("check allocates %.0f times a tick", allocs)
	}
}
