package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/storetest"
)

// TestSearchUsers: the conformance suite's search checks (SearchUsers in
// store/storetest) under both plans: with few matches (the index ranges)
// and with many (a window of rows first).
func TestSearchUsers(t *testing.T) {
	s, _ := sqTempStore(t)
	sqBulkInsert(t, s, storetest.SearchUsersFixture(), nil)
	t.Run("sparse", func(t *testing.T) { storetest.CheckSearchUsers(t, s) })
	t.Run("dense", func(t *testing.T) {
		defer func(d int, w int64) { denseFrom, searchWindow = d, w }(denseFrom, searchWindow)
		denseFrom, searchWindow = 1, 2 // every search is dense; windows of two IDs
		storetest.CheckSearchUsers(t, s)
	})
}

// TestSearchUsersPlan: the search reads indexes only; the query plan has
// no SCAN of the users table, whatever the branch.
func TestSearchUsersPlan(t *testing.T) {
	s, _ := sqTempStore(t)
	for _, c := range []struct {
		name, query string
		args        []any
		want        []string // in the plan
	}{
		{"ranges", searchUsersQuery, []any{"al", "al" + prefixEnd, "1", "1" + prefixEnd, 0, 100}, searchIndexes},
		{"count", searchCountQuery, []any{"al", "al" + prefixEnd, "1", "1" + prefixEnd, 0, denseFrom}, searchIndexes},
		{"window", searchWindowQuery, []any{"al", "al" + prefixEnd, "1", "1" + prefixEnd, 0, 100, searchWindow},
			[]string{"SEARCH users USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"}},
	} {
		plan := queryPlan(t, s, c.query, c.args...)
		text := strings.Join(plan, "\n")
		t.Logf("%s:\n%s", c.name, text)
		for _, line := range plan {
			if strings.HasPrefix(line, "SCAN users") {
				t.Errorf("%s: a full scan of users: %q", c.name, line)
			}
		}
		for _, want := range c.want {
			if !strings.Contains(text, want) {
				t.Errorf("%s: no %q in the plan:\n%s", c.name, want, text)
			}
		}
	}
}

// searchIndexes are read by the ranges' plans, each entry alone.
var searchIndexes = []string{"USING COVERING INDEX sqlite_autoindex_users_1 (email>? AND email<?)",
	"USING COVERING INDEX users_display_name (display_name>? AND display_name<?)",
	"USING COVERING INDEX users_conference_id (conference_id>? AND conference_id<?)"}

// queryPlan is EXPLAIN QUERY PLAN's details of query.
func queryPlan(t *testing.T, s *DB, query string, args ...any) []string {
	t.Helper()
	rows, err := s.db.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

var names = []string{"Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy",
	"Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Zoe"}

// BenchmarkSearchUsers1M: one page (100) of a search of a million users
// in a real SQLite file, by an exact email, a name prefix, a conference
// ID, a conference ID's prefix, a name prefix of 2,500 users, a one-letter
// prefix of 50,000 and an email prefix of 111,111.
//
//	go test ./store/sqlite -run '^$' -bench SearchUsers1M -benchtime 100x
func BenchmarkSearchUsers1M(b *testing.B) {
	const n = 1_000_000
	s := sqOpen(b, filepath.Join(b.TempDir(), "dialin.db"))
	users := make([]store.User, n)
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		users[i] = store.User{Email: "u" + strconv.Itoa(i) + "@example.com",
			DisplayName:  fmt.Sprintf("%s %s%d", names[i%len(names)], names[(i/len(names))%len(names)], i),
			ConferenceID: sqWithCheckDigit(b, i), PINDigest: storetest.Digest(strconv.Itoa(i)), PINLength: 5, CreatedAt: created}
	}
	sqBulkInsert(b, s, users, nil)
	users = nil
	ctx := context.Background()
	for _, c := range []struct {
		name, q string
		min     int // results on the first page at least
	}{
		{"email", "u654321@example.com", 1},
		{"name", "rupert bob1234", 1}, // user 1234
		{"conference-id", sqWithCheckDigit(b, 777777), 1},
		{"conference-id-prefix", "12345", 10},
		{"medium", "ivan judy", 100}, // 2,500 names: dense by count, sparse in the window
		{"one-letter", "z", 100},     // 50,000 names
		{"email-prefix", "u1", 100},  // 111,111 emails
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				page, err := s.SearchUsers(ctx, c.q, 0, 100)
				if err != nil {
					b.Fatal(err)
				}
				if len(page) < c.min {
					b.Fatalf("%q: %d users", c.q, len(page))
				}
			}
		})
	}
}
