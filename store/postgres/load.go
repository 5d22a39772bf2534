package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dialin/dialin/store"
)

// Load reads everything as of one moment. A million users on one
// connection would spend most of the start-up budget decoding rows, so, as
// in store/sqlite, Load splits the tables into ID ranges read in parallel
// on several connections (one per CPU, up to 8) when there are enough
// rows. The moment is a snapshot: the first transaction (repeatable read)
// exports it (pg_export_snapshot) and every reader's transaction adopts it
// (SET TRANSACTION SNAPSHOT), so every range sees the same state while
// writers, on this node or another, go on.
func (s *DB) Load(ctx context.Context) (*store.Snapshot, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("postgres: load: %w", err)
	}
	defer tx.Rollback(ctx) // read only: nothing to undo

	snap := &store.Snapshot{}
	if snap.Settings, err = loadSettings(ctx, tx); err != nil {
		return nil, err
	}
	// The ID span bounds the count (IDs are never given again): min and
	// max read the index's two ends, where a count would read it all.
	var minID, maxID int64
	err = tx.QueryRow(ctx, `SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM users`).Scan(&minID, &maxID)
	if err != nil {
		return nil, fmt.Errorf("postgres: load: user IDs: %w", err)
	}
	parts := 1
	if maxID-minID+1 >= int64(parallelLoadRows) {
		// One connection holds the snapshot; the readers take the others.
		parts = max(1, min(loadParts(), int(s.pool.Config().MaxConns)-1))
	}
	userRanges := splitIDs(minID, maxID, parts)
	userCounts, err := countUsers(ctx, tx, userRanges)
	if err != nil {
		return nil, fmt.Errorf("postgres: load: count users: %w", err)
	}

	// Each range of users fills its own window of the final slice, sized
	// by its count, so the users (256 bytes each) are never copied. The
	// meetings (56 bytes) are read into a slice per range and joined
	// after: a copy costs less than the scan a count would.
	snap.Users = make([]store.User, sum(userCounts))
	var tasks []loadTask
	off := 0
	for i, r := range userRanges {
		n := int(userCounts[i])
		tasks = append(tasks, loadUserRange(snap.Users[off:off+n], r[0], r[1]))
		off += n
	}
	var extras []userExtras
	tasks = append(tasks, loadUserExtras(&extras))
	meetingRanges := splitConferenceIDs(parts)
	meetings := make([][]store.Meeting, len(meetingRanges))
	for i, r := range meetingRanges {
		// The users' count is a fair guess: most users have a static meeting.
		meetings[i] = make([]store.Meeting, 0, len(snap.Users)/len(meetingRanges)+16)
		tasks = append(tasks, loadMeetingRange(&meetings[i], r))
	}

	if parts == 1 {
		for _, task := range tasks {
			if err := task(ctx, tx); err != nil {
				return nil, fmt.Errorf("postgres: load: %w", err)
			}
		}
	} else {
		var snapshot string
		if err := tx.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&snapshot); err != nil {
			return nil, fmt.Errorf("postgres: load: export snapshot: %w", err)
		}
		if err := s.runParallel(ctx, parts, snapshot, tasks); err != nil {
			return nil, fmt.Errorf("postgres: load: %w", err)
		}
	}

	snap.Meetings = slices.Concat(meetings...)
	// The users came in ID order; give the few with extras theirs.
	for _, x := range extras {
		i, found := slices.BinarySearchFunc(snap.Users, x.id, func(u store.User, id int64) int { return cmp.Compare(u.ID, id) })
		if !found {
			return nil, errLoadChanged
		}
		u := &snap.Users[i]
		u.EmailOverride, u.Policy, u.Lock = x.emailOverride, x.policy, x.lock
	}
	return snap, nil
}

// Load runs on several connections from parallelLoadRows users and
// meetings, one per CPU up to 8. Variables so that tests can force the
// parallel path on a small database.
var (
	parallelLoadRows = 20_000
	loadParts        = func() int { return min(runtime.GOMAXPROCS(0), 8) }
)

// errLoadChanged cannot happen inside one snapshot; it guards the
// arithmetic of the ranges (a count and its read must agree).
var errLoadChanged = errors.New("postgres: load: the row counts changed during the load")

// A loadTask reads one range of rows through q, a transaction on the
// snapshot.
type loadTask func(ctx context.Context, q querier) error

// runParallel runs tasks on n connections of the pool, each in a read-only
// repeatable-read transaction on the exported snapshot.
func (s *DB) runParallel(ctx context.Context, n int, snapshot string, tasks []loadTask) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue := make(chan loadTask, len(tasks))
	for _, t := range tasks {
		queue <- t
	}
	close(queue)
	errs := make(chan error, n)
	for range n {
		go func() {
			errs <- func() error {
				rtx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
				if err != nil {
					return err
				}
				defer rtx.Rollback(ctx) // read only
				// The snapshot's name comes from the server, not from
				// input; SET takes no parameter.
				if _, err := rtx.Exec(ctx, `SET TRANSACTION SNAPSHOT '`+snapshot+`'`); err != nil {
					return fmt.Errorf("adopt snapshot: %w", err)
				}
				for task := range queue {
					if err := task(ctx, rtx); err != nil {
						return err
					}
				}
				return nil
			}()
		}()
	}
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
			cancel() // the other workers stop at their next row
		}
	}
	return first
}

// splitIDs cuts [lo, hi] into up to n contiguous inclusive ranges.
func splitIDs(lo, hi int64, n int) [][2]int64 {
	if n <= 1 || hi-lo < int64(n) {
		return [][2]int64{{math.MinInt64, math.MaxInt64}}
	}
	step := (hi-lo)/int64(n) + 1
	var ranges [][2]int64
	for start := lo; start <= hi; start += step {
		ranges = append(ranges, [2]int64{start, min(start+step-1, hi)})
	}
	ranges[0][0], ranges[len(ranges)-1][1] = math.MinInt64, math.MaxInt64
	return ranges
}

// countUsers counts the users of each range in one scan.
func countUsers(ctx context.Context, q querier, ranges [][2]int64) ([]int64, error) {
	var p params
	var counts []string
	for _, r := range ranges {
		counts = append(counts, `count(*) FILTER (WHERE id BETWEEN `+p.add(r[0])+` AND `+p.add(r[1])+`)`)
	}
	var n []int64
	err := q.QueryRow(ctx, `SELECT ARRAY[`+strings.Join(counts, ", ")+`] FROM users`, p.args...).Scan(&n)
	return n, err
}

func sum(counts []int64) int {
	var n int64
	for _, c := range counts {
		n += c
	}
	return int(n)
}

// textRange is conference_id >= lo (if lo != "") and < hi (if hi != "").
type textRange struct{ lo, hi string }

// cond is the range as a condition, its bounds added to p.
func (r textRange) cond(p *params) string {
	switch {
	case r.lo == "" && r.hi == "":
		return `true`
	case r.lo == "":
		return `conference_id < ` + p.add(r.hi)
	case r.hi == "":
		return `conference_id >= ` + p.add(r.lo)
	}
	return `conference_id >= ` + p.add(r.lo) + ` AND conference_id < ` + p.add(r.hi)
}

// splitConferenceIDs cuts the conference IDs into n ranges by first
// digit: IDs are random digits, so the ranges come out even, and any other
// text still falls into exactly one range (the column is COLLATE "C").
func splitConferenceIDs(n int) []textRange {
	n = min(n, 10)
	ranges := make([]textRange, n)
	for i := 1; i < n; i++ {
		b := strconv.Itoa(i * 10 / n)
		ranges[i-1].hi, ranges[i].lo = b, b
	}
	return ranges
}

// loadUserRange fills dst, exactly, with the users whose IDs are in [lo, hi].
func loadUserRange(dst []store.User, lo, hi int64) loadTask {
	return func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, `SELECT `+userIndexColumns+` FROM users
			WHERE id BETWEEN $1 AND $2 ORDER BY id`, lo, hi)
		if err != nil {
			return fmt.Errorf("users: %w", err)
		}
		defer rows.Close()
		sc := &userScanner{slabSize: min(1<<20, 32*len(dst)+32)} // 32: an HMAC-SHA256
		n := 0
		for rows.Next() {
			if n == len(dst) {
				return errLoadChanged
			}
			if err := sc.scanIndex(rows, &dst[n]); err != nil {
				return fmt.Errorf("users: %w", err)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("users: %w", err)
		}
		if n != len(dst) {
			return errLoadChanged
		}
		return nil
	}
}

// userExtras are the extra columns of one user.
type userExtras struct {
	id            int64
	emailOverride string
	policy        store.PINPolicy
	lock          store.LockState
}

// loadUserExtras reads the extras of the users that have some.
func loadUserExtras(dst *[]userExtras) loadTask {
	return func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, `SELECT id, `+userExtraColumns+` FROM users WHERE `+userHasExtras)
		if err != nil {
			return fmt.Errorf("user extras: %w", err)
		}
		defer rows.Close()
		var sc userScanner
		for rows.Next() {
			var x userExtras
			err := rows.Scan(&x.id, &x.emailOverride, &sc.policy, &sc.failures, &sc.windowStart,
				&sc.totalFailures, &sc.lockedUntil, &sc.lockedByAdmin)
			if err != nil {
				return fmt.Errorf("user extras: %w", err)
			}
			if err := sc.setState(x.id, &x.policy, &x.lock); err != nil {
				return fmt.Errorf("user extras: %w", err)
			}
			*dst = append(*dst, x)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("user extras: %w", err)
		}
		return nil
	}
}

// loadMeetingRange appends to dst the meetings in r, by conference ID.
func loadMeetingRange(dst *[]store.Meeting, r textRange) loadTask {
	return func(ctx context.Context, q querier) error {
		var p params
		// Ordered: a heap has no order of its own (SQLite's table is its key's b-tree).
		got, err := queryMeetings(ctx, q, *dst, meetingSelect+` WHERE `+r.cond(&p)+` ORDER BY conference_id`, p.args...)
		if err != nil {
			return fmt.Errorf("meetings: %w", err)
		}
		*dst = got
		return nil
	}
}
