package callrecord

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/store"
)

func TestEstimateMOS(t *testing.T) {
	clean := EstimateMOS(0, 0, 0)
	if clean < 4.35 || clean > 4.45 {
		t.Errorf("G.711 without impairment: MOS %.2f, want about 4.4", clean)
	}
	tenth := EstimateMOS(0.1, 0, 0)
	if tenth < 3.2 || tenth > 3.6 {
		t.Errorf("10 %% random loss: MOS %.2f, want about 3.4", tenth)
	}
	if late := EstimateMOS(0, 20*time.Millisecond, 300*time.Millisecond); late >= clean || late > 4.0 {
		t.Errorf("300 ms one way: MOS %.2f, want well below %.2f", late, clean)
	}
	if EstimateMOS(1, time.Second, time.Second) != 1 || EstimateMOS(-1, 0, 0) != clean {
		t.Error("out-of-range inputs are not clamped")
	}
}

func TestQualityFromStats(t *testing.T) {
	st := media.Stats{Sent: 1000, RecvExpected: 1000, RecvReceived: 900, RecvJitter: 16, MaxGap: 60 * time.Millisecond}
	in := InQuality(st)
	if !in.Measured || in.Lost != 100 || in.Jitter != 2*time.Millisecond || !in.HasMaxGap || in.LossPercent() < 9.9 || in.LossPercent() > 10.1 {
		t.Errorf("in: %+v (loss %.1f %%)", in, in.LossPercent())
	}
	if out := OutQuality(st); out.Measured {
		t.Errorf("out measured without a report: %+v", out)
	}
	st.PeerReports, st.PeerFractionLost = 3, 26 // about 10 %, no cumulative count
	out := OutQuality(st)
	if !out.Measured || out.HasMaxGap || out.MOS > 3.6 || out.Packets != 1000 {
		t.Errorf("out: %+v", out)
	}
	if q := InQuality(media.Stats{}); q.Measured {
		t.Errorf("no RTP measured: %+v", q)
	}
}

// fakeWriter stands in for the database: it can be slow or fail.
type fakeWriter struct {
	mu      sync.Mutex
	recs    []store.CallRecord
	block   chan struct{} // inserts wait on it while not nil
	fail    error
	pruneN  []int // what successive prunes return
	pruned  int
	batches int
}

func (w *fakeWriter) InsertCallRecords(ctx context.Context, recs []store.CallRecord) error {
	if w.block != nil {
		select {
		case <-w.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail != nil {
		return w.fail
	}
	w.batches++
	w.recs = append(w.recs, recs...)
	return nil
}

func (w *fakeWriter) PruneCallRecords(ctx context.Context, before time.Time, limit int) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pruneN) == 0 {
		return 0, nil
	}
	n := w.pruneN[0]
	w.pruneN = w.pruneN[1:]
	w.pruned += n
	return n, nil
}

func (w *fakeWriter) count() (recs, pruned int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.recs), w.pruned
}

func run(t *testing.T, r *Recorder) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A slow database never holds up Record: the queue fills, then drops,
// counted; what was queued is written once the database answers, and on
// stop nothing queued is lost.
func TestRecorderNeverWaits(t *testing.T) {
	w := &fakeWriter{block: make(chan struct{})}
	r := New(Options{Writer: w, Queue: 8, Batch: 4})
	stop := run(t, r)
	start := time.Now()
	for i := range 20 {
		r.Record(store.CallRecord{CallID: string(rune('a' + i))})
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Record waited %v on a blocked database", d)
	}
	// One batch may be out of the queue, held by the blocked insert.
	if d := r.Dropped(); d < 20-8-4 || d > 20-8 {
		t.Errorf("dropped %d of 20 with a queue of 8", d)
	}
	close(w.block)
	stop()
	if n, _ := w.count(); uint64(n) != 20-r.Dropped() || r.Written() != uint64(n) {
		t.Errorf("written %d (counted %d), dropped %d", n, r.Written(), r.Dropped())
	}
}

func TestRecorderBatchesAndCountsFailures(t *testing.T) {
	w := &fakeWriter{}
	r := New(Options{Writer: w})
	stop := run(t, r)
	for range 5 {
		r.Record(store.CallRecord{CallID: "x"})
	}
	waitUntil(t, "the records", func() bool { n, _ := w.count(); return n == 5 })
	w.mu.Lock()
	w.fail = errors.New("read-only database")
	w.mu.Unlock()
	r.Record(store.CallRecord{CallID: "y"})
	waitUntil(t, "the failure", func() bool { return r.Failed() == 1 })
	stop()
}

// Pruning goes on batch after batch while batches come back full, then
// waits for the next round.
func TestRecorderPrunesInBatches(t *testing.T) {
	w := &fakeWriter{pruneN: []int{10, 10, 3, 10}}
	r := New(Options{Writer: w, Retention: time.Hour, PruneBatch: 10, PruneEvery: time.Hour})
	stop := run(t, r)
	defer stop()
	waitUntil(t, "the prune", func() bool { _, p := w.count(); return p == 23 })
	time.Sleep(3 * pausePrune)
	if _, p := w.count(); p != 23 || r.Pruned() != 23 {
		t.Errorf("pruned %d (counted %d), want 23: a short batch ends the round", p, r.Pruned())
	}
}
