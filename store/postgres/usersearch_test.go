package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/storetest"
)

// TestPostgresSearchUsers: the conformance suite's search checks under
// both plans: few matches (the index ranges) and many (a window first).
func TestPostgresSearchUsers(t *testing.T) {
	s, _ := pgTempStore(t)
	ctx := context.Background()
	for _, u := range storetest.SearchUsersFixture() {
		if err := s.CreateUser(ctx, &u, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("sparse", func(t *testing.T) { storetest.CheckSearchUsers(t, s) })
	t.Run("dense", func(t *testing.T) {
		defer func(d int, w int64) { denseFrom, searchWindow = d, w }(denseFrom, searchWindow)
		denseFrom, searchWindow = 1, 2 // every search is dense; windows of two IDs
		storetest.CheckSearchUsers(t, s)
	})
}

// TestPostgresSearchUsersPlan: on 20,000 analysed users, the search reads
// indexes (no sequential scan of users; a broad prefix counted from the
// indexes alone, its window read by primary key), in the plan made for the values
// and in the generic plan a prepared statement comes to after five runs
// (pgx prepares and caches its statements).
func TestPostgresSearchUsersPlan(t *testing.T) {
	s, _ := pgTempStore(t)
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `INSERT INTO users (email, display_name, conference_id, pin_digest, pin_length, created_at)
		SELECT 'u' || i || '@example.com', 'Name ' || i, (1000000 + i)::text, '\x00'::bytea, 5, 1
		FROM generate_series(1, 20000) i`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `VACUUM ANALYZE users`); err != nil {
		t.Fatal(err)
	}
	args := []any{"u123", "u123" + prefixEnd, "", "", int64(0), 100, searchWindow}
	// The window is read when a search is dense: here every user.
	dense := []any{"u", "u" + prefixEnd, "", "", int64(0), 100, searchWindow}
	for _, c := range []struct {
		name, query string
		args        []any
		want        []string // in the plan
	}{
		{"ranges", searchUsersQuery, args[:6], []string{"users_email_search", "users_display_name", "users_conference_id", "users_pkey"}},
		// A broad prefix's count reads the ranges in order, from the
		// indexes alone, and stops at the limit.
		{"count", searchCountQuery, append(dense[:5:5], denseFrom), []string{"Index Only Scan using users_email_search",
			"Index Only Scan using users_display_name", "users_conference_id"}},
		{"window", searchWindowQuery, dense, []string{"users_pkey"}},
	} {
		for _, mode := range []string{"auto", "force_generic_plan"} {
			plan := pgPlan(t, s, mode, c.query, c.args...)
			t.Logf("%s (%s):\n%s", c.name, mode, plan)
			if strings.Contains(plan, "Seq Scan on users") {
				t.Errorf("%s (%s): a sequential scan of users:\n%s", c.name, mode, plan)
			}
			for _, want := range c.want {
				if !strings.Contains(plan, want) {
					t.Errorf("%s (%s): no %s in the plan:\n%s", c.name, mode, want, plan)
				}
			}
		}
	}
}

// pgPlan is EXPLAIN's text of query prepared and run with args under
// plan_cache_mode mode.
func pgPlan(t *testing.T, s *DB, mode, query string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var lines []string
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = `+mode); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `PREPARE search_plan AS `+query); err != nil {
			return err
		}
		// EXECUTE takes no parameters of its own: the values are literals.
		values := make([]string, len(args))
		for i, a := range args {
			switch a := a.(type) {
			case string:
				values[i] = "'" + strings.ReplaceAll(a, "'", "''") + "'"
			default:
				values[i] = fmt.Sprint(a)
			}
		}
		rows, err := tx.Query(ctx, `EXPLAIN EXECUTE search_plan (`+strings.Join(values, ", ")+`)`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			lines = append(lines, line)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DEALLOCATE search_plan`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

var benchNames = []string{"Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy",
	"Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Zoe"}

// BenchmarkPostgresSearchUsers1M is store/sqlite's BenchmarkSearchUsers1M
// on PostgreSQL (the same users, analysed and vacuumed): one page (100) by
// an exact email, a name prefix, a conference ID, an ID's prefix, a name
// prefix of 2,500 users, a one-letter prefix of 50,000 and an email
// prefix of 111,111.
//
//	go test ./store/postgres -run '^$' -bench SearchUsers1M -benchtime 100x
func BenchmarkPostgresSearchUsers1M(b *testing.B) {
	const n = 1_000_000
	s, _ := pgTempStore(b)
	users := make([]store.User, n)
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		users[i] = store.User{Email: "u" + strconv.Itoa(i) + "@example.com",
			DisplayName:  fmt.Sprintf("%s %s%d", benchNames[i%len(benchNames)], benchNames[(i/len(benchNames))%len(benchNames)], i),
			ConferenceID: withCheckDigit(b, i), PINDigest: storetest.Digest(strconv.Itoa(i)), PINLength: 5, CreatedAt: created}
	}
	pgBulkInsert(b, s, users, nil)
	users = nil
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `VACUUM ANALYZE users`); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, q string
		min     int // results on the first page at least
	}{
		{"email", "u654321@example.com", 1},
		{"name", "rupert bob1234", 1}, // user 1234
		{"conference-id", withCheckDigit(b, 777777), 1},
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
