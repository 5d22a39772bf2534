package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/dialin/dialin/store"
)

// searchUsersQuery finds the users whose email or display name starts with
// a prefix (NOCASE: ASCII letters in either case) or whose conference ID
// starts with a prefix of digits, by ID after a cursor.
//
// Each branch of the union is a range of one index (the email's unique
// NOCASE index, users_display_name of migration 10, users_conference_id),
// and reads only the index (its entries carry the ID); the rows are then
// read by primary key. So a search costs what it matches, never a scan of
// the table: a precise prefix reads a few index entries, a one-letter one
// some tens of thousands of a million users (BenchmarkSearchUsers1M). A
// range is [prefix, prefix+U+10FFFF): every string with the prefix sorts
// in it (U+10FFFF is the greatest code point), no other does.
//
// The conference ID's branch takes an empty range when the
// query is not all digits, so the statement is one and the plan fixed.
const searchUsersQuery = userSelectAll + ` WHERE id IN (
	SELECT id FROM users WHERE email >= ?1 AND email < ?2 AND id > ?5
	UNION ALL
	SELECT id FROM users WHERE display_name >= ?1 COLLATE NOCASE AND display_name < ?2 COLLATE NOCASE AND id > ?5
	UNION ALL
	SELECT id FROM users WHERE conference_id >= ?3 AND conference_id < ?4 AND id > ?5
) ORDER BY id LIMIT ?6`

// prefixEnd is the exclusive upper bound of the strings starting with p.
const prefixEnd = "\U0010FFFF"

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
	users := make([]store.User, 0, min(limit, 1000))
	sc := &userScanner{slabSize: 32 * min(limit, 1000)}
	users, err := queryUsers(ctx, s.db, users, sc, searchUsersQuery,
		q, q+prefixEnd, idFrom, idTo, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: search users %q: %w", q, err)
	}
	return users, nil
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
