package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dialin/dialin/store"
)

// The users columns come in two parts, as in store/sqlite: the base every
// user has, and the extras (email override, policy, failure counters,
// lock) that nearly every user has empty; Load reads the extras only of
// the users that have some.
const (
	userBaseColumns = `id, email, display_name, coalesce(conference_id, ''),
		pin_digest, pin_length, pin_set_at, created_at`
	// userIndexColumns are what Load reads of every user: what the call
	// path's index needs.
	userIndexColumns = `id, coalesce(conference_id, ''), pin_digest, pin_length`
	userExtraColumns = `email_override, policy, failures, window_start, total_failures,
		locked_until, locked_by_admin`
	// userHasExtras is the predicate of the partial index users_extras
	// (migration 1), written the same way so that the planner uses it.
	userHasExtras = `email_override != '' OR policy IS NOT NULL
	OR failures != 0 OR window_start != 0 OR total_failures != 0 OR locked_until != 0 OR locked_by_admin`
)

// userScanner decodes user rows, reusing its scratch variables. The PIN
// digests (32 bytes each) are copied into shared slabs of slabSize bytes:
// one allocation per 32,768 users at Load instead of one per user. The
// digest is scanned as DriverBytes (pgx's own buffer, valid until the next
// row), so pgx copies nothing either.
type userScanner struct {
	slabSize int
	slab     []byte

	digest                                        pgtype.DriverBytes
	policy                                        *string
	pinLength, failures, totalFailures            int32
	pinSetAt, createdAt, windowStart, lockedUntil int64
	lockedByAdmin                                 bool
}

// scanAll reads userBaseColumns then userExtraColumns.
func (sc *userScanner) scanAll(rows pgx.Rows, u *store.User) error {
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
func (sc *userScanner) scanIndex(rows pgx.Rows, u *store.User) error {
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
		if err := json.Unmarshal([]byte(*sc.policy), policy); err != nil {
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
func queryUsers(ctx context.Context, q querier, users []store.User, sc *userScanner, query string, args ...any) ([]store.User, error) {
	rows, err := q.Query(ctx, query, args...)
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
	users, err := queryUsers(ctx, s.pool, nil, &userScanner{}, userSelectAll+` WHERE id = $1`, id)
	if err != nil {
		return store.User{}, fmt.Errorf("postgres: get user %d: %w", id, err)
	}
	if len(users) == 0 {
		return store.User{}, fmt.Errorf("postgres: get user %d: %w", id, store.ErrNotFound)
	}
	return users[0], nil
}

// ListUsers reads up to limit (> 0) users with IDs above afterID, by ID.
func (s *DB) ListUsers(ctx context.Context, afterID int64, limit int) ([]store.User, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: list users: limit %d: %w", limit, store.ErrInvalidInput)
	}
	users := make([]store.User, 0, min(limit, 1000))
	sc := &userScanner{slabSize: 32 * min(limit, 1000)}
	users, err := queryUsers(ctx, s.pool, users, sc, userSelectAll+` WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", err)
	}
	return users, nil
}

// GetUserByEmail reads the user with this primary address, compared
// case-insensitively (the users_email index is on lower(email)).
func (s *DB) GetUserByEmail(ctx context.Context, email string) (store.User, error) {
	users, err := queryUsers(ctx, s.pool, nil, &userScanner{}, userSelectAll+` WHERE lower(email) = lower($1)`, email)
	if err != nil {
		return store.User{}, fmt.Errorf("postgres: get user %q: %w", email, err)
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
		return fmt.Errorf("postgres: create user %q: %w", u.Email, err)
	}
	if meeting != nil {
		if meeting.ConferenceID == "" {
			return fmt.Errorf("postgres: create user %q: meeting without conference ID: %w", u.Email, store.ErrInvalidInput)
		}
		if err := checkTimes(meeting.CreatedAt); err != nil {
			return fmt.Errorf("postgres: create user %q: meeting: %w", u.Email, err)
		}
	}
	var id int64
	err = s.inTx(ctx, "create user", func(tx pgx.Tx) error {
		// The users index cannot see a dynamic meeting holding the ID.
		if err := conferenceIDFree(ctx, tx, u.ConferenceID, 0); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO users (email, display_name, email_override,
			conference_id, pin_digest, pin_length, pin_set_at, policy,
			failures, window_start, total_failures, locked_until, locked_by_admin, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
			cols.email, cols.displayName, cols.emailOverride, cols.conferenceID, cols.digest,
			cols.pinLength, cols.pinSetAt, cols.policy, cols.failures, cols.windowStart,
			cols.totalFailures, cols.lockedUntil, cols.lockedByAdmin, cols.createdAt).Scan(&id)
		if err != nil {
			return userConstraintErr(err, u.Email, u.ConferenceID)
		}
		if meeting != nil {
			if err := insertMeeting(ctx, tx, meeting, id); err != nil {
				return err
			}
		}
		if mail != nil {
			mail.UserID = id // the welcome email is about the user just made
		}
		if err := notifyUser(ctx, tx, id); err != nil {
			return err
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
		return fmt.Errorf("postgres: update user %d: %w", u.ID, err)
	}
	return s.inTx(ctx, fmt.Sprintf("update user %d", u.ID), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET email = $1, display_name = $2,
			email_override = $3, pin_digest = $4, pin_length = $5, pin_set_at = $6, policy = $7,
			failures = $8, window_start = $9, total_failures = $10, locked_until = $11,
			locked_by_admin = $12, created_at = $13
			WHERE id = $14`,
			cols.email, cols.displayName, cols.emailOverride, cols.digest, cols.pinLength,
			cols.pinSetAt, cols.policy, cols.failures, cols.windowStart, cols.totalFailures,
			cols.lockedUntil, cols.lockedByAdmin, cols.createdAt, u.ID)
		if err != nil {
			return userConstraintErr(err, u.Email, "")
		}
		if err := oneRow(tag, "user", u.ID); err != nil {
			return err
		}
		if err := notifyUser(ctx, tx, u.ID); err != nil {
			return err
		}
		return insertMail(ctx, tx, mail)
	})
}

// SaveLockState replaces a user's failure counters and lock.
func (s *DB) SaveLockState(ctx context.Context, userID int64, lock store.LockState) error {
	if err := checkTimes(lock.WindowStart, lock.LockedUntil); err != nil {
		return fmt.Errorf("postgres: save lock state of user %d: %w", userID, err)
	}
	return s.inTx(ctx, fmt.Sprintf("save lock state of user %d", userID), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET failures = $1, window_start = $2,
			total_failures = $3, locked_until = $4, locked_by_admin = $5 WHERE id = $6`,
			lock.Failures, nanos(lock.WindowStart), lock.TotalFailures,
			nanos(lock.LockedUntil), lock.LockedByAdmin, userID)
		if err != nil {
			return err
		}
		if err := oneRow(tag, "user", userID); err != nil {
			return err
		}
		return notifyUser(ctx, tx, userID)
	})
}

// ReplaceConferenceID gives the user newID and moves its static meeting
// (if it has one) from oldID to newID. ErrNotFound if the user does not
// have oldID (it was changed meanwhile); ErrExists if newID is taken.
func (s *DB) ReplaceConferenceID(ctx context.Context, userID int64, oldID, newID string, mail *store.SealedMail) error {
	op := fmt.Sprintf("replace conference ID of user %d", userID)
	if newID == "" {
		return fmt.Errorf("postgres: %s: empty new conference ID: %w", op, store.ErrInvalidInput)
	}
	return s.inTx(ctx, op, func(tx pgx.Tx) error {
		if err := conferenceIDFree(ctx, tx, newID, 0); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE users SET conference_id = $1
			WHERE id = $2 AND conference_id IS NOT DISTINCT FROM $3`, newID, userID, nullIfEmpty(oldID))
		if err != nil {
			return userConstraintErr(err, "", newID)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("user %d with conference ID %q: %w", userID, oldID, store.ErrNotFound)
		}
		if oldID != "" {
			// The flag follows the ID: one imported without a check digit
			// is flagged, one with a right check digit is not.
			_, err = tx.Exec(ctx, `UPDATE meetings SET conference_id = $1, no_check_digit = $2
				WHERE conference_id = $3 AND organizer_id = $4`, newID, !store.ValidConferenceID(newID), oldID, userID)
			if err != nil {
				return meetingConstraintErr(err, newID, userID)
			}
		}
		if err := notifyUser(ctx, tx, userID); err != nil {
			return err
		}
		return insertMail(ctx, tx, mail)
	})
}

// DeleteUser removes a user; the foreign key removes its meetings.
// ErrNotFound if there is no such user.
func (s *DB) DeleteUser(ctx context.Context, userID int64) error {
	return s.inTx(ctx, fmt.Sprintf("delete user %d", userID), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, userID)
		if err != nil {
			return err
		}
		if err := oneRow(tag, "user", userID); err != nil {
			return err
		}
		return notifyUser(ctx, tx, userID)
	})
}

// userRow is a user's fields as stored.
type userRow struct {
	email, displayName, emailOverride  string
	conferenceID, policy               *string // NULL when empty
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
		policy := string(raw)
		r.policy = &policy
	}
	return r, nil
}

func userConstraintErr(err error, email, conferenceID string) error {
	kind, name := constraint(err)
	switch {
	case kind == "unique" && name == "users_email":
		return fmt.Errorf("email %q: %w", email, store.ErrExists)
	case kind == "unique" && name == "users_conference_id":
		return fmt.Errorf("conference ID %q: %w", conferenceID, store.ErrExists)
	case kind == "unique":
		return fmt.Errorf("%s: %w", name, store.ErrExists)
	}
	return err
}
