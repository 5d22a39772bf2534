// Package callrecord writes the call records (CDRs) behind the call path:
// a call hands its record to Record, which never waits, and one writer
// goroutine inserts them in batches and prunes those past the retention.
package callrecord

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/internal/loglimit"
	"github.com/dialin/dialin/store"
)

// Writer is where the records go (the store's call records).
type Writer interface {
	InsertCallRecords(ctx context.Context, recs []store.CallRecord) error
	PruneCallRecords(ctx context.Context, before time.Time, limit int) (int, error)
}

// Defaults of Options.
const (
	DefaultQueue      = 4096
	DefaultBatch      = 128
	DefaultPruneEvery = 10 * time.Minute
	DefaultPruneBatch = 500
	// pausePrune lets inserts through between two batches of a long prune.
	pausePrune = 50 * time.Millisecond
	// writeTimeout bounds one insert or prune; drainTimeout what is left
	// to write when the bridge stops.
	writeTimeout = 10 * time.Second
	drainTimeout = 5 * time.Second
)

// Options configure a Recorder; zero values take the defaults.
type Options struct {
	Writer    Writer
	Retention time.Duration // records of calls started longer ago are pruned; 0: kept
	Queue     int           // records waiting to be written; a full queue drops
	Batch     int           // records per insert, at most
	// PruneEvery is how often pruning starts; PruneBatch how many records
	// one prune transaction deletes.
	PruneEvery time.Duration
	PruneBatch int
	Logger     zerolog.Logger
	Now        func() time.Time
}

// Recorder queues records and writes them on its own goroutine (Run).
type Recorder struct {
	opts  Options
	queue chan store.CallRecord
	warn  loglimit.Limiter

	written, dropped, failed, pruned atomic.Uint64
}

// New returns a Recorder; start Run to write.
func New(opts Options) *Recorder {
	if opts.Queue <= 0 {
		opts.Queue = DefaultQueue
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if opts.PruneEvery <= 0 {
		opts.PruneEvery = DefaultPruneEvery
	}
	if opts.PruneBatch <= 0 {
		opts.PruneBatch = DefaultPruneBatch
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Recorder{opts: opts, queue: make(chan store.CallRecord, opts.Queue), warn: loglimit.Limiter{Interval: time.Minute}}
}

// Record queues rec and returns at once. A full queue (the database is
// slower than the calls ending) drops it, counted, with a warning at most
// once a minute.
func (r *Recorder) Record(rec store.CallRecord) {
	select {
	case r.queue <- rec:
	default:
		n := r.dropped.Add(1)
		if ok, _ := r.warn.Allow(time.Now()); ok {
			r.opts.Logger.Warn().Str("call_id", loglimit.Excerpt(rec.CallID)).Uint64("dropped_total", n).
				Int("queue", cap(r.queue)).Msg("call record dropped: the queue is full (the database is slow or failing)")
		}
	}
}

// Counts since start: records written, dropped at a full queue, lost to a
// failed insert, and pruned.
func (r *Recorder) Written() uint64 { return r.written.Load() }
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }
func (r *Recorder) Failed() uint64  { return r.failed.Load() }
func (r *Recorder) Pruned() uint64  { return r.pruned.Load() }

// Run writes queued records until ctx ends, then writes what is still
// queued (within a few seconds) and returns. Pruning runs on the same
// goroutine in small batches, one at a time between the inserts.
func (r *Recorder) Run(ctx context.Context) {
	pruneTick := time.NewTicker(r.opts.PruneEvery)
	defer pruneTick.Stop()
	var pruneNext <-chan time.Time // set while a prune has more to delete
	if r.opts.Retention > 0 {
		pruneNext = time.After(0) // at start: a bridge that was down a while
	}
	batch := make([]store.CallRecord, 0, r.opts.Batch)
	for {
		select {
		case rec := <-r.queue:
			batch = r.fill(append(batch[:0], rec))
			r.insert(ctx, batch)
		case <-pruneTick.C:
			if r.opts.Retention > 0 && pruneNext == nil {
				pruneNext = time.After(0)
			}
		case <-pruneNext:
			pruneNext = nil
			if r.pruneOnce(ctx) {
				pruneNext = time.After(pausePrune)
			}
		case <-ctx.Done():
			r.drain()
			return
		}
	}
}

// fill adds what is already queued to batch, up to its capacity.
func (r *Recorder) fill(batch []store.CallRecord) []store.CallRecord {
	for len(batch) < cap(batch) {
		select {
		case rec := <-r.queue:
			batch = append(batch, rec)
		default:
			return batch
		}
	}
	return batch
}

func (r *Recorder) insert(ctx context.Context, batch []store.CallRecord) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if err := r.opts.Writer.InsertCallRecords(ctx, batch); err != nil {
		r.failed.Add(uint64(len(batch)))
		r.opts.Logger.Error().Err(err).Int("records", len(batch)).Msg("call records not written")
		return
	}
	r.written.Add(uint64(len(batch)))
}

// pruneOnce deletes one batch past the retention and reports whether there
// may be more.
func (r *Recorder) pruneOnce(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	before := r.opts.Now().Add(-r.opts.Retention)
	n, err := r.opts.Writer.PruneCallRecords(ctx, before, r.opts.PruneBatch)
	if err != nil {
		r.opts.Logger.Warn().Err(err).Msg("pruning call records failed; trying again later")
		return false
	}
	r.pruned.Add(uint64(n))
	if n > 0 {
		r.opts.Logger.Debug().Int("records", n).Time("before", before).Msg("call records pruned")
	}
	return n == r.opts.PruneBatch
}

// drain writes what is queued when the bridge stops.
func (r *Recorder) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	batch := make([]store.CallRecord, 0, r.opts.Batch)
	for ctx.Err() == nil {
		batch = r.fill(batch[:0])
		if len(batch) == 0 {
			return
		}
		r.insert(ctx, batch)
	}
}
