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
// or of the conference ID, finds its users by ID, in pages.
func TestSearchUsers(t *testing.T) {
	s, _ := sqTempStore(t)
	sqBulkInsert(t, s, searchUsers(), nil)
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
	rows, err := s.db.Query(`EXPLAIN QUERY PLAN `+searchUsersQuery, "al", "al"+prefixEnd, "1", "1"+prefixEnd, 0, 100)
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
	text := strings.Join(plan, "\n")
	t.Logf("plan:\n%s", text)
	for _, line := range plan {
		if strings.HasPrefix(line, "SCAN users") {
			t.Errorf("a full scan of users: %q", line)
		}
	}
	for _, index := range []string{"sqlite_autoindex_users_1", "users_display_name", "users_conference_id"} {
		if !strings.Contains(text, "USING COVERING INDEX "+index) {
			t.Errorf("the plan does not read %s:\n%s", index, text)
		}
	}
}

var names = []string{"Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy",
	"Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Zoe"}

// BenchmarkSearchUsers1M: one page (100) of a search of a million users
// in a real SQLite file, by an exact email, a name prefix, a conference
// ID, a conference ID's prefix and a broad one-letter prefix (a twentieth
// of the users match it, 50,000: the worst kind, since a search costs what
// it matches).
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
		{"one-letter", "z", 100},
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
