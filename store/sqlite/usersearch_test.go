package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialin/dialin/store"
)

// searchUsers are the users of the search tests: IDs 1..len in order.
func searchUsers() []store.User {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(email, name, id string) store.User {
		return store.User{Email: email, DisplayName: name, ConferenceID: id,
			PINDigest: sqDigest(email), PINLength: 5, CreatedAt: created}
	}
	return []store.User{
		mk("alice@example.com", "Alice Liddell", "1000001"),
		mk("Albert@example.com", "Albert Camus", "1000002"),
		mk("bob@example.com", "Bob alvarez", "2000001"),
		mk("carol@example.com", "ALFRED Hitchcock", "1000019"),
		mk("dave@example.com", "", ""),
		mk("1000@example.com", "Numbers", "3000001"),
	}
}

func emailsOf(users []store.User) []string {
	var out []string
	for _, u := range users {
		out = append(out, u.Email)
	}
	return out
}

// TestSearchUsers: a prefix of the email or the display name in any case,
// or of the conference ID, finds its users by ID, in pages; with few
// matches (the index ranges) and with many (a window of rows first).
func TestSearchUsers(t *testing.T) {
	s, _ := sqTempStore(t)
	sqBulkInsert(t, s, searchUsers(), nil)
	t.Run("sparse", func(t *testing.T) { testSearchUsers(t, s) })
	t.Run("dense", func(t *testing.T) {
		defer func(d int, w int64) { denseFrom, searchWindow = d, w }(denseFrom, searchWindow)
		denseFrom, searchWindow = 1, 2 // every search is dense; windows of two IDs
		testSearchUsers(t, s)
	})
}

func testSearchUsers(t *testing.T, s *DB) {
	ctx := context.Background()
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"al", []string{"alice@example.com", "Albert@example.com", "carol@example.com"}}, // email, email, name ALFRED
		{"AL", []string{"alice@example.com", "Albert@example.com", "carol@example.com"}},
		{"alice@example.com", []string{"alice@example.com"}},
		{"Bob Al", []string{"bob@example.com"}},
		{"alvarez", nil}, // a prefix, not a word inside
		{"1000001", []string{"alice@example.com"}},
		{"100000", []string{"alice@example.com", "Albert@example.com"}},
		{"1000", []string{"alice@example.com", "Albert@example.com", "carol@example.com", "1000@example.com"}}, // IDs and an email
		{"3000001", []string{"1000@example.com"}},
		{"zz", nil},
		{"%", nil}, // no wildcards
		{"", emailsOf(searchUsers())},
	} {
		got, err := s.SearchUsers(ctx, c.q, 0, 100)
		if err != nil {
			t.Fatalf("%q: %v", c.q, err)
		}
		if !slices.Equal(emailsOf(got), c.want) {
			t.Errorf("%q: %v, want %v", c.q, emailsOf(got), c.want)
		}
	}
	// Pages: two at a time, each after the last ID of the one before.
	var all []string
	var after int64
	for range 5 {
		page, err := s.SearchUsers(ctx, "al", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, emailsOf(page)...)
		after = page[len(page)-1].ID
	}
	if want := []string{"alice@example.com", "Albert@example.com", "carol@example.com"}; !slices.Equal(all, want) {
		t.Errorf("paged: %v, want %v", all, want)
	}
	if _, err := s.SearchUsers(ctx, "a", 0, 0); err == nil {
		t.Error("limit 0 accepted")
	}
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
			ConferenceID: sqWithCheckDigit(b, i), PINDigest: sqDigest(strconv.Itoa(i)), PINLength: 5, CreatedAt: created}
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
