// Package atomichist is a histogram of durations that the hot paths can
// observe into without allocating or locking: fixed buckets of atomic
// counters, read (and turned into Prometheus histograms) on scrape.
package atomichist

import (
	"sync/atomic"
	"time"
)

// Histogram counts durations into buckets with fixed upper bounds. The zero
// value is not usable; make one with New.
type Histogram struct {
	bounds []time.Duration // upper bounds, ascending
	counts []atomic.Uint64 // per bucket (not cumulative); the last is +Inf
	sum    atomic.Int64    // nanoseconds
}

// New returns a histogram with these upper bounds (ascending).
func New(bounds ...time.Duration) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// Observe counts d (negative counts as 0). A linear search: the bucket
// lists are short, and it touches one cache line of bounds.
func (h *Histogram) Observe(d time.Duration) {
	d = max(d, 0)
	i := 0
	for i < len(h.bounds) && d > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// Snapshot is a histogram's counts at one moment.
type Snapshot struct {
	Bounds []time.Duration // upper bounds, ascending
	Counts []uint64        // per bucket, not cumulative; one more than Bounds (+Inf)
	Sum    time.Duration
}

// Count is the number of observations.
func (s Snapshot) Count() uint64 {
	var n uint64
	for _, c := range s.Counts {
		n += c
	}
	return n
}

// Add merges o (same bounds) into s.
func (s *Snapshot) Add(o Snapshot) {
	if s.Counts == nil {
		s.Bounds = o.Bounds
		s.Counts = make([]uint64, len(o.Counts))
	}
	for i := range min(len(s.Counts), len(o.Counts)) {
		s.Counts[i] += o.Counts[i]
	}
	s.Sum += o.Sum
}

// Snapshot reads the counters. Observations under way may be half in it
// (counted but not summed yet); that is within a scrape's noise.
func (h *Histogram) Snapshot() Snapshot {
	s := Snapshot{Bounds: h.bounds, Counts: make([]uint64, len(h.counts)), Sum: time.Duration(h.sum.Load())}
	for i := range h.counts {
		s.Counts[i] = h.counts[i].Load()
	}
	return s
}
