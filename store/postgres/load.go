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
	var nUsers, nMeetings int
	var minID, maxID int64
	err = tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM users),
		(SELECT coalesce(min(id), 0) FROM users), (SELECT coalesce(max(id), 0) FROM users),
		(SELECT count(*) FROM meetings)`).Scan(&nUsers, &minID, &maxID, &nMeetings)
	if err != nil {
		return nil, fmt.Errorf("postgres: load: count rows: %w", err)
	}
	parts := 1
	if nUsers+nMeetings >= parallelLoadRows {
		// One connection holds the snapshot; the readers take the others.
		parts = max(1, min(loadParts(), int(s.pool.Config().MaxConns)-1))
	}

	// Each range fills its own window of the final slices, sized by a
	// count, so nothing is copied afterwards.
	snap.Users = make([]store.User, nUsers)
	snap.Meetings = make([]store.Meeting, nMeetings)
	var tasks []loadTask
	off := 0
	for _, r := range splitIDs(minID, maxID, parts) {
		var n int
		err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE id BETWEEN $1 AND $2`, r[0], r[1]).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("postgres: load users: %w", err)
		}
		if off+n > nUsers {
			return nil, errLoadChanged
		}
		tasks = append(tasks, loadUserRange(snap.Users[off:off+n], r[0], r[1]))
		off += n
	}
	if off != nUsers {
		return nil, errLoadChanged
	}
	var extras []userExtras
	tasks = append(tasks, loadUserExtras(&extras))
	off = 0
	for _, r := range splitConferenceIDs(parts) {
		where, args := r.where()
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM meetings`+where, args...).Scan(&n); err != nil {
			return nil, fmt.Errorf("postgres: load meetings: %w", err)
		}
		if off+n > nMeetings {
			return nil, errLoadChanged
		}
		tasks = append(tasks, loadMeetingRange(snap.Meetings[off:off+n], where, args))
		off += n
	}
	if off != nMeetings {
		return nil, errLoadChanged
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
// arithmetic of the ranges.
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

// textRange is conference_id >= lo (if lo != "") and < hi (if hi != "").
type textRange struct{ lo, hi string }

func (r textRange) where() (string, []any) {
	switch {
	case r.lo == "" && r.hi == "":
		return "", nil
	case r.lo == "":
		return ` WHERE conference_id < $1`, []any{r.hi}
	case r.hi == "":
		return ` WHERE conference_id >= $1`, []any{r.lo}
	}
	return ` WHERE conference_id >= $1 AND conference_id < $2`, []any{r.lo, r.hi}
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

// loadMeetingRange fills dst, exactly, with the meetings that where selects.
func loadMeetingRange(dst []store.Meeting, where string, args []any) loadTask {
	return func(ctx context.Context, q querier) error {
		// Ordered: a heap has no order of its own (SQLite's table is its key's b-tree).
		got, err := queryMeetings(ctx, q, dst[:0:len(dst)], meetingSelect+where+` ORDER BY conference_id`, args...)
		if err != nil {
			return fmt.Errorf("meetings: %w", err)
		}
		if len(got) != len(dst) || (len(got) > 0 && &got[0] != &dst[0]) {
			return errLoadChanged
		}
		return nil
	}
}
