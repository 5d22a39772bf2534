package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/dialin/dialin/store"
)

// A search finds the users whose email or display name starts with a
// prefix, ASCII letters in either case (SQLite's NOCASE, and only it: É
// and é differ, so both engines find the same users), or whose conference
// ID starts with a prefix of digits, by ID after a cursor. The text is
// folded by translate() (A-Z to a-z, nothing else; lower() would fold
// more), on both sides: in the generated columns of migration 10 and, for
// the prefix, here in Go. A prefix's range is [prefix, prefix+U+10FFFF) in
// byte order (COLLATE "C"): every string with the prefix sorts in it, no
// other does; no LIKE, so no wildcard or escape in q means anything. Every
// statement takes the same parameters:
//
//	$1, $2  the range of the folded email and display name
//	$3, $4  the range of conference ID (empty when q is not all digits)
//	$5      the cursor: IDs above it
//	$6      at most this many
//	$7      the window's end (searchWindowQuery)
//
// The plans are store/sqlite's (see there; TestPostgresSearchUsersPlan):
// few matches read the three index ranges, their entries only (each index
// carries the ID), then the rows by primary key; many (denseFrom in a
// range, told by searchCountQuery) read a window of searchWindow IDs by
// primary key first. The IDs of the ranges are gathered in an array
// (ARRAY(...), computed once) that the outer statement looks up by
// primary key: a plan cached for any prefix cannot turn into a walk of the
// whole table in ID order.
const (
	foldEmail = `email_fold` // translate(email, 'A...Z', 'a...z'), COLLATE "C"
	foldName  = `display_name_fold`

	emailRange = foldEmail + ` >= $1 AND ` + foldEmail + ` < $2`
	nameRange  = foldName + ` >= $1 AND ` + foldName + ` < $2`
	idRange    = `conference_id >= $3 AND conference_id < $4`

	searchUsersQuery = userSelectAll + ` WHERE id = ANY (ARRAY(
	SELECT id FROM (
		SELECT id FROM users WHERE ` + emailRange + ` AND id > $5
		UNION
		SELECT id FROM users WHERE ` + nameRange + ` AND id > $5
		UNION
		SELECT id FROM users WHERE ` + idRange + ` AND id > $5
	) m ORDER BY id LIMIT $6)) ORDER BY id`
	// searchCountQuery counts up to $6 entries of each range. Each ORDER
	// BY is its index's, so the range is read in order and stops at the
	// limit: a bitmap scan (the planner's choice otherwise) reads the
	// whole range before its first row, 50,000 entries for one letter.
	searchCountQuery = `SELECT
	(SELECT count(*) FROM (SELECT 1 FROM users WHERE ` + emailRange + ` AND id > $5 ORDER BY ` + foldEmail + ` LIMIT $6) e),
	(SELECT count(*) FROM (SELECT 1 FROM users WHERE ` + nameRange + ` AND id > $5 ORDER BY ` + foldName + ` LIMIT $6) n),
	(SELECT count(*) FROM (SELECT 1 FROM users WHERE ` + idRange + ` AND id > $5 ORDER BY conference_id LIMIT $6) c)`
	// searchWindowQuery reads the window by primary key and keeps the
	// rows that match.
	searchWindowQuery = userSelectAll + ` WHERE id > $5 AND id <= $7 AND (
	(` + emailRange + `) OR (` + nameRange + `) OR (` + idRange + `)) ORDER BY id LIMIT $6`
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
		return nil, fmt.Errorf("postgres: search users: limit %d: %w", limit, store.ErrInvalidInput)
	}
	if strings.ContainsRune(q, 0) {
		return nil, nil // PostgreSQL's text holds no NUL, so no user has one
	}
	folded := foldASCII(q)
	idFrom, idTo := "", ""
	if allDigits(q) {
		idFrom, idTo = q, q+prefixEnd
	}
	args := func(after int64, limit int) []any {
		return []any{folded, folded + prefixEnd, idFrom, idTo, after, limit, after + searchWindow}
	}
	users := make([]store.User, 0, min(limit, 1000))
	sc := &userScanner{slabSize: 32 * min(limit, 1000)}
	dense, err := s.denseSearch(ctx, args(afterID, denseFrom)[:6])
	if err != nil {
		return nil, fmt.Errorf("postgres: search users %q: %w", q, err)
	}
	after := afterID
	if dense {
		if users, err = queryUsers(ctx, s.pool, users, sc, searchWindowQuery, args(afterID, limit)...); err != nil {
			return nil, fmt.Errorf("postgres: search users %q: %w", q, err)
		}
		if len(users) == limit {
			return users, nil
		}
		after = afterID + searchWindow // the window holds no more
	}
	users, err = queryUsers(ctx, s.pool, users, sc, searchUsersQuery, args(after, limit-len(users))[:6]...)
	if err != nil {
		return nil, fmt.Errorf("postgres: search users %q: %w", q, err)
	}
	return users, nil
}

// denseSearch tells whether one of the ranges holds denseFrom matches
// (args' limit) or more.
func (s *DB) denseSearch(ctx context.Context, args []any) (bool, error) {
	var email, name, id int
	if err := s.pool.QueryRow(ctx, searchCountQuery, args...).Scan(&email, &name, &id); err != nil {
		return false, err
	}
	return max(email, name, id) >= denseFrom, nil
}

// foldASCII is the indexes' translate(): A-Z to a-z, every other byte as
// it is.
func foldASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
