package media

import (
	"context"
	"testing"
	"time"
)

func TestTotalsCountSessionPackets(t *testing.T) {
	totals := new(Totals)
	s, _, peer, _ := newTestSessionWith(t, time.Second, func(c *SessionConfig) { c.Totals = totals })
	readOnClock(t, s)
	payload := make([]byte, FrameBytes)
	for i := range 5 {
		sendRTP(t, peer, s.LocalPort(), PCMU.PayloadType(), uint16(i), uint32(i*FrameSamples), false, payload)
	}
	sendRTP(t, peer, s.LocalPort(), 99, 9, 0, false, payload) // an unknown payload type: dropped
	waitFor(t, "the packets counted", func() bool {
		got := totals.Snapshot()
		return got.Received == 5 && got.Dropped == 1
	})
	if err := s.writeFrame(SilenceFrame(PCMU)); err != nil {
		t.Fatal(err)
	}
	if got, st := totals.Snapshot(), s.Stats(); got.Sent != 1 || got.Received != st.Received || got.Dropped != st.Dropped {
		t.Fatalf("totals %+v, session %+v", got, st)
	}
}

func TestTotalsCountJitterLossAndLateness(t *testing.T) {
	totals := new(Totals)
	j := NewJitterBuffer(1)
	j.CountInto(totals)
	pcm := make([]int16, FrameSamples)
	out := make([]int16, FrameSamples)
	for _, seq := range []uint16{0, 1, 3, 4, 5, 6, 7} { // 2 never comes
		j.Push(seq, uint32(seq)*FrameSamples, pcm)
	}
	for range 2 {
		j.Pop(out)
	}
	j.Push(1, FrameSamples, pcm) // past its turn while later frames wait: late
	got, st := totals.Snapshot(), j.Stats()
	if got.JitterLost != st.Lost || got.JitterLate != st.Late || got.JitterDiscarded != st.Dropped {
		t.Fatalf("totals %+v, buffer %+v", got, st)
	}
	if got.JitterLost == 0 || got.JitterLate == 0 {
		t.Fatalf("expected a loss and a late packet: %+v", got)
	}
}

// blockingTicker holds its shard until released: a stalled clock.
type blockingTicker struct{ release chan struct{} }

func (b *blockingTicker) Tick() { <-b.release }

func TestClockLatenessAndStall(t *testing.T) {
	c := NewClock(1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	if err := c.Stalled(time.Now(), time.Millisecond); err != nil {
		t.Fatalf("an idle clock is not stalled: %v", err)
	}
	tk := &countingTicker{}
	c.Add(tk)
	waitFor(t, "ticks", func() bool { return tk.n.Load() >= 3 })
	if n := c.TickLateness().Count(); n < 3 {
		t.Fatalf("lateness counted %d ticks", n)
	}
	if err := c.Stalled(time.Now(), time.Second); err != nil {
		t.Fatalf("a ticking clock is stalled: %v", err)
	}
	b := &blockingTicker{release: make(chan struct{})}
	c.Add(b)
	defer close(b.release)
	waitFor(t, "the stall seen", func() bool { return c.Stalled(time.Now(), 100*time.Millisecond) != nil })
	c.Remove(tk)
}

// Counting into the Totals adds no allocation to the per-packet paths (the
// benchmarks, unchanged, run without Totals).
func TestTotalsAllocateNothing(t *testing.T) {
	totals := new(Totals)
	s, _, _, _ := newTestSessionWith(t, time.Second, func(c *SessionConfig) { c.Totals = totals })
	frame := SilenceFrame(PCMU)
	if n := testing.AllocsPerRun(200, func() { _ = s.writeFrame(frame) }); n != 0 {
		t.Errorf("writeFrame with Totals allocates %v", n)
	}
	j := NewJitterBuffer(1)
	j.CountInto(totals)
	pcm, out := make([]int16, FrameSamples), make([]int16, FrameSamples)
	seq := uint16(0)
	if n := testing.AllocsPerRun(200, func() {
		seq += 2 // every other packet lost
		j.Push(seq, uint32(seq)*FrameSamples, pcm)
		j.Pop(out)
		j.Pop(out)
	}); n != 0 {
		t.Errorf("jitter push/pop with Totals allocates %v", n)
	}
	if totals.Snapshot().JitterLost == 0 {
		t.Error("no loss counted")
	}
}
