package atomichist

import (
	"sync"
	"testing"
	"time"
)

func TestObserveBuckets(t *testing.T) {
	h := New(time.Millisecond, 10*time.Millisecond)
	for _, d := range []time.Duration{-time.Second, 0, time.Millisecond, 2 * time.Millisecond, 10 * time.Millisecond, time.Second} {
		h.Observe(d)
	}
	s := h.Snapshot()
	want := []uint64{3, 2, 1} // ≤1ms: -1s (as 0), 0, 1ms; ≤10ms: 2ms, 10ms; +Inf: 1s
	for i, w := range want {
		if s.Counts[i] != w {
			t.Fatalf("bucket %d = %d, want %d (%v)", i, s.Counts[i], w, s.Counts)
		}
	}
	if s.Count() != 6 || s.Sum != 1013*time.Millisecond {
		t.Fatalf("count %d sum %v", s.Count(), s.Sum)
	}
	var merged Snapshot
	merged.Add(s)
	merged.Add(s)
	if merged.Count() != 12 || merged.Sum != 2*s.Sum {
		t.Fatalf("merged count %d sum %v", merged.Count(), merged.Sum)
	}
}

func TestObserveConcurrent(t *testing.T) {
	h := New(time.Millisecond)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				h.Observe(time.Microsecond)
			}
		})
	}
	wg.Wait()
	if n := h.Snapshot().Count(); n != 4000 {
		t.Fatalf("count %d", n)
	}
}

func TestObserveAllocs(t *testing.T) {
	h := New(time.Millisecond, 2*time.Millisecond)
	if n := testing.AllocsPerRun(100, func() { h.Observe(time.Millisecond) }); n != 0 {
		t.Fatalf("Observe allocates %v", n)
	}
}
