package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/dialin/dialin/store"
)

// A search finds the users whose email or display name starts with a
// prefix (NOCASE: ASCII letters in either case) or whose conference ID
// starts with a prefix of digits, by ID after a cursor. A prefix's range
// is [prefix, prefix+U+10FFFF): every string with the prefix sorts in it
// (U+10FFFF is the greatest code point), no other does. Every statement
// takes the same parameters:
//
//	?1, ?2  the range of email and display name
//	?3, ?4  the range of conference ID (empty when q is not all digits)
//	?5      the cursor: IDs above it
//	?6      at most this many
//	?7      the window's end (searchWindowQuery)
//
// Matches come in two kinds, and each has its plan (BenchmarkSearchUsers1M):
//
//   - Few (a precise prefix: most searches): searchUsersQuery reads the
//     three index ranges (the email's unique NOCASE index,
//     users_display_name of migration 10, users_conference_id), only
//     their entries (they carry the ID), then the rows by primary key. It
//     costs what it matches, but all of it: ORDER BY id needs every match.
//   - Many (one letter: a twentieth of a million users): searchCountQuery
//     tells them, reading at most denseFrom entries of each range; then
//     searchWindowQuery reads the next searchWindow rows by ID and keeps
//     those that match, which costs the window, however many match.
//     Matches the window did not fill the page with come from the index
//     ranges, beyond the window.
//
// No statement scans the users table (TestSearchUsersPlan).
const (
	searchBranches = `
	SELECT id FROM users WHERE email >= ?1 AND email < ?2 AND id > ?5
	UNION ALL
	SELECT id FROM users WHERE display_name >= ?1 COLLATE NOCASE AND display_name < ?2 COLLATE NOCASE AND id > ?5
	UNION ALL
	SELECT id FROM users WHERE conference_id >= ?3 AND conference_id < ?4 AND id > ?5`
	searchUsersQuery = userSelectAll + ` WHERE id IN (` + searchBranches + `) ORDER BY id LIMIT ?6`
	// searchCountQuery counts up to ?6 entries of each range.
	searchCountQuery = `SELECT
	(SELECT count(*) FROM (SELECT 1 FROM users WHERE email >= ?1 AND email < ?2 AND id > ?5 LIMIT ?6)),
	(SELECT count(*) FROM (SELECT 1 FROM users WHERE display_name >= ?1 COLLATE NOCASE AND display_name < ?2 COLLATE NOCASE AND id > ?5 LIMIT ?6)),
	(SELECT count(*) FROM (SELECT 1 FROM users WHERE conference_id >= ?3 AND conference_id < ?4 AND id > ?5 LIMIT ?6))`
	// searchWindowQuery: the unary + keeps the planner off the indexes
	// (it would read the ranges, all of them, again), not the columns'
	// collation.
	searchWindowQuery = userSelectAll + ` WHERE id > ?5 AND id <= ?7 AND (
	(+email >= ?1 AND +email < ?2)
	OR (+display_name >= ?1 COLLATE NOCASE AND +display_name < ?2 COLLATE NOCASE)
	OR (+conference_id >= ?3 AND +conference_id < ?4)) ORDER BY id LIMIT ?6`
)

const prefixEnd = "\U0010FFFF"

// Variables for the tests, which try both plans on a few users.
var (
	// denseFrom matches in one range make a search dense: reading them
	// all costs more than a window of rows.
	denseFrom = 2_000
	// searchWindow is how many IDs a dense search reads.
	searchWindow int64 = 4_000
)

// SearchUsers reads up to limit (> 0) users with IDs above afterID, by ID,
// whose email or display name starts with q (ASCII case ignored) or whose
// conference ID starts with q (digits only; a whole ID matches itself).
// An empty q is ListUsers.
func (s *DB) SearchUsers(ctx context.Context, q string, afterID int64, limit int) ([]store.User, error) {
	if q == "" {
		return s.ListUsers(ctx, afterID, limit)
	}
	if limit <= 0 {
		return nil, fmt.Errorf("sqlite: search users: limit %d: %w", limit, store.ErrInvalidInput)
	}
	idFrom, idTo := "", ""
	if allDigits(q) {
		idFrom, idTo = q, q+prefixEnd
	}
	args := func(after int64, limit int) []any {
		return []any{q, q + prefixEnd, idFrom, idTo, after, limit, after + searchWindow}
	}
	users := make([]store.User, 0, min(limit, 1000))
	sc := &userScanner{slabSize: 32 * min(limit, 1000)}
	dense, err := s.denseSearch(ctx, args(afterID, denseFrom)[:6])
	if err != nil {
		return nil, fmt.Errorf("sqlite: search users %q: %w", q, err)
	}
	after := afterID
	if dense {
		if users, err = queryUsers(ctx, s.db, users, sc, searchWindowQuery, args(afterID, limit)...); err != nil {
			return nil, fmt.Errorf("sqlite: search users %q: %w", q, err)
		}
		if len(users) == limit {
			return users, nil
		}
		after = afterID + searchWindow // the window holds no more
	}
	users, err = queryUsers(ctx, s.db, users, sc, searchUsersQuery, args(after, limit-len(users))[:6]...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: search users %q: %w", q, err)
	}
	return users, nil
}

// denseSearch tells whether one of the ranges holds denseFrom matches
// (args' limit) or more.
func (s *DB) denseSearch(ctx context.Context, args []any) (bool, error) {
	var email, name, id int
	if err := s.db.QueryRowContext(ctx, searchCountQuery, args...).Scan(&email, &name, &id); err != nil {
		return false, err
	}
	return max(email, name, id) >= denseFrom, nil
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
