package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dialin/dialin/store"
)

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
		if mail != nil {
			mail.UserID = id // the welcome email is about the user just made
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
			// The flag follows the ID: one imported without a check digit
			// is flagged, one with a right check digit is not.
			_, err = tx.ExecContext(ctx, `UPDATE meetings SET conference_id = ?, no_check_digit = ?
				WHERE conference_id = ? AND organizer_id = ?`, newID, !store.ValidConferenceID(newID), oldID, userID)
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
