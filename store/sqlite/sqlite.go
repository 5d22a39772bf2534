package sqlite

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/dialin/dialin/store"
)

// DB is the store.Backend on an embedded SQLite database file (pure Go
// driver, no cgo). It keeps one connection: the Directory serialises
// writes, and reads happen at Load, which opens extra read connections for
// its duration.
type DB struct {
	db   *sql.DB
	path string
}

var _ store.Backend = (*DB)(nil)

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// Open opens the database at path, creating it (and its folder, mode
// 0700) if missing, and migrates its schema. The file gets mode 0600: it
// holds PIN digests. An existing file that is not a SQLite database, or a
// database written by a newer dialin or by another program, is refused and
// left untouched.
func Open(ctx context.Context, path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: create folder: %w", abs, err)
	}
	if err := prepareSQLiteFile(abs); err != nil {
		return nil, err
	}
	if err := preflightSQLite(ctx, abs); err != nil {
		return nil, err
	}

	db, err := sql.Open("sqlite", sqliteDSN(abs))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	// One connection: SQLite has one writer anyway, and the pragmas of the
	// DSN then apply to every statement. Keep it open for the life of the
	// store so they run once.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	s := &DB{db: db, path: abs}
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *DB) init(ctx context.Context) error {
	// journal_mode(WAL) fails silently (the mode stays as it was) where
	// WAL cannot work, e.g. on some network filesystems; our durability
	// reasoning assumes WAL, so check.
	var mode string
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", s.path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: open %s: journal mode is %q, not WAL (is the folder on a network filesystem?)", s.path, mode)
	}
	if err := migrate(ctx, s.db); err != nil {
		return fmt.Errorf("%w (database %s)", err, s.path)
	}
	return nil
}

// preflightSQLite checks, through a connection that only reads (no
// pragmas: switching to WAL would rewrite the header), that the file is a
// dialin database this program can use, before Open's connection
// changes anything.
func preflightSQLite(ctx context.Context, path string) error {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := checkDatabase(ctx, db); err != nil {
		if damaged(err) {
			return fmt.Errorf("sqlite: open %s: the file is not a SQLite database or is damaged; "+
				"refusing to use it, it was left unchanged: %w", path, err)
		}
		return fmt.Errorf("%w (database %s)", err, path)
	}
	return nil
}

// sqliteDSN is the driver's connection string for the file at path, with
// these pragmas and any extra ones:
//
//   - journal_mode(WAL): the writer does not block readers, and a crash
//     leaves committed transactions in the WAL, replayed at the next open.
//   - synchronous(FULL): in WAL mode FULL fsyncs the WAL at every commit,
//     so a write that returned survives kill -9 and power loss; NORMAL
//     would survive kill -9 but could lose the last commits on power loss.
//     Writes are administrative and rare, so the fsync is cheap enough.
//   - busy_timeout(5000): wait up to 5 s for a lock held by another
//     process (a CLI, a backup) instead of failing at once. It is first so
//     that it also covers the journal mode switch.
//   - foreign_keys(1): SQLite leaves them off by default; meetings cascade
//     with their organizer.
//   - _txlock=immediate: every transaction takes the write lock at BEGIN,
//     so it cannot fail halfway with SQLITE_BUSY when upgrading a read.
func sqliteDSN(path string, extraPragmas ...string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	for _, p := range extraPragmas {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	// A file: URI, escaped, so that a '?' or '#' in the path stays in the path.
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// prepareSQLiteFile creates the database file with mode 0600, or checks that
// an existing one is a SQLite database before the driver touches it: SQLite
// never overwrites a file it cannot read, but refusing here gives a clear
// error and guarantees that nothing stored is lost.
func prepareSQLiteFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return createSQLiteFile(path)
	}
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("sqlite: open %s: not a regular file", path)
	}
	if fi.Size() > 0 {
		if err := checkSQLiteHeader(path, fi.Size()); err != nil {
			return err
		}
	}
	// Tighten a file made by hand or restored from a backup with a wider
	// mode; SQLite gives its -wal and -shm files the mode of the database.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite: open %s: %w", p, err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("sqlite: open %s: restrict mode to 0600: %w", p, err)
			}
		}
	}
	return nil
}

// createSQLiteFile creates an empty file (an empty file is an empty SQLite
// database) with mode 0600, and makes its directory entry durable.
func createSQLiteFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		_ = dir.Sync() // best effort: not every filesystem syncs directories
		dir.Close()
	}
	return nil
}

func checkSQLiteHeader(path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer f.Close()
	header := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, header); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// A SQLite file is at least one 100-byte header long.
	if size < 100 || !bytes.Equal(header, sqliteHeader) {
		return fmt.Errorf("sqlite: open %s: the file is not a SQLite database (wrong header); "+
			"refusing to use it, it was left unchanged", path)
	}
	return nil
}

// Close closes the database; SQLite checkpoints the WAL into the file.
func (s *DB) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// Load reads everything as of one moment. The pure-Go driver costs about
// 0.1 µs per column per row, so a million users would take several
// seconds on one connection: Load splits the tables into ID ranges that
// read in parallel, one connection per CPU (up to 8), when
// there are enough rows. It first takes the write lock (BEGIN IMMEDIATE)
// on the writer connection and holds it to the end, so no transaction can
// commit while the readers read: every range sees the same state.
func (s *DB) Load(ctx context.Context) (*store.Snapshot, error) {
	tx, err := s.db.BeginTx(ctx, nil) // immediate: see above
	if err != nil {
		return nil, fmt.Errorf("sqlite: load: %w", err)
	}
	defer tx.Rollback() // nothing was written

	snap := &store.Snapshot{}
	if snap.Settings, err = loadSettings(ctx, tx); err != nil {
		return nil, err
	}
	var nUsers, nMeetings int
	var minID, maxID int64
	err = tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM users),
		(SELECT ifnull(min(id), 0) FROM users), (SELECT ifnull(max(id), 0) FROM users),
		(SELECT count(*) FROM meetings)`).Scan(&nUsers, &minID, &maxID, &nMeetings)
	if err != nil {
		return nil, fmt.Errorf("sqlite: load: count rows: %w", err)
	}
	parts := 1
	if nUsers+nMeetings >= parallelLoadRows {
		parts = loadParts()
	}

	// Each range fills its own window of the final slices, sized by a
	// count (cheap: a b-tree range), so nothing is copied afterwards.
	snap.Users = make([]store.User, nUsers)
	snap.Meetings = make([]store.Meeting, nMeetings)
	var tasks []loadTask
	off := 0
	for _, r := range splitIDs(minID, maxID, parts) {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE id BETWEEN ? AND ?`, r[0], r[1]).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("sqlite: load users: %w", err)
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
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM meetings`+where, args...).Scan(&n); err != nil {
			return nil, fmt.Errorf("sqlite: load meetings: %w", err)
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
				return nil, fmt.Errorf("sqlite: load: %w", err)
			}
		}
	} else if err := s.runParallel(ctx, parts, tasks); err != nil {
		return nil, fmt.Errorf("sqlite: load: %w", err)
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

// errLoadChanged cannot happen while Load holds the write lock; it guards
// the arithmetic of the ranges.
var errLoadChanged = errors.New("sqlite: load: the row counts changed during the load")

// A loadTask reads one range of rows through q, a read transaction.
type loadTask func(ctx context.Context, q queryer) error

// runParallel runs tasks on n read connections of their own (a second
// pool on the same file, closed afterwards), each in a read transaction
// that starts while Load holds the write lock. The readers map the file
// into memory (mmap_size, up to 1 GiB) rather than copy each page with a
// pread: about 10% of a million-user Load. Only they do: no writer can
// change the file under the mapping while Load holds the write lock.
func (s *DB) runParallel(ctx context.Context, n int, tasks []loadTask) error {
	readers, err := sql.Open("sqlite", sqliteDSN(s.path, "mmap_size(1073741824)"))
	if err != nil {
		return err
	}
	defer readers.Close()
	readers.SetMaxOpenConns(n)

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
				rtx, err := readers.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
				if err != nil {
					return err
				}
				defer rtx.Rollback()
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
		return ` WHERE conference_id < ?`, []any{r.hi}
	case r.hi == "":
		return ` WHERE conference_id >= ?`, []any{r.lo}
	}
	return ` WHERE conference_id >= ? AND conference_id < ?`, []any{r.lo, r.hi}
}

// splitConferenceIDs cuts the conference IDs into n ranges by first
// digit: IDs are random digits, so the ranges come out even, and any other
// text still falls into exactly one range.
func splitConferenceIDs(n int) []textRange {
	n = min(n, 10)
	ranges := make([]textRange, n)
	for i := 1; i < n; i++ {
		b := strconv.Itoa(i * 10 / n)
		ranges[i-1].hi, ranges[i].lo = b, b
	}
	return ranges
}

// The users columns come in two parts: the base every user has, and the
// extras (email override, policy, failure counters, lock) that nearly
// every user has empty. Load reads the extras only of the users that have
// some, which spares seven of fifteen columns per row: each costs the
// driver about 0.1 µs per row.
const (
	userBaseColumns = `id, email, display_name, ifnull(conference_id, ''),
		pin_digest, pin_length, pin_set_at, created_at`
	// userIndexColumns are what Load reads of every user: what the call
	// path's index needs, and no names, addresses or dates, which are read
	// on demand (GetUser, ListUsers). Two fewer strings a user keep start-up
	// with a million users within its 3 s budget.
	userIndexColumns = `id, ifnull(conference_id, ''), pin_digest, pin_length`
	userExtraColumns = `email_override, policy, failures, window_start, total_failures,
		locked_until, locked_by_admin`
	userHasExtras = `(email_override != '' OR policy IS NOT NULL OR failures != 0
		OR window_start != 0 OR total_failures != 0 OR locked_until != 0 OR locked_by_admin != 0)`
)

// userScanner decodes user rows, reusing its scratch variables. The PIN
// digests (32 bytes each) are copied into shared slabs of slabSize bytes:
// one allocation per 32,768 users at Load instead of one per user.
type userScanner struct {
	slabSize int
	slab     []byte

	digest, policy                                    sql.RawBytes
	pinLength, pinSetAt, createdAt                    int64
	failures, windowStart, totalFailures, lockedUntil int64
	lockedByAdmin                                     bool
}

// scanAll reads userBaseColumns then userExtraColumns.
func (sc *userScanner) scanAll(rows *sql.Rows, u *store.User) error {
	err := rows.Scan(&u.ID, &u.Email, &u.DisplayName, &u.ConferenceID,
		&sc.digest, &sc.pinLength, &sc.pinSetAt, &sc.createdAt,
		&u.EmailOverride, &sc.policy, &sc.failures, &sc.windowStart, &sc.totalFailures,
		&sc.lockedUntil, &sc.lockedByAdmin)
	if err != nil {
		return err
	}
	sc.setBase(u)
	return sc.setState(u.ID, &u.Policy, &u.Lock)
}

// scanBase reads userBaseColumns.
func (sc *userScanner) scanBase(rows *sql.Rows, u *store.User) error {
	err := rows.Scan(&u.ID, &u.Email, &u.DisplayName, &u.ConferenceID,
		&sc.digest, &sc.pinLength, &sc.pinSetAt, &sc.createdAt)
	if err != nil {
		return err
	}
	sc.setBase(u)
	return nil
}

// scanIndex reads userIndexColumns.
func (sc *userScanner) scanIndex(rows *sql.Rows, u *store.User) error {
	if err := rows.Scan(&u.ID, &u.ConferenceID, &sc.digest, &sc.pinLength); err != nil {
		return err
	}
	sc.setBase(u)
	u.PINSetAt, u.CreatedAt = time.Time{}, time.Time{}
	return nil
}

func (sc *userScanner) setBase(u *store.User) {
	if cap(sc.slab)-len(sc.slab) < len(sc.digest) {
		sc.slab = make([]byte, 0, max(sc.slabSize, len(sc.digest)))
	}
	start := len(sc.slab)
	sc.slab = append(sc.slab, sc.digest...)
	u.PINDigest = sc.slab[start:len(sc.slab):len(sc.slab)] // full slice: an append cannot spill into a neighbour
	u.PINLength = int(sc.pinLength)
	u.PINSetAt = timeFromNanos(sc.pinSetAt)
	u.CreatedAt = timeFromNanos(sc.createdAt)
}

// setState decodes the scanned policy and lock columns of user id.
func (sc *userScanner) setState(id int64, policy *store.PINPolicy, lock *store.LockState) error {
	*policy = store.PINPolicy{}
	if sc.policy != nil { // NULL: inherits everything, no JSON to decode
		if err := json.Unmarshal(sc.policy, policy); err != nil {
			return fmt.Errorf("user %d: policy: %w", id, err)
		}
	}
	*lock = store.LockState{
		Failures:      int(sc.failures),
		WindowStart:   timeFromNanos(sc.windowStart),
		TotalFailures: int(sc.totalFailures),
		LockedUntil:   timeFromNanos(sc.lockedUntil),
		LockedByAdmin: sc.lockedByAdmin,
	}
	return nil
}

// loadUserRange fills dst, exactly, with the users whose IDs are in [lo, hi].
func loadUserRange(dst []store.User, lo, hi int64) loadTask {
	return func(ctx context.Context, q queryer) error {
		rows, err := q.QueryContext(ctx, `SELECT `+userIndexColumns+` FROM users
			WHERE id BETWEEN ? AND ? ORDER BY id`, lo, hi)
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
	return func(ctx context.Context, q queryer) error {
		rows, err := q.QueryContext(ctx, `SELECT id, `+userExtraColumns+` FROM users WHERE `+userHasExtras)
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
	return func(ctx context.Context, q queryer) error {
		got, err := queryMeetings(ctx, q, dst[:0:len(dst)], meetingSelect+where, args...)
		if err != nil {
			return fmt.Errorf("meetings: %w", err)
		}
		if len(got) != len(dst) || (len(got) > 0 && &got[0] != &dst[0]) {
			return errLoadChanged
		}
		return nil
	}
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryUsers appends to users the users that query (selecting
// userBaseColumns and userExtraColumns) returns.
func queryUsers(ctx context.Context, q queryer, users []store.User, sc *userScanner, query string, args ...any) ([]store.User, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		users = append(users, store.User{})
		if err := sc.scanAll(rows, &users[len(users)-1]); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return users, nil
}

const userSelectAll = `SELECT ` + userBaseColumns + `, ` + userExtraColumns + ` FROM users`

// GetUser reads one user. ErrNotFound if there is none.
func (s *DB) GetUser(ctx context.Context, id int64) (store.User, error) {
	users, err := queryUsers(ctx, s.db, nil, &userScanner{}, userSelectAll+` WHERE id = ?`, id)
	if err != nil {
		return store.User{}, fmt.Errorf("sqlite: get user %d: %w", id, err)
	}
	if len(users) == 0 {
		return store.User{}, fmt.Errorf("sqlite: get user %d: %w", id, store.ErrNotFound)
	}
	return users[0], nil
}

// ListUsers reads up to limit (> 0) users with IDs above afterID, by ID:
// a page of the directory, the next one starting after the last ID.
func (s *DB) ListUsers(ctx context.Context, afterID int64, limit int) ([]store.User, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlite: list users: limit %d: %w", limit, store.ErrInvalidInput)
	}
	users := make([]store.User, 0, min(limit, 1000))
	sc := &userScanner{slabSize: 32 * min(limit, 1000)}
	users, err := queryUsers(ctx, s.db, users, sc, userSelectAll+` WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	return users, nil
}

// ListMeetings reads meetings by conference ID: an organizer's (static one
// included) or everyone's, after f.After, at most f.Limit (<= 0: all).
func (s *DB) ListMeetings(ctx context.Context, f store.MeetingFilter) ([]store.Meeting, error) {
	query := meetingSelect + ` WHERE conference_id > ?`
	args := []any{f.After}
	if f.OrganizerID != 0 {
		query += ` AND organizer_id = ?`
		args = append(args, f.OrganizerID)
	}
	query += ` ORDER BY conference_id`
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	meetings, err := queryMeetings(ctx, s.db, nil, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list meetings: %w", err)
	}
	return meetings, nil
}

// GetMeeting reads one meeting. ErrNotFound if there is none.
func (s *DB) GetMeeting(ctx context.Context, conferenceID string) (store.Meeting, error) {
	meetings, err := queryMeetings(ctx, s.db, nil, meetingSelect+` WHERE conference_id = ?`, conferenceID)
	if err != nil {
		return store.Meeting{}, fmt.Errorf("sqlite: get meeting %q: %w", conferenceID, err)
	}
	if len(meetings) == 0 {
		return store.Meeting{}, fmt.Errorf("meeting %s: %w", conferenceID, store.ErrNotFound)
	}
	return meetings[0], nil
}

// GetUserByEmail reads the user with this primary address (the column
// compares case-insensitively). ErrNotFound if there is none.
func (s *DB) GetUserByEmail(ctx context.Context, email string) (store.User, error) {
	users, err := queryUsers(ctx, s.db, nil, &userScanner{}, userSelectAll+` WHERE email = ?`, email)
	if err != nil {
		return store.User{}, fmt.Errorf("sqlite: get user %q: %w", email, err)
	}
	if len(users) == 0 {
		return store.User{}, fmt.Errorf("user %s: %w", email, store.ErrNotFound)
	}
	return users[0], nil
}

// meetingSelect packs the three flags into one integer (SQLite gives << and
// | the same precedence: hence the parentheses): each column costs the
// driver about 0.1 µs per row, which counts at Load.
const meetingSelect = `SELECT conference_id, organizer_id,
	static | (require_organizer << 1) | (bypass_lobby << 2), created_at FROM meetings`

func queryMeetings(ctx context.Context, q queryer, meetings []store.Meeting, query string, args ...any) ([]store.Meeting, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var flags, createdAt int64
	for rows.Next() {
		meetings = append(meetings, store.Meeting{})
		m := &meetings[len(meetings)-1]
		if err := rows.Scan(&m.ConferenceID, &m.OrganizerID, &flags, &createdAt); err != nil {
			return nil, err
		}
		m.Static = flags&1 != 0
		m.RequireOrganizer = flags&2 != 0
		m.BypassLobby = flags&4 != 0
		m.CreatedAt = timeFromNanos(createdAt)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return meetings, nil
}

func loadSettings(ctx context.Context, tx *sql.Tx) (store.Settings, error) {
	var raw []byte
	err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE id = 1`).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return store.DefaultSettings(), nil
	}
	if err != nil {
		return store.Settings{}, fmt.Errorf("sqlite: load settings: %w", err)
	}
	// Decode over the defaults, so that a setting added after the row was
	// written gets its default value.
	st := store.DefaultSettings()
	if err := json.Unmarshal(raw, &st); err != nil {
		return store.Settings{}, fmt.Errorf("sqlite: load settings: %w", err)
	}
	return st, nil
}

// SaveSettings replaces the settings row.
func (s *DB) SaveSettings(ctx context.Context, st store.Settings) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("sqlite: save settings: %w", err)
	}
	return s.inTx(ctx, "save settings", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (id, value) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET value = excluded.value`, string(raw))
		return err
	})
}

// CreateUser inserts u and, if meeting is not nil, its static meeting; u.ID
// and meeting.OrganizerID are set once the transaction has committed. A
// non-nil mail is queued in the same transaction.
func (s *DB) CreateUser(ctx context.Context, u *store.User, meeting *store.Meeting, mail *store.SealedMail) error {
	cols, err := userColumns(u)
	if err != nil {
		return fmt.Errorf("sqlite: create user %q: %w", u.Email, err)
	}
	if meeting != nil {
		if meeting.ConferenceID == "" {
			return fmt.Errorf("sqlite: create user %q: meeting without conference ID: %w", u.Email, store.ErrInvalidInput)
		}
		if err := checkTimes(meeting.CreatedAt); err != nil {
			return fmt.Errorf("sqlite: create user %q: meeting: %w", u.Email, err)
		}
	}
	var id int64
	err = s.inTx(ctx, "create user", func(tx *sql.Tx) error {
		// The users index cannot see a dynamic meeting holding the ID.
		if err := conferenceIDFree(ctx, tx, u.ConferenceID, 0); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO users (email, display_name, email_override,
			conference_id, pin_digest, pin_length, pin_set_at, policy,
			failures, window_start, total_failures, locked_until, locked_by_admin, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			cols.email, cols.displayName, cols.emailOverride, cols.conferenceID, cols.digest,
			cols.pinLength, cols.pinSetAt, cols.policy, cols.failures, cols.windowStart,
			cols.totalFailures, cols.lockedUntil, cols.lockedByAdmin, cols.createdAt)
		if err != nil {
			return userConstraintErr(err, u.Email, u.ConferenceID)
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if meeting != nil {
			if err := insertMeeting(ctx, tx, meeting, id); err != nil {
				return err
			}
		}
		return insertMail(ctx, tx, mail)
	})
	if err != nil {
		return err
	}
	u.ID = id
	if meeting != nil {
		meeting.OrganizerID = id
	}
	return nil
}

// UpdateUser replaces every field of the user but its ID and conference ID.
func (s *DB) UpdateUser(ctx context.Context, u *store.User, mail *store.SealedMail) error {
	cols, err := userColumns(u)
	if err != nil {
		return fmt.Errorf("sqlite: update user %d: %w", u.ID, err)
	}
	return s.inTx(ctx, fmt.Sprintf("update user %d", u.ID), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET email = ?, display_name = ?,
			email_override = ?, pin_digest = ?, pin_length = ?, pin_set_at = ?, policy = ?,
			failures = ?, window_start = ?, total_failures = ?, locked_until = ?,
			locked_by_admin = ?, created_at = ?
			WHERE id = ?`,
			cols.email, cols.displayName, cols.emailOverride, cols.digest, cols.pinLength,
			cols.pinSetAt, cols.policy, cols.failures, cols.windowStart, cols.totalFailures,
			cols.lockedUntil, cols.lockedByAdmin, cols.createdAt, u.ID)
		if err != nil {
			return userConstraintErr(err, u.Email, "")
		}
		if err := oneRow(res, "user", u.ID); err != nil {
			return err
		}
		return insertMail(ctx, tx, mail)
	})
}

// SaveLockState replaces a user's failure counters and lock.
func (s *DB) SaveLockState(ctx context.Context, userID int64, lock store.LockState) error {
	if err := checkTimes(lock.WindowStart, lock.LockedUntil); err != nil {
		return fmt.Errorf("sqlite: save lock state of user %d: %w", userID, err)
	}
	return s.inTx(ctx, fmt.Sprintf("save lock state of user %d", userID), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET failures = ?, window_start = ?,
			total_failures = ?, locked_until = ?, locked_by_admin = ? WHERE id = ?`,
			lock.Failures, nanos(lock.WindowStart), lock.TotalFailures,
			nanos(lock.LockedUntil), lock.LockedByAdmin, userID)
		if err != nil {
			return err
		}
		return oneRow(res, "user", userID)
	})
}

// ReplaceConferenceID gives the user newID and moves its static meeting
// (if it has one) from oldID to newID. ErrNotFound if the user does not
// have oldID (it was changed meanwhile); ErrExists if newID is taken.
func (s *DB) ReplaceConferenceID(ctx context.Context, userID int64, oldID, newID string, mail *store.SealedMail) error {
	op := fmt.Sprintf("replace conference ID of user %d", userID)
	if newID == "" {
		return fmt.Errorf("sqlite: %s: empty new conference ID: %w", op, store.ErrInvalidInput)
	}
	return s.inTx(ctx, op, func(tx *sql.Tx) error {
		if err := conferenceIDFree(ctx, tx, newID, 0); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET conference_id = ?
			WHERE id = ? AND conference_id IS ?`, newID, userID, nullIfEmpty(oldID))
		if err != nil {
			return userConstraintErr(err, "", newID)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("user %d with conference ID %q: %w", userID, oldID, store.ErrNotFound)
		}
		if oldID != "" {
			_, err = tx.ExecContext(ctx, `UPDATE meetings SET conference_id = ?
				WHERE conference_id = ? AND organizer_id = ?`, newID, oldID, userID)
			if err != nil {
				return meetingConstraintErr(err, newID, userID)
			}
		}
		return insertMail(ctx, tx, mail)
	})
}

// DeleteUser removes a user; the foreign key removes its meetings.
// ErrNotFound if there is no such user.
func (s *DB) DeleteUser(ctx context.Context, userID int64) error {
	return s.inTx(ctx, fmt.Sprintf("delete user %d", userID), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, userID)
		if err != nil {
			return err
		}
		return oneRow(res, "user", userID)
	})
}

// SaveUserToken sets the user's token hash (a user deleted takes it along:
// ON DELETE CASCADE).
func (s *DB) SaveUserToken(ctx context.Context, userID int64, hash []byte, createdAt time.Time) error {
	if err := checkTimes(createdAt); err != nil {
		return fmt.Errorf("sqlite: save token of user %d: %w", userID, err)
	}
	return s.inTx(ctx, fmt.Sprintf("save token of user %d", userID), func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE id = ?`, userID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("user %d: %w", userID, store.ErrNotFound)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO user_tokens (user_id, token_hash, created_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at`,
			userID, hash, nanos(createdAt))
		return err
	})
}

// UserIDByToken finds the owner of a token hash.
func (s *DB) UserIDByToken(ctx context.Context, hash []byte) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT user_id FROM user_tokens WHERE token_hash = ?`, hash).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite: user token: %w", store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: user token: %w", err)
	}
	return id, nil
}

// CreateMeeting inserts m. ErrExists if its conference ID is a meeting's or
// another user's; ErrNotFound if its organizer does not exist.
func (s *DB) CreateMeeting(ctx context.Context, m *store.Meeting) error {
	if err := checkTimes(m.CreatedAt); err != nil {
		return fmt.Errorf("sqlite: create meeting %q: %w", m.ConferenceID, err)
	}
	if m.ConferenceID == "" {
		return fmt.Errorf("sqlite: create meeting: empty conference ID: %w", store.ErrInvalidInput)
	}
	return s.inTx(ctx, fmt.Sprintf("create meeting %q", m.ConferenceID), func(tx *sql.Tx) error {
		// The organizer's own static ID may get its meeting back; anyone
		// else's may not.
		if err := conferenceIDFree(ctx, tx, m.ConferenceID, m.OrganizerID); err != nil {
			return err
		}
		return insertMeeting(ctx, tx, m, m.OrganizerID)
	})
}

// DeleteMeeting removes a meeting. ErrNotFound if there is none.
func (s *DB) DeleteMeeting(ctx context.Context, conferenceID string) error {
	return s.inTx(ctx, fmt.Sprintf("delete meeting %q", conferenceID), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM meetings WHERE conference_id = ?`, conferenceID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("meeting %q: %w", conferenceID, store.ErrNotFound)
		}
		return nil
	})
}

// inTx runs fn in one (immediate) transaction and commits it; any error
// rolls everything back and is wrapped as "sqlite: <op>: ...".
func (s *DB) inTx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %s: begin: %w", op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: commit: %w", op, err)
	}
	return nil
}

func insertMeeting(ctx context.Context, tx *sql.Tx, m *store.Meeting, organizerID int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meetings (conference_id, organizer_id, static,
		require_organizer, bypass_lobby, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		m.ConferenceID, organizerID, m.Static, m.RequireOrganizer, m.BypassLobby, nanos(m.CreatedAt))
	if err != nil {
		return meetingConstraintErr(err, m.ConferenceID, organizerID)
	}
	return nil
}

// conferenceIDFree returns ErrExists if id is a meeting's, or a user's other
// than owner (0: any user). Each table's key keeps IDs unique within it;
// this covers a dynamic meeting against a user's static ID.
func conferenceIDFree(ctx context.Context, tx *sql.Tx, id string, owner int64) error {
	if id == "" {
		return nil
	}
	var taken bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM meetings WHERE conference_id = ?1)
		OR EXISTS (SELECT 1 FROM users WHERE conference_id = ?1 AND id != ?2)`, id, owner).Scan(&taken)
	if err != nil {
		return err
	}
	if taken {
		return fmt.Errorf("conference ID %q: %w", id, store.ErrExists)
	}
	return nil
}

// userRow is a user's fields as stored.
type userRow struct {
	email, displayName, emailOverride  string
	conferenceID, policy               any // NULL when empty
	digest                             []byte
	pinLength, failures, totalFailures int
	pinSetAt, windowStart, lockedUntil int64
	createdAt                          int64
	lockedByAdmin                      bool
}

func userColumns(u *store.User) (userRow, error) {
	if len(u.PINDigest) == 0 {
		return userRow{}, fmt.Errorf("no PIN digest: %w", store.ErrInvalidInput)
	}
	if err := checkTimes(u.PINSetAt, u.Lock.WindowStart, u.Lock.LockedUntil, u.CreatedAt); err != nil {
		return userRow{}, err
	}
	r := userRow{
		email:         u.Email,
		displayName:   u.DisplayName,
		emailOverride: u.EmailOverride,
		conferenceID:  nullIfEmpty(u.ConferenceID),
		digest:        u.PINDigest,
		pinLength:     u.PINLength,
		pinSetAt:      nanos(u.PINSetAt),
		failures:      u.Lock.Failures,
		windowStart:   nanos(u.Lock.WindowStart),
		totalFailures: u.Lock.TotalFailures,
		lockedUntil:   nanos(u.Lock.LockedUntil),
		lockedByAdmin: u.Lock.LockedByAdmin,
		createdAt:     nanos(u.CreatedAt),
	}
	// An inherited policy is NULL: the common case loads without JSON.
	if u.Policy != (store.PINPolicy{}) {
		raw, err := json.Marshal(u.Policy)
		if err != nil {
			return userRow{}, fmt.Errorf("policy: %w", err)
		}
		r.policy = string(raw)
	}
	return r, nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// oneRow turns "no row changed" into ErrNotFound.
func oneRow(res sql.Result, what string, id int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s %d: %w", what, id, store.ErrNotFound)
	}
	return nil
}

// damaged reports whether err says the file is not a database or is corrupt.
func damaged(err error) bool {
	var se *sqlitedrv.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff // the primary code of an extended one
	return code == sqlite3.SQLITE_NOTADB || code == sqlite3.SQLITE_CORRUPT
}

// constraint reports which constraint err violated: "unique" (UNIQUE or
// PRIMARY KEY) or "foreign key", with SQLite's message naming the columns
// ("UNIQUE constraint failed: users.email"); "" if err is something else.
func constraint(err error) (kind, msg string) {
	var se *sqlitedrv.Error
	if !errors.As(err, &se) {
		return "", ""
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return "unique", se.Error()
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return "foreign key", se.Error()
	}
	return "", ""
}

func userConstraintErr(err error, email, conferenceID string) error {
	kind, msg := constraint(err)
	switch {
	case kind == "unique" && strings.Contains(msg, "users.email"):
		return fmt.Errorf("email %q: %w", email, store.ErrExists)
	case kind == "unique" && strings.Contains(msg, "conference_id"):
		return fmt.Errorf("conference ID %q: %w", conferenceID, store.ErrExists)
	case kind == "unique":
		return fmt.Errorf("%s: %w", msg, store.ErrExists)
	}
	return err
}

func meetingConstraintErr(err error, conferenceID string, organizerID int64) error {
	switch kind, _ := constraint(err); kind {
	case "unique":
		return fmt.Errorf("conference ID %q: %w", conferenceID, store.ErrExists)
	case "foreign key":
		return fmt.Errorf("organizer: user %d: %w", organizerID, store.ErrNotFound)
	}
	return err
}

// Times are stored as Unix nanoseconds (UTC), exact to the nanosecond; the
// zero time.Time is 0. Loaded times are in UTC and carry no monotonic
// reading, so compare them with Equal.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeFromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// Unix nanoseconds in an int64 cover 1678 to 2262.
var (
	minStoredTime = time.Unix(0, -1<<63+1)
	maxStoredTime = time.Unix(0, 1<<63-1)
)

// checkTimes refuses times that Unix nanoseconds cannot hold, rather than
// storing a wrong value.
func checkTimes(times ...time.Time) error {
	for _, t := range times {
		if t.IsZero() {
			continue
		}
		if t.Before(minStoredTime) || t.After(maxStoredTime) {
			return fmt.Errorf("time %s is outside 1678-2262: %w", t.Format(time.RFC3339), store.ErrInvalidInput)
		}
	}
	return nil
}
